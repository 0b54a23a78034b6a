"""`preupload` (how each file is to be sent) and `commit` (the NDJSON body: regular files
stored as they arrive, LFS files found among the objects uploaded, then landed as one version)."""

from dataclasses import dataclass

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_hugging_face import upload_protocol as protocol
from pulp_hugging_face.upload_protocol import AddFile, CommitRequest, Delete, UploadError

from ..models import HuggingFaceRef
from ..pinned import PR_PREFIX
from . import changes, files, history, landing
from .bodies import json_body, ndjson_lines

MAX_ATTRIBUTES_FILE = 1 << 20  # a .gitattributes or .gitignore read for preupload, at most


@dataclass(frozen=True)
class StoredRegular:
    """A regular file of the commit whose bytes are in the part file of `sinks[index]`."""

    path: str
    index: int


async def preupload(request, path, publisher):
    wanted, git_ignore = protocol.parse_preupload(await json_body(request))
    answer = await sync_to_async(_preupload_answer)(publisher.repository, path, wanted, git_ignore)
    return web.json_response(answer)


def _preupload_answer(repository, path, wanted, git_ignore):
    version = repository.latest_version()
    state = history.state(version, path.repo)
    changes.hosted(state)
    head = state.head(path.revision)
    present = history.files_at(version, path.repo, head)
    attributes = _text(present.get(".gitattributes"))
    ignore = git_ignore if git_ignore is not None else _text(present.get(".gitignore"))
    answer = []
    for file in wanted:
        entry = {
            "path": file.path,
            "uploadMode": protocol.upload_mode(file.path, file.size, file.sample, attributes),
            "shouldIgnore": protocol.is_ignored(file.path, ignore),
        }
        if file.path in present:  # lets the client skip what did not change
            entry["oid"] = present[file.path][0]
        answer.append(entry)
    return {"files": answer, "commitOid": head}


def _text(present):
    if present is None or present[1] > MAX_ATTRIBUTES_FILE:
        return ""
    artifact = files.artifact(present[2])
    with artifact.file.open("rb") as handle:
        return handle.read().decode("utf-8", "replace")


async def commit(request, path, publisher, base_url):
    parsed, sinks = CommitRequest(), []
    try:
        async for line in ndjson_lines(request.content, protocol.MAX_COMMIT_LINE):
            protocol.parse_commit_line(line, parsed)
            added = parsed.operations[-1] if parsed.operations else None
            if isinstance(added, AddFile) and added.content is not None:
                sinks.append(await files.write_regular(added.content))
                parsed.operations[-1] = StoredRegular(added.path, len(sinks) - 1)
        if parsed.summary is None:
            raise UploadError("The commit has no header line.")
        operations = await sync_to_async(_operations)(parsed.operations, sinks)
    finally:
        for sink in sinks:
            sink.discard()
    change = {
        "revision": path.revision,
        "summary": parsed.summary,
        "description": parsed.description,
        "parent_commit": parsed.parent_commit,
        "create_pr": request.query.get("create_pr", "").lower() in ("1", "true"),
        "operations": operations,
    }
    unit = await landing.run(publisher, "commit", path.repo, change)
    repo_url = history.repo_url(base_url, path.repo)
    answer = {
        "success": True,
        "commitOid": unit.commit,
        "commitUrl": f"{repo_url}/commit/{unit.commit}",
        "commitMessage": parsed.summary,
        "hookOutput": "",
    }
    if change["create_pr"]:
        number = await sync_to_async(_pull_request)(path.repo, unit.commit)
        answer["pullRequestUrl"] = f"{repo_url}/discussions/{number}"
    return web.json_response(answer)


def _operations(parsed, sinks):
    """The commit's operations as the landing task takes them (artifacts by pk)."""
    artifacts = files.keep_all(sinks)
    objects = files.stored_objects(op.oid for op in parsed if isinstance(op, AddFile))
    found = []
    for operation in parsed:
        if isinstance(operation, Delete):
            kind = "delete_folder" if operation.folder else "delete"
            found.append({"op": kind, "path": operation.path})
        elif isinstance(operation, StoredRegular):
            sink = sinks[operation.index]
            found.append(_add(operation.path, sink.etag, sink.size, artifacts[operation.index]))
        else:
            artifact = objects.get(operation.oid)
            if not files.fits(artifact, operation.size):
                raise UploadError(
                    f"{operation.path}: the LFS object {operation.oid} was never uploaded here "
                    "(or has another size).",
                    400,
                )
            found.append(_add(operation.path, operation.oid, artifact.size, artifact))
    return found


def _add(path, etag, size, artifact):
    return {"op": "add", "path": path, "etag": etag, "size": size, "artifact": str(artifact.pk)}


def _pull_request(repo, commit):
    ref = HuggingFaceRef.objects.filter(
        repo_type=repo.repo_type,
        repo_id=repo.repo_id,
        commit=commit,
        name__startswith=PR_PREFIX,
    ).first()
    return ref.name[len(PR_PREFIX) :] if ref else None
