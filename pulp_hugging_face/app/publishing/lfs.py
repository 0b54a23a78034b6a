"""The LFS batch API (basic transfer): which objects to send, a signed URL to PUT each one to,
and `verify`. Objects are stored as artifacts; a commit's `lfsFile` line then names them."""

import time

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_hugging_face import upload_protocol as protocol
from pulp_hugging_face.upload_protocol import UploadError

from .. import tokens
from . import files
from .bodies import json_body

PURPOSE = "hf-lfs-upload"  # of this module's signatures (tokens.signature)
UPLOAD_URL_LIFETIME = 24 * 3600  # seconds a signed upload URL stays valid
LFS_JSON = "application/vnd.git-lfs+json"


def _signed(distro, path, oid, size, expires):
    """What an upload URL's signature signs."""
    return f"{distro.pk}:{path.repo.repo_type}/{path.repo.repo_id}:{oid}:{size}:{expires}"


async def batch(request, distro, path, base_url):
    operation, objects = protocol.parse_lfs_batch(await json_body(request))
    if operation != "upload":
        raise UploadError("Downloads are answered by resolve URLs here, not by LFS.", 422)
    stored = await sync_to_async(_stored)(objects)
    lfs_url = f"{base_url}/{path.repo.url_path}.git/info/lfs"
    expires = int(time.time()) + UPLOAD_URL_LIFETIME
    answer = []
    for oid, size in objects:
        entry = {"oid": oid, "size": size, "authenticated": True}
        if oid not in stored:
            signature = tokens.signature(PURPOSE, _signed(distro, path, oid, size, expires))
            query = f"size={size}&expires={expires}&signature={signature}"
            entry["actions"] = {
                "upload": {
                    "href": f"{lfs_url}/objects/{oid}?{query}",
                    "expires_in": UPLOAD_URL_LIFETIME,
                },
                "verify": {"href": f"{lfs_url}/verify"},
            }
        answer.append(entry)
    body = {"transfer": "basic", "objects": answer, "hash_algo": "sha256"}
    return web.json_response(body, content_type=LFS_JSON)


def _stored(objects):
    found = files.stored_objects(oid for oid, _size in objects)
    return {oid for oid, size in objects if files.fits(found.get(oid), size)}


async def upload(request, distro, path):
    """A PUT of one object's bytes to the URL `batch` signed (no token: the URL is the grant)."""
    query = request.query
    try:
        size, expires = int(query["size"]), int(query["expires"])
    except (KeyError, ValueError):
        raise UploadError("This upload URL is not one this Pulp signed.", 403)
    message = _signed(distro, path, path.oid, size, expires)
    if not tokens.signed(PURPOSE, message, query.get("signature", "")) or expires < time.time():
        raise UploadError("This upload URL is not one this Pulp signed, or it expired.", 403)
    if request.content_length is not None and request.content_length != size:
        raise UploadError(f"Expected {size} bytes, the request announces {request.content_length}.")
    if await sync_to_async(files.stored_object)(path.oid, size) is None:
        await files.store_stream(request.content, path.oid, size)
    else:  # stored meanwhile: the bytes are not needed
        async for _chunk in request.content.iter_chunked(files.CHUNK):
            pass
    return web.Response(status=200)


async def verify(request):
    """`{oid, size}` answered 200 when that object is stored, else 404."""
    data = protocol.json_object(await json_body(request), "verify request")
    oid, size = data.get("oid"), data.get("size")
    if not protocol.is_sha256(oid) or not isinstance(size, int):
        raise UploadError("verify needs a sha256 oid and a size.", 422)
    if await sync_to_async(files.stored_object)(oid, size) is None:
        raise UploadError(f"Object {oid} of {size} bytes is not stored here.", 404)
    return web.json_response({"message": "Verified"}, content_type=LFS_JSON)
