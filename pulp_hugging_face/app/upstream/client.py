"""Upstream sessions, time-outs and errors, and `request`, the one way to call upstream."""

import asyncio
from contextlib import asynccontextmanager
from urllib.parse import urljoin

import aiohttp
from yarl import URL

from ..hub_downloader import MAX_REDIRECTS, REDIRECT_STATUSES
from ..pulpcore_internals import remote_session

READ_BUFFER = 4 * 1024 * 1024  # large reads keep per-chunk overhead off the hot path
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


_sessions = {}


def _session_for(remote):
    """The remote's aiohttp session (connection pool), reused until the remote changes."""
    key = (remote.pk, remote.pulp_last_updated)
    session = _sessions.get(key)
    if session is None or session.closed:
        for old_key in [k for k in _sessions if k[0] == remote.pk]:
            asyncio.get_running_loop().create_task(_sessions.pop(old_key).close())
        session = _sessions[key] = remote_session(remote)
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


def metadata_timeout(remote):
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


def error_message(headers, reason):
    """What the Hub says of an error answer: `X-Error-Code: X-Error-Message` (the reason when it
    sends no message). The one reading of the Hub's errors, for requests and for sync."""
    code = headers.get("X-Error-Code")
    message = headers.get("X-Error-Message") or reason or "Upstream error"
    return f"{code}: {message}" if code else message


def upstream_error(response):
    status = response.status if response.status < 500 else 502
    return UpstreamError(status, error_message(response.headers, response.reason), response.headers)


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
