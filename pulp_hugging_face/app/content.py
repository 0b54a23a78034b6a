"""The Hub endpoint a distribution serves: `/{repo}/resolve/{rev}/{path}` and `/api/...`.

pulpcore-content imports this module before adding its catch-all route, so these routes win for
Hub-shaped paths; a path that belongs to no Hugging Face distribution goes on to the stock
handler. Files come from Pulp storage when cached, else from upstream, streamed to the client
and stored in the same pass.
"""

import asyncio
import logging
import mimetypes
import os

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.content import app
from pulpcore.plugin.content import Handler, PathNotResolved
from pulpcore.plugin.models import Remote
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub

from . import invalidation, memo, metadata, upstream
from .models import HuggingFaceDistribution
from .repository_adds import RepositoryAdds
from .singleflight import InflightLock
from .storage import (
    ArtifactSink,
    IntegrityMismatch,
    StoredUnderOtherEtag,
    find_cached,
    save_pulled_file,
)

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
FOLLOW_POLL = 0.02
PREFIX = settings.CONTENT_PATH_PREFIX + ("{pulp_domain}/" if settings.DOMAIN_ENABLED else "")
PREFIX_SEGMENTS = PREFIX.strip("/").count("/") + 1
HUB_ROUTE = PREFIX + r"{path:.+/resolve/.+|(?:.+/)?api/.+}"
API_ROUTE = PREFIX + r"{path:(?:.+/)?api/.+}"


def hub_error(status, message, headers=None, code=None):
    """An error answer the Hub client turns into the right exception."""
    headers = dict(headers or {})
    if code:
        headers["X-Error-Code"] = code
    headers.setdefault("X-Error-Message", message.replace("\n", " ")[:1000])
    return web.json_response({"error": message}, status=status, headers=headers)


def file_headers(commit, etag, size, filename):
    """The headers the Hub sends for a file; `X-Linked-*` only for LFS (sha256) blobs."""
    headers = {
        "X-Repo-Commit": commit,
        "ETag": f'"{etag}"',
        "Accept-Ranges": "bytes",
        "Content-Type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
    }
    if hub.is_lfs_etag(etag):
        headers["X-Linked-Etag"] = f'"{etag}"'
        if size is not None:
            headers["X-Linked-Size"] = str(size)
    return headers


class HubFileResponse(web.FileResponse):
    """A file from storage that keeps the Hub's ETag instead of aiohttp's mtime-based one."""

    def __init__(self, path, hub_etag, **kwargs):
        super().__init__(path, **kwargs)
        self._hub_etag = hub_etag

    @property
    def etag(self):
        return None

    @etag.setter
    def etag(self, value):
        self.headers["ETag"] = f'"{self._hub_etag}"'


def _abort(request):
    """Cut the connection so the client sees a failed download, never wrong bytes."""
    if request.transport:
        request.transport.close()


