"""Xet downloads of files Pulp holds: the reconstruction API (`v1/reconstructions/{file}`, with
an optional byte range) names each term's chunks and a signed URL under the distribution's CAS
that serves them (`v1/fetch/{xorb}`), uncompressed, read from the stored files. A client with
earlier chunks in its cache fetches only the others."""

import asyncio
import contextvars
import logging
import time

from aiohttp import web
from asgiref.sync import sync_to_async

from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face.xet_format import CHUNK_HEADER, XetError, chunk_header

from .. import tokens, usage
from ..stored_files import serves_artifact
from ..xet_index import XetFile, XetXorb
from .reading import Placed, placed

log = logging.getLogger(__name__)
URL_LIFETIME = 3600  # seconds a fetch URL stays valid
PURPOSE = "hf-xet-fetch"  # of this module's signatures (tokens.signature)


def _signed(xorb, start, end, expires):
    """What a fetch URL's signature signs."""
    return f"{get_domain_pk()}:{xorb}:{start}:{end}:{expires}"


async def reconstruction(request, distro, path, cas_url):
    """`GET v1/reconstructions/{file}` of a file the distribution serves (v2 is answered 404:
    clients then ask v1)."""
    if path.version != "v1":
        raise XetError("This CAS answers v1 reconstructions.", 404)
    wanted = _range(request.headers.get("Range"))
    plan = await sync_to_async(_plan, thread_sensitive=False)(distro, path.hash, wanted, cas_url)
    return web.json_response(plan)


def _range(header):
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    try:
        start, end = int(first), (int(last) if last else None)
    except ValueError:
        raise XetError(f"Malformed Range header {header[:80]!r}.")
    if unit.strip() != "bytes" or start < 0 or (end is not None and end < start):
        raise XetError(f"Malformed Range header {header[:80]!r}.")
    return start, end


def _plan(distro, file_hex, wanted, cas_url):
    found = _served_file(distro, file_hex)
    if found is None:
        raise XetError("No file with that Xet hash here.", 404)
    size = sum(term[3] for term in found.terms)
    start, end = wanted or (0, size - 1)
    end = size - 1 if end is None else min(end, size - 1)
    if start >= size:
        raise XetError(f"The range starts past the file's {size} bytes.", 416)
    wanted_terms, at = [], 0  # the terms the range touches, and where each starts in the file
    for term in found.terms:
        if at + term[3] > start and at <= end:
            wanted_terms.append((term, at))
        at += term[3]
    names = {term[0] for term, _at in wanted_terms}
    rows = XetXorb.objects.filter(hash__in=names, pulp_domain_id=get_domain_pk())
    by_hash = {row.hash: Placed(row) for row in rows}
    terms, fetch, skip = [], {}, None
    for (xorb, first, last, _length), at in wanted_terms:
        one = by_hash.get(xorb)
        if one is None or not one.holds(first, last):
            raise XetError("Part of this file is no longer held here.", 404)
        sizes = [s for _h, s in one.entries]
        begin, offset = first, at
        while offset + sizes[begin] <= start:
            offset, begin = offset + sizes[begin], begin + 1
        skip = start - offset if skip is None else skip
        stop, reach = begin, offset
        while stop < last and reach <= end:
            reach, stop = reach + sizes[stop], stop + 1
        terms.append(
            {
                "hash": xorb,
                "unpacked_length": reach - offset,
                "range": {"start": begin, "end": stop},
            }
        )
        fetch.setdefault(xorb, []).append(_fetch_info(cas_url, xorb, one, begin, stop))
    return {"offset_into_first_range": skip or 0, "terms": terms, "fetch_info": fetch}


def _fetch_info(cas_url, xorb, one, start, end):
    expires = int(time.time()) + URL_LIFETIME
    signature = tokens.signature(PURPOSE, _signed(xorb, start, end, expires))
    url = f"{cas_url}/v1/fetch/{xorb}?chunks={start}-{end}&expires={expires}&signature={signature}"
    first = start * CHUNK_HEADER + one.offsets[start]
    last = end * CHUNK_HEADER + one.offsets[end] - 1
    return {
        "range": {"start": start, "end": end},
        "url": url,
        "url_range": {"start": first, "end": last},
    }


async def fetch(request, path):
    """`GET v1/fetch/{xorb}?chunks=...` from a reconstruction: the chunks, uncompressed (the
    URL is the grant: signed, expiring, for those chunks only)."""
    query = request.query
    try:
        start, end = (int(n) for n in query["chunks"].split("-"))
        expires = int(query["expires"])
    except (KeyError, ValueError):
        raise XetError("This fetch URL is not one this Pulp signed.", 403)
    signature = query.get("signature", "")
    if not tokens.signed(PURPOSE, _signed(path.hash, start, end, expires), signature):
        raise XetError("This fetch URL is not one this Pulp signed.", 403)
    if expires < time.time():
        raise XetError("This fetch URL expired: ask for the reconstruction again.", 403)
    one = await sync_to_async(placed, thread_sensitive=False)(path.hash)
    if one is None or not 0 <= start < end <= len(one.entries) or not one.holds(start, end):
        raise XetError("Those chunks are no longer held here.", 404)
    first = start * CHUNK_HEADER + one.offsets[start]
    length = (end - start) * CHUNK_HEADER + one.offsets[end] - one.offsets[start]
    total = len(one.entries) * CHUNK_HEADER + one.offsets[-1]
    response = web.StreamResponse(status=206 if request.headers.get("Range") else 200)
    response.content_length = length
    response.content_type = "application/octet-stream"
    if request.headers.get("Range"):
        response.headers["Content-Range"] = f"bytes {first}-{first + length - 1}/{total}"
    await response.prepare(request)
    loop, blocks = asyncio.get_running_loop(), _framed(one, start, end)
    context = contextvars.copy_context()  # the domain, for reading staged bytes
    reading = {span.artifact_id for span in one.spans}  # not evicted while read (usage.py)
    tally = usage.current()
    tally.source = "storage"
    for artifact_pk in reading:
        usage.usage.start_sending(artifact_pk)
    try:
        while block := await loop.run_in_executor(None, context.run, next, blocks, None):
            await response.write(block)
            tally.sent += len(block)
    except XetError as exc:  # the status is sent: cut the answer short, the client retries
        log.warning("A Xet fetch stopped mid-way: %s", exc)
        request.transport.close()
        return response
    finally:
        for artifact_pk in reading:
            usage.usage.stop_sending(artifact_pk)
    await response.write_eof()
    return response


async def head_file(request, distro, path):
    """`HEAD v1/files/{file}`: 200 with the file's size when the distribution serves it."""
    found = await sync_to_async(_served_file)(distro, path.hash)
    if found is None:
        raise XetError("No file with that Xet hash here.", 404)
    return web.Response(headers={"Content-Length": str(found.artifact.size)})


def _served_file(distro, file_hex):
    found = _file(file_hex)
    return found if found is not None and serves_artifact(distro, found.artifact_id) else None


def _file(file_hex):
    query = XetFile.objects.select_related("artifact")
    return query.filter(pulp_domain_id=get_domain_pk(), hash=file_hex).first()


def _framed(one, start, end):
    """The chunks [start, end) as a xorb holds them: each behind its (uncompressed) header."""
    pending, index = bytearray(), start
    sizes = [size for _hash, size in one.entries]
    for block in one.read(start, end):
        pending += block
        while index < end and len(pending) >= sizes[index]:
            yield chunk_header(sizes[index]) + bytes(pending[: sizes[index]])
            del pending[: sizes[index]]
            index += 1
