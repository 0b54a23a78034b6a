"""A published repo in a repository version: its refs, its commits' git view and files, and the
content a new commit adds (one unit per file at the new commit, on the artifacts it names).
Database only: called from the landing task and, read-only, from the metadata API."""

import hashlib
import time
from dataclasses import asdict, dataclass

from django.db import transaction

from pulpcore.plugin.models import ContentArtifact

from pulp_hugging_face import git_objects, hub
from pulp_hugging_face.upload_protocol import UploadError

from ..models import HuggingFaceCommit, HuggingFaceContent, HuggingFaceRef
from ..pinned import TAG_PREFIX, holds, in_version, is_hosted


@dataclass
class RepoState:
    """What a version holds of one repo: refs (name -> commit), and whether it was created
    here (`hosted`) or holds anything at all (`exists`: e.g. pinned from upstream)."""

    repo: hub.Repo
    refs: dict
    hosted: bool
    exists: bool

    def head(self, revision):
        """The commit a branch (or `refs/pr/N`) points at: the Hub's 404 when there is none."""
        if not self.exists:
            raise UploadError(f"Repository {self.repo.repo_id} not found.", 404, "RepoNotFound")
        if revision.startswith(TAG_PREFIX) or revision not in self.refs:
            raise UploadError(f"Invalid rev id: {revision}", 404, "RevisionNotFound")
        return self.refs[revision]

    def commit_of(self, revision):
        """The commit a branch, tag or commit id names here, else the Hub's 404."""
        for name in (revision, TAG_PREFIX + revision):
            if name in self.refs:
                return self.refs[name]
        if hub.is_commit(revision) and revision in self.refs.values():
            return revision
        raise UploadError(f"Invalid rev id: {revision}", 404, "RevisionNotFound")


def state(version, repo):
    refs = dict(in_version(HuggingFaceRef, version, repo).values_list("name", "commit"))
    return RepoState(repo, refs, is_hosted(version, repo), holds(version, repo))


def files_at(version, repo, commit):
    """{path: (etag, size, artifact pk)} of the repo's files at `commit` in `version`."""
    rows = in_version(HuggingFaceContent, version, repo).filter(commit=commit)
    return {
        path: (etag, size, artifact)
        for path, etag, size, artifact in rows.values_list(
            "path_in_repo", "etag", "size", "contentartifact__artifact_id"
        )
    }


def repo_url(base_url, repo):
    """The URL a publishing answer names a repo by. A model's has the `models/` prefix the Hub's
    own lacks: huggingface_hub 0.x parses it back into (type, namespace, name), and behind an
    endpoint with a path (every distribution's) `base/org/name` reads as a repo of type "base".
    """
    prefix = "models/" if repo.repo_type == "model" else ""
    return f"{base_url}/{prefix}{repo.url_path}"


def add_commit(repo, parent, files, who, title, message="", created_at=None):
    """Save the units of a new commit of `files` ({path: (etag, size, artifact pk)}) on
    `parent` (None for a repo's first): its HuggingFaceCommit and one HuggingFaceContent per
    file. Returns the commit unit (its `commit` is the git commit id)."""
    timestamp = int(time.time())
    trees = git_objects.tree_ids((path, etag, size) for path, (etag, size, _a) in files.items())
    made = git_objects.CommitObject(
        trees[""], (parent,) if parent else (), who.username, who.email, timestamp, title, message
    )
    git = {**asdict(made), "parents": list(made.parents)}  # what the commit id is made of
    info = _info(repo, created_at or hub.hub_time(timestamp), hub.hub_time(timestamp))
    with transaction.atomic():  # a commit's units exist whole or not at all
        unit, created = HuggingFaceCommit.objects.get_or_create(
            repo_type=repo.repo_type,
            repo_id=repo.repo_id,
            commit=made.id,
            defaults={"info": info, "git": git},
        )
        if created:  # else the same commit was made in the same second: its units exist
            _file_units(repo, made.id, files)
    return unit


def _file_units(repo, commit, files):
    """One HuggingFaceContent per file at a new commit, on the artifacts `files` name."""
    artifacts = []
    for path, (etag, size, artifact) in sorted(files.items()):
        at = hub.ResolvePath(repo, commit, path)
        content = HuggingFaceContent(
            repo_type=repo.repo_type,
            repo_id=repo.repo_id,
            commit=commit,
            path_in_repo=path,
            etag=etag,
            size=size,
        )
        content.save()
        artifacts.append(
            ContentArtifact(content=content, relative_path=at.artifact_path(), artifact_id=artifact)
        )
    ContentArtifact.objects.bulk_get_or_create(artifacts)


def _info(repo, created_at, last_modified):
    """The Hub's default repo info fields of a published repo (siblings and sha are added by
    whoever answers: pinned.py)."""
    namespace = repo.repo_id.split("/")[0] if "/" in repo.repo_id else None
    return {
        "_id": hashlib.md5(f"{repo.repo_type}/{repo.repo_id}".encode()).hexdigest()[:24],
        "id": repo.repo_id,
        "author": namespace,
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "createdAt": created_at,
        "lastModified": last_modified,
    }


def ref_unit(repo, name, commit):
    unit, _ = HuggingFaceRef.objects.get_or_create(
        repo_type=repo.repo_type, repo_id=repo.repo_id, name=name, commit=commit
    )
    return unit
