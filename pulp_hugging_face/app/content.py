"""The content app's routes for Hub paths, and the hooks that start and stop what they need.

pulpcore-content imports this module before adding its catch-all route, so these routes win for
Hub-shaped paths; a path that belongs to no Hugging Face distribution goes on to the stock
handler (see handler.py).
"""

import asyncio
import logging
import uuid

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings
from django_guid import set_guid

from pulpcore.plugin.content import app

from . import (
    authentication,
    cache,
    heartbeat,
    inflight,
    peers,
    repository_adds,
    retention,
    tasks,
    upstream,
    usage,
    xet,
)
from .handler import PREFIX, HuggingFaceHandler

log = logging.getLogger(__name__)

HUB_ROUTE = PREFIX + r"{path:.+/(?:resolve|raw)/.+|(?:.+/)?api/.+}"
API_ROUTE = PREFIX + r"{path:(?:.+/)?api/.+}"
LFS_ROUTE = PREFIX + r"{path:.+\.git/info/lfs/.+}"  # publishing: the LFS batch API and uploads
XET_ROUTE = PREFIX + r"{path:(?:.+/)?xet-cas/v[12]/.+}"  # a distribution's Xet CAS API


async def housekeeping():
    """Prune remembered answers and idle single-flight files, now and then every interval."""
    while True:
        try:
            rows = await sync_to_async(cache.prune_remembered)()
            files = await asyncio.get_running_loop().run_in_executor(None, inflight.prune_inflight)
            staged = await sync_to_async(xet.prune_staged)()
            log.debug(
                "Pruned %d remembered answers, %d in-flight files and %d staged xorbs.",
                rows,
                files,
                staged,
            )
        except Exception:
            log.exception("Pruning remembered answers failed; trying again later.")
        await asyncio.sleep(settings.HF_HOUSEKEEPING_INTERVAL)


async def evict_idle():
    """Now and then, an eviction for each repository with files idle beyond its limit, and the
    freeing of what earlier evictions kept while it was being sent."""
    set_guid(uuid.uuid4().hex)  # the correlation id of the tasks it dispatches
    while True:
        await asyncio.sleep(settings.HF_CACHE_EVICT_INTERVAL)
        try:
            for repository in await sync_to_async(retention.with_idle_files)():
                await sync_to_async(tasks.dispatch_eviction)(repository)
            if await sync_to_async(retention.left_over)():
                await sync_to_async(tasks.dispatch_freeing)()
        except Exception:
            log.exception("Looking for idle cached files failed; trying again later.")


def background(name, coroutine_function):
    """An app hook pair that runs `coroutine_function()` for as long as the app runs."""

    async def start(app):
        app[name] = asyncio.ensure_future(coroutine_function())

    async def stop(app):
        app[name].cancel()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


handler = HuggingFaceHandler()
background("hf_change_listener", cache.listen_forever)
background("hf_housekeeping", housekeeping)
background("hf_usage", usage.flush_forever)
background("hf_evict_idle", evict_idle)
cache.listen_also(usage.FLUSH_CHANNEL, usage.ask_to_flush)
app.on_startup.append(peers.connect)
app.on_shutdown.append(repository_adds.pending.flush_all)
app.on_shutdown.append(usage.flush_at_exit)
app.on_cleanup.append(upstream.close_sessions)
app.add_routes(
    [
        web.get(HUB_ROUTE, handler.serve),
        *(web.route(method, API_ROUTE, handler.serve) for method in ("POST", "PUT", "DELETE")),
        *(web.route(method, LFS_ROUTE, handler.serve) for method in ("POST", "PUT")),
        web.get(XET_ROUTE, handler.serve),
        web.post(XET_ROUTE, handler.serve),
    ]
)
authentication.install(app, (handler.serve,))
heartbeat.install()