class HuggingFaceHandler(Handler):
    """Answers Hub client requests for Hugging Face distributions."""

    distribution_model = HuggingFaceDistribution

    async def serve(self, request):
        path = request.match_info["path"]
        found = self._remembered_distribution(path)
        if found is None:
            try:
                found = await sync_to_async(self._load_distribution)(path)
            except PathNotResolved:
                return await Handler().stream_content(request)
        distro, remote = found
        if distro.content_guard_id:
            await sync_to_async(self._permit)(request, distro)
        try:
            hub_path = hub.parse_url_path(self._hub_raw_path(request, distro))
        except hub.HubPathError as exc:
            return hub_error(400, str(exc))
        try:
            if isinstance(hub_path, hub.ResolvePath):
                return await self.serve_file(request, distro, remote, hub_path)
            return await self.serve_api(request, distro, remote, hub_path)
        except upstream.UpstreamError as exc:
            return hub_error(exc.status, exc.message, exc.headers)

    @staticmethod
    def _remembered_distribution(path):
        domain_pk = get_domain_pk()
        for base_path in Handler._base_paths(path):
            found = memo.distributions.get((domain_pk, base_path))
            if found is not None:
                return found
        return None

    def _load_distribution(self, path):
        distro = self._match_distribution(path)
        remote = distro.remote.cast() if distro.remote_id else None
        found = (distro, remote)
        memo.distributions.put((distro.pulp_domain_id, distro.base_path), found)
        return found

    @staticmethod
    async def _find_cached(distro, pinned):
        """The stored file for `pinned`, remembered per distribution while it exists."""
        key = (distro.pk, pinned.relative_path())
        cached = memo.cached_files.get(key)
        if cached is not None and cached.file_path and not os.path.exists(cached.file_path):
            memo.cached_files.pop(key)
            cached = None
        if cached is None:
            cached = await sync_to_async(find_cached)(distro, pinned)
            if cached is not None:
                memo.cached_files.put(key, cached)
        return cached

    @staticmethod
    def _split_raw_path(request, distro):
        """The still percent-encoded path, split into (endpoint path, Hub path)."""
        raw = request.rel_url.raw_path.split("/")
        skip = 1 + PREFIX_SEGMENTS + distro.base_path.strip("/").count("/") + 1
        return "/".join(raw[:skip]), "/".join(raw[skip:])

    def _hub_raw_path(self, request, distro):
        """The still percent-encoded path after the distribution's base path."""
        return self._split_raw_path(request, distro)[1]

    def _endpoint_url(self, request, distro):
        """The URL the client uses as HF_ENDPOINT for this distribution."""
        return f"{request.scheme}://{request.host}" + self._split_raw_path(request, distro)[0]

    # -- files ----------------------------------------------------------------------------
    async def serve_file(self, request, distro, remote, path):
        info = None
        if hub.is_commit(path.revision):
            commit = path.revision
        elif remote is None:
            return hub_error(
                404, f"Revision {path.revision!r} is not pinned here.", code="RevisionNotFound"
            )
        else:
            commit, info = await metadata.resolve_revision(remote, path)
        pinned = path.at(commit)
        cached = await self._find_cached(distro, pinned)
        if cached is not None:
            if not cached.in_repository and distro.repository_version_id is None:
                await self._add_to_repository(distro, cached.content_artifact)
            return await self._serve_cached(request, cached, pinned)
        if remote is None:
            return hub_error(
                404,
                f"{path.filename} is not in this distribution.",
                headers={"X-Repo-Commit": commit},
                code="EntryNotFound",
            )
        if info is None:
            info = await upstream.file_info(remote, pinned)
        if request.method == "HEAD":
            return await self._head(request, info, pinned.filename)
        if request.headers.get("Range"):
            return await self._stream_range(request, remote, pinned, info)
        return await self._fetch_and_store(request, distro, remote, path.at(info.commit), info)

    async def _head(self, request, info, filename):
        response = web.StreamResponse(
            headers=file_headers(info.commit, info.etag, info.size, filename)
        )
        if info.size is not None:
            response.content_length = info.size
        await response.prepare(request)
        await response.write_eof()
        return response

    async def _serve_cached(self, request, cached, path):
        headers = file_headers(cached.commit, cached.etag, cached.size, path.filename)
        if request.method == "HEAD":
            response = web.StreamResponse(headers=headers)
            response.content_length = cached.size
            await response.prepare(request)
            await response.write_eof()
            return response
        if cached.file_path:
            return HubFileResponse(cached.file_path, cached.etag, headers=headers)
        return await self._serve_content_artifact(cached.content_artifact, headers, request)

    async def _stream_range(self, request, remote, path, info):
        """A byte range of a file not cached yet: passed through, not stored."""
        async with upstream.open_file(remote, path, request.headers["Range"]) as up:
            headers = file_headers(info.commit, info.etag, info.size, path.filename)
            if "Content-Range" in up.headers:
                headers["Content-Range"] = up.headers["Content-Range"]
            response = web.StreamResponse(status=up.status, headers=headers)
            if up.content_length is not None:
                response.content_length = up.content_length
            await response.prepare(request)
            async for chunk in up.content.iter_chunked(CHUNK_SIZE):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _fetch_and_store(self, request, distro, remote, path, info):
        """Fetch an uncached file once, however many clients ask for it at the same time."""
        store = remote.policy != Remote.STREAMED
        if not store or info.size is None:
            return await self._download(request, distro, remote, path, info, None)
        lock = InflightLock(remote.pk, path.relative_path())
        if not lock.try_lead():
            return await self._follow(request, lock, distro, remote, path, info)
        try:
            cached = await sync_to_async(find_cached)(distro, path)
            if cached is not None:  # a leader finished just before we took the lock
                return await self._serve_cached(request, cached, path)
            return await self._download(request, distro, remote, path, info, lock)
        finally:
            lock.release()

    async def _download(self, request, distro, remote, path, info, lock):
        """Stream a file from upstream to the client and, with a lock, store it.

        Writing and hashing run in a thread while the event loop moves the next chunk. The last
        chunk is held back until size and ETag are verified, so a client never receives a
        complete wrong file. If the client goes away a stored download still completes.
        """
        part = lock.new_part_path() if lock else None
        sink = ArtifactSink(info.etag, info.size, part, keep=bool(lock))
        loop = asyncio.get_running_loop()
        response = web.StreamResponse(
            headers=file_headers(info.commit, info.etag, info.size, path.filename)
        )
        client_gone = False

        async def send(chunk):
            nonlocal client_gone
            if not client_gone:
                try:
                    await response.write(chunk)
                except (ConnectionError, RuntimeError):
                    client_gone = True

        try:
            async with upstream.open_file(remote, path) as up:
                size = info.size if info.size is not None else up.content_length
                if size is not None:
                    response.content_length = size
                await response.prepare(request)
                pending = held = None
                async for chunk in up.content.iter_chunked(CHUNK_SIZE):
                    if size is not None and sink.size + len(chunk) > size:
                        raise IntegrityMismatch(f"upstream sent more than the {size} bytes")
                    if pending:
                        await pending
                    pending = loop.run_in_executor(None, sink.write, chunk)
                    if held is not None:
                        await send(held)
                    held = chunk
                    if client_gone and not lock:
                        break
                if pending:
                    await pending
            await loop.run_in_executor(None, sink.finish)
            if held is not None:
                await send(held)
        except (upstream.UpstreamError, IntegrityMismatch) as exc:
            sink.discard()
            if not response.prepared:
                raise
            log.warning("Aborted %s: %s", path.relative_path(), exc)
            _abort(request)
            return response
        except BaseException:
            sink.discard()
            raise
        if not client_gone:
            await response.write_eof()  # verified: the client is done, storing goes on
        if lock:
            await asyncio.shield(self._store(distro, remote, path, info, sink))
        return response

    async def _store(self, distro, remote, path, info, sink):
        try:
            await asyncio.get_running_loop().run_in_executor(None, sink.complete_digests)
            ca = await sync_to_async(save_pulled_file)(remote, path, info, sink)
        except StoredUnderOtherEtag as exc:  # the client got its upstream's verified bytes
            sink.discard()
            log.warning("Not stored: %s", exc)
            return
        except BaseException:
            sink.discard()
            raise
        await self._add_to_repository(distro, ca)

    async def _follow(self, request, lock, distro, remote, path, info):
        """Stream another request's download of the same file as it grows."""
        part_file = await self._open_leaders_part(lock)
        if part_file is None:  # the leader is done: it stored the file, or it failed
            cached = await sync_to_async(find_cached)(distro, path)
            if cached is not None:
                return await self._serve_cached(request, cached, path)
            return await self._download(request, distro, remote, path, info, None)
        response = web.StreamResponse(
            headers=file_headers(info.commit, info.etag, info.size, path.filename)
        )
        response.content_length = info.size
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        sent = 0
        with part_file:
            while sent < info.size:
                chunk = await loop.run_in_executor(None, part_file.read, CHUNK_SIZE)
                if chunk:
                    try:
                        await response.write(chunk)
                    except (ConnectionError, RuntimeError):
                        return response
                    sent += len(chunk)
                elif lock.leader_active():
                    await asyncio.sleep(FOLLOW_POLL)
                elif not (chunk := await loop.run_in_executor(None, part_file.read, 1)):
                    break  # the leader stopped before the end
                else:
                    part_file.seek(-1, 1)
        while lock.leader_active():  # it is verifying and storing what we streamed
            await asyncio.sleep(FOLLOW_POLL)
        if sent != info.size or await sync_to_async(find_cached)(distro, path) is None:
            log.warning("Aborted %s: the shared download failed.", path.relative_path())
            _abort(request)
            return response
        await response.write_eof()
        return response

    @staticmethod
    async def _open_leaders_part(lock):
        """The leader's part file, open; None once the leader is done with it."""
        while lock.leader_active():
            part = lock.published_part()
            if part is not None:
                try:
                    return open(part, "rb")
                except FileNotFoundError:  # already stored (moved) or discarded
                    pass
            await asyncio.sleep(FOLLOW_POLL)
        return None

    async def _add_to_repository(self, distro, content_artifact):
        if distro.repository_id:
            repository = await distro.repository.acast()
            if repository.PULL_THROUGH_SUPPORTED:
                await repository_adds.add(repository, content_artifact.content_id)

    # -- metadata API -----------------------------------------------------------------------
    async def serve_api(self, request, distro, remote, api_path):
        if remote is None:
            return hub_error(404, "This distribution has no remote to answer API calls.")
        if request.method == "POST" and api_path.endpoint != "paths-info":
            return hub_error(405, "Only paths-info accepts POST.")
        if request.method != "POST" and api_path.endpoint == "paths-info":
            return hub_error(405, "paths-info needs POST.")
        data = None
        if request.method == "POST":
            data = await request.post()
        answer = await metadata.api_answer(
            remote, "POST" if data is not None else "GET", api_path, request.query, data
        )
        headers = dict(answer.headers)
        if "Link" in headers:
            headers["Link"] = headers["Link"].replace(
                remote.hub_url, self._endpoint_url(request, distro)
            )
        return web.Response(status=answer.status, body=answer.body, headers=headers)


repository_adds = RepositoryAdds()
handler = HuggingFaceHandler()
app.on_shutdown.append(repository_adds.flush_all)
app.on_cleanup.append(upstream.close_sessions)
app.on_startup.append(invalidation.start_listener)
app.on_cleanup.append(invalidation.stop_listener)
app.add_routes([web.get(HUB_ROUTE, handler.serve), web.post(API_ROUTE, handler.serve)])
