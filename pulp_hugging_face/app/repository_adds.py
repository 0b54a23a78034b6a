"""Batched pull-through adds: files fetched together land in one repository version.

pulpcore's default dispatches one task (one new version) per pulled file; a snapshot of a
thousand files would make a thousand versions. Here each content-app process collects what it
stored for a short window and adds it in one task per repository.
"""

import asyncio
import logging

from pulpcore.plugin.models import RepositoryContent
from pulpcore.plugin.tasking import aadd_and_remove, adispatch

log = logging.getLogger(__name__)

BATCH_WINDOW = 2.0
BATCH_MAX = 500


class RepositoryAdds:
    """Pending pull-through adds of this process, per repository."""

    def __init__(self, window=BATCH_WINDOW, max_items=BATCH_MAX):
        self.window = window
        self.max_items = max_items
        self._pending = {}  # repository pk -> (repository, set of content pks)
        self._timers = {}

    async def add(self, repository, content_pk):
        _, pks = self._pending.setdefault(repository.pk, (repository, set()))
        pks.add(content_pk)
        if len(pks) >= self.max_items:
            await self.flush(repository.pk)
        elif repository.pk not in self._timers:
            self._timers[repository.pk] = asyncio.get_running_loop().call_later(
                self.window, lambda: asyncio.ensure_future(self.flush(repository.pk))
            )

    async def flush(self, repository_pk):
        timer = self._timers.pop(repository_pk, None)
        if timer:
            timer.cancel()
        repository, pks = self._pending.pop(repository_pk, (None, set()))
        if not pks:
            return None
        present = RepositoryContent.objects.filter(
            repository_id=repository_pk, content_id__in=pks, version_removed__isnull=True
        ).values_list("content_id", flat=True)
        missing = pks - {pk async for pk in present}
        if not missing:
            return None
        body = {
            "repository_pk": repository_pk,
            "add_content_units": sorted(str(pk) for pk in missing),
            "remove_content_units": [],
        }
        try:
            return await adispatch(
                aadd_and_remove, kwargs=body, exclusive_resources=[repository], immediate=True
            )
        except Exception:  # the files are stored; only the repository add failed
            log.exception(
                "Could not add %d pulled files to repository %s", len(missing), repository
            )
            return None

    async def flush_all(self, app=None):
        for repository_pk in list(self._pending):
            await self.flush(repository_pk)


pending = RepositoryAdds()


async def add_to_repository(distro, content_artifact):
    """Queue a served file for the distribution's repository, if it takes pull-through adds."""
    if distro.repository_id:
        repository = await distro.repository.acast()
        if repository.PULL_THROUGH_SUPPORTED:
            await pending.add(repository, content_artifact.content_id)
