"""Which files of a commit a distribution may serve, found in the database.

A distribution serves what its own remote fetched and what its repository holds, never what
another remote (another upstream or token) fetched. A file is either stored (`StoredFile`: its
bytes are here) or only pinned by the served version to fetch on demand (`OnDemandFile`: on_demand
or streamed syncs, with the remote that pinned it).
"""

from dataclasses import dataclass

from pulpcore.plugin.models import ContentArtifact, RemoteArtifact, RepositoryContent

from .models import HuggingFaceContent
from .xet_index import XetFile

COMMIT_AT_ONCE = 20_000  # a commit's stored files loaded in one query, at most


@dataclass
class StoredFile:
    """A file whose bytes are in storage, and the Hub facts to answer it with."""

    commit: str
    etag: str
    size: int
    file_path: str | None  # on this host's file system; None in object storage
    content_artifact: ContentArtifact
    in_repository: bool
    xet_hash: str | None = None  # when Xet clients may fetch it from this Pulp (xet_index.py)

    @property
    def content_pk(self):
        return str(self.content_artifact.content_id)


@dataclass
class OnDemandFile:
    """A file the served version pins but did not store: fetched with the remote `remote_pk`."""

    commit: str
    etag: str
    size: int
    remote_pk: int


def served_version(distro):
    """The repository version a distribution serves, or None when it serves none."""
    if distro.repository_version_id:
        return distro.repository_version
    if distro.repository_id:
        return distro.repository.latest_version()
    return None


def find_file(distro, pinned):
    """The StoredFile or OnDemandFile of a commit-pinned path this distribution may serve, or
    None (one query for a file never stored)."""
    found = files_at_commit(distro, pinned.repo, pinned.revision, [pinned.path_in_repo])
    return found.get(pinned.path_in_repo)


class Found(dict):
    """{path: file}, and whether it holds every file asked (`complete`)."""

    def __init__(self, complete):
        super().__init__()
        self.complete = complete


def files_at_commit(distro, repo, commit, paths=None, limit=COMMIT_AT_ONCE):
    """{path: StoredFile or OnDemandFile} of `repo` at `commit` (among `paths`, if given) this
    distribution may serve. The files first (one query by the unique key: a cold file costs no
    more), then which of them it may serve and their artifacts. A truncated answer (`limit`
    files) is marked `complete = False`."""
    rows = list(_contents(distro, repo, commit, paths)[:limit])
    found = Found(complete=len(rows) < limit)
    in_version, visible = _visible(distro, rows)
    kept = [(pk, *facts, pk in in_version) for pk, *facts in rows if pk in visible]
    if kept:
        found.update(_files(commit, kept, _in_cache_repository(distro, kept)))
    return found


def _in_cache_repository(distro, rows):
    """The pks among `rows` the repository a remote-only distribution stores into holds (its
    stored files need no pull-through add); one query, for such distributions only."""
    if distro.repository_id or distro.repository_version_id or not distro.cache_repository_id:
        return set()
    held = RepositoryContent.objects.filter(
        repository_id=distro.cache_repository_id,
        version_removed__isnull=True,
        content_id__in=[row[0] for row in rows],
    )
    return set(held.values_list("content_id", flat=True))


def _contents(distro, repo, commit, paths):
    """(pk, path, etag, size) of the files of `repo` at `commit` (among `paths`, if given)."""
    contents = HuggingFaceContent.objects.filter(
        _pulp_domain_id=distro.pulp_domain_id,
        repo_type=repo.repo_type,
        repo_id=repo.repo_id,
        commit=commit,
    )
    if paths is not None:
        contents = contents.filter(path_in_repo__in=paths)
    return contents.values_list("pk", "path_in_repo", "etag", "size")


def _visible(distro, rows):
    """(the pks its version holds, the pks it may serve) among `rows`: a distribution serves its
    version's content and what its remote fetched. Asked for the files found only: one query
    with both as subqueries made PostgreSQL scan everything the remote ever fetched."""
    pks = [row[0] for row in rows]
    in_version, fetched = set(), set()
    if pks and (version := served_version(distro)) is not None:
        in_version = set(version.content.filter(pk__in=pks).values_list("pk", flat=True))
    if pks and distro.remote_id:
        fetched = set(
            RemoteArtifact.objects.filter(
                remote_id=distro.remote_id, content_artifact__content_id__in=pks
            ).values_list("content_artifact__content_id", flat=True)
        )
    return in_version, in_version | fetched


def serves_artifact(distro, artifact_id):
    """Whether the distribution may serve a file with these bytes, as `_visible` decides: its
    version holds one, or its remote fetched one (two EXISTS queries, however many hold it)."""
    held = ContentArtifact.objects.filter(artifact_id=artifact_id).values("content_id")
    version = served_version(distro)
    if version is not None and version.content.filter(pk__in=held).exists():
        return True
    fetched = RemoteArtifact.objects.filter(
        remote_id=distro.remote_id, content_artifact__artifact_id=artifact_id
    )
    return bool(distro.remote_id) and fetched.exists()


def _files(commit, rows, in_cache=frozenset()):
    by_pk = {pk: (path, etag, size, in_repo) for pk, path, etag, size, in_repo in rows}
    artifacts = ContentArtifact.objects.select_related("artifact").filter(content_id__in=by_pk)
    files, unstored = {}, []
    for ca in artifacts:
        path, etag, size, in_repository = by_pk[ca.content_id]
        if ca.artifact is not None:
            file_path = local_path(ca.artifact)
            kept = in_repository or ca.content_id in in_cache
            files[path] = StoredFile(commit, etag, size, file_path, ca, kept)
        elif in_repository:
            unstored.append(ca)
    _add_xet_hashes(files)
    remotes = _pinning_remotes(unstored) if unstored else {}
    for ca in unstored:
        if remote_pk := remotes.get(ca.pk):
            path, etag, size, _ = by_pk[ca.content_id]
            files[path] = OnDemandFile(commit, etag, size, remote_pk)
    return files


def _add_xet_hashes(files):
    by_artifact = {f.content_artifact.artifact_id: f for f in files.values()}
    if by_artifact:
        known = XetFile.objects.filter(artifact_id__in=by_artifact)
        for artifact_id, xet_hash in known.values_list("artifact_id", "hash"):
            by_artifact[artifact_id].xet_hash = xet_hash


def _pinning_remotes(content_artifacts):
    """{content artifact pk: the pk of a remote that pinned it}, in one query."""
    pinned = RemoteArtifact.objects.filter(content_artifact__in=content_artifacts)
    return dict(pinned.values_list("content_artifact_id", "remote_id"))


def held_files(distro, repo, commit, paths):
    """(path, etag, size) of the files of `repo` at `commit` among `paths` that this
    distribution may serve, sorted by path."""
    rows = list(_contents(distro, repo, commit, paths).order_by("path_in_repo"))
    _, visible = _visible(distro, rows)
    return [(path, etag, size) for pk, path, etag, size in rows if pk in visible]


def local_path(artifact):
    """The artifact's file on this host's file system; None in object storage (S3...)."""
    try:
        return artifact.file.storage.path(artifact.file.name)
    except NotImplementedError:
        return None
