"""The only place that talks to the upstream Hub.

Requests use the remote's own aiohttp session (its proxy, TLS and timeout settings, reused across
requests), add the remote's token as a Bearer token only for the Hub's own origin, follow
redirects themselves (so no upstream or CDN URL reaches the client) and turn the Hub's error
answers into `UpstreamError`s that keep `X-Error-Code` / `X-Error-Message`.
"""

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp
from yarl import URL

from pulpcore.plugin.download import DownloaderFactory

from pulp_hugging_face import hub

from .hub_downloader import MAX_REDIRECTS, REDIRECT_STATUSES

READ_BUFFER = 4 * 1024 * 1024  # large reads keep per-chunk overhead off the hot path
MAX_API_BODY = 64 * 1024 * 1024
# The Hub client gives a HEAD 10 s: answer before it gives up.
METADATA_TIMEOUT = 8.0
ERROR_HEADERS = ("X-Error-Code", "X-Error-Message", "X-Repo-Commit")


class UpstreamError(Exception):
    """The Hub answered with an error, or could not be reached (`status` 502/504)."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = {k: v for k, v in (headers or {}).items() if k in ERROR_HEADERS}


@dataclass
class FileInfo:
    """What the Hub says about one file: the commit, the blob name and the size."""

    commit: str
    etag: str
    size: int | None


class _SessionFactory(DownloaderFactory):
    """pulpcore's own session building for a remote: TLS, client certificate, headers.

    Only the session is taken: a whole DownloaderFactory registers an atexit hook per instance
    (it logs "Event loop is closed" when the content app stops) and its downloaders spool to
    temporary files, where we stream. Time-outs and read sizes are given per request.
    """

    def __init__(self, remote):
        self._remote = remote

    def session(self):
        return self._make_aiohttp_session_from_remote()


_sessions = {}


def _session_for(remote):
    """The remote's aiohttp session (connection pool), reused until the remote changes."""
    key = (remote.pk, remote.pulp_last_updated)
    session = _sessions.get(key)
    if session is None or session.closed:
        for old_key in [k for k in _sessions if k[0] == remote.pk]:
            asyncio.get_running_loop().create_task(_sessions.pop(old_key).close())
        session = _sessions[key] = _SessionFactory(remote).session()
    return session


async def close_sessions(app=None):
    """Close every upstream session (content app shutdown)."""
    while _sessions:
        await _sessions.popitem()[1].close()


def _transfer_timeout(remote):
    """File bodies may take long: no total limit unless the remote sets one, but no stall."""
    return aiohttp.ClientTimeout(
        total=remote.total_timeout,
        connect=remote.connect_timeout,
        sock_connect=remote.sock_connect_timeout or 30,
        sock_read=remote.sock_read_timeout or 300,
    )


def _metadata_timeout(remote):
    """Metadata calls end before the Hub client's own time-out, or sooner if the remote says."""
    total = min(remote.total_timeout or METADATA_TIMEOUT, METADATA_TIMEOUT)
    return aiohttp.ClientTimeout(total=total, sock_connect=min(total, 5))


def _request_kwargs(remote):
    kwargs = {}
    if remote.proxy_url:
        kwargs["proxy"] = remote.proxy_url
        if remote.proxy_username:
            kwargs["proxy_auth"] = aiohttp.BasicAuth(
                remote.proxy_username, remote.proxy_password or ""
            )
    return kwargs


def _upstream_error(response):
    code = response.headers.get("X-Error-Code")
    message = response.headers.get("X-Error-Message") or response.reason or "Upstream error"
    if code:
        message = f"{code}: {message}"
    status = response.status if response.status < 500 else 502
    return UpstreamError(status, message, response.headers)


@asynccontextmanager
async def _unreachable_as_error(remote, url):
    try:
        yield
    except asyncio.TimeoutError:
        raise UpstreamError(504, f"The upstream Hub {remote.hub_url} did not answer in time.")
    except aiohttp.ClientError as exc:
        raise UpstreamError(502, f"The upstream Hub {remote.hub_url} is unreachable: {exc}")


