"""The Hugging Face Hub URL grammar: repo types, repo ids, revisions, resolve and API paths.

Pure functions only (no Django, no I/O), so the content handler, the models and the tests share
one definition of what a Hub path means.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

REPO_TYPES = ("model", "dataset", "space", "kernel")
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/", "kernel": "kernels/"}
PREFIX_TYPES = {prefix.rstrip("/"): rtype for rtype, prefix in URL_PREFIXES.items() if prefix}
API_TYPES = {f"{rtype}s": rtype for rtype in REPO_TYPES}

# API sub-resources that follow the repo id; the ones in the first set take a revision.
API_REVISION_ENDPOINTS = frozenset({"revision", "tree", "paths-info", "commits", "treesize"})
API_PLAIN_ENDPOINTS = frozenset({"refs"})
API_ENDPOINTS = API_REVISION_ENDPOINTS | API_PLAIN_ENDPOINTS

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_NAME_RE = re.compile(r"^[\w.-]+$")
MAX_REPO_ID = 96
MAX_REVISION = 256
MAX_FILENAME = 1024


class HubPathError(ValueError):
    """The path is not a Hub path this server understands (answered with a 4xx)."""


def is_commit(revision):
    """Whether `revision` is a full 40-hex commit id (immutable, never re-resolved)."""
    return bool(COMMIT_RE.match(revision or ""))


def is_lfs_etag(etag):
    """Whether a Hub ETag names an LFS blob (a sha256) rather than a git blob (a sha1)."""
    return len(etag) == 64


def validate_repo_id(repo_id):
    """Check a repo id the way the Hub client does: `name` or `namespace/name`."""
    parts = repo_id.split("/")
    if not 1 <= len(parts) <= 2 or len(repo_id) > MAX_REPO_ID:
        raise HubPathError(f"Invalid repo id {repo_id!r}.")
    for part in parts:
        if not _NAME_RE.match(part) or part[0] in "-." or part[-1] in "-.":
            raise HubPathError(f"Invalid repo id {repo_id!r}.")
    if "--" in repo_id or ".." in repo_id or repo_id.endswith(".git"):
        raise HubPathError(f"Invalid repo id {repo_id!r}.")
    return repo_id


def validate_revision(revision):
    """A branch, tag, `refs/pr/N` or commit; never empty, never climbing out of its folder."""
    if (
        not revision
        or len(revision) > MAX_REVISION
        or "\x00" in revision
        or ".." in revision.split("/")
        or revision.startswith("/")
    ):
        raise HubPathError(f"Invalid revision {revision!r}.")
    return revision


def validate_filename(filename):
    """A relative file path inside a repo: no empty, `.` or `..` segments, no NUL, no backslash."""
    segments = filename.split("/")
    if (
        not filename
        or len(filename) > MAX_FILENAME
        or "\x00" in filename
        or "\\" in filename
        or any(seg in ("", ".", "..") for seg in segments)
    ):
        raise HubPathError(f"Invalid file path {filename!r}.")
    return filename


@dataclass(frozen=True)
class Repo:
    """A repository on the Hub: its type and id."""

    repo_type: str
    repo_id: str

    @property
    def url_path(self):
        """`datasets/org/name` style path used in resolve URLs."""
        return f"{URL_PREFIXES[self.repo_type]}{self.repo_id}"

    @property
    def api_path(self):
        """`api/datasets/org/name` style path of the metadata API."""
        return f"api/{self.repo_type}s/{self.repo_id}"


@dataclass(frozen=True)
class ResolvePath:
    """`{prefix}{repo}/resolve/{revision}/{filename}`: one file at one revision."""

    repo: Repo
    revision: str
    filename: str

    def url(self):
        """The percent-encoded path, as the Hub client builds it."""
        return (
            f"{self.repo.url_path}/resolve/{quote(self.revision, safe='')}/"
            f"{quote(self.filename)}"
        )

    def relative_path(self):
        """The unencoded path stored with pulp content (the revision must be a commit)."""
        return f"{self.repo.url_path}/resolve/{self.revision}/{self.filename}"

    def at(self, commit):
        """The same file pinned to `commit`."""
        return ResolvePath(self.repo, commit, self.filename)


@dataclass(frozen=True)
class ApiPath:
    """`api/{type}s/{repo}[/{endpoint}[/{revision}[/{subpath}]]]`."""

    repo: Repo
    endpoint: str | None = None
    revision: str | None = None
    subpath: str | None = None

    def url(self):
        """The percent-encoded path, as the Hub client builds it."""
        path = self.repo.api_path
        if self.endpoint:
            path += f"/{self.endpoint}"
        if self.revision is not None:
            path += f"/{quote(self.revision, safe='')}"
        if self.subpath:
            path += f"/{quote(self.subpath)}"
        return path


def _split_repo(segments, is_marker):
    """Split `segments` into (repo_id, rest), accepting single-name ids like `gpt2`."""
    if len(segments) >= 2 and is_marker(segments[1]):
        return segments[0], segments[1:]
    if len(segments) >= 3 and is_marker(segments[2]):
        return "/".join(segments[:2]), segments[2:]
    return None, None


def _parse_api(segments):
    if len(segments) < 2 or segments[1] not in API_TYPES:
        raise HubPathError("Unknown API path: expected api/{models,datasets,spaces}/<repo>.")
    repo_type = API_TYPES[segments[1]]
    rest = segments[2:]
    if len(rest) in (1, 2) and not any(seg in API_ENDPOINTS for seg in rest[1:]):
        repo_id, tail = "/".join(rest), []
    else:
        repo_id, tail = _split_repo(rest, lambda seg: seg in API_ENDPOINTS)
        if repo_id is None:
            raise HubPathError("Unknown API path.")
    repo = Repo(repo_type, validate_repo_id(repo_id))
    if not tail:
        return ApiPath(repo)
    endpoint, args = tail[0], tail[1:]
    if endpoint in API_PLAIN_ENDPOINTS:
        if args:
            raise HubPathError(f"Unknown API path under {endpoint!r}.")
        return ApiPath(repo, endpoint)
    if not args:
        raise HubPathError(f"The {endpoint!r} API needs a revision.")
    revision = validate_revision(args[0])
    subpath = "/".join(args[1:]) or None
    if subpath is not None:
        validate_filename(subpath)
    return ApiPath(repo, endpoint, revision, subpath)


def _parse_segments(segments):
    if not segments or segments == [""]:
        raise HubPathError("Empty Hub path.")
    if segments[0] == "api":
        return _parse_api(segments)
    repo_type = PREFIX_TYPES.get(segments[0])
    if repo_type:
        segments = segments[1:]
    else:
        repo_type = "model"
    repo_id, rest = _split_repo(segments, lambda seg: seg == "resolve")
    if repo_id is None or len(rest) < 3:
        raise HubPathError(
            "Not a Hub file path: expected [datasets/|spaces/]<repo>/resolve/<revision>/<file>."
        )
    return ResolvePath(
        Repo(repo_type, validate_repo_id(repo_id)),
        validate_revision(rest[1]),
        validate_filename("/".join(rest[2:])),
    )


def parse_url_path(raw_path):
    """Parse a percent-encoded Hub path (relative to the endpoint) into a path object.

    Each segment is decoded on its own, so a revision quoted with `safe=""` such as
    `refs%2Fpr%2F1` stays one revision.
    """
    try:
        segments = [unquote(seg, errors="strict") for seg in raw_path.lstrip("/").split("/")]
    except UnicodeDecodeError:
        raise HubPathError("The path is not valid percent-encoded UTF-8.")
    return _parse_segments(segments)


def parse_relative_path(relative_path):
    """Parse the unencoded relative path stored with content (always commit-pinned)."""
    parsed = _parse_segments(relative_path.split("/"))
    if not isinstance(parsed, ResolvePath) or not is_commit(parsed.revision):
        raise HubPathError(f"Not a commit-pinned file path: {relative_path!r}.")
    return parsed


def normalize_etag(value):
    """The blob name the Hub client derives from an ETag: no `W/` prefix, no quotes."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None
