"""Which files a repository's pull-through cache lets go, by its `cache_max_bytes` and
`cache_max_idle` (eviction.py lets them go).

Only files pull-through added (`CachedFile`) are candidates: what sync, publishing, import or a
`modify` added is pinned. Least recently served go first until the rest fit within
`cache_max_bytes`; any file idle longer than `cache_max_idle` goes too. A remote-only
distribution stores into a repository Pulp creates for it (`cache_repository_pk`), so its files
follow the same rules instead of waiting for orphan cleanup.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from pulpcore.plugin.models import Content

from .models import (
    PULLING_THROUGH,
    CachedFile,
    EvictedArtifact,
    HuggingFaceDistribution,
    HuggingFaceRepository,
    ServingReport,
)
from .pulpcore_internals import content_app_status
from .usage import FLUSH_CHANNEL


@dataclass(frozen=True)
class Candidate:
    content_pk: uuid.UUID
    artifact_pk: uuid.UUID | None  # None: its bytes are gone already (reclaimed)
    size: int  # stored bytes (0 without an artifact)
    served_at: float  # epoch seconds


CANDIDATES = """
SELECT cf.content_id, ca.artifact_id, CASE WHEN ca.artifact_id IS NULL THEN 0 ELSE hc.size END,
       extract(epoch FROM cf.served_at)::float8
FROM hugging_face_cachedfile cf
JOIN core_repositorycontent rc ON rc.content_id = cf.content_id
  AND rc.repository_id = cf.repository_id AND rc.version_removed_id IS NULL
JOIN hugging_face_huggingfacecontent hc ON hc.content_ptr_id = cf.content_id
LEFT JOIN core_contentartifact ca ON ca.content_id = cf.content_id
WHERE cf.repository_id = %s
ORDER BY cf.served_at DESC, cf.content_id
"""


def candidates(repository):
    """The pulled-through files of the latest version, most recently served first."""
    with connection.cursor() as cursor:
        cursor.execute(CANDIDATES, [str(repository.pk)])
        return [Candidate(*row) for row in cursor.fetchall()]


def choose(found, max_bytes, max_idle, now):
    """What to evict of `found` (most recently served first): the idle, and, from the first
    file that does not fit within `max_bytes`, every file served before it."""
    kept, full, chosen = 0, False, []
    for file in found:
        idle = max_idle is not None and now - file.served_at > max_idle
        if not idle and not full and (max_bytes is None or kept + file.size <= max_bytes):
            kept += file.size
            continue
        full = full or not idle
        chosen.append(file)
    return chosen


USAGE = """
SELECT cf.content_id IS NOT NULL, count(*),
       coalesce(sum(hc.size) FILTER (WHERE ca.artifact_id IS NOT NULL), 0)
FROM core_repositorycontent rc
JOIN hugging_face_huggingfacecontent hc ON hc.content_ptr_id = rc.content_id
LEFT JOIN core_contentartifact ca ON ca.content_id = rc.content_id
LEFT JOIN hugging_face_cachedfile cf ON cf.content_id = rc.content_id
  AND cf.repository_id = rc.repository_id
WHERE rc.repository_id = %s AND rc.version_removed_id IS NULL
GROUP BY 1
"""


def usage_of(repository):
    """The latest version's files: pulled through and pinned, counted, and their stored bytes."""
    figures = dict.fromkeys(
        ("pulled_through_files", "pulled_through_bytes", "pinned_files", "pinned_bytes"), 0
    )
    with connection.cursor() as cursor:
        cursor.execute(USAGE, [str(repository.pk)])
        for pulled, files, stored in cursor.fetchall():
            kind = "pulled_through" if pulled else "pinned"
            figures[f"{kind}_files"], figures[f"{kind}_bytes"] = files, int(stored)
    figures["evicted_files"] = repository.cache_evicted_files
    figures["evicted_bytes"] = repository.cache_evicted_bytes
    return figures


