"""Evicting what retention.py chose: one new repository version without the files, and their
bytes freed the way pulpcore's reclaim_space frees them (the content stays in older versions,
without an artifact: fetched again on demand).

Bytes are freed only when nothing else needs them: no other repository holds the file, no
distribution serves a version of this repository that holds it, and no other file has the same
bytes. An artifact a content process is sending right now loses its file only on a later
eviction, after the send (`EvictedArtifact`).
"""

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL

from pulpcore.plugin.models import Content, ProgressReport, RepositoryVersion, Task

from . import retention
from .cache import changes
from .freeing import free_artifacts
from .models import EvictedArtifact, HuggingFaceRepository

log = logging.getLogger(__name__)

BATCH = 5000  # left-over artifacts freed at once


@dataclass
class Evicted:
    files: int = 0
    bytes: int = 0
    freed_bytes: int = 0


def evict(repository, now=None):
    """Evict what the limits say (`now`: the database's time, epoch seconds)."""
    started = retention.database_now()
    now = now if now is not None else started.timestamp()
    sending = retention.sending_now(started)
    free_left_over(sending)
    if repository.cache_max_bytes is None and repository.cache_max_idle is None:
        return Evicted()
    chosen = retention.choose(
        retention.candidates(repository),
        repository.cache_max_bytes,
        repository.cache_max_idle,
        now,
    )
    if not chosen:
        return Evicted()
    return _evict_chosen(repository, chosen, sending)


def _evict_chosen(repository, chosen, sending):
    files = _report("Evicting files", "evict.files", len(chosen))
    size = _report("Evicting bytes", "evict.bytes", sum(c.size for c in chosen))
    with transaction.atomic():
        freeable = _stage(repository, chosen)  # in the transaction: as late as it can be
        with repository.new_version() as version:
            version.remove_content(Content.objects.filter(pk__in=RawSQL(EVICTING_PKS, ())))
        with connection.cursor() as cursor:
            cursor.execute(UNMARK, [str(repository.pk)])
            cursor.execute(DETACH)
        changes.stored_files_dropped([c.content_pk for c in chosen])  # before the files go
        freed = free_artifacts(freeable - sending)
        EvictedArtifact.objects.bulk_create(
            [EvictedArtifact(artifact_id=pk) for pk in freeable & sending], ignore_conflicts=True
        )
        HuggingFaceRepository.objects.filter(pk=repository.pk).update(
            cache_evicted_files=F("cache_evicted_files") + len(chosen),
            cache_evicted_bytes=F("cache_evicted_bytes") + size.total,
        )
    for report in (files, size):
        if Task.current_id() is not None:
            report.done, report.state = report.total, "completed"
            report.save()
    log.info("Evicted %d files (%d bytes) from %s.", len(chosen), size.total, repository.name)
    return Evicted(len(chosen), size.total, freed)


EVICTING = "hf_evicting"
EVICTING_PKS = f"SELECT content_id FROM {EVICTING}"
STAGE = [
    f"CREATE TEMP TABLE IF NOT EXISTS {EVICTING} (content_id uuid PRIMARY KEY, artifact_id uuid, "
    "held bool NOT NULL DEFAULT false, freeable bool NOT NULL DEFAULT false) "
    "ON COMMIT DELETE ROWS",
    f"TRUNCATE {EVICTING}",
    f"INSERT INTO {EVICTING} (content_id, artifact_id) SELECT * FROM unnest(%s::uuid[], "
    "%s::uuid[])",
    f"ANALYZE {EVICTING}",
]
# Held by another repository (any version), or by a version of this one a distribution serves.
HELD_ELSEWHERE = f"""UPDATE {EVICTING} e SET held = true WHERE EXISTS (
  SELECT 1 FROM core_repositorycontent rc WHERE rc.content_id = e.content_id
  AND rc.repository_id <> %s)"""
HELD_BY_VERSION = f"""UPDATE {EVICTING} e SET held = true WHERE EXISTS (
  SELECT 1 FROM core_repositorycontent rc
  JOIN core_repositoryversion va ON va.pulp_id = rc.version_added_id
  LEFT JOIN core_repositoryversion vr ON vr.pulp_id = rc.version_removed_id
  WHERE rc.content_id = e.content_id AND rc.repository_id = %s AND va.number <= %s
  AND (vr.number IS NULL OR vr.number > %s))"""
# Bytes only evicted files that nothing holds still hold.
FREEABLE = f"""UPDATE {EVICTING} e SET freeable = true
WHERE NOT e.held AND e.artifact_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM core_contentartifact ca
  LEFT JOIN {EVICTING} o ON o.content_id = ca.content_id AND NOT o.held
  WHERE ca.artifact_id = e.artifact_id AND o.content_id IS NULL)
RETURNING e.artifact_id"""
UNMARK = f"""DELETE FROM hugging_face_cachedfile cf USING {EVICTING} e
WHERE cf.repository_id = %s AND cf.content_id = e.content_id"""
DETACH = f"""UPDATE core_contentartifact ca SET artifact_id = NULL FROM {EVICTING} e
WHERE e.freeable AND ca.content_id = e.content_id AND ca.artifact_id = e.artifact_id"""


def _stage(repository, chosen):
    """The chosen files in a temporary table, with what else holds them; the artifacts to
    free."""
    params = [[c.content_pk for c in chosen], [c.artifact_pk for c in chosen]]
    with connection.cursor() as cursor:
        for statement in STAGE:
            cursor.execute(statement, params if "%s" in statement else None)
        cursor.execute(HELD_ELSEWHERE, [str(repository.pk)])
        served = RepositoryVersion.objects.filter(
            repository=repository, distribution__isnull=False
        ).distinct()
        for number in served.values_list("number", flat=True):
            cursor.execute(HELD_BY_VERSION, [str(repository.pk), number, number])
        cursor.execute(FREEABLE)
        return {pk for (pk,) in cursor.fetchall()}


def _report(message, code, total):
    """A progress report of the eviction task (saved only in a task)."""
    report = ProgressReport(message=message, code=code, total=total, done=0, state="running")
    if Task.current_id() is not None:
        report.save()
    return report


def free_left_over(sending):
    """Free the artifacts an earlier eviction kept while they were sent, now that they are not
    (and no file took them back meanwhile)."""
    left = EvictedArtifact.objects.exclude(artifact_id__in=sending)
    pks = list(left.values_list("artifact_id", flat=True)[:BATCH])
    if pks:
        with transaction.atomic():
            EvictedArtifact.objects.filter(artifact_id__in=pks).delete()
            free_artifacts(pks)  # but those a file took back meanwhile
