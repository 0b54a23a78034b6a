"""Answers from a repository version alone: pinned refs, commit infos and files, no upstream.

A version pins, per Hub repo, refs (name -> commit), commit infos (the Hub's repo info at a
commit) and files. From those it answers `revision` / `model_info`, `tree` (paginated like the
Hub), `paths-info` and `refs` the way the Hub would, listing only the files the version holds,
so `snapshot_download` never asks for a file that is not there. Everything one answer says
comes from one version. Functions here query the database: call them in a thread.
"""

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from pulp_hugging_face import hub, repo_info

from .models import HuggingFaceCommit, HuggingFaceContent, HuggingFaceRef

TREE_PAGE_SIZE = 1000


class NotPinned(Exception):
    """The version does not pin what was asked: the Hub's error for it."""

    def __init__(self, status, code, message, commit=None):
        super().__init__(message)
        self.status, self.code, self.message, self.commit = status, code, message, commit


@dataclass
class Answer:
    """A metadata API answer built from a version."""

    body: bytes
    headers: dict


def ref_commit(version, repo, name):
    """The commit a ref pinned in `version` points at, or None. `HEAD` is the default branch
    unless a ref of that name is pinned, as the Hub resolves it."""
    names = [name, hub.DEFAULT_BRANCH] if name == "HEAD" else [name]
    pinned = dict(
        HuggingFaceRef.objects.filter(
            pk__in=version.content, repo_type=repo.repo_type, repo_id=repo.repo_id, name__in=names
        ).values_list("name", "commit")
    )
    return next((pinned[n] for n in names if n in pinned), None)


def missing(version, repo, revision):
    """The Hub's error for a revision the version does not pin."""
    known = HuggingFaceContent, HuggingFaceCommit, HuggingFaceRef
    if not any(
        model.objects.filter(
            pk__in=version.content, repo_type=repo.repo_type, repo_id=repo.repo_id
        ).exists()
        for model in known
    ):
        return NotPinned(401, "RepoNotFound", f"Repository {repo.repo_id} is not pinned here.")
    return NotPinned(404, "RevisionNotFound", f"Revision {revision!r} is not pinned here.")


def _commit(version, repo, revision):
    commit = revision if hub.is_commit(revision) else ref_commit(version, repo, revision)
    info = None
    if commit:
        info = (
            HuggingFaceCommit.objects.filter(
                pk__in=version.content,
                repo_type=repo.repo_type,
                repo_id=repo.repo_id,
                commit=commit,
            )
            .values_list("info", flat=True)
            .first()
        )
    if info is None:
        raise NotPinned(404, "RevisionNotFound", f"Revision {revision!r} is not pinned here.")
    return commit, info


def _files(version, repo, commit):
    """(path, etag, size) of the files `version` holds at `commit`, sorted by path."""
    return list(
        HuggingFaceContent.objects.filter(
            pk__in=version.content, repo_type=repo.repo_type, repo_id=repo.repo_id, commit=commit
        )
        .order_by("path_in_repo")
        .values_list("path_in_repo", "etag", "size")
    )


def file_entry(path, etag, size):
    """A tree / paths-info entry as the Hub writes it (an LFS file's oid is its pointer's)."""
    if not hub.is_lfs_etag(etag):
        return {"type": "file", "oid": etag, "size": size, "path": path}
    pointer = hub.lfs_pointer(etag, size)
    oid = hub.git_blob_sha1(pointer)
    lfs = {"oid": etag, "size": size, "pointerSize": len(pointer)}
    return {"type": "file", "oid": oid, "size": size, "path": path, "lfs": lfs}


def _directory_entry(commit, path):
    oid = hashlib.sha1(f"{commit}:{path}".encode()).hexdigest()  # stable, not git's tree id
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def _entries(commit, files, base, recursive):
    """The tree under `base`: directories and files, sorted by path, as the Hub lists them."""
    prefix = f"{base}/" if base else ""
    entries, directories = [], set()
    for path, etag, size in files:
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :].split("/")
        for depth in range(1, len(rest) if recursive else min(len(rest), 2)):
            directory = prefix + "/".join(rest[:depth])
            if directory not in directories:
                directories.add(directory)
                entries.append(_directory_entry(commit, directory))
        if recursive or len(rest) == 1:
            entries.append(file_entry(path, etag, size))
    return sorted(entries, key=lambda entry: entry["path"])


def api_answer(version, api_path, query, form, endpoint_url):
    """The Answer to a metadata API call from `version`; NotPinned when it pins no such thing."""
    repo = api_path.repo
    if api_path.endpoint == "refs":
        return _json(_refs(version, repo))
    if api_path.endpoint not in (None, "revision", "tree", "paths-info"):
        raise NotPinned(404, None, f"{api_path.endpoint!r} is not answered for pinned repos.")
    commit, info = _commit(version, repo, api_path.revision or hub.DEFAULT_BRANCH)
    files = _files(version, repo, commit)
    if api_path.endpoint in (None, "revision"):
        siblings = [{"rfilename": path} for path, _etag, _size in files]
        try:
            wanted = repo_info.selection(query)
        except repo_info.NotASelection:
            wanted = None
        answer = {**info, "sha": commit, "siblings": siblings}
        return _json(repo_info.Record().learn(answer, None).answer(wanted))
    if api_path.endpoint == "paths-info":
        wanted = set(form.paths) if form else set()
        everything = _entries(commit, files, "", recursive=True)
        return _json([entry for entry in everything if entry["path"] in wanted])
    entries = _entries(commit, files, api_path.subpath or "", query.get("recursive") == "true")
    if api_path.subpath and not entries:
        raise NotPinned(404, "EntryNotFound", f"{api_path.subpath} is not pinned here.", commit)
    return _page(entries, api_path, query, endpoint_url)


def _page(entries, api_path, query, endpoint_url):
    try:
        start = max(0, int(query.get("cursor", "0")))
    except ValueError:
        raise NotPinned(400, None, "Invalid cursor.")
    answer = _json(entries[start : start + TREE_PAGE_SIZE])
    if start + TREE_PAGE_SIZE < len(entries):
        next_query = urlencode({**query, "cursor": str(start + TREE_PAGE_SIZE)})
        answer.headers["Link"] = f'<{endpoint_url}/{api_path.url()}?{next_query}>; rel="next"'
    return answer


def _refs(version, repo):
    refs = HuggingFaceRef.objects.filter(
        pk__in=version.content, repo_type=repo.repo_type, repo_id=repo.repo_id
    ).order_by("name")
    if not refs.exists():
        raise NotPinned(404, "RevisionNotFound", f"No ref of {repo.repo_id} is pinned here.")
    branches, pulls = [], []
    for ref in refs:
        pr = ref.name.startswith("refs/pr/")
        (pulls if pr else branches).append(
            {
                "name": ref.name,
                "ref": ref.name if pr else f"refs/heads/{ref.name}",
                "targetCommit": ref.commit,
            }
        )
    return {"branches": branches, "tags": [], "converts": [], "pullRequests": pulls}


def _json(value):
    return Answer(json.dumps(value).encode(), {"Content-Type": "application/json"})
