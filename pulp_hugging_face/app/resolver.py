"""What is known about a file request, before any byte moves: the one place that reads and
writes what the content app remembers of files.

`resolve` turns a `resolve` URL into a `Resolved`: the commit (from the path, the served
version's refs, or upstream), the file stored here if any, else the remote to fetch it with and
what upstream said of it if that is known. Every step asks memory first (cache), then the
database, then upstream, and remembers what it learned.
"""

from dataclasses import dataclass

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.models import Remote

from pulp_hugging_face import hub

from . import cache, pinned, remembered, upstream, usage
from .repository_adds import add_to_repository
from .responses import SendfileResponse, stored_file_response
from .stored_files import OnDemandFile, StoredFile, files_at_commit, find_file, served_version
from .xet_indexing import index_later


@dataclass
class Resolved:
    """A file request at its commit: stored here (`stored`), or to fetch with `remote` (None: it
    is nowhere to be had), whose answer upstream gave already if `info` is set."""

    path: hub.ResolvePath  # at its commit
    stored: StoredFile | None = None
    remote: Remote | None = None
    info: upstream.FileInfo | None = None


async def resolve(distro, remote, path, reading=True):
    """What is known of `path` for this distribution; raises pinned.NotPinned for a revision a
    distribution without remote does not pin. `reading`: the stored file's bytes will be read
    (a HEAD needs none)."""
    commit, info = path.revision if hub.is_commit(path.revision) else None, None
    if commit is None:
        commit = await pinned_ref(distro, path.repo, path.revision)
    if commit is None:
        if remote is None or await hosted(distro, path.repo):
            raise await _not_pinned(distro, path.repo, path.revision)
        commit, info = await remembered.resolve_revision(remote, path)
    at_commit = path.at(commit)
    if info is not None:
        cache.remember_file_info(remote, at_commit, info)
    found = await stored_file(distro, at_commit, reading)
    if isinstance(found, StoredFile):
        return Resolved(at_commit, stored=found, remote=remote)
    if isinstance(found, OnDemandFile):  # fetched with the remote that pinned it
        pinning = await (await Remote.objects.aget(pk=found.remote_pk)).acast()
        return Resolved(at_commit, None, pinning, upstream.FileInfo(commit, found.etag, found.size))
    if remote is not None and await hosted(distro, path.repo):
        return Resolved(at_commit)  # published here: nowhere else to fetch it from
    return Resolved(
        at_commit, None, remote, info or (remote and cache.file_info(remote, at_commit))
    )


async def hosted(distro, repo):
    """Whether the served version holds `repo` as published there: then it answers for the repo
    alone, and the remote is never asked about it (remembered)."""
    if not distro.repository_id and not distro.repository_version_id:
        return False
    known = cache.hosted_repo(distro, repo)
    if known is None:
        since = cache.generation()

        def lookup():
            version = served_version(distro)
            return version is not None and pinned.is_hosted(version, repo)

        known = await sync_to_async(lookup)()
        cache.remember_hosted_repo(distro, repo, known, since)
    return known


async def file_info(remote, path):
    """What upstream says of a commit-pinned file not stored yet: remembered (a client's HEAD
    before its GET costs one upstream round trip, not two), else asked."""
    info = cache.file_info(remote, path)
    if info is None:
        info = await upstream.file_info(remote, path)
        cache.remember_file_info(remote, path, info)
    return info


def learned_info(remote, path, info):
    """Remember what upstream's answer to a download said of the file."""
    cache.remember_file_info(remote, path, info)


async def stored_file(distro, path, reading=True):
    """The StoredFile (or OnDemandFile) of a commit-pinned path: remembered, else looked up once
    for all the requests asking meanwhile. The first stored file found at a commit brings the
    stored files of the whole commit into memory at once, so the rest of a warm snapshot costs no
    lookup; a cold file (a cold snapshot: the commit is being stored) costs only its own."""
    cached = cache.stored_file(distro, path, reading)
    if cached is not None:
        return cached
    found = await cache.looked_up_once(
        ("file", distro.pk, path.artifact_path()), lambda: _look_up(distro, path)
    )
    repo, commit = path.repo, path.revision
    if isinstance(found, StoredFile) and not cache.commit_loaded(distro, repo, commit):
        if cache.remembering():
            key = ("commit", distro.pk, repo, commit)
            await cache.looked_up_once(key, lambda: _load_commit(distro, repo, commit))
    return found


