"""A file's bytes from upstream: one shared download per file, streamed, verified, then stored.

`fetch_and_store` decides once who moves the bytes and where they go, then `transfer` moves them:
- another request on this host leads the download: follow it (follow.py);
- another host leads it (peers.py): stream it from that host, which stores it (StoredByPeer);
- else this request leads: upstream's bytes, with the info known or told by the answer itself
  (sources.from_upstream), stored here (StoreHere);
- a streamed remote, or a file of unknown size: upstream's bytes, verified only (VerifyOnly).
"""

from aiohttp import web

from pulpcore.plugin.models import Remote

from . import peers, resolver, sources, upstream, usage
from .follow import follow
from .inflight import InflightLock
from .responses import file_headers
from .sinks import StoredByPeer, StoreHere, VerifyOnly
from .transfer import CHUNK_SIZE, transfer


async def fetch_and_store(request, distro, remote, path, info=None):
    """Fetch a file not stored yet once, however many clients ask for it at the same time.
    Without `info` (nobody asked upstream about the file yet), the leading download learns it
    from upstream's answer to its GET."""
    if remote.policy == Remote.STREAMED or (info is not None and info.size is None):
        source = sources.from_upstream(remote, path, info)
        return await transfer(request, path, source, VerifyOnly(), info)
    lock = InflightLock(remote.pk, path.artifact_path())
    if not lock.try_lead():
        info = info or await resolver.file_info(remote, path)
        return await follow(request, lock, distro, remote, path, info)
    try:
        return await _lead(request, lock, distro, remote, path, info)
    finally:
        lock.release()


async def _lead(request, lock, distro, remote, path, info):
    """This request holds the lock: serve what was stored meanwhile, else stream from the host
    leading the download, else from upstream into storage."""
    # A leader on this host may have finished just before we took the lock (not when the lock
    # file is new: a leader keeps it until it is done).
    if not lock.fresh and (stored := await resolver.stored_now(distro, path)):
        return await resolver.answer_stored(request, distro, stored, path)
    peer = await peers.leading_peer(lock.digest, request)
    if peer is not None:
        info = info or await resolver.file_info(remote, path)
        sink = StoredByPeer(lock, distro, path, resolver.stored_now)
        return await transfer(request, path, sources.leading_peer(peer, request, info), sink, info)
    try:
        # Another host may have stored it, and let go of the lead, since this one looked.
        if (
            lock.fresh
            and peers.own_address()
            and (stored := await resolver.stored_now(distro, path))
        ):
            return await resolver.answer_stored(request, distro, stored, path)
        source = sources.from_upstream(remote, path, info)
        return await transfer(request, path, source, StoreHere(lock, distro, remote, path), info)
    finally:
        await peers.release(lock.digest)


async def stream_range(request, remote, path, info):
    """A byte range of a file not stored yet: passed through, not stored."""
    async with upstream.open_file(remote, path, request.headers["Range"]) as up:
        headers = file_headers(info.commit, info.etag, info.size, path.path_in_repo)
        if "Content-Range" in up.headers:
            headers["Content-Range"] = up.headers["Content-Range"]
        response = web.StreamResponse(status=up.status, headers=headers)
        if up.content_length is not None:
            response.content_length = up.content_length
        await response.prepare(request)
        tally = usage.current()
        tally.source = "upstream"
        async for chunk in up.content.iter_chunked(CHUNK_SIZE):
            await response.write(chunk)
            tally.fetched += len(chunk)
            tally.sent += len(chunk)
        await response.write_eof()
        return response
