"""Where a download's bytes come from. Each source is an async context manager yielding
`(body, info)`: a body with `content.iter_chunked(n)` and `content_length`, and the file's
upstream FileInfo (known before, or told by the answer itself)."""

from contextlib import asynccontextmanager

from . import peers, resolver, upstream, usage


@asynccontextmanager
async def upstream_known(remote, path, info):
    """Upstream's bytes of a file whose info is known (asked before, or pinned)."""
    async with upstream.open_file(remote, path) as body:
        usage.current().source = "upstream"
        yield body, info


@asynccontextmanager
async def upstream_telling(remote, path):
    """Upstream's bytes of a file nobody asked about yet: its answer to the GET tells the info
    (one round trip before the first byte instead of two)."""
    async with upstream.open_file_with_info(remote, path) as (body, info):
        resolver.learned_info(remote, path, info)
        usage.current().source = "upstream"
        yield body, info


@asynccontextmanager
async def leading_peer(address, request, info):
    """The bytes the host leading this download (`address`) streams to us, as to a client."""
    async with peers.open_peer(address, request) as body:
        yield body, info


def from_upstream(remote, path, info):
    """The upstream source for what is known: with `info` or learning it."""
    return upstream_telling(remote, path) if info is None else upstream_known(remote, path, info)