@asynccontextmanager
async def request(remote, method, url, headers=None, follow_other_hosts=True, **kwargs):
    """Send one request, following redirects ourselves; the token goes only to the Hub's origin.

    With `follow_other_hosts=False` a redirect to another host (an LFS file on a CDN) is the
    answer: it carries `X-Linked-Etag` and `X-Linked-Size` itself.
    """
    session = _session_for(remote)
    kwargs.setdefault("timeout", _transfer_timeout(remote))
    async with _unreachable_as_error(remote, url):
        for _ in range(MAX_REDIRECTS + 1):
            response = await session.request(
                method,
                url,
                headers={**(headers or {}), **remote.auth_headers(url)},
                allow_redirects=False,
                read_bufsize=READ_BUFFER,
                **_request_kwargs(remote),
                **kwargs,
            )
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                target = urljoin(str(response.url), location)
                if follow_other_hosts or URL(target).origin() == URL(url).origin():
                    response.release()
                    url = target  # a renamed repo, or the CDN of an LFS file
                    continue
            try:
                yield response
            finally:
                response.release()
            return
    raise UpstreamError(502, f"Too many redirects from the upstream Hub for {url}.")


async def file_info(remote, resolve_path):
    """Ask the Hub (HEAD, no body) which commit, blob and size a file resolves to."""
    url = f"{remote.hub_url}/{resolve_path.url()}"
    async with request(
        remote,
        "HEAD",
        url,
        headers={"Accept-Encoding": "identity"},
        follow_other_hosts=False,
        timeout=_metadata_timeout(remote),
    ) as response:
        if response.status >= 400:
            raise _upstream_error(response)
        return _file_info_from(response, redirected=response.status in REDIRECT_STATUSES)


def _file_info_from(response, redirected):
    h = response.headers
    commit = h.get("X-Repo-Commit")
    etag = hub.normalize_etag(h.get("X-Linked-Etag") or h.get("ETag"))
    size = h.get("X-Linked-Size") or (None if redirected else h.get("Content-Length"))
    if not hub.is_commit(commit) or not etag:
        raise UpstreamError(
            502, "The upstream Hub answered without a valid X-Repo-Commit or ETag for this file."
        )
    try:
        size = int(size) if size is not None else None
    except ValueError:
        raise UpstreamError(502, "The upstream Hub answered with an invalid file size.")
    return FileInfo(commit=commit, etag=etag, size=size)


@asynccontextmanager
async def open_file(remote, resolve_path, range_header=None):
    """GET a file's body (following the CDN redirect), raising `UpstreamError` on errors."""
    url = f"{remote.hub_url}/{resolve_path.url()}"
    headers = {"Accept-Encoding": "identity"}
    if range_header:
        headers["Range"] = range_header
    async with request(remote, "GET", url, headers=headers) as response:
        if response.status >= 400:
            raise _upstream_error(response)
        yield response


def strip_xet(value):
    """Remove `xetHash` keys from Hub JSON so clients download over HTTP through us."""
    if isinstance(value, dict):
        return {k: strip_xet(v) for k, v in value.items() if k != "xetHash"}
    if isinstance(value, list):
        return [strip_xet(v) for v in value]
    return value


@dataclass
class ApiAnswer:
    """A Hub metadata API answer: status, the headers that matter, the (Xet-free) body."""

    status: int
    headers: dict
    body: bytes


async def api(remote, method, api_path, query=None, data=None):
    """Call the Hub metadata API and return its answer with Xet hints removed."""
    url = f"{remote.hub_url}/{api_path.url()}"
    async with request(
        remote, method, url, params=query or None, data=data, timeout=_metadata_timeout(remote)
    ) as response:
        body = await _read_limited(response)
        if response.status >= 400:
            raise _upstream_error(response)
        if response.content_type == "application/json":
            try:
                body = json.dumps(strip_xet(json.loads(body))).encode()
            except ValueError:
                raise UpstreamError(502, "The upstream Hub answered with invalid JSON.")
        keep = ("Content-Type", "Link", "X-Repo-Commit", "X-Total-Count", "ETag")
        headers = {k: response.headers[k] for k in keep if k in response.headers}
        return ApiAnswer(response.status, headers, body)


async def _read_limited(response):
    declared = response.content_length
    if declared is not None and declared > MAX_API_BODY:
        raise UpstreamError(502, "The upstream Hub's metadata answer is too large.")
    chunks, total = [], 0
    async for chunk in response.content.iter_chunked(1 << 16):
        total += len(chunk)
        if total > MAX_API_BODY:
            raise UpstreamError(502, "The upstream Hub's metadata answer is too large.")
        chunks.append(chunk)
    return b"".join(chunks)
