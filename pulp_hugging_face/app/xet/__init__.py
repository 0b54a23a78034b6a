"""The Xet protocol (huggingface.co/docs/xet), spoken by a distribution on its own storage.

`xet-write-token` (a publisher's Pulp token) and `xet-read-token` hand out short-lived Xet
tokens with a casUrl under the distribution's endpoint (access.py); the CAS API there takes
xorbs (xorbs.py) and shards (shards.py: each file kept as an ordinary artifact) and answers
global dedupe (dedupe.py). What is kept beside the artifacts is an index (../xet_index.py).
"""

from django.conf import settings

from pulp_hugging_face import hub
from pulp_hugging_face.upload_protocol import UploadError
from pulp_hugging_face.xet_format import XetError

from .. import authentication, resolver
from ..publishing import access as publishing_access
from ..responses import hub_error
from . import access, dedupe, reconstruction, shards, xorbs
from .reading import prune_staged  # noqa: F401 (the content app's housekeeping calls it)

WRITES = {("v1", "xorbs"), ("v1", "shards"), ("v2", "shards")}  # a POST there needs write scope
# Asked only while uploading, and telling which files the domain holds: write scope, any method.
UPLOADS_ONLY = {("v1", "chunks")}
METHODS = {
    ("v1", "xorbs"): ("POST", "HEAD"),
    ("v1", "chunks"): ("GET",),
    ("v1", "shards"): ("POST",),
    ("v2", "shards"): ("POST",),
    ("v1", "reconstructions"): ("GET",),
    ("v2", "reconstructions"): ("GET",),
    ("v1", "files"): ("HEAD",),
    ("v1", "fetch"): ("GET",),
}


def handles(path):
    """Whether `path` is Xet's to answer before any content guard (its own tokens)."""
    write_token = isinstance(path, hub.ApiPath) and path.endpoint == "xet-write-token"
    return write_token or isinstance(path, hub.XetPath)


def is_read_token(path):
    return isinstance(path, hub.ApiPath) and path.endpoint == "xet-read-token"


OFF = "Xet is turned off on this Pulp: upload with HF_HUB_DISABLE_XET=1 (the LFS protocol)."


async def serve(request, distro, path, endpoint):
    if not settings.HF_XET:
        return hub_error(404, OFF)
    try:
        if isinstance(path, hub.ApiPath):
            return await _write_token(request, distro, path, endpoint)
        return await _cas(request, distro, path, access.cas_url(request, endpoint))
    except XetError as exc:
        return hub_error(exc.status, str(exc))
    except (UploadError, authentication.TokenRefused) as exc:
        return hub_error(exc.status, exc.message)


async def read_token(request, distro, path, endpoint):
    """`xet-read-token`: for whoever may read the distribution (its guard has let them by)."""
    if not settings.HF_XET:
        return hub_error(404, OFF)
    token, expires = access.issue(distro, path.repo, path.revision, "read")
    return access.answer(request, endpoint, token, expires)


async def _write_token(request, distro, path, endpoint):
    await publishing_access.publisher(request, distro)
    if not await resolver.hosted(distro, path.repo):
        return hub_error(404, "Repository not found.", code="RepoNotFound")
    token, expires = access.issue(distro, path.repo, path.revision, "write")
    return access.answer(request, endpoint, token, expires)


async def _cas(request, distro, path, cas_url):
    call = (path.version, path.kind)
    if call not in hub.XET_PATHS:
        return hub_error(404, f"This CAS has no {path.version}/{path.kind} API.")
    if request.method not in METHODS.get(call, ()):
        return hub_error(405, f"{request.method} is not allowed here.")
    if path.kind == "fetch":  # a signed URL from a reconstruction: no token
        return await reconstruction.fetch(request, path)
    writes = (request.method == "POST" and call in WRITES) or call in UPLOADS_ONLY
    scope = "write" if writes else "read"
    access.claims(request, distro, scope)
    if path.kind == "reconstructions" and path.hash:
        return await reconstruction.reconstruction(request, distro, path, cas_url)
    if path.kind == "files":
        return await reconstruction.head_file(request, distro, path)
    if path.kind == "xorbs" and request.method == "POST":
        return await xorbs.upload(request, path)
    if path.kind == "xorbs":
        return await xorbs.head(request, path)
    if path.kind == "shards":
        return await shards.upload(request, path)
    return await dedupe.lookup(request, path)
