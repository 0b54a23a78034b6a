"""What the Hub's clients send to publish, and the Hub's rules for it: preupload decisions,
the NDJSON commit body, LFS batch requests, and which paths a repo may hold.

Pure functions (no Django, no I/O), shared by the content app and the tests.
"""

import base64
import binascii
import fnmatch
import json
import re
from dataclasses import dataclass, field

from pulp_hugging_face import hub

LFS_SIZE = 10 * 1024 * 1024  # the Hub stores files of this size or more in LFS
REGULAR_MAX = LFS_SIZE  # and refuses bigger regular files in a commit
MAX_PREUPLOAD_FILES = 1000
MAX_COMMIT_LINE = 16 * 1024 * 1024  # one NDJSON line: a regular file's base64, with room
MAX_COMMIT_OPERATIONS = 100_000
MAX_SUMMARY = 65_536
SAMPLE_SIZE = 512

# A new repo's .gitattributes on the Hub: which files go to LFS whatever their size.
LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model "
    "*.msgpack *.npy *.npz *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar "
    "*.safetensors saved_model/**/* *.tar.* *.tar *.tflite *.tgz *.wasm *.xz *.zip *.zst "
    "*tfevents*"
).split()
DATASET_LFS_PATTERNS = (
    "*.lz4 *.mds *.mp3 *.ogg *.wav *.jpg *.jpeg *.png *.webp *.mp4 *.webm "
    "*.arrow *.parquet *.jsonl.gz"
).split()
LFS_ATTRIBUTES = "filter=lfs diff=lfs merge=lfs -text"


