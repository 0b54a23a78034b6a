"""Batched pull-through adds: files fetched together land in one repository version.

pulpcore's default dispatches one task (one new version) per pulled file; a snapshot of a
thousand files would make a thousand versions. Here each content-app process collects what it
stored for a short window and adds it in one task per repository.

An add dispatched while no worker runs waits in the queue, and pulpcore workers that start
later do not look at it until something wakes them (another dispatch, or their own clean-up
every 100 to 1,000 heartbeats). So while an add this process dispatched is waiting and not
unblocked, the process wakes the workers every few seconds.
"""

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.db import connection

from pulpcore.plugin.models import RepositoryContent, Task
from pulpcore.plugin.tasking import adispatch

from .models import HuggingFaceRepository
from .retention import cache_repository_pk

log = logging.getLogger(__name__)

ADD_PULLED = "pulp_hugging_face.app.tasks.retention.add_pulled"
BATCH_WINDOW = 2.0
BATCH_MAX = 500
WAKE_INTERVAL = 5.0
# A file served again soon after its add was queued is not queued again: until the new version's
# change notification reaches the content app, every request for it would (a query each).
RECENT_SECONDS = 60.0
RECENT_MAX = 100_000


class RepositoryAdds:
    """Pending pull-through adds of this process, per repository."""

    def __init__(self, window=BATCH_WINDOW, max_items=BATCH_MAX):
        self.window = window
        self.max_items = max_items
        self._pending = {}  # repository pk -> (repository, set of content pks)
        self._timers = {}
        self._queued = set()  # dispatched adds no worker has unblocked yet
        self._waker = None
        self._recent = {}  # (repository pk, content pk) -> when its add was last asked for

    def asked_recently(self, repository_pk, content_pk):
        """Whether this add was asked for in the last RECENT_SECONDS; records that it is now."""
        now = time.monotonic()
        key = (repository_pk, content_pk)
        if now - self._recent.get(key, -RECENT_SECONDS) < RECENT_SECONDS:
            return True
        if len(self._recent) >= RECENT_MAX:
            self._recent = {k: t for k, t in self._recent.items() if now - t < RECENT_SECONDS}
        self._recent[key] = now
        return False

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
            "repository_pk": str(repository_pk),
            "add_content_units": sorted(str(pk) for pk in missing),
        }
        try:
            task = await adispatch(
                ADD_PULLED, kwargs=body, exclusive_resources=[repository], immediate=True
            )
        except Exception:  # the files are stored; only the repository add failed
            log.exception(
                "Could not add %d pulled files to repository %s", len(missing), repository
            )
            return None
        if task.state == "waiting":
            self._queued.add(task.pk)
            if self._waker is None or self._waker.done():
                self._waker = asyncio.ensure_future(self._wake_workers())
        return task

    async def _wake_workers(self):
        """Wake the workers until no add of this process waits without being unblocked."""
        while self._queued:
            await asyncio.sleep(WAKE_INTERVAL)
            queued = Task.objects.filter(
                pk__in=self._queued, state="waiting", unblocked_at__isnull=True
            ).values_list("pk", flat=True)
            self._queued = {pk async for pk in queued}
            if self._queued:
                await sync_to_async(wake_workers)()

    async def flush_all(self, app=None):
        for repository_pk in list(self._pending):
            await self.flush(repository_pk)


def wake_workers():
    """pulpcore's own wake-up call: workers unblock waiting tasks when they hear it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify('pulp_worker_wakeup', 'unblock')")


pending = RepositoryAdds()


async def add_to_repository(distro, content_artifact):
    """Queue a served file for the repository that keeps what the distribution pulls through:
    its own, or (remote-only) the one Pulp keeps for it (retention.py). Never fails the request
    that served the file."""
    if distro.repository_version_id or not (distro.repository_id or distro.remote_id):
        return
    try:
        repository_pk = distro.repository_id or await _cache_repository_pk(distro)
        if not pending.asked_recently(repository_pk, content_artifact.content_id):
            try:
                repository = await repository_of(repository_pk)
            except HuggingFaceRepository.DoesNotExist:  # deleted since this process looked
                if distro.repository_id:
                    return
                distro.cache_repository_id = None
                repository = await repository_of(await _cache_repository_pk(distro))
            await pending.add(repository, content_artifact.content_id)
    except Exception:
        log.exception("Could not queue a pulled file for %s's repository", distro.name)


async def _cache_repository_pk(distro):
    if distro.cache_repository_id is None:
        # remembered on this copy of the distribution until its change notification comes
        distro.cache_repository_id = await sync_to_async(cache_repository_pk)(distro)
    return distro.cache_repository_id


async def repository_of(pk):
    return await HuggingFaceRepository.objects.aget(pk=pk)
