"""The Hub's answers: error bodies and codes, file headers, HEAD answers and stored files."""

import asyncio
import mimetypes
import os
from pathlib import Path

from aiohttp import web

from pulp_hugging_face import hub

from . import cache
from .cache import open_files

CHUNK_SIZE = 1 << 20


def hub_error(status, message, headers=None, code=None):
    """An error answer the Hub client turns into the right exception."""
    headers = dict(headers or {})
    if code:
        headers["X-Error-Code"] = code
    headers.setdefault("X-Error-Message", message.replace("\n", " ")[:1000])
    return web.json_response({"error": message}, status=status, headers=headers)


def file_headers(commit, etag, size, path_in_repo):
    """The headers the Hub sends for a file; `X-Linked-*` only for LFS (sha256) blobs."""
    headers = {
        "X-Repo-Commit": commit,
        "ETag": f'"{etag}"',
        "Accept-Ranges": "bytes",
        "Content-Type": mimetypes.guess_type(path_in_repo)[0] or "application/octet-stream",
    }
    if hub.is_lfs_etag(etag):
        headers["X-Linked-Etag"] = f'"{etag}"'
        if size is not None:
            headers["X-Linked-Size"] = str(size)
    return headers


async def head_response(request, headers, size):
    """A bodiless answer to HEAD with the file's headers and length."""
    response = web.StreamResponse(headers=headers)
    if size is not None:
        response.content_length = size
    await response.prepare(request)
    await response.write_eof()
    return response


class SendfileResponse(web.StreamResponse):
    """A file (or its bytes `start` to `stop`) from local storage, sent by the kernel
    (`sendfile`) from a descriptor the requests for the same file share: no executor hops to
    open, stat and close it per request as aiohttp's FileResponse takes."""

    def __init__(self, path, size, headers, start=0, stop=None, status=200):
        super().__init__(status=status, headers=headers)
        self._path = path
        self._offset = start
        self.when_sent = None  # called once the file was sent (or could not be)
        self.content_length = (size if stop is None else stop) - start

    async def prepare(self, request):
        try:
            return await self._prepare(request)
        finally:
            if self.when_sent is not None:
                self.when_sent()

    async def _prepare(self, request):
        try:
            opened = await open_files.acquire(self._path)
        except OSError:  # removed since it was looked up: as aiohttp's FileResponse answers
            self.set_status(404)
            self.content_length = 0
            return await super().prepare(request)
        try:
            writer = await super().prepare(request)
            await self._send(request, opened)
            await super().write_eof()
            return writer
        finally:
            open_files.release(opened)

    async def _send(self, request, opened):
        if not self.content_length:
            return
        if request.transport is None:
            raise ConnectionResetError("Connection lost")
        loop = asyncio.get_running_loop()
        try:
            await loop.sendfile(
                request.transport, opened, self._offset, self.content_length, fallback=False
            )
        except RuntimeError:  # raised before a byte is sent: no native sendfile here (TLS)
            stop = self._offset + self.content_length
            for offset in range(self._offset, stop, CHUNK_SIZE):
                size = min(CHUNK_SIZE, stop - offset)
                chunk = await loop.run_in_executor(None, os.pread, opened.fd, size, offset)
                await self.write(chunk)


async def stored_file_response(request, stored, path_in_repo, extra=None):
    """A stored file (stored_files.StoredFile) with the Hub's headers (and `extra`), its ETag's
    conditions (`If-None-Match`, `If-Match`, `If-Range`) and one byte range; HEAD costs no
    storage read."""
    headers = file_headers(stored.commit, stored.etag, stored.size, path_in_repo)
    headers.update(extra or ())
    if refused := unmet_condition(request, stored.etag, headers):
        return refused
    if request.method == "HEAD":
        return await head_response(request, headers, stored.size)
    if not stored.file_path:
        artifact = stored.content_artifact.artifact
        return await stream_from_storage(
            request, artifact.file, artifact.size, headers, stored.etag
        )
    start, stop, status = byte_range(request, stored.size, headers, stored.etag)
    if status == 200 and stored.size <= cache.SMALL_FILE:
        try:
            return web.Response(body=await small_file(stored.file_path), headers=headers)
        except FileNotFoundError:  # removed since it was looked up: as sendfile answers
            return web.Response(status=404)
    return SendfileResponse(stored.file_path, stored.size, headers, start, stop, status)


