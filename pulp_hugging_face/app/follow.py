"""Following another request's download of the same file on this host: its part file, tailed
as it grows, sent once the leader has verified and stored it."""

import asyncio
import logging

from . import resolver, sources
from .responses import abort
from .sinks import VerifyOnly
from .transfer import CHUNK_SIZE, Client, transfer

log = logging.getLogger(__name__)

FOLLOW_POLL = 0.02


async def follow(request, lock, distro, remote, path, info):
    """Stream the leader's part file to the client; when the leader is already done, the stored
    file (or, if it failed, upstream's bytes, verified)."""
    part_file = await _open_leaders_part(lock)
    if part_file is None:  # the leader is done: it stored the file, or it failed
        stored = await resolver.stored_now(distro, path)
        if stored is not None:
            return await resolver.answer_stored(request, distro, stored, path)
        source = sources.upstream_known(remote, path, info)
        return await transfer(request, path, source, VerifyOnly(), info)
    client = Client(request)
    with part_file:
        await client.start(path, info, info.size)
        sent = await _tail(part_file, lock, client, info.size)
    if client.gone:
        return client.response
    while lock.leader_active():  # it is verifying and storing what we streamed
        await asyncio.sleep(FOLLOW_POLL)
    if sent != info.size or await resolver.stored_now(distro, path) is None:
        log.warning("Aborted %s: the shared download failed.", path.artifact_path())
        abort(request)
        return client.response
    await client.end()
    return client.response


async def _tail(part_file, lock, client, size):
    """Send the part file as it grows, up to `size` bytes, until the leader stops or the client
    goes away; the bytes sent."""
    loop = asyncio.get_running_loop()
    sent = 0
    while sent < size and not client.gone:
        chunk = await loop.run_in_executor(None, part_file.read, CHUNK_SIZE)
        if chunk:
            await client.send(chunk)
            sent += len(chunk)
        elif lock.leader_active():
            await asyncio.sleep(FOLLOW_POLL)
        elif not await loop.run_in_executor(None, part_file.read, 1):
            break  # the leader stopped before the end
        else:
            part_file.seek(-1, 1)
    return sent


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
