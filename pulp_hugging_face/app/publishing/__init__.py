"""Publishing into a distribution's repository with the Hub's own upload protocol.

What a client sends (see ../../upload_protocol.py and docs/user/tutorials/publish.md): repos
created and deleted, preupload, the LFS batch API and uploads, the NDJSON commit, branches and
tags, and `whoami-v2`. Each write needs a write token of a user who may modify the repository
(access.py); each change lands as one new repository version in a task (landing.py, changes.py),
and is then served like any pinned version (pinned.py).
"""

from aiohttp import web

from pulp_hugging_face import hub
from pulp_hugging_face.upload_protocol import UploadError

from ..authentication import TokenRefused
from ..responses import hub_error
from . import access, commits, lfs, repos

WRITE_ENDPOINTS = {"preupload": ("POST",), "commit": ("POST",), "branch": ("POST", "DELETE")}
WRITE_ENDPOINTS["tag"] = WRITE_ENDPOINTS["branch"]
SERVICES = {
    "whoami-v2": ("GET",),
    "validate-yaml": ("POST",),
    "repos/create": ("POST",),
    "repos/delete": ("DELETE",),
}
LFS_METHODS = {"batch": ("POST",), "verify": ("POST",), "upload": ("PUT",)}


def methods(path):
    """The methods a publishing path takes, or None when `path` is not one."""
    if isinstance(path, hub.ServicePath):
        return SERVICES[path.name]
    if isinstance(path, hub.LfsPath):
        return LFS_METHODS[path.action]
    if isinstance(path, hub.ApiPath):
        return WRITE_ENDPOINTS.get(path.endpoint)
    return None


async def serve(request, distro, path, endpoint):
    """Answer a publishing call (`methods(path)` is not None) as the Hub does."""
    if request.method not in methods(path):
        return hub_error(405, f"{request.method} is not allowed here.")
    base_url = f"{request.scheme}://{request.host}{endpoint}"
    try:
        return await _serve(request, distro, path, base_url)
    except TokenRefused as exc:
        return hub_error(exc.status, exc.message)
    except UploadError as exc:
        return hub_error(exc.status, exc.message, code=exc.code)


async def _serve(request, distro, path, base_url):
    if isinstance(path, hub.ServicePath) and path.name == "whoami-v2":
        return await access.whoami(request)
    if isinstance(path, hub.ServicePath) and path.name == "validate-yaml":
        return web.json_response({"errors": [], "warnings": []})
    if isinstance(path, hub.LfsPath) and path.action == "upload":
        return await lfs.upload(request, distro, path)
    publisher = await access.publisher(request, distro)
    if isinstance(path, hub.ServicePath):
        if path.name == "repos/create":
            return await repos.create(request, publisher, base_url)
        return await repos.delete(request, publisher)
    if isinstance(path, hub.LfsPath):
        if path.action == "batch":
            return await lfs.batch(request, distro, path, base_url)
        return await lfs.verify(request)
    if path.endpoint == "preupload":
        return await commits.preupload(request, path, publisher)
    if path.endpoint == "commit":
        return await commits.commit(request, path, publisher, base_url)
    if path.endpoint == "branch":
        return await repos.branch(request, path, publisher)
    return await repos.tag(request, path, publisher)