def _etag_matches(etags, etag, weak):
    """Whether a conditional header's entity tags name `etag` (`*` names any)."""
    return etags is not None and any(
        tag.value in ("*", etag) and (weak or not tag.is_weak) for tag in etags
    )


def unmet_condition(request, etag, headers):
    """The answer to a request whose `If-None-Match` (304) or `If-Match` (412) the file's Hub
    ETag does not let through, else None. Hub files have no Last-Modified: dates are ignored."""
    if request.if_match is not None and not _etag_matches(request.if_match, etag, weak=False):
        return web.Response(status=412, headers=headers)
    if _etag_matches(request.if_none_match, etag, weak=True):
        return web.Response(status=304, headers=headers)
    return None


async def small_file(path):
    """A small stored file's bytes: from memory, else read (in a thread) and remembered."""
    body = cache.small_file(path)
    if body is None:
        body = await asyncio.get_running_loop().run_in_executor(None, Path(path).read_bytes)
        cache.remember_small_file(path, body)
    return body


def range_applies(request, etag):
    """Whether a `Range` is to be honoured: no `If-Range`, or one naming this entity (strongly;
    a date cannot match: Hub files have no Last-Modified)."""
    if_range = request.headers.get("If-Range")
    return if_range is None or if_range.strip() == f'"{etag}"'


def byte_range(request, size, headers, etag=None):
    """(start, stop, status) of the one byte range a request asks (`Range`): a 206 with its
    `Content-Range` added to `headers`, the whole file with a 200, or raises a 416. An
    `If-Range` naming another entity than `etag` asks for the whole file."""
    start, stop, status = 0, size, 200
    if not range_applies(request, etag):
        return start, stop, status
    try:
        wanted = request.http_range
    except ValueError:
        wanted = slice(size, None)
    if wanted.start is not None or wanted.stop is not None:
        start = wanted.start or 0
        start, stop = (max(size + start, 0), size) if start < 0 else (start, wanted.stop or size)
        stop, status = min(stop, size), 206
        if start >= stop:
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return start, stop, status


async def pointer_response(request, commit, sha256, size):
    """`/raw/` of an LFS file: its git-lfs pointer, as git holds it; its ETag is the pointer's
    git blob sha1, as the Hub's is."""
    body = hub.lfs_pointer(sha256, size)
    etag = hub.git_blob_sha1(body)
    headers = {
        "X-Repo-Commit": commit,
        "ETag": f'"{etag}"',
        "Accept-Ranges": "bytes",
        "Content-Type": "text/plain; charset=utf-8",
    }
    if request.method == "HEAD":
        return await head_response(request, headers, len(body))
    start, stop, status = byte_range(request, len(body), headers, etag)
    return web.Response(status=status, body=body[start:stop], headers=headers)


async def stream_from_storage(request, stored, size, headers, etag):
    """A file in object storage, streamed through here: never a redirect to a signed storage
    URL the Hub would not send. One byte range (`Range`) is answered with a 206."""
    start, stop, status = byte_range(request, size, headers, etag)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = stop - start
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    handle = await loop.run_in_executor(None, stored.storage.open, stored.name, "rb")
    try:
        await loop.run_in_executor(None, handle.seek, start)
        left = stop - start
        while left > 0:
            chunk = await loop.run_in_executor(None, handle.read, min(CHUNK_SIZE, left))
            if not chunk:
                break
            await response.write(chunk)
            left -= len(chunk)
    finally:
        await loop.run_in_executor(None, handle.close)
    await response.write_eof()
    return response


def abort(request):
    """Cut the connection so the client sees a failed download, never wrong bytes."""
    if request.transport:
        request.transport.close()
