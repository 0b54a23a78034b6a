"""Repos, branches and tags: `repos/create` (a first commit with the Hub's .gitattributes),
`repos/delete`, and `branch` / `tag` created and deleted, each landing as a new version."""

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_hugging_face import hub
from pulp_hugging_face import upload_protocol as protocol
from pulp_hugging_face.upload_protocol import UploadError

from ..pinned import TAG_PREFIX
from . import files, history, landing
from .bodies import json_body


async def _named_repo(request):
    data = protocol.json_object(await json_body(request), "request")
    name, organization = data.get("name"), data.get("organization")
    repo_type = data.get("type") or "model"
    if repo_type not in hub.REPO_TYPES:
        raise UploadError(f"Invalid repo type {repo_type!r}.")
    if not isinstance(name, str) or not (organization is None or isinstance(organization, str)):
        raise UploadError('"name" (and "organization", if any) must be text.')
    try:
        repo_id = hub.validate_repo_id(f"{organization}/{name}" if organization else name)
    except hub.HubPathError as exc:
        raise UploadError(str(exc))
    return hub.Repo(repo_type, repo_id)


async def create(request, publisher, base_url):
    repo = await _named_repo(request)
    sink = await files.write_regular(protocol.default_gitattributes(repo.repo_type).encode())
    try:
        [artifact] = await sync_to_async(files.keep_all)([sink])
    finally:
        sink.discard()
    url = history.repo_url(base_url, repo)
    attributes = [sink.etag, sink.size, str(artifact.pk)]
    try:
        await landing.run(publisher, "create", repo, {"gitattributes": attributes})
    except UploadError as exc:
        if exc.status == 409:
            return web.json_response({"error": exc.message, "url": url}, status=409)
        raise
    return web.json_response({"url": url, "name": repo.repo_id, "id": repo.repo_id})


async def delete(request, publisher):
    await landing.run(publisher, "delete", await _named_repo(request), {})
    return web.json_response({})


async def branch(request, path, publisher):
    if request.method == "DELETE":
        await landing.run(publisher, "delete_ref", path.repo, {"name": path.revision})
        return web.json_response({})
    data = protocol.json_object(await json_body(request) or b"{}", "request")
    start = data.get("startingPoint")
    if start is not None and not isinstance(start, str):
        raise UploadError('"startingPoint" must be a revision.')
    hub.validate_revision(path.revision)
    change = {"name": path.revision, "starting_point": start}
    await landing.run(publisher, "branch", path.repo, change)
    return web.json_response({})


async def tag(request, path, publisher):
    if request.method == "DELETE":
        name = TAG_PREFIX + path.revision
        await landing.run(publisher, "delete_ref", path.repo, {"name": name})
        return web.json_response({})
    data = protocol.json_object(await json_body(request), "request")
    name = data.get("tag")
    try:
        hub.validate_revision(name if isinstance(name, str) else "")
    except hub.HubPathError as exc:
        raise UploadError(str(exc))
    await landing.run(publisher, "tag", path.repo, {"tag": name, "revision": path.revision})
    return web.json_response({})
