"""A file upstream: what it is (commit, blob name, size) and its bytes."""

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

from pulp_hugging_face import hub

from ..hub_downloader import REDIRECT_STATUSES
from .client import UpstreamError, metadata_timeout, request, upstream_error

# A file's bytes as stored upstream: never re-encoded on the way (the size and ETag are of them).
IDENTITY = {"Accept-Encoding": "identity"}


@dataclass
class FileInfo:
    """What the Hub says about one file: the commit, the blob name and the size."""

    commit: str
    etag: str
    size: int | None


async def file_info(remote, resolve_path):
    """Ask the Hub (HEAD, no body) which commit, blob and size a file resolves to."""
    url = f"{remote.hub_url}/{resolve_path.url()}"
    async with request(
        remote,
        "HEAD",
        url,
        headers=IDENTITY,
        follow_other_hosts=False,
        timeout=metadata_timeout(remote),
    ) as response:
        if response.status >= 400:
            raise upstream_error(response)
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
async def open_file_with_info(remote, resolve_path):
    """GET a file and learn its FileInfo from the same answer (the Hub's redirect to the CDN, or
    its 200): one round trip before the first byte where `file_info` then `open_file` take two.

    Yields `(response, info)`. The Hub must answer within the metadata time-out, as a HEAD must;
    the body (on the CDN) has the transfer time-outs.
    """
    url = f"{remote.hub_url}/{resolve_path.url()}"
    cdn_url = None
    try:
        async with asyncio.timeout(metadata_timeout(remote).total) as deadline:
            async with request(
                remote, "GET", url, headers=IDENTITY, follow_other_hosts=False
            ) as first:
                deadline.reschedule(None)
                if first.status >= 400:
                    raise upstream_error(first)
                redirected = first.status in REDIRECT_STATUSES
                info = _file_info_from(first, redirected)
                if not redirected and info.size is not None:
                    yield first, info
                    return
                if redirected and "Location" not in first.headers:
                    raise UpstreamError(502, "The upstream Hub redirected without a Location.")
                if redirected:
                    cdn_url = urljoin(str(first.url), first.headers["Location"])
    except TimeoutError:
        raise UpstreamError(504, f"The upstream Hub {remote.hub_url} did not answer in time.")
    if cdn_url is None:  # a body of unknown length: its size is asked for first, as a HEAD
        info = await file_info(remote, resolve_path)
        opened = open_file(remote, resolve_path)
    else:
        opened = request(remote, "GET", cdn_url, headers=IDENTITY)
    async with opened as response:
        if response.status >= 400:
            raise upstream_error(response)
        yield response, info


@asynccontextmanager
async def open_file(remote, resolve_path, range_header=None):
    """GET a file's body (following the CDN redirect), raising `UpstreamError` on errors."""
    url = f"{remote.hub_url}/{resolve_path.url()}"
    headers = {**IDENTITY, "Range": range_header} if range_header else IDENTITY
    async with request(remote, "GET", url, headers=headers) as response:
        if response.status >= 400:
            raise upstream_error(response)
        yield response
