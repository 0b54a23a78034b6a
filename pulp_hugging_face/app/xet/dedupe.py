"""Global dedupe (`GET v1/chunks/default-merkledb/{hash}`): for a chunk Pulp holds, a shard
listing the xorbs that hold it and the other xorbs of the files those are in (a new revision of
a file then dedupes against all of the old one), chunk hashes keyed so that a client learns only
the chunks it has itself."""

import hashlib
import time

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.xet_format import XetError
from pulp_hugging_face.xet_shard import dedupe_answer

from ..xet_index import XetChunk, XetSpan, XetXorb
from .reading import Placed

MOST_XORBS = 64  # per answer: 64 xorbs are up to 4 GiB of a file's chunks
KEY_LIFETIME = 7 * 24 * 3600  # seconds a client may dedupe against an answer, and a key's life


def hmac_key(now=None):
    """The key chunk hashes are hidden with: one a week, the same on every host, so that answers
    about the same xorbs are the same bytes."""
    week = int((time.time() if now is None else now) // KEY_LIFETIME)
    return hashlib.sha256(f"hf-xet-dedupe:{week}:{settings.SECRET_KEY}".encode()).digest()


async def lookup(request, path):
    answer = await sync_to_async(_answer, thread_sensitive=False)(path.hash)
    if answer is None:
        raise XetError("No xorb here holds that chunk.", 404)
    return web.Response(body=answer, content_type="application/octet-stream")


def _answer(chunk_hex):
    domain = get_domain_pk()
    holding = list(
        XetXorb.objects.filter(
            pulp_domain_id=domain,
            pk__in=XetChunk.objects.filter(hash=chunk_hex, xorb__pulp_domain_id=domain).values(
                "xorb_id"
            )[:8],
        )
    )
    files = XetSpan.objects.filter(xorb__in=holding).values("artifact_id")
    related = XetXorb.objects.filter(pulp_domain_id=domain, spans__artifact_id__in=files)
    chosen, seen = [], set()
    for xorb in [*holding, *related.distinct()[:MOST_XORBS]]:
        if xorb.pk in seen or len(chosen) >= MOST_XORBS:
            continue
        seen.add(xorb.pk)
        placed = Placed(xorb)
        if placed.holds(0, len(placed.entries)):
            chosen.append((xet.parse_hash(xorb.hash), placed.entries))
    if not chosen:
        return None
    return dedupe_answer(chosen, hmac_key(), KEY_LIFETIME)
