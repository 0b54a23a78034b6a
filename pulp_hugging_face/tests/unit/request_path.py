"""Helpers for the request path's unit tests: a fake upstream body, a source made of it, and a
real HTTP server (aiohttp's test server) answering with the code under test."""

import asyncio
import hashlib
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web
from asgiref.sync import async_to_sync

from pulp_hugging_face import hub
from pulp_hugging_face.app import upstream

COMMIT = "c" * 40
PATH = hub.ResolvePath(hub.Repo("model", "org/m"), COMMIT, "weights.bin")


def lfs_info(body):
    """The FileInfo upstream gives an LFS file of these bytes."""
    return upstream.FileInfo(COMMIT, hashlib.sha256(body).hexdigest(), len(body))


class FakeBody:
    """An upstream answer's body: `chunks` sent one by one, `pause` seconds apart; records how
    many were taken (a download that stops early takes fewer)."""

    def __init__(self, chunks, content_length=None, pause=0.0):
        self.chunks, self.content_length, self.pause = chunks, content_length, pause
        self.taken = 0
        self.headers = {}
        self.content = self

    async def iter_chunked(self, size):
        for chunk in self.chunks:
            if self.pause:
                await asyncio.sleep(self.pause)
            self.taken += 1
            yield chunk


def fake_source(body, info, opened=None):
    """A source yielding `body` and `info`; appends to `opened` when it is opened."""

    @asynccontextmanager
    async def source():
        if opened is not None:
            opened.append(True)
        yield body, info

    return source()


def failing_source(status=502):
    @asynccontextmanager
    async def source():
        raise upstream.UpstreamError(status, "the upstream Hub is down")
        yield  # pragma: no cover

    return source()


def run(coroutine_function):
    """Run an async test in the way the content app does: thread-sensitive database calls
    (sync_to_async) run on the test's thread, so they see the test's transaction."""

    async def main():
        return await coroutine_function()

    return async_to_sync(main)()


@asynccontextmanager
async def serving(answer):
    """A server whose every request is answered by `await answer(request)` (UpstreamError as
    the Hub's error), and an aiohttp session to it."""

    async def handle(request):
        try:
            return await answer(request)
        except upstream.UpstreamError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)  # as the content app runs: a client leaving cancels nothing
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
            yield session
    finally:
        await runner.cleanup()


async def fetch(session, method="GET", headers=None):
    """(status, headers, body) of one request; body None when the connection was cut."""
    async with session.request(method, "/file", headers=headers or {}) as response:
        try:
            body = await response.read()
        except aiohttp.ClientPayloadError:
            body = None
        return response.status, response.headers, body
