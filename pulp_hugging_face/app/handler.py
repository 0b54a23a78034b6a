"""HuggingFaceHandler: answers Hub client requests for Hugging Face distributions.

A request's way: `serve` finds the distribution (remembered, else from the database) and checks
its content guard, `hub.parse_url_path` says what is asked, then `serve_file` (resolve URLs:
revision -> commit, stored file or upstream download) or `serve_api` (metadata API) answers.
What the served repository version pins comes first (its refs, commit infos and files, see
pinned.py); the remote, if any, answers the rest.
"""

import functools

from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.content import Handler, PathNotResolved
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub

from pulpcore.plugin.models import Remote

from . import api, authentication, cache, downloads, metadata, pinned, pulpcore_internals, upstream
from .models import HuggingFaceDistribution
from .repository_adds import add_to_repository
from .responses import (
    file_headers,
    head_response,
    hub_error,
    pointer_response,
    stored_file_response,
)
from .room import StorageFull
from .storage import find_cached, served_version

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
        if distro.content_guard_id:
            await authentication.authenticate(request)
            await sync_to_async(pulpcore_internals.permit)(self, request, distro)
        endpoint, raw_hub_path = self._split_raw_path(request, distro)
        try:
            hub_path = hub.parse_url_path(raw_hub_path)
        except hub.HubPathError as exc:
            return hub_error(400, str(exc))
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
        raw, info = path.raw, None
        path = path.resolved() if raw else path
        commit = path.revision if hub.is_commit(path.revision) else None
        if commit is None:
            commit = await self._pinned_ref(distro, path.repo, path.revision)
        if commit is None:
            if remote is None:
                return await self._not_pinned(distro, path.repo, path.revision)
            commit, info = await metadata.resolve_revision(remote, path)
        at_commit = path.at(commit)
        if info is not None:
            cache.remember_file_info(remote, at_commit, info)
        if raw:
            return await self._serve_raw(request, distro, remote, at_commit, info)
        cached = await self._stored_file(distro, at_commit, reading=request.method != "HEAD")
        if cached is not None and not cached.stored:
            return await self._serve_unstored(request, distro, at_commit, cached)
        if cached is not None:
            if not cached.in_repository and distro.repository_version_id is None:
                await add_to_repository(distro, cached.content_artifact)
            return await stored_file_response(request, cached, at_commit.path_in_repo)
        if remote is None:
            return hub_error(
                404,
                f"{path.path_in_repo} is not in this distribution.",
                headers={"X-Repo-Commit": commit},
                code="EntryNotFound",
            )
        info = info or cache.file_info(remote, at_commit)
        if info is None and request.method == "GET" and not request.headers.get("Range"):
            return await downloads.fetch_and_store(request, distro, remote, at_commit)
        if info is None:
            info = await downloads.file_info(remote, at_commit)
        return await self._from_upstream(request, distro, remote, path.at(info.commit), info)

    async def _serve_raw(self, request, distro, remote, at_commit, info):
        """git's view of a file: an LFS file's pointer, made from its ETag and size (no bytes
        move); a regular file as `resolve` answers it."""
        known = await self._stored_file(distro, at_commit, reading=False)
        if known is None and remote is not None:
            known = info or await downloads.file_info(remote, at_commit)
        if known is None or not hub.is_lfs_etag(known.etag):
            return await self.serve_file(request, distro, remote, at_commit)
        if known.size is None:
            return hub_error(502, "The upstream Hub did not say the size of this LFS file.")
        return await pointer_response(request, at_commit.revision, known.etag, known.size)

    @staticmethod
    async def _from_upstream(request, distro, remote, path, info):
        """A file not stored yet: HEAD from what is known, a range passed through, else the
        shared download that stores it."""
        if request.method == "HEAD":
            headers = file_headers(info.commit, info.etag, info.size, path.path_in_repo)
            return await head_response(request, headers, info.size)
        if request.headers.get("Range"):
            return await downloads.stream_range(request, remote, path, info)
        return await downloads.fetch_and_store(request, distro, remote, path, info)

    @staticmethod
    async def _pinned_ref(distro, repo, name):
        """The commit a ref has in the served version (remembered), or None."""
        if not distro.repository_id and not distro.repository_version_id:
            return None
        commit = cache.pinned_ref(distro, repo, name)
        if commit is None:

            def lookup():
                version = served_version(distro)
                return version and pinned.ref_commit(version, repo, name)

            commit = await sync_to_async(lookup)()
            cache.remember_pinned_ref(distro, repo, name, commit)
        return commit or None

    @staticmethod
    async def _not_pinned(distro, repo, revision):
        """The Hub's error for a repo or revision a distribution without remote does not pin."""

        def explain():
            version = served_version(distro)
            if version is None:
                return pinned.NotPinned(404, None, "This distribution serves no repository.")
            return pinned.missing(version, repo, revision)

        exc = await sync_to_async(explain)()
        return hub_error(exc.status, exc.message, code=exc.code)

    async def _serve_unstored(self, request, distro, path, cached):
        """A file the version pins but did not store: fetched with the remote that pinned it."""
        remote = await (await Remote.objects.aget(pk=cached.fetch_with)).acast()
        info = upstream.FileInfo(cached.commit, cached.etag, cached.size)
        return await self._from_upstream(request, distro, remote, path, info)

    @staticmethod
    async def _stored_file(distro, at_commit, reading):
        """The stored file for `at_commit`: remembered, else looked up (once for all the requests
        asking meanwhile) and remembered."""
        cached = cache.stored_file(distro, at_commit, reading)
        if cached is not None:
            return cached

        async def look_up():
            found = await sync_to_async(find_cached)(distro, at_commit)
            if found is not None:
                cache.remember_stored_file(distro, at_commit, found)
            return found

        return await cache.looked_up_once(("file", distro.pk, at_commit.artifact_path()), look_up)

    # -- metadata API -----------------------------------------------------------------------
    async def serve_api(self, request, distro, remote, api_path, endpoint):
        return await api.serve(request, distro, remote, api_path, endpoint)
