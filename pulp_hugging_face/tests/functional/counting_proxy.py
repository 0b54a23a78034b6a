"""A reverse proxy in front of the content app, as a site's nginx would be (it keeps the Host the
client used), that writes down each request: method, path, bytes up and bytes down."""

import asyncio
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Passed:
    method: str
    path: str
    status: int
    up: int
    down: int
    seconds: float  # from the request's arrival to its answer's end
    started: float  # time.monotonic() at its arrival


class CountingProxy:
    """`with CountingProxy(endpoint) as proxy:` serves `proxy.endpoint`; `proxy.log` is what
    passed through."""

    def __init__(self, endpoint):
        parts = urlsplit(endpoint)
        self.target = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.log = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._run, daemon=True).start()
        assert self._ready.wait(10), "the proxy did not start"
        self.endpoint = f"http://127.0.0.1:{self.port}{self.path}"
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def bytes_up(self, marker):
        return sum(p.up for p in self.log if marker in p.path)

    def bytes_down(self, marker):
        return sum(p.down for p in self.log if marker in p.path)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._session = self._loop.run_until_complete(self._new_session())
        self._ready.set()
        self._loop.run_forever()

    @staticmethod
    async def _new_session():
        return aiohttp.ClientSession(auto_decompress=False)

    async def _forward(self, request):
        started = time.monotonic()
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with self._session.request(
            request.method,
            self.target + request.rel_url.raw_path_qs,
            headers=headers,  # Host included: the client's, as a proxy that keeps it
            data=body if body else None,
            allow_redirects=False,
        ) as answer:
            data = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in HOP}
            elapsed = time.monotonic() - started
            self.log.append(
                Passed(
                    request.method,
                    request.rel_url.path,
                    answer.status,
                    len(body),
                    len(data),
                    elapsed,
                    started,
                )
            )
            if request.method == "HEAD":
                return web.Response(status=answer.status, headers=out)
            return web.Response(status=answer.status, headers=out, body=data)