class UploadError(ValueError):
    """A publishing request the Hub refuses: its status, error code (or None) and message."""

    def __init__(self, message, status=400, code=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def default_gitattributes(repo_type):
    """The .gitattributes a new repo starts with, as the Hub writes it."""
    patterns = LFS_PATTERNS + (DATASET_LFS_PATTERNS if repo_type == "dataset" else [])
    return "".join(f"{pattern} {LFS_ATTRIBUTES}\n" for pattern in dict.fromkeys(patterns))


def validate_upload_path(path):
    """A path a commit may write: a Hub file path, not inside `.git/`, not absolute."""
    if not isinstance(path, str) or path.startswith("/"):
        raise UploadError(f"Invalid path {path!r}: paths are relative to the repo root.")
    try:
        hub.validate_path_in_repo(path)
    except hub.HubPathError as exc:
        raise UploadError(str(exc))
    if path.split("/")[0] == ".git":
        raise UploadError(f"Invalid path {path!r}: nothing may be written under .git/.")
    return path


def _matches(patterns_text, path, wanted_attribute=None):
    """Whether `path` matches the last applicable line of a .gitattributes / .gitignore text
    (a pattern without `/` matches the file name, one with `/` the whole path)."""
    matched = False
    for line in (patterns_text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, *attributes = line.split()
        if wanted_attribute and wanted_attribute not in attributes:
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        target = path if "/" in pattern.rstrip("/") else path.rsplit("/", 1)[-1]
        candidates = [target]
        if pattern.endswith("/") or not wanted_attribute:  # a folder ignores what it holds
            candidates += ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/"))]
            candidates += [part for part in path.split("/")[:-1]]
        if any(fnmatch.fnmatchcase(c, pattern.strip("/")) for c in candidates):
            matched = not negated
    return matched


def _is_binary(sample):
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut by the sample's end is still text
        return not (len(sample) == SAMPLE_SIZE and exc.start >= len(sample) - 3)
    return False


def upload_mode(path, size, sample, gitattributes):
    """ "lfs" or "regular", as the Hub decides: big, binary or named LFS by .gitattributes."""
    lfs = (
        size >= LFS_SIZE
        or _is_binary(sample)
        or _matches(gitattributes, path, wanted_attribute="filter=lfs")
    )
    return "lfs" if lfs and size > 0 else "regular"


def is_ignored(path, gitignore):
    """Whether .gitignore's text ignores `path` (never the .gitignore itself)."""
    return path != ".gitignore" and _matches(gitignore, path)


@dataclass(frozen=True)
class PreuploadFile:
    path: str
    size: int
    sample: bytes


def parse_preupload(body):
    """(files, gitIgnore text or None) of a preupload request body."""
    data = json_object(body, "preupload")
    files = data.get("files")
    if not isinstance(files, list) or len(files) > MAX_PREUPLOAD_FILES:
        raise UploadError(f'"files" must be a list of at most {MAX_PREUPLOAD_FILES} files.')
    parsed = []
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int):
            raise UploadError('Each file needs a "path", a "size" and a "sample".')
        if entry["size"] < 0:
            raise UploadError(f"Invalid size {entry['size']}.")
        sample = _base64(entry.get("sample", ""), "sample")[:SAMPLE_SIZE]
        parsed.append(PreuploadFile(validate_upload_path(entry.get("path")), entry["size"], sample))
    git_ignore = data.get("gitIgnore")
    if git_ignore is not None and not isinstance(git_ignore, str):
        raise UploadError('"gitIgnore" must be text.')
    return parsed, git_ignore


@dataclass(frozen=True)
class AddFile:
    """A `file` line (`content` set: bytes sent in the commit) or an `lfsFile` line."""

    path: str
    content: bytes | None = None
    oid: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Delete:
    path: str
    folder: bool


@dataclass
class CommitRequest:
    summary: str | None = None
    description: str = ""
    parent_commit: str | None = None
    operations: list = field(default_factory=list)


def parse_commit_line(line, commit):
    """Add one NDJSON line to `commit` (a CommitRequest; the header line comes first)."""
    item = json_object(line, "commit line")
    key, value = item.get("key"), item.get("value")
    if not isinstance(value, dict):
        raise UploadError(f"Commit line {key!r} has no value object.")
    if key == "header":
        return _header(value, commit)
    if commit.summary is None:
        raise UploadError("The commit must start with its header.")
    if len(commit.operations) >= MAX_COMMIT_OPERATIONS:
        raise UploadError(f"At most {MAX_COMMIT_OPERATIONS} operations per commit.", 413)
    path = value.get("path")
    if key in ("deletedFile", "deletedFolder"):
        folder = key == "deletedFolder"
        path = validate_upload_path(path.rstrip("/") if folder and isinstance(path, str) else path)
        commit.operations.append(Delete(path, folder))
    elif key == "file":
        content = _base64(value.get("content"), "content")
        if len(content) >= REGULAR_MAX:
            raise UploadError(
                f"{path}: files of {REGULAR_MAX} bytes or more must be uploaded with LFS.", 413
            )
        commit.operations.append(AddFile(validate_upload_path(path), content=content))
    elif key == "lfsFile":
        commit.operations.append(_lfs_file(value, path))
    else:
        raise UploadError(f"Unknown commit line {key!r}.")
    return commit


def _header(value, commit):
    summary, parent = value.get("summary"), value.get("parentCommit")
    description = value.get("description") or ""
    if commit.summary is not None:
        raise UploadError("A commit has one header.")
    if not isinstance(summary, str) or not summary.strip() or len(summary) > MAX_SUMMARY:
        raise UploadError("The commit needs a summary.")
    if not isinstance(description, str) or len(description) > MAX_SUMMARY:
        raise UploadError("The commit description must be text.")
    if parent is not None and not hub.is_commit(parent):
        raise UploadError(f"Invalid parentCommit {parent!r}.")
    if "\0" in summary + description:
        raise UploadError("The commit summary and description may not hold NUL bytes.")
    commit.summary = re.sub(r"[\x00-\x1f\x7f]+", " ", summary).strip()
    commit.description, commit.parent_commit = description, parent
    return commit


def _lfs_file(value, path):
    oid, size = value.get("oid"), value.get("size")
    if value.get("algo", "sha256") != "sha256" or not is_sha256(oid):
        raise UploadError(f"{path}: an lfsFile needs a sha256 oid.")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise UploadError(f"{path}: invalid size {size!r}.")
    return AddFile(validate_upload_path(path), oid=oid, size=size)


def is_sha256(value):
    return isinstance(value, str) and len(value) == 64 and hub.is_lfs_etag(value) and _hex(value)


def _hex(value):
    try:
        int(value, 16)
    except ValueError:
        return False
    return value == value.lower()


def _base64(text, what):
    if not isinstance(text, str):
        raise UploadError(f'"{what}" must be base64 text.')
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError(f'"{what}" is not valid base64.')


def json_object(body, what):
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UploadError(f"The {what} is not valid JSON.")
    if not isinstance(data, dict):
        raise UploadError(f"The {what} must be a JSON object.")
    return data


def parse_lfs_batch(body):
    """The objects [(oid, size)] of an LFS batch upload request."""
    data = json_object(body, "LFS batch request")
    if data.get("operation") not in ("upload", "download"):
        raise UploadError('"operation" must be "upload" or "download".', 422)
    objects = data.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_PREUPLOAD_FILES:
        raise UploadError(f'"objects" must be a list of at most {MAX_PREUPLOAD_FILES}.', 422)
    found = []
    for entry in objects:
        oid, size = (entry.get("oid"), entry.get("size")) if isinstance(entry, dict) else (0, 0)
        if not is_sha256(oid) or not isinstance(size, int) or size < 0:
            raise UploadError("Each object needs a sha256 oid and a size.", 422)
        found.append((oid, size))
    return data["operation"], found
