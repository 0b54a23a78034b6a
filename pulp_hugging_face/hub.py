"""The Hugging Face Hub URL grammar: repo types, repo ids, revisions, resolve and API paths.

Pure functions only (no Django, no I/O), so the content handler, the models and the tests share
one definition of what a Hub path means.
"""

import hashlib
import json
import re
import functools
from datetime import datetime, timezone
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, quote, unquote

REPO_TYPES = ("model", "dataset", "space", "kernel")
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/", "kernel": "kernels/"}
PREFIX_TYPES = {prefix.rstrip("/"): rtype for rtype, prefix in URL_PREFIXES.items() if prefix}
API_TYPES = {f"{rtype}s": rtype for rtype in REPO_TYPES}

# API sub-resources that follow the repo id; the ones in the first set take a revision.
API_REVISION_ENDPOINTS = frozenset(
    {
        "revision",
        "tree",
        "paths-info",
        "commits",
        "treesize",
        "preupload",
        "commit",
        "branch",
        "tag",
        "xet-read-token",
        "xet-write-token",
    }
)
API_PLAIN_ENDPOINTS = frozenset({"refs"})
API_ENDPOINTS = API_REVISION_ENDPOINTS | API_PLAIN_ENDPOINTS

COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_NAME_RE = re.compile(r"[\w.-]+")
# Bytes below 0x20 and DEL never belong in a Hub path: they could split or forge headers upstream.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_REPO_ID = 96
MAX_REVISION = 256
MAX_PATH_IN_REPO = 1024
MAX_PATHS_INFO = 10_000  # paths in one paths-info request
FILE_VIEWS = ("resolve", "raw")  # a file's bytes; git's view of it (an LFS file's pointer)
DEFAULT_BRANCH = "main"  # what `HEAD` names when nothing else says
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize {}\n"


class HubPathError(ValueError):
    """The path is not a Hub path this server understands (answered with a 4xx)."""


def is_commit(revision):
    """Whether `revision` is a full 40-hex commit id (immutable, never re-resolved)."""
    return bool(COMMIT_RE.fullmatch(revision or ""))


def is_lfs_etag(etag):
    """Whether a Hub ETag names an LFS blob (a sha256) rather than a git blob (a sha1)."""
    return len(etag) == 64


def lfs_pointer(sha256, size):
    """The git-lfs pointer file that stands in git for an LFS file (what `/raw/` answers)."""
    return LFS_POINTER.format(sha256, size).encode()


def git_blob_sha1(data):
    """git's name of a blob: the Hub's ETag of a regular file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def refuse_control_bytes(text):
    """Raise HubPathError when `text` holds a byte below 0x20 or DEL."""
    if _CONTROL_RE.search(text):
        raise HubPathError(f"Control characters are not allowed in Hub paths: {text!r}.")
    return text


def validate_repo_id(repo_id):
    """Check a repo id the way the Hub client does: `name` or `namespace/name`."""
    parts = repo_id.split("/")
    if not 1 <= len(parts) <= 2 or len(repo_id) > MAX_REPO_ID:
        raise HubPathError(f"Invalid repo id {repo_id!r}.")
    for part in parts:
        if not _NAME_RE.fullmatch(part) or part[0] in "-." or part[-1] in "-.":
            raise HubPathError(f"Invalid repo id {repo_id!r}.")
    if "--" in repo_id or ".." in repo_id or repo_id.endswith(".git"):
        raise HubPathError(f"Invalid repo id {repo_id!r}.")
    return repo_id


def _valid(value, longest, what, *refused):
    """`value` unless it is empty, longer than `longest`, holds a control byte or any of
    `refused` is true of it (then a HubPathError naming `what`)."""
    if not value or len(value) > longest or _CONTROL_RE.search(value) or any(refused):
        raise HubPathError(f"Invalid {what} {value!r}.")
    return value


def validate_revision(revision):
    """A branch, tag, `refs/pr/N` or commit; never empty, never climbing out of its folder."""
    climbs = revision and (".." in revision.split("/") or revision.startswith("/"))
    return _valid(revision, MAX_REVISION, "revision", climbs)


def validate_path_in_repo(path_in_repo):
    """A file path inside a repo: no empty, `.` or `..` segment, no control byte, no backslash."""
    segments = (path_in_repo or "").split("/")
    bad_segment = any(segment in ("", ".", "..") for segment in segments)
    return _valid(
        path_in_repo, MAX_PATH_IN_REPO, "file path", "\\" in (path_in_repo or ""), bad_segment
    )


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
    """`{prefix}{repo}/resolve/{revision}/{path_in_repo}`: one file at one revision; with `raw`,
    `.../raw/...`: git's view of it (the same file, or an LFS file's pointer)."""

    repo: Repo
    revision: str
    path_in_repo: str
    raw: bool = False

    def url(self):
        """The percent-encoded path, as the Hub client builds it."""
        return (
            f"{self.repo.url_path}/{FILE_VIEWS[self.raw]}/{quote(self.revision, safe='')}/"
            f"{quote(self.path_in_repo)}"
        )

    def artifact_path(self):
        """The unencoded path of the file's ContentArtifact (the revision must be a commit)."""
        return f"{self.repo.url_path}/resolve/{self.revision}/{self.path_in_repo}"

    def at(self, commit):
        """The same file pinned to `commit`."""
        return replace(self, revision=commit)

    def resolved(self):
        """The file's bytes (`resolve`), whichever view was asked."""
        return replace(self, raw=False)


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
        validate_path_in_repo(subpath)
    return ApiPath(repo, endpoint, revision, subpath)


