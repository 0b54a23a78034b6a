"""A file's bytes from upstream: one shared download per file, streamed, verified, then stored.

The first request for an uncached file leads (inflight.InflightLock): it streams upstream bytes
to its client and into a part file, verifies them, and stores them. Requests for the same file
arriving meanwhile follow: they tail the leader's part file instead of asking upstream again.
When another host leads the same download (peers.py), this host's leader streams it from that
host's content app instead of upstream, and lets that host store it.
"""

import asyncio
import logging
from contextlib import asynccontextmanager

from aiohttp import web
from asgiref.sync import sync_to_async

from pulpcore.plugin.models import Remote

from . import cache, peers, upstream
from .inflight import InflightLock
from .repository_adds import add_to_repository
from .responses import abort, file_headers, stored_file_response
from .room import StorageFull, ensure_room
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
PEER_STORE_WAIT = 30  # seconds a host that followed another waits for that host to store


async def file_info(remote, path):
    """What upstream says of a commit-pinned file not stored yet: remembered (a client's HEAD
    before its GET costs one upstream round trip, not two), else asked."""
    info = cache.file_info(remote, path)
    if info is None:
        info = await upstream.file_info(remote, path)
        cache.remember_file_info(remote, path, info)
    return info


async def fetch_and_store(request, distro, remote, path, info=None):
    """Fetch an uncached file once, however many clients ask for it at the same time.

    Without `info` (nobody asked upstream about the file yet), the leading download learns it
    from upstream's answer to its GET.
    """
    if remote.policy == Remote.STREAMED or (info is not None and info.size is None):
        return await _download(request, distro, remote, path, info, None)
    lock = InflightLock(remote.pk, path.artifact_path())
    if not lock.try_lead():
        info = info or await file_info(remote, path)
        return await _follow(request, lock, distro, remote, path, info)
    try:
        # A leader on this host may have finished just before we took the lock (not when the
        # lock file is new: a leader keeps it until it is done).
        cached = None if lock.fresh else await _stored(distro, path)
        if cached is not None:
            return await stored_file_response(request, cached, path.path_in_repo)
        peer = await peers.leading_peer(lock.digest, request)
        if peer is not None:
            info = info or await file_info(remote, path)
            return await _download(request, distro, remote, path, info, lock, peer=peer)
        try:
            # Another host may have stored it, and let go of the lead, since this one looked.
            if lock.fresh and peers.own_address() and (cached := await _stored(distro, path)):
                return await stored_file_response(request, cached, path.path_in_repo)
            return await _download(request, distro, remote, path, info, lock)
        finally:
            await peers.release(lock.digest)
    finally:
        lock.release()


async def _stored(distro, path):
    """The stored file of `path` (not one only pinned to fetch later), or None."""
    cached = await sync_to_async(find_cached)(distro, path)
    return cached if cached is not None and cached.stored else None


async def stream_range(request, remote, path, info):
    """A byte range of a file not cached yet: passed through, not stored."""
    async with upstream.open_file(remote, path, request.headers["Range"]) as up:
        headers = file_headers(info.commit, info.etag, info.size, path.path_in_repo)
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


async def _download(request, distro, remote, path, info, lock, peer=None):
    """Stream a file from upstream (or the `peer` content app leading it) to the client and,
    with a lock, store it (a peer stores it itself: wait for that).

    Writing and hashing run in a thread while the event loop moves the next chunk. The last
    chunk is held back until size and ETag are verified, so a client never receives a
    complete wrong file. If the client goes away a stored download still completes.
    """
    loop = asyncio.get_running_loop()
    if lock and info:  # size known: refuse before asking upstream; else once the answer says it
        await loop.run_in_executor(None, ensure_room, lock.directory, info.size)
    sink = response = None
    client_gone = False

    async def send(chunk):
        nonlocal client_gone
        if not client_gone:
            try:
                await response.write(chunk)
            except (ConnectionError, RuntimeError):
                client_gone = True

    try:
        async with _source(request, remote, path, info, peer) as (up, learned):
            if info is None:
                info = learned
                cache.remember_file_info(remote, path, info)
                if info.size is None:
                    lock = None  # an unknown size cannot be verified: streamed, not stored
                elif lock:
                    await loop.run_in_executor(None, ensure_room, lock.directory, info.size)
            part = lock.new_part_path() if lock else None
            sink = ArtifactSink(info.etag, info.size, part)
            response = web.StreamResponse(
                headers=file_headers(info.commit, info.etag, info.size, path.path_in_repo)
            )
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
    except (upstream.UpstreamError, IntegrityMismatch, StorageFull) as exc:
        if sink:
            sink.discard()
        if response is None or not response.prepared:
            raise
        log.warning("Aborted %s: %s", path.artifact_path(), exc)
        abort(request)
        return response
    except BaseException:
        if sink:
            sink.discard()
        raise
    if not client_gone:
        await response.write_eof()  # verified: the client is done, storing goes on
    if lock and peer:
        await _stored_by_peer(distro, path)
        sink.discard()
    elif lock:
        await asyncio.shield(_store(distro, remote, path, info, sink))
    return response


@asynccontextmanager
async def _source(request, remote, path, info, peer):
    """The body to stream and the file's info: from the `peer` host leading the download, from
    upstream with `info` known, or from upstream's answer to the GET itself."""
    if info is None:
        async with upstream.open_file_with_info(remote, path) as (response, learned):
            yield response, learned
        return
    source = peers.open_peer(peer, request) if peer else upstream.open_file(remote, path)
    async with source as response:
        yield response, info


async def _stored_by_peer(distro, path):
    """Wait (a while) until the leading host has stored what this host streamed from it."""
    for _ in range(int(PEER_STORE_WAIT / 0.1)):
        if await _stored(distro, path) is not None:
            return
        await asyncio.sleep(0.1)
    log.warning("The leading host did not store %s in time.", path.artifact_path())


async def _store(distro, remote, path, info, sink):
    try:
        await asyncio.get_running_loop().run_in_executor(None, sink.complete_digests)
        ca = await sync_to_async(save_pulled_file)(remote, path, info, sink)
    except (StoredUnderOtherEtag, StorageFull) as exc:  # the client got verified bytes
        sink.discard()
        log.warning("Not stored: %s", exc)
        return
    except BaseException:
        sink.discard()
        raise
    sink.discard()  # object storage uploaded a copy of the part file; a file system moved it
    await add_to_repository(distro, ca)


async def _follow(request, lock, distro, remote, path, info):
    """Stream another request's download of the same file as it grows."""
    part_file = await _open_leaders_part(lock)
    if part_file is None:  # the leader is done: it stored the file, or it failed
        cached = await _stored(distro, path)
        if cached is not None:
            return await stored_file_response(request, cached, path.path_in_repo)
        return await _download(request, distro, remote, path, info, None)
    response = web.StreamResponse(
        headers=file_headers(info.commit, info.etag, info.size, path.path_in_repo)
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
    if sent != info.size or await _stored(distro, path) is None:
        log.warning("Aborted %s: the shared download failed.", path.artifact_path())
        abort(request)
        return response
    await response.write_eof()
    return response


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
