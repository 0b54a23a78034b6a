"""HuggingFaceHandler: answers Hub client requests for Hugging Face distributions.

A request's way: `serve` finds the distribution (remembered, else from the database) and checks
its content guard, `hub.parse_url_path` says what is asked, then `serve_file` (resolve URLs:
resolver.py says what is known, then the stored file, or downloads.py fetches it) or `serve_api`
(the metadata API, api.py) answers.
What the served repository version pins comes first (its refs, commit infos and files, see
pinned.py); the remote, if any, answers the rest.
"""

import functools

from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.content import Handler, PathNotResolved
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub

from . import (
    api,
    authentication,
    cache,
    downloads,
    pinned,
    publishing,
    pulpcore_internals,
    resolver,
    upstream,
    usage,
    xet,
)
from .models import HuggingFaceDistribution
from .responses import (
    file_headers,
    head_response,
    hub_error,
    pointer_response,
    range_applies,
    unmet_condition,
)
from .room import StorageFull

PREFIX = settings.CONTENT_PATH_PREFIX + ("{pulp_domain}/" if settings.DOMAIN_ENABLED else "")
PREFIX_SEGMENTS = PREFIX.strip("/").count("/") + 1


@functools.lru_cache(maxsize=4096)
def base_paths(path):
    """pulpcore's candidate base paths of a path, longest first (remembered: warm clients ask for
    the same paths again)."""
    return tuple(pulpcore_internals.base_paths(path))


class HuggingFaceHandler(Handler):
    """Answers Hub client requests for Hugging Face distributions."""

    distribution_model = HuggingFaceDistribution

    async def serve(self, request):
        path = request.match_info["path"]
        try:
            hub.refuse_control_bytes(path)  # before any lookup: PostgreSQL refuses NUL, too
        except hub.HubPathError as exc:
            return hub_error(400, str(exc))
        domain_pk = get_domain_pk()
        found = cache.distribution(domain_pk, base_paths(path))
        if found is None:
            try:
                found = await cache.looked_up_once(
                    ("distribution", domain_pk, path),
                    lambda: sync_to_async(self._load_distribution)(path),
                )
            except PathNotResolved:
                await authentication.authenticate(request)
                return await Handler().stream_content(request)
        distro, remote = found
        tally = usage.usage.begin(distro)
        try:
            return await self._serve_distribution(request, distro, remote)
        finally:
            usage.usage.end(tally)

    async def _serve_distribution(self, request, distro, remote):
        endpoint, raw_hub_path = self._split_raw_path(request, distro)
        try:
            hub_path = hub.parse_url_path(raw_hub_path)
        except hub.HubPathError as exc:
            return hub_error(400, str(exc))
        if xet.handles(hub_path):  # its own authentication: Xet tokens, or a Pulp token
            return await xet.serve(request, distro, hub_path, endpoint)
        if publishing.methods(hub_path) is not None:  # its own authentication: a Pulp token
            return await publishing.serve(request, distro, hub_path, endpoint)
        if request.method not in ("GET", "HEAD", "POST"):
            return hub_error(405, f"{request.method} is not allowed here.")
        if distro.content_guard_id:
            try:
                await authentication.authenticate_guarded(request)
            except authentication.TokenRefused as exc:
                return hub_error(exc.status, exc.message)
            await sync_to_async(pulpcore_internals.permit)(self, request, distro)
        request[resolver.ENDPOINT] = endpoint
        if xet.is_read_token(hub_path):
            return await xet.read_token(request, distro, hub_path, endpoint)
        try:
            if isinstance(hub_path, hub.ResolvePath):
                return await self.serve_file(request, distro, remote, hub_path)
            return await self.serve_api(request, distro, remote, hub_path, endpoint)
        except (upstream.UpstreamError, StorageFull) as exc:
            return hub_error(exc.status, exc.message, exc.headers)

    def _load_distribution(self, path):
        distro = pulpcore_internals.match_distribution(self, path)
        remote = distro.remote.cast() if distro.remote_id else None
        cache.remember_distribution(distro, remote)
        return distro, remote

    @staticmethod
    def _split_raw_path(request, distro):
        """The still percent-encoded path, split into (endpoint path, Hub path)."""
        raw = request.rel_url.raw_path.split("/")
        skip = 1 + PREFIX_SEGMENTS + distro.base_path.strip("/").count("/") + 1
        return "/".join(raw[:skip]), "/".join(raw[skip:])

    # -- files ----------------------------------------------------------------------------
    async def serve_file(self, request, distro, remote, path):
        """Resolve first (resolver.py), then answer: the stored file, or what upstream has."""
        raw, path = path.raw, path.resolved()
        reading = request.method != "HEAD" and not raw
        try:
            found = await resolver.resolve(distro, remote, path, reading)
        except pinned.NotPinned as exc:
            return hub_error(exc.status, exc.message, code=exc.code)
        if raw:
            return await self._serve_raw(request, distro, found)
        if found.stored is not None:
            return await resolver.answer_stored(request, distro, found.stored, found.path)
        if found.remote is None:
            return hub_error(
                404,
                f"{path.path_in_repo} is not in this distribution.",
                headers={"X-Repo-Commit": found.path.revision},
                code="EntryNotFound",
            )
        return await self._from_upstream(request, distro, found)

    async def _serve_raw(self, request, distro, found):
        """git's view of a file: an LFS file's pointer, made from its ETag and size (no bytes
        move); a regular file as `resolve` answers it."""
        known = found.stored or found.info
        if known is None and found.remote is not None:
            known = await resolver.file_info(found.remote, found.path)
        if known is None or not hub.is_lfs_etag(known.etag):
            return await self.serve_file(request, distro, found.remote, found.path)
        if known.size is None:
            return hub_error(502, "The upstream Hub did not say the size of this LFS file.")
        return await pointer_response(request, found.path.revision, known.etag, known.size)

    @staticmethod
    async def _from_upstream(request, distro, found):
        """A file not stored yet: HEAD from what is known, a range passed through, else the
        shared download that stores it (learning the file's info from its answer if need be)."""
        remote, path, info = found.remote, found.path, found.info
        ranged = bool(request.headers.get("Range"))
        if info is None and request.method == "GET" and not ranged:
            return await downloads.fetch_and_store(request, distro, remote, path)
        info = info or await resolver.file_info(remote, path)
        path = path.at(info.commit)
        headers = file_headers(info.commit, info.etag, info.size, path.path_in_repo)
        if refused := unmet_condition(request, info.etag, headers):
            return refused
        if request.method == "HEAD":
            return await head_response(request, headers, info.size)
        if ranged and range_applies(request, info.etag):
            return await downloads.stream_range(request, remote, path, info)
        return await downloads.fetch_and_store(request, distro, remote, path, info)

    # -- metadata API -----------------------------------------------------------------------
    async def serve_api(self, request, distro, remote, api_path, endpoint):
        return await api.serve(request, distro, remote, api_path, endpoint)
