"""What each publishing call changes in a repository version (run by the landing task, with the
repository locked): functions of (the version being made, the repo's state, who, the change),
returning the units to add and the querysets to remove, or raising the Hub's error."""

from dataclasses import dataclass, field

from pulp_hugging_face import hub
from pulp_hugging_face.upload_protocol import UploadError

from ..models import HuggingFaceCommit, HuggingFaceContent, HuggingFaceRef
from ..pinned import PR_PREFIX, TAG_PREFIX, in_version
from . import history


@dataclass
class Author:
    """Who a commit is by (the Pulp user) as the landing task knows them."""

    username: str
    email: str


@dataclass
class Change:
    add: list = field(default_factory=list)  # content pks
    remove: list = field(default_factory=list)  # querysets
    commit: object = None  # the new HuggingFaceCommit, if any
    ref: str | None = None  # the ref it landed on


def create(version, state, who, change):
    if state.exists:
        kind = "repo" if state.hosted else "repo pinned from upstream"
        raise UploadError(f"You already created this {kind}: {state.repo.repo_id}.", 409)
    etag, size, artifact = change["gitattributes"]
    files = {".gitattributes": (etag, size, artifact)}
    unit = history.add_commit(state.repo, None, files, who, "initial commit")
    return _landed(state.repo, unit, hub.DEFAULT_BRANCH)


def delete(version, state, who, change):
    hosted(state)
    return Change(remove=[in_version(m, version, state.repo) for m in _MODELS])


def commit(version, state, who, change):
    hosted(state)
    revision = change["revision"]
    parent = state.head(revision)
    if change.get("parent_commit") not in (None, parent):
        raise UploadError("A commit has happened since. Please refresh and try again.", 412)
    files = history.files_at(version, state.repo, parent)
    for operation in change["operations"]:
        _apply(files, operation)
    _one_kind_per_path(files)
    created_at = _created_at(version, state)
    unit = history.add_commit(
        state.repo, parent, files, who, change["summary"], change["description"], created_at
    )
    ref = _next_pr(state) if change.get("create_pr") else revision
    return _landed(state.repo, unit, ref)


def _apply(files, operation):
    path = operation["path"]
    if operation["op"] == "add":
        files[path] = (operation["etag"], operation["size"], operation["artifact"])
    elif operation["op"] == "delete" and path in files:
        del files[path]
    elif operation["op"] == "delete_folder" and any(p.startswith(path + "/") for p in files):
        for gone in [p for p in files if p.startswith(path + "/")]:
            del files[gone]
    else:
        what = "folder" if operation["op"] == "delete_folder" else "file"
        raise UploadError(f"A {what} with this name doesn't exist: {path}", 404, "EntryNotFound")


def _one_kind_per_path(files):
    """Refuse a tree where a path is both a file and a folder (`a` and `a/b`): git cannot."""
    for path in files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in files:
                raise UploadError(f"{folder} would be a file and a folder: {path} is inside it.")


def branch(version, state, who, change):
    hosted(state)
    name = change["name"]
    _new_ref_name(state, name, "Branch")
    start = state.commit_of(change.get("starting_point") or hub.DEFAULT_BRANCH)
    return Change(add=[history.ref_unit(state.repo, name, start).pk], ref=name)


def tag(version, state, who, change):
    hosted(state)
    name = change["tag"]
    _new_ref_name(state, TAG_PREFIX + name, "Tag")
    target = state.commit_of(change["revision"])
    return Change(add=[history.ref_unit(state.repo, TAG_PREFIX + name, target).pk])


def delete_ref(version, state, who, change):
    hosted(state)
    name = change["name"]
    if name == hub.DEFAULT_BRANCH:
        raise UploadError("The default branch cannot be deleted.", 403)
    if name not in state.refs:
        raise UploadError(
            f"Invalid rev id: {name.removeprefix(TAG_PREFIX)}", 404, "RevisionNotFound"
        )
    return Change(remove=[in_version(HuggingFaceRef, version, state.repo).filter(name=name)])


def _new_ref_name(state, name, what):
    if name in state.refs:
        raise UploadError(f"{what} {name.removeprefix(TAG_PREFIX)} already exists.", 409)
    if name.startswith(PR_PREFIX) or (what == "Branch" and name.startswith("refs/")):
        raise UploadError(f"Invalid {what.lower()} name {name!r}.", 400)


def hosted(state):
    """Refuse (the Hub's errors) a repo that is missing, or pinned from upstream."""
    if not state.exists:
        raise UploadError(f"Repository {state.repo.repo_id} not found.", 404, "RepoNotFound")
    if not state.hosted:
        raise UploadError(
            f"{state.repo.repo_id} is pinned from upstream in this repository: only repos "
            "created here take commits.",
            403,
        )


def _next_pr(state):
    numbers = [int(n[len(PR_PREFIX) :]) for n in state.refs if n[len(PR_PREFIX) :].isdigit()]
    return f"{PR_PREFIX}{max(numbers, default=0) + 1}"


def _created_at(version, state):
    first = in_version(HuggingFaceCommit, version, state.repo).filter(git__isnull=False)
    info = first.order_by("pulp_created").values_list("info", flat=True).first() or {}
    return info.get("createdAt")


def _landed(repo, unit, ref):
    files = HuggingFaceContent.objects.filter(
        repo_type=repo.repo_type, repo_id=repo.repo_id, commit=unit.commit
    )
    ref_pk = history.ref_unit(repo, ref, unit.commit).pk
    return Change(add=[unit.pk, ref_pk, *files.values_list("pk", flat=True)], commit=unit, ref=ref)


_MODELS = (HuggingFaceContent, HuggingFaceRef, HuggingFaceCommit)
KINDS = {
    "create": create,
    "delete": delete,
    "commit": commit,
    "branch": branch,
    "tag": tag,
    "delete_ref": delete_ref,
}