@dataclass(frozen=True)
class ServicePath:
    """`api/whoami-v2`, `api/repos/create`, `api/repos/delete`, `api/validate-yaml`."""

    name: str


SERVICES = {"whoami-v2", "repos/create", "repos/delete", "validate-yaml"}
LFS_ACTIONS = {("objects", "batch"): "batch", ("verify",): "verify"}


@dataclass(frozen=True)
class LfsPath:
    """`[datasets/]{repo}.git/info/lfs/...`: the LFS batch API (`batch`), an object's upload
    (`upload`, with its sha256 `oid`) and `verify`."""

    repo: Repo
    action: str
    oid: str | None = None


XET_CAS = "xet-cas"  # a distribution's Xet CAS service lives under this segment of its endpoint
XET_PATHS = {  # (version, kind): whether a hash follows (after the prefix named, if any)
    ("v1", "xorbs"): ("default",),
    ("v1", "chunks"): ("default-merkledb", "default"),  # the spec's; hf_xet 1.8's
    ("v1", "reconstructions"): "",
    ("v2", "reconstructions"): "",
    ("v1", "files"): "",
    ("v1", "shards"): None,
    ("v2", "shards"): None,
    ("v1", "fetch"): "",
}


@dataclass(frozen=True)
class XetPath:
    """`xet-cas/{version}/{kind}[/{prefix}]/{hash}`: the Xet CAS API of a distribution."""

    version: str
    kind: str
    hash: str | None = None


def _parse_xet(segments):
    """A XetPath, or None when `segments` (after `xet-cas`) name no CAS call."""
    key = tuple(segments[:2])
    if key not in XET_PATHS:  # a call this CAS lacks (a 404 tells clients to fall back)
        known = len(segments) >= 2 and key[0] in ("v1", "v2") and key[1] not in FILE_VIEWS
        return XetPath(*key, None) if known else None
    (version, kind), rest, prefix = key, segments[2:], XET_PATHS[key]
    if prefix is None or (key == ("v1", "reconstructions") and not rest):  # batch: a POST
        if rest:
            raise HubPathError(f"Unknown Xet path under {kind!r}.")
        return XetPath(version, kind)
    if prefix:
        if not rest or rest[0] not in prefix:
            raise HubPathError(f"Unknown Xet prefix: {kind} takes {prefix[0]!r}.")
        rest = rest[1:]
    if len(rest) != 1 or not re.fullmatch(r"[0-9a-f]{64}", rest[0]):
        raise HubPathError("Malformed hash: 64 lowercase hexadecimal digits expected.")
    return XetPath(version, kind, rest[0])


def _lfs_repo_end(segments):
    """Where `{repo}.git` ends in a path of the LFS API (`segments` after any type prefix),
    else None."""
    for at in (0, 1):
        if segments[at : at + 1] and segments[at].endswith(".git"):
            return at if segments[at + 1 : at + 3] == ["info", "lfs"] else None
    return None


