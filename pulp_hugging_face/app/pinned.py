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

from pulp_hugging_face import git_objects, hub, repo_info

from .models import HuggingFaceCommit, HuggingFaceContent, HuggingFaceRef

TREE_PAGE_SIZE = 1000
COMMITS_PAGE_SIZE = 50
TAG_PREFIX = "refs/tags/"  # how a published tag is named among a version's refs
PR_PREFIX = "refs/pr/"


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


def in_version(model, version, repo):
    """The units of `model` of `repo` that `version` holds."""
    return model.objects.filter(
        pk__in=version.content, repo_type=repo.repo_type, repo_id=repo.repo_id
    )


def ref_commit(version, repo, name):
    """The commit a ref pinned in `version` points at, or None: a branch before a tag of that
    name; `HEAD` is the default branch unless a ref of that name is pinned, as the Hub resolves
    it."""
    names = [name, hub.DEFAULT_BRANCH] if name == "HEAD" else [name, TAG_PREFIX + name]
    pinned = dict(
        in_version(HuggingFaceRef, version, repo)
        .filter(name__in=names)
        .values_list("name", "commit")
    )
    return next((pinned[n] for n in names if n in pinned), None)


def is_hosted(version, repo):
    """Whether `version` holds `repo` as published here (never pulled through, then)."""
    return in_version(HuggingFaceCommit, version, repo).filter(git__isnull=False).exists()


def holds(version, repo):
    """Whether `version` holds anything of `repo`: a file, a commit or a ref."""
    known = HuggingFaceContent, HuggingFaceCommit, HuggingFaceRef
    return any(in_version(model, version, repo).exists() for model in known)


def missing(version, repo, revision):
    """The Hub's error for a revision the version does not pin."""
    if not holds(version, repo):
        return NotPinned(401, "RepoNotFound", f"Repository {repo.repo_id} is not pinned here.")
    return NotPinned(404, "RevisionNotFound", f"Revision {revision!r} is not pinned here.")


def _commit(version, repo, revision):
    commit = revision if hub.is_commit(revision) else ref_commit(version, repo, revision)
    found = None
    if commit:
        commits = in_version(HuggingFaceCommit, version, repo).filter(commit=commit)
        found = commits.values_list("info", "git").first()
    if found is None:
        raise NotPinned(404, "RevisionNotFound", f"Revision {revision!r} is not pinned here.")
    return commit, *found


def _files(version, repo, commit):
    """(path, etag, size) of the files `version` holds at `commit`, sorted by path."""
    return list(
        in_version(HuggingFaceContent, version, repo)
        .filter(commit=commit)
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


def _directory_entry(commit, path, trees):
    oid = (trees or {}).get(path) or hashlib.sha1(f"{commit}:{path}".encode()).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def _entries(commit, files, base, recursive, trees=None):
    """`trees`: git's tree ids of a commit published here (the version holds all its files);
    a pinned upstream commit's folders get stable ids that are not git's."""
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
                entries.append(_directory_entry(commit, directory, trees))
        if recursive or len(rest) == 1:
            entries.append(file_entry(path, etag, size))
    return sorted(entries, key=lambda entry: entry["path"])


def api_answer(version, api_path, query, form, endpoint_url):
    """The Answer to a metadata API call from `version`; NotPinned when it pins no such thing."""
    repo = api_path.repo
    if api_path.endpoint == "refs":
        return _json(_refs(version, repo))
    if api_path.endpoint not in (None, "revision", "tree", "paths-info", "commits"):
        raise NotPinned(404, None, f"{api_path.endpoint!r} is not answered for pinned repos.")
    commit, info, git = _commit(version, repo, api_path.revision or hub.DEFAULT_BRANCH)
    if api_path.endpoint == "commits":
        if git is None:
            raise NotPinned(
                404, None, "The history of a commit pinned from upstream is upstream's."
            )
        return _page(commit_log(version, repo, commit), api_path, query, endpoint_url, True)
    files = _files(version, repo, commit)
    trees = git_objects.tree_ids(files) if git is not None else {}
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
        everything = _entries(commit, files, "", recursive=True, trees=trees)
        return _json([entry for entry in everything if entry["path"] in wanted])
    recursive = query.get("recursive") == "true"
    entries = _entries(commit, files, api_path.subpath or "", recursive, trees)
    if api_path.subpath and not entries:
        raise NotPinned(404, "EntryNotFound", f"{api_path.subpath} is not pinned here.", commit)
    return _page(entries, api_path, query, endpoint_url)


def _page(entries, api_path, query, endpoint_url, by_page=False):
    """One page of a listing, and the `Link` to the next: by `cursor` (the tree, 1,000 entries)
    or by page number `p` (the commits, 50 a page), as the Hub pages them."""
    param, size = ("p", COMMITS_PAGE_SIZE) if by_page else ("cursor", TREE_PAGE_SIZE)
    try:
        at = max(0, int(query.get(param, "0")))
    except ValueError:
        raise NotPinned(400, None, f"Invalid {param}.")
    start = at * size if by_page else at
    answer = _json(entries[start : start + size])
    if start + size < len(entries):
        next_query = urlencode({**query, param: str(at + 1 if by_page else start + size)})
        answer.headers["Link"] = f'<{endpoint_url}/{api_path.url()}?{next_query}>; rel="next"'
    return answer


def commit_log(version, repo, head):
    """The history from `head` of a repo published here, newest first, by first parents, as
    the Hub lists commits."""
    published = in_version(HuggingFaceCommit, version, repo).filter(git__isnull=False)
    known = dict(published.values_list("commit", "git"))
    found, commit = [], head
    while commit in known and len(found) < len(known):
        git = known[commit]
        found.append(
            {
                "id": commit,
                "title": git["title"],
                "message": git["message"],
                "authors": [{"user": git["author"], "avatar": ""}],
                "date": hub.hub_time(git["timestamp"]),
            }
        )
        commit = (git["parents"] or [None])[0]
    return found


def _refs(version, repo):
    refs = in_version(HuggingFaceRef, version, repo).order_by("name")
    if not refs.exists():
        raise NotPinned(404, "RevisionNotFound", f"No ref of {repo.repo_id} is pinned here.")
    branches, tags, pulls = [], [], []
    for ref in refs:
        if ref.name.startswith(PR_PREFIX):
            pulls.append({"name": ref.name, "ref": ref.name, "targetCommit": ref.commit})
        elif ref.name.startswith(TAG_PREFIX):
            name = ref.name[len(TAG_PREFIX) :]
            tags.append({"name": name, "ref": ref.name, "targetCommit": ref.commit})
        else:
            branch = {"name": ref.name, "ref": f"refs/heads/{ref.name}", "targetCommit": ref.commit}
            branches.append(branch)
    return {"branches": branches, "tags": tags, "converts": [], "pullRequests": pulls}


def _json(value):
    return Answer(json.dumps(value).encode(), {"Content-Type": "application/json"})
