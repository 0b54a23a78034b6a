"""pulpcore's HTTP downloader with the Hub's rules, for sync: the remote's downloads use it.

The token goes to the Hub's own origin only, so redirects (an LFS file's CDN) are followed here
one hop at a time. Files the Hub names by a git blob sha1 (no sha256 known in advance) are
checked against it as they arrive; LFS files are checked by pulpcore against their sha256.
"""

import hashlib
from urllib.parse import urljoin

import aiohttp

from pulpcore.plugin.download import HttpDownloader
from pulpcore.plugin.exceptions import DigestValidationError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class HubDownloader(HttpDownloader):
    """Downloads one URL of a Hugging Face remote (see the module docstring)."""

    def __init__(self, url, hub_remote=None, **kwargs):
        super().__init__(url, **kwargs)
        self.hub_remote = hub_remote
        self._git_sha1 = None

    async def handle_data(self, data):
        if self._git_sha1 is not None:
            self._git_sha1.update(data)
        await super().handle_data(data)

    async def _run(self, extra_data=None):
        expected_git_sha1 = (extra_data or {}).get("git_sha1")
        if expected_git_sha1 and self.expected_size is not None:
            self._git_sha1 = hashlib.sha1(b"blob %d\0" % self.expected_size)
        if self.download_throttler:
            await self.download_throttler.acquire()
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            headers = self.hub_remote.auth_headers(url) if self.hub_remote else {}
            async with self.session.get(
                url,
                headers=headers,
                proxy=self.proxy,
                proxy_auth=self.proxy_auth,
                auth=self.auth,
                allow_redirects=False,
            ) as response:
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    url = urljoin(str(response.url), location)
                    continue
                self.raise_for_status(response)
                result = await self._handle_response(response)
                await response.release()
                break
        else:
            raise aiohttp.TooManyRedirects(None, (), message=f"Too many redirects for {self.url}")
        if self._close_session_on_finalize:
            await self.session.close()
        actual = self._git_sha1.hexdigest() if self._git_sha1 is not None else None
        if expected_git_sha1 and actual != expected_git_sha1:
            raise DigestValidationError(actual, expected_git_sha1, url=self.url)
        return result
