"""Xorb uploads: read as they arrive, every chunk decompressed and hashed and the xorb hash
checked before anything is kept; kept uncompressed and staged until a shard places its chunks
in files. Lies (another hash, truncation, bad compression, too big) are a 400; nothing stays."""

import asyncio
import os

from aiohttp import web
from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction

from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.xet_format import XetError

from ..publishing.files import BLOCK, part_path
from ..xet_index import ENTRY, XetChunk, XetXorb, packed
from .reading import STAGED, placed, stage

FOOTER_ALLOWANCE = 1 << 20  # xet-core's index after the chunks: 40 bytes a chunk at most
IDLE = 120  # seconds a xorb upload may send nothing before it is dropped


async def upload(request, path):
    """`POST v1/xorbs/default/{hash}`: `{"was_inserted": bool}`."""
    raw = xet.parse_hash(path.hash)
    size = request.content_length
    if size is None or size > xet.MAX_XORB_BYTES + FOOTER_ALLOWANCE:
        raise XetError("A xorb upload needs a Content-Length of at most 64 MiB.")
    if await sync_to_async(_known)(path.hash) is not None:  # its bytes are all here
        async for _chunk in request.content.iter_chunked(BLOCK):
            pass
        return web.json_response({"was_inserted": False})
    unpacked = part_path()
    try:
        body = _Body(request.content, asyncio.get_running_loop(), size)
        entries = await body.loop.run_in_executor(None, _unpack, body, unpacked, raw)
        inserted = await sync_to_async(_keep, thread_sensitive=False)(path.hash, entries, unpacked)
    finally:
        if os.path.exists(unpacked):
            os.unlink(unpacked)
    return web.json_response({"was_inserted": inserted})


async def head(request, path):
    """`HEAD v1/xorbs/default/{hash}`: 200 with the size of the xorb as served, else 404."""
    xorb = await sync_to_async(_known)(path.hash)
    if xorb is None:
        raise XetError("No such xorb here.", 404)
    served = xorb.size + xet.CHUNK_HEADER * (len(xorb.chunks) // ENTRY)
    return web.Response(headers={"Content-Length": str(served)})


class _Body:
    """A request body read from a worker thread as it arrives (`read(n)`), in blocks, checked
    against its Content-Length: no copy of it on disk."""

    def __init__(self, stream, loop, size):
        self.stream, self.loop, self.size = stream, loop, size
        self.got, self.pending, self.at = 0, b"", 0

    def _more(self):
        reading = asyncio.wait_for(self.stream.read(BLOCK), IDLE)
        try:
            block = asyncio.run_coroutine_threadsafe(reading, self.loop).result(IDLE + 5)
        except (TimeoutError, asyncio.TimeoutError):
            raise XetError(f"The xorb upload sent nothing for {IDLE} s.", 408)
        self.got += len(block)
        if self.got > self.size:
            raise XetError("The xorb is longer than its Content-Length.")
        self.pending, self.at = self.pending[self.at :] + block, 0
        return bool(block)

    def read(self, wanted):
        while len(self.pending) - self.at < wanted and self._more():
            pass
        data = self.pending[self.at : self.at + wanted]
        self.at += len(data)
        return data

    def finish(self):
        """Read what is left (xet-core's index after the chunks); XetError when cut short."""
        while self._more():
            self.pending, self.at = b"", 0
        if self.got != self.size:
            raise XetError(f"The xorb was cut short: {self.got} of {self.size} bytes.")


def _unpack(body, unpacked, raw):
    """Check a xorb as it arrives (every chunk, then the xorb hash) while writing its chunks
    uncompressed to `unpacked`: their (hash, size) entries, or XetError."""
    entries = []
    try:
        with open(unpacked, "xb") as target:
            for data in xet.read_chunks(body.read):
                entries.append((xet.chunk_hash(data), len(data)))
                target.write(data)
        body.finish()
    except BaseException:
        os.unlink(unpacked)  # here: the request may be gone, and its clean-up run, already
        raise
    if not entries:
        raise XetError("A xorb needs at least one chunk.")
    if xet.merkle_root(entries) != raw:
        raise XetError("The xorb's chunks do not hash to the xorb hash it was uploaded as.")
    return entries


def _known(hash_hex):
    """The xorb, when Pulp holds every chunk of it (staged or in files), else None: a xorb whose
    bytes went (orphan cleanup, pruning) is taken again."""
    found = placed(hash_hex)
    return found.xorb if found is not None and found.holds(0, len(found.entries)) else None


def _keep(hash_hex, entries, unpacked):
    name = f"{STAGED}{hash_hex}"
    xorb = XetXorb(hash=hash_hex, chunks=packed(entries), size=sum(s for _h, s in entries))
    xorb.staged = stage(name, unpacked)  # first: a xorb row always has its bytes somewhere
    try:
        with transaction.atomic():
            xorb.save()
    except IntegrityError:  # known, without all its bytes; or uploaded meanwhile by another
        updated = XetXorb.objects.filter(
            pulp_domain_id=get_domain_pk(), hash=hash_hex, staged__isnull=True
        ).update(staged=xorb.staged)
        return bool(updated)
    index = [
        XetChunk(hash=xet.hash_hex(raw), xorb=xorb) for raw, _s in entries if xet.eligible(raw)
    ]
    XetChunk.objects.bulk_create(index, ignore_conflicts=True)
    return True
