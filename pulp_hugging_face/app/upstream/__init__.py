"""The only place that talks to the upstream Hub.

Requests use the remote's own aiohttp session (its proxy, TLS and timeout settings, reused across
requests), add the remote's token as a Bearer token only for the Hub's own origin, follow
redirects themselves (so no upstream or CDN URL reaches the client) and turn the Hub's error
answers into `UpstreamError`s that keep `X-Error-Code` / `X-Error-Message`.

`client`: sessions, time-outs, errors and the one `request`; `files`: what a file is and its
bytes; `metadata_api`: the Hub's JSON API, Xet hints removed.
"""

from .client import UpstreamError, close_sessions, error_message
from .files import FileInfo, file_info, open_file, open_file_with_info
from .metadata_api import ApiAnswer, api, strip_xet

__all__ = [
    "ApiAnswer",
    "FileInfo",
    "UpstreamError",
    "api",
    "close_sessions",
    "error_message",
    "file_info",
    "open_file",
    "open_file_with_info",
    "strip_xet",
]
