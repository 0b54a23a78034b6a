"""Shard uploads: every file checked (its terms name chunks Pulp holds, each term's
verification hash, the file hash over all its chunks), then kept as an ordinary artifact whose
sha256 must be the one the shard names; the xorbs' chunks then live in files, and staged blobs
no longer needed go. A lie is a 400 and keeps nothing of that file."""

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from asgiref.sync import sync_to_async
from django.db import transaction

from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.xet_format import XetError
from pulp_hugging_face.xet_shard import MAX_SHARD_BYTES, parse_upload

from ..publishing import files
from ..publishing.bodies import json_body
from ..storage import IntegrityMismatch, save_artifact
from ..xet_index import XetChunk, XetFile, XetSpan, XetXorb
from .reading import Placed

log = logging.getLogger(__name__)
HEARTBEAT = 5  # seconds between progress lines of a streamed (v2) shard upload


async def upload(request, path):
    """`POST v1/shards` (JSON answer) or `v2/shards` (NDJSON progress, then the result)."""
    body = await json_body(request, MAX_SHARD_BYTES)
    found, listed = await asyncio.get_running_loop().run_in_executor(None, parse_upload, body)
    land = sync_to_async(_land, thread_sensitive=False)
    if path.version == "v1":
        return web.json_response({"result": int(await land(found, listed))})
    response = web.StreamResponse(
        headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    progress = {"verified": 0, "total": len(found)}
    work = asyncio.ensure_future(land(found, listed, progress))
    while not (await asyncio.wait([work], timeout=HEARTBEAT))[0]:
        await _line(response, {"type": "validating", **progress})
    try:
        event = {"type": "result", "result": int(work.result())}
    except XetError as exc:
        event = {"type": "error", "message": str(exc)}
    except Exception:
        log.exception("Landing a Xet shard failed.")
        event = {"type": "error", "message": "The shard could not be registered; try again."}
    await _line(response, event)
    await response.write_eof()
    return response


async def _line(response, event):
    await response.write(json.dumps(event).encode() + b"\n")


def _land(found, listed, progress=None):
    """Check and keep the files of a shard: whether any was new."""
    named = {info.hash for info in listed} | {t.xorb for f in found for t in f.terms}
    rows = XetXorb.objects.filter(
        pulp_domain_id=get_domain_pk(), hash__in=[xet.hash_hex(raw) for raw in named]
    )
    placed = {xet.parse_hash(row.hash): Placed(row) for row in rows}
    for info in listed:
        if info.hash not in placed:
            raise XetError(f"The shard lists xorb {xet.hash_hex(info.hash)}, never uploaded.")
        if placed[info.hash].entries != list(info.chunks):
            raise XetError(f"The shard lists xorb {xet.hash_hex(info.hash)} with other chunks.")
    checked = [_checked(info, placed) for info in found]
    landed = False
    for info, entries in zip(found, checked):
        landed = _store(info, entries, placed) or landed
        if progress is not None:
            progress["verified"] += 1
    for one in placed.values():
        if one.xorb.staged and Placed(one.xorb).covered():
            one.xorb.drop_staged()
    return landed


def _checked(info, placed):
    """The (hash, size) of a file's chunks, once its terms and hashes hold; else XetError."""
    name = xet.hash_hex(info.hash)
    if info.sha256 is None:
        raise XetError(f"File {name} has no sha256 (its metadata extension): git repos need it.")
    entries = []
    for term in info.terms:
        one = placed.get(term.xorb)
        if one is None or term.end > len(one.entries) or not one.holds(term.start, term.end):
            xorb = xet.hash_hex(term.xorb)
            raise XetError(f"File {name} names chunks of xorb {xorb} that Pulp does not hold.")
        part = one.entries[term.start : term.end]
        if sum(size for _raw, size in part) != term.size:
            raise XetError(f"File {name} gives a term a size its chunks do not have.")
        if xet.verification_hash([raw for raw, _size in part]) != term.verification:
            raise XetError(f"File {name} has a term whose verification hash does not match.")
        entries += part
    if xet.file_hash(entries) != info.hash:
        raise XetError(f"File {name}'s chunks do not hash to its file hash.")
    return entries


def _store(info, entries, placed):
    name = xet.hash_hex(info.hash)
    if XetFile.objects.filter(pulp_domain_id=get_domain_pk(), hash=name).exists():
        return False
    artifact = files.stored_object(info.sha256, info.size)
    if artifact is None:
        artifact = _rebuilt(info, placed)
    elif not _same_chunks(artifact, entries):
        raise XetError(f"File {name}'s chunks are not the bytes of the stored {info.sha256}.")
    with transaction.atomic():  # a file's row, its spans and its first chunk: all or none
        _index(info, entries, placed, artifact)
    return True


def _index(info, entries, placed, artifact):
    terms = [[xet.hash_hex(t.xorb), t.start, t.end, t.size] for t in info.terms]
    XetFile.objects.get_or_create(
        pulp_domain_id=get_domain_pk(),
        hash=xet.hash_hex(info.hash),
        defaults={"artifact": artifact, "terms": terms},
    )
    spans, offset = [], 0
    for term in info.terms:
        xorb = placed[term.xorb].xorb
        spans.append(XetSpan(xorb=xorb, start=term.start, end=term.end, artifact=artifact))
        spans[-1].offset, offset = offset, offset + term.size
    XetSpan.objects.bulk_create(spans, ignore_conflicts=True)
    first = XetChunk(hash=xet.hash_hex(entries[0][0]), xorb=placed[info.terms[0].xorb].xorb)
    XetChunk.objects.bulk_create([first], ignore_conflicts=True)


def _rebuilt(info, placed):
    """The file's bytes read from its xorbs into a new artifact, checked against its sha256."""
    sink = files.UploadSink(info.sha256, info.size, files.part_path())
    try:
        with ThreadPoolExecutor(2) as helpers:  # the digests in two threads, beside the writing
            hashing = ()
            for term in info.terms:
                for block in placed[term.xorb].read(term.start, term.end, files.BLOCK):
                    for done in hashing:
                        done.result()
                    hashing = (
                        helpers.submit(sink.hash_own, block),
                        helpers.submit(sink.hash_rest, block),
                    )
                    sink.write(block, hashing=False)
            for done in hashing:
                done.result()
        sink.finish()
        return save_artifact(sink)
    except IntegrityMismatch:
        name = xet.hash_hex(info.hash)
        raise XetError(f"File {name}'s bytes do not have the sha256 {info.sha256} it names.")
    finally:
        sink.discard()


def _same_chunks(artifact, entries):
    """Whether a stored file's bytes are these chunks (before its bytes stand for theirs)."""
    with artifact.file.open("rb") as handle:
        for raw, size in entries:
            if xet.chunk_hash(handle.read(size)) != raw:
                return False
        return not handle.read(1)