def add_pulled(repository, content_pks):
    """Add files pull-through stored to a new version, as evictable (a file the version holds
    already keeps what it is: pinned stays pinned)."""
    present = set(
        repository.latest_version().content.filter(pk__in=content_pks).values_list("pk", flat=True)
    )
    new = [pk for pk in map(uuid.UUID, map(str, content_pks)) if pk not in present]
    if not new:
        return None
    token = PULLING_THROUGH.set(True)
    try:
        with transaction.atomic():
            with repository.new_version() as version:
                version.add_content(Content.objects.filter(pk__in=new))
            now = timezone.now()
            CachedFile.objects.bulk_create(
                [CachedFile(repository=repository, content_id=pk, served_at=now) for pk in new],
                update_conflicts=True,  # a file pulled again after it left the version
                unique_fields=["repository", "content"],
                update_fields=["served_at"],
            )
    finally:
        PULLING_THROUGH.reset(token)
    return version


def sending_now(started):
    """The artifacts content processes are sending: each live one is asked for its report and
    waited for (at most HF_CACHE_FLUSH_WAIT seconds); reports older than a few flushes are of
    processes gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [FLUSH_CHANNEL])
    app_status = content_app_status()[0]
    live = set(
        app_status.objects.online().filter(app_type="content").values_list("name", flat=True)
    )
    deadline = time.monotonic() + settings.HF_CACHE_FLUSH_WAIT
    while True:
        reports = ServingReport.objects.filter(
            flushed_at__gte=started - timedelta(seconds=3 * settings.HF_USAGE_FLUSH_INTERVAL)
        )
        answered = {r.name for r in reports if r.flushed_at >= started}
        if live <= answered or time.monotonic() > deadline:
            return {uuid.UUID(pk) for r in reports for pk in r.artifacts}
        time.sleep(0.1)


def database_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def cache_repository_pk(distro):
    """The repository a remote-only distribution stores into: created (once, with the
    HF_CACHE_DEFAULT_* limits) the first time it is needed."""
    with transaction.atomic():
        locked = HuggingFaceDistribution.objects.select_for_update().get(pk=distro.pk)
        if locked.cache_repository_id is None:
            name = f"{locked.name}-cache"
            if HuggingFaceRepository.objects.filter(
                name=name, pulp_domain_id=locked.pulp_domain_id
            ).exists():
                name = f"{name}-{uuid.uuid4().hex[:8]}"
            repository = HuggingFaceRepository.objects.create(
                name=name,
                description=f"What the distribution {locked.name} stored by pull-through.",
                cache_max_bytes=settings.HF_CACHE_DEFAULT_MAX_BYTES,
                cache_max_idle=settings.HF_CACHE_DEFAULT_MAX_IDLE,
                pulp_domain_id=locked.pulp_domain_id,
            )
            locked.cache_repository = repository
            locked.save(update_fields=["cache_repository"])
        return locked.cache_repository_id


IDLE = """
SELECT r.repository_ptr_id FROM hugging_face_huggingfacerepository r
WHERE r.cache_max_idle IS NOT NULL AND EXISTS (
  SELECT 1 FROM hugging_face_cachedfile cf
  JOIN core_repositorycontent rc ON rc.content_id = cf.content_id
    AND rc.repository_id = cf.repository_id AND rc.version_removed_id IS NULL
  WHERE cf.repository_id = r.repository_ptr_id
  AND cf.served_at < now() - r.cache_max_idle * interval '1 second')
"""


def forget_old_reports():
    """Drop the reports of content processes that stopped writing a day ago."""
    ServingReport.objects.filter(flushed_at__lt=timezone.now() - timedelta(days=1)).delete()


def left_over():
    """Whether an eviction kept artifacts while they were sent (to free now)."""
    return EvictedArtifact.objects.exists()


def with_idle_files():
    """The repositories holding files idle longer than their `cache_max_idle`."""
    with connection.cursor() as cursor:
        cursor.execute(IDLE)
        pks = [pk for (pk,) in cursor.fetchall()]
    return list(HuggingFaceRepository.objects.filter(pk__in=pks))


def drop_cache_repository(sender, instance, **kwargs):
    """A deleted distribution's cache repository goes with it (its files become orphans)."""
    if instance.cache_repository_id:
        HuggingFaceRepository.objects.filter(pk=instance.cache_repository_id).delete()
