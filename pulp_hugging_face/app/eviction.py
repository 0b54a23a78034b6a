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

from django.db import transaction
from django.db.models import F

from pulpcore.plugin.models import (
    Artifact,
    Content,
    ContentArtifact,
    ProgressReport,
    RepositoryContent,
    RepositoryVersion,
    Task,
)

from . import retention
from .cache import changes
from .models import CachedFile, EvictedArtifact, HuggingFaceRepository

log = logging.getLogger(__name__)

BATCH = 5000


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
    pks = [c.content_pk for c in chosen]
    with transaction.atomic():
        held = held_elsewhere(repository, pks)  # in the transaction: as late as it can be
        freeable = _freeable_artifacts(
            {c.artifact_pk for c in chosen if c.artifact_pk and c.content_pk not in held},
            {c.content_pk for c in chosen if c.content_pk not in held},
        )
        with repository.new_version() as version:
            for batch in batches(pks):
                version.remove_content(Content.objects.filter(pk__in=batch))
        for batch in batches(chosen):
            in_batch = [c.content_pk for c in batch]
            CachedFile.objects.filter(repository=repository, content_id__in=in_batch).delete()
            ContentArtifact.objects.filter(
                content_id__in=in_batch,
                artifact_id__in=[c.artifact_pk for c in batch if c.artifact_pk in freeable],
            ).update(artifact=None)
        changes.stored_files_dropped(pks)  # told before the files go (on_commit keeps order)
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


def _report(message, code, total):
    """A progress report of the eviction task (saved only in a task)."""
    report = ProgressReport(message=message, code=code, total=total, done=0, state="running")
    if Task.current_id() is not None:
        report.save()
    return report


def batches(items):
    """`items` (a list) in slices of BATCH: PostgreSQL takes at most 65,535 parameters."""
    return (items[start : start + BATCH] for start in range(0, len(items), BATCH))


def held_elsewhere(repository, pks):
    """The pks among `pks` another repository holds, or a version of this one that a
    distribution serves."""
    held = set()
    for batch in batches(pks):
        others = RepositoryContent.objects.filter(content_id__in=batch).exclude(
            repository=repository
        )
        held.update(others.values_list("content_id", flat=True))
    served = RepositoryVersion.objects.filter(
        repository=repository, distribution__isnull=False
    ).distinct()
    for version in served:
        for batch in batches(pks):
            held.update(version.content.filter(pk__in=batch).values_list("pk", flat=True))
    return held


def _freeable_artifacts(artifact_pks, evicted_pks):
    """The artifacts among `artifact_pks` no file but the evicted ones holds."""
    artifact_pks = list(artifact_pks)
    shared = set()
    for batch in batches(artifact_pks):
        holders = ContentArtifact.objects.filter(artifact_id__in=batch)
        for artifact_pk, content_pk in holders.values_list("artifact_id", "content_id"):
            if content_pk not in evicted_pks:
                shared.add(artifact_pk)
    return set(artifact_pks) - shared


def free_left_over(sending):
    """Free the artifacts an earlier eviction kept while they were sent, now that they are not
    (and no file took them back meanwhile)."""
    left = EvictedArtifact.objects.exclude(artifact_id__in=sending)
    pks = list(left.values_list("artifact_id", flat=True)[:BATCH])
    if pks:
        taken = ContentArtifact.objects.filter(artifact_id__in=pks).values_list("artifact_id")
        with transaction.atomic():
            EvictedArtifact.objects.filter(artifact_id__in=pks).delete()
            free_artifacts(set(pks) - {pk for (pk,) in taken})


def free_artifacts(pks):
    """Delete the artifacts' rows (their Xet index goes with them) and, once that commits,
    their files; the bytes freed."""
    freed = 0
    for batch in batches(list(pks)):
        # none a file took meanwhile (the same bytes stored again under another commit)
        artifacts = Artifact.objects.filter(pk__in=batch, content_memberships__isnull=True)
        names = list(artifacts.values_list("file", "size", "pulp_domain_id"))
        artifacts.delete()
        freed += sum(size for _name, size, _domain in names)
        transaction.on_commit(lambda names=names: delete_files(names))
    return freed


def delete_files(names):
    """Delete stored files (name, size, domain pk) no artifact names again (pulpcore names a
    file by its sha256: the same bytes stored since are at the same name); on S3 in batches of
    a thousand."""
    from pulpcore.plugin.models import Domain

    by_domain = {}
    for name, _size, domain_pk in names:
        by_domain.setdefault(domain_pk, []).append(name)
    for domain_pk, files in by_domain.items():
        storage = Domain.objects.get(pk=domain_pk).get_storage()
        for batch in batches(files):
            stored_again = Artifact.objects.filter(pulp_domain_id=domain_pk, file__in=batch)
            again = set(stored_again.values_list("file", flat=True))
            _delete(storage, [name for name in batch if name not in again])


def _delete(storage, files):
    bucket = getattr(storage, "bucket", None)
    if hasattr(bucket, "delete_objects"):  # S3: a thousand a request
        for start in range(0, len(files), 1000):
            keys = [{"Key": storage._normalize_name(n)} for n in files[start : start + 1000]]
            try:
                answer = bucket.delete_objects(Delete={"Objects": keys, "Quiet": True})
                if answer.get("Errors"):
                    log.error("Could not delete %d evicted files.", len(answer["Errors"]))
            except Exception:  # the rows are gone: a file left behind is only disk
                log.exception("Could not delete %d evicted files.", len(keys))
        return
    for name in files:
        try:
            storage.delete(name)
        except Exception:
            log.exception("Could not delete the evicted file %s.", name)