def _parse_lfs(repo_type, segments, at):
    repo_id, rest = "/".join(segments[: at + 1])[: -len(".git")], tuple(segments[at + 3 :])
    repo = Repo(repo_type, validate_repo_id(repo_id))
    if rest in LFS_ACTIONS:
        return LfsPath(repo, LFS_ACTIONS[rest])
    if len(rest) == 2 and rest[0] == "objects" and re.fullmatch(r"[0-9a-f]{64}", rest[1]):
        return LfsPath(repo, "upload", rest[1])
    raise HubPathError("Unknown LFS path.")


def _parse_segments(segments):
    if not segments or segments == [""]:
        raise HubPathError("Empty Hub path.")
    if segments[0] == XET_CAS and (xet := _parse_xet(segments[1:])) is not None:
        return xet
    if segments[0] == "api":
        if "/".join(segments[1:]) in SERVICES:
            return ServicePath("/".join(segments[1:]))
        return _parse_api(segments)
    repo_type = PREFIX_TYPES.get(segments[0])
    if repo_type:
        segments = segments[1:]
    else:
        repo_type = "model"
    lfs_repo_end = _lfs_repo_end(segments)
    if lfs_repo_end is not None:
        return _parse_lfs(repo_type, segments, lfs_repo_end)
    repo_id, rest = _split_repo(segments, lambda seg: seg in FILE_VIEWS)
    if repo_id is None or len(rest) < 3:
        raise HubPathError(
            "Not a Hub file path: expected [datasets/|spaces/]<repo>/resolve/<revision>/<file>."
        )
    return ResolvePath(
        Repo(repo_type, validate_repo_id(repo_id)),
        validate_revision(rest[1]),
        validate_path_in_repo("/".join(rest[2:])),
        raw=rest[0] == "raw",
    )


@functools.lru_cache(maxsize=4096)  # pure, and a warm client asks for the same paths again
def parse_url_path(raw_path):
    """Parse a percent-encoded Hub path (relative to the endpoint) into a path object.

    Each segment is decoded on its own, so a revision quoted with `safe=""` such as
    `refs%2Fpr%2F1` stays one revision.
    """
    try:
        segments = [unquote(seg, errors="strict") for seg in raw_path.lstrip("/").split("/")]
        for segment in segments:
            segment.encode("utf-8")  # lone surrogates would break re-quoting upstream
    except UnicodeError:
        raise HubPathError("The path is not valid percent-encoded UTF-8.")
    return _parse_segments(segments)


def parse_artifact_path(artifact_path):
    """Parse the unencoded ContentArtifact path of a file (always commit-pinned)."""
    parsed = _parse_segments(artifact_path.split("/"))
    if not isinstance(parsed, ResolvePath) or parsed.raw or not is_commit(parsed.revision):
        raise HubPathError(f"Not a commit-pinned file path: {artifact_path!r}.")
    return parsed


@dataclass(frozen=True)
class PathsInfoQuery:
    """What a `paths-info` request asks: the paths (sorted, once each) and `expand`."""

    paths: tuple
    expand: bool

    def form(self):
        """The form fields the Hub client sends for it (one way upstream for every client)."""
        return [("paths", path) for path in self.paths] + (
            [("expand", "True")] if self.expand else []
        )


def parse_paths_info(content_type, body):
    """A `paths-info` body: JSON `{"paths": [...], "expand": bool}` (huggingface.js) or a form
    with repeated `paths` and `expand` (huggingface_hub), as the Hub reads both."""
    if content_type == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise HubPathError("The paths-info body is not valid JSON.")
        if not isinstance(data, dict):
            raise HubPathError("The paths-info body must be a JSON object.")
        paths, expand = data.get("paths", []), data.get("expand") is True
    else:
        try:
            form = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise HubPathError("The paths-info form is not valid UTF-8.")
        paths = [value for key, value in form if key == "paths"]
        expand = any(key == "expand" and value.lower() in ("true", "1") for key, value in form)
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
        raise HubPathError('"paths" must be a list of file paths.')
    if len(paths) > MAX_PATHS_INFO:
        raise HubPathError(f"At most {MAX_PATHS_INFO} paths per paths-info request.")
    for path in paths:
        refuse_control_bytes(path)
    return PathsInfoQuery(tuple(sorted(set(paths))), expand)


def hub_time(timestamp):
    """A Unix time as the Hub writes dates (`2026-01-01T00:00:00.000Z`; clients parse exactly
    that)."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def normalize_etag(value):
    """The blob name the Hub client derives from an ETag: no `W/` prefix, no quotes."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None