async def stored_now(distro, path):
    """The StoredFile of `path` as the database says it now (not remembered), or None."""
    found = await sync_to_async(find_file)(distro, path)
    return found if isinstance(found, StoredFile) else None


async def _load_commit(distro, repo, commit):
    """Remember the stored files of a commit, unless a change came while they were read."""
    since = cache.generation()
    found = await sync_to_async(files_at_commit)(distro, repo, commit)
    for path_in_repo, file in found.items():
        if isinstance(file, StoredFile):
            at = hub.ResolvePath(repo, commit, path_in_repo)
            cache.remember_stored_file(distro, at, file, since)
    cache.remember_commit_loaded(distro, repo, commit, since)
    return found


async def _look_up(distro, path):
    since = cache.generation()
    found = await sync_to_async(find_file)(distro, path)
    if isinstance(found, StoredFile):
        cache.remember_stored_file(distro, path, found, since)
    return found


async def answer_stored(request, distro, stored, path):
    """The one way a stored file is answered: its bytes with the Hub's headers, and queued into
    the distribution's repository if that lacks it (pull-through keeps what it serves)."""
    if not stored.in_repository and distro.repository_version_id is None:
        await add_to_repository(distro, stored.content_artifact)
    index_later(stored.content_artifact, stored.etag, stored.size, stored.xet_hash)
    tally, artifact_pk = usage.current(), stored.content_artifact.artifact_id
    tally.source = "storage"
    usage.usage.served(stored.content_artifact.content_id)
    usage.usage.start_sending(artifact_pk, stored.content_artifact.content_id)
    try:
        response = await stored_file_response(
            request, stored, path.path_in_repo, _xet(request, stored, path)
        )
    except BaseException:
        usage.usage.stop_sending(artifact_pk)
        raise
    if request.method != "HEAD" and response.status in (200, 206):
        tally.sent += response.content_length or 0
    if isinstance(response, SendfileResponse) and not response.prepared:
        response.when_sent = lambda: usage.usage.stop_sending(artifact_pk)
    else:
        usage.usage.stop_sending(artifact_pk)
    return response


ENDPOINT = web.RequestKey("hf_endpoint", str)  # the distribution's endpoint path, per request


def _xet(request, stored, path):
    """The Hub's Xet headers for a file Xet clients may fetch here: its hash, and where to ask
    for a read token (on the distribution's endpoint, as the client reached it)."""
    if stored.xet_hash is None or ENDPOINT not in request or not settings.HF_XET:
        return None
    base = f"{request.scheme}://{request.host}{request[ENDPOINT]}"
    refresh = f"{base}/{path.repo.api_path}/xet-read-token/{stored.commit}"
    plan = f"{base}/{hub.XET_CAS}/v1/reconstructions/{stored.xet_hash}"
    links = f'<{refresh}>; rel="xet-auth", <{plan}>; rel="xet-reconstruction-info"'
    return {"X-Xet-Hash": stored.xet_hash, "Link": links}


async def pinned_ref(distro, repo, name):
    """The commit a ref has in the served version (remembered), or None."""
    if not distro.repository_id and not distro.repository_version_id:
        return None
    commit = cache.pinned_ref(distro, repo, name)
    if commit is None:

        def lookup():
            version = served_version(distro)
            return version and pinned.ref_commit(version, repo, name)

        commit = await sync_to_async(lookup)()
        cache.remember_pinned_ref(distro, repo, name, commit)
    return commit or None


async def _not_pinned(distro, repo, revision):
    """The Hub's error for a repo or revision a distribution without remote does not pin."""

    def explain():
        version = served_version(distro)
        if version is None:
            return pinned.NotPinned(404, None, "This distribution serves no repository.")
        return pinned.missing(version, repo, revision)

    return await sync_to_async(explain)()
