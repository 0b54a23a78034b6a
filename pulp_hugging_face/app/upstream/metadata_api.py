"""The Hub's metadata API (JSON), with the Xet hints removed."""

import json
from dataclasses import dataclass

from .client import UpstreamError, metadata_timeout, request, upstream_error

MAX_API_BODY = 64 * 1024 * 1024


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
        remote, method, url, params=query or None, data=data, timeout=metadata_timeout(remote)
    ) as response:
        body = await _read_limited(response)
        if response.status >= 400:
            raise upstream_error(response)
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
