"""Moving a download's bytes: from a source (sources.py) to the client and a sink (sinks.py).

Writing and hashing run in a thread while the event loop moves the next chunk. The last chunk is
held back until size and ETag are verified, so a client never receives a complete wrong file. If
the client goes away, a sink that stores still gets every byte; one that only verifies stops.
"""

import asyncio
import logging

from aiohttp import web

from . import upstream, usage
from .responses import abort, file_headers
from .room import StorageFull
from .storage import IntegrityMismatch

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
FAILURES = (upstream.UpstreamError, IntegrityMismatch, StorageFull)


class Client:
    """The client's response: written to while it listens, then quietly skipped."""

    def __init__(self, request):
        self.request = request
        self.response = None
        self.gone = False
        self.tally = usage.current()

    async def start(self, path, info, size):
        """Send the Hub's headers for `info`, and `size` (if known) as the length."""
        headers = file_headers(info.commit, info.etag, info.size, path.path_in_repo)
        self.response = web.StreamResponse(headers=headers)
        if size is not None:
            self.response.content_length = size
        await self.response.prepare(self.request)

    async def send(self, chunk):
        if not self.gone:
            try:
                await self.response.write(chunk)
                self.tally.sent += len(chunk)
            except (ConnectionError, RuntimeError):
                self.gone = True

    async def end(self):
        if not self.gone:
            await self.response.write_eof()

    @property
    def started(self):
        return self.response is not None and self.response.prepared


async def transfer(request, path, source, sink, info=None):
    """Stream `source` to the client through `sink`; with `info` known, room is checked before
    upstream is asked."""
    client, checked = Client(request), None
    try:
        if info is not None:
            await sink.reserve(info)
        async with source as (body, told):
            checked = await sink.open(told)
            size = told.size if told.size is not None else body.content_length
            await client.start(path, told, size)
            held = await _pump(body, checked, client, sink.stores, size)
        await asyncio.get_running_loop().run_in_executor(None, checked.finish)
        if held is not None:
            await client.send(held)
    except FAILURES as exc:
        if checked:
            checked.discard()
        if not client.started:
            raise
        log.warning("Aborted %s: %s", path.artifact_path(), exc)
        abort(request)
        return client.response
    except BaseException:
        if checked:
            checked.discard()
        raise
    await client.end()  # verified: the client is done, keeping goes on
    await sink.keep(checked)
    return client.response


async def _pump(body, checked, client, keep_going, size):
    """Every chunk into `checked` (in a thread) and, one behind, to the client; returns the last
    chunk, held back. Refuses more than `size` bytes (if known); stops early when the client left
    and nothing keeps the bytes."""
    loop = asyncio.get_running_loop()
    pending = held = None
    received, tally = 0, client.tally
    try:
        async for chunk in body.content.iter_chunked(CHUNK_SIZE):
            received += len(chunk)
            if tally.source == "upstream":
                tally.fetched += len(chunk)
            if size is not None and received > size:
                raise IntegrityMismatch(f"upstream sent more than the {size} bytes")
            if pending:
                await asyncio.shield(pending)  # cancelled or not, the write runs to its end
            pending = loop.run_in_executor(None, checked.write, chunk)
            if held is not None:
                await client.send(held)
            held = chunk
            if client.gone and not keep_going:
                break
        if pending:
            await asyncio.shield(pending)
    finally:  # a write still running ends before the sink may be discarded
        if pending and not pending.done():
            await asyncio.wait([pending])
            pending.exception()
    return held
