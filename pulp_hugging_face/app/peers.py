"""One upstream download per file across hosts: cluster-wide leadership, and following a leader
that runs on another host.

The in-flight lock (inflight.py) makes one request per host the leader of a file's download.
That request then takes a PostgreSQL advisory lock on the same key, on a connection of its
process that is named after the process's own content-app address (`HF_PEER_ADDRESS`). Who gets
the lock downloads from upstream. Who does not asks PostgreSQL who holds it and downloads the
same URL from that content app instead: its clients, and the requests of its host that follow
it, get the leader's bytes as they arrive, verified against the Hub's ETag and size here too.
The leader's host stores the file; the others wait for that and store nothing.

A process dies, its connection closes, its locks are gone: no stale leadership survives. With
no `HF_PEER_ADDRESS`, or when the database cannot be asked, every host leads its own download.
"""

import asyncio
import logging
from contextlib import asynccontextmanager

import aiohttp
from django.conf import settings

from . import upstream
from .cache.changes import conninfo

log = logging.getLogger(__name__)

PEER_HEADER = "X-Pulp-Hf-Peer"  # marks a request one content app makes of another
APP_NAME_PREFIX = "hf-peer "
# The leader is asked for the whole file as it is: no range, no condition it could answer with a
# 304 or 412 this host cannot pass on.
SKIPPED_HEADERS = {
    "host",
    "range",
    "accept-encoding",
    "connection",
    "content-length",
    "if-none-match",
    "if-match",
    "if-range",
    "if-modified-since",
    "if-unmodified-since",
}
PEER_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30)

LEADER_QUERY = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid::bigint = %s AND l.objid::bigint = %s
"""


class _Connection:
    """This process's connection for advisory locks; one statement at a time."""

    def __init__(self):
        self.conn = None
        self.guard = asyncio.Lock()

    async def execute(self, query, params):
        import psycopg

        async with self.guard:
            if self.conn is None or self.conn.closed:
                self.conn = await psycopg.AsyncConnection.connect(
                    autocommit=True, application_name=APP_NAME_PREFIX + own_address(), **conninfo()
                )
            cursor = await self.conn.execute(query, params)
            return await cursor.fetchone()


_connection = _Connection()
_locked = set()  # the digests whose advisory lock this process holds


async def connect(app=None):
    """Open this process's lock connection at start-up, so that the first cold download does not
    wait for it (it is opened again when lost)."""
    if own_address():
        try:
            await _connection.execute("SELECT 1", None)
        except Exception as exc:  # asked again at the first download
            log.warning("Cannot open the connection for download leadership yet: %s", exc)


def own_address():
    return (getattr(settings, "HF_PEER_ADDRESS", None) or "").rstrip("/")


def lock_key(digest):
    """The signed 64-bit advisory lock key of an in-flight digest (hex)."""
    return int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)


async def leading_peer(digest, request):
    """The address of another host's content app leading this download, or None: lead here."""
    address = own_address()
    if not address or PEER_HEADER in request.headers or len(APP_NAME_PREFIX + address) > 63:
        return None
    key = lock_key(digest)
    try:
        if (await _connection.execute("SELECT pg_try_advisory_lock(%s)", [key]))[0]:
            _locked.add(digest)
            return None
        row = await _connection.execute(LEADER_QUERY, [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF])
    except Exception as exc:  # no database: lead here rather than fail the client
        log.warning("Cannot ask the database who leads a download (%s); leading here.", exc)
        return None
    leader = row[0].removeprefix(APP_NAME_PREFIX) if row else ""
    return leader if leader and leader != address else None


async def release(digest):
    """Let go of the lead of a download, if this process took it (else nothing to ask)."""
    if digest not in _locked:
        return
    _locked.discard(digest)
    try:
        await _connection.execute("SELECT pg_advisory_unlock(%s)", [lock_key(digest)])
    except Exception as exc:  # a lost connection has released it already
        log.debug("Advisory unlock failed: %s", exc)


@asynccontextmanager
async def open_peer(address, request):
    """GET the request's URL from the leading content app, with the client's own headers."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in SKIPPED_HEADERS}
    headers.update({PEER_HEADER: "1", "Accept-Encoding": "identity"})
    try:
        async with aiohttp.ClientSession(timeout=PEER_TIMEOUT, auto_decompress=False) as session:
            async with session.get(address + request.path_qs, headers=headers) as response:
                if response.status != 200:
                    raise upstream.UpstreamError(
                        502, f"the leading host answered {response.status}"
                    )
                yield response
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise upstream.UpstreamError(502, f"the leading host {address} failed: {exc}")
