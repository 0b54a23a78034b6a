"""Freeing the artifacts eviction let go: their rows go in a few statements however many there
are (their pks in a temporary table, joined by each table that points at an artifact), and their
files once that commits. An artifact a file holds (the same bytes stored again under another
commit meanwhile) is left alone, and so is a file name an artifact holds again.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL

from pulpcore.plugin.models import Artifact, ContentArtifact, Domain

log = logging.getLogger(__name__)

FREEING = "hf_freeing"
S3_BATCH = 1000  # keys a DeleteObjects request takes
DELETING_THREADS = 4


def free_artifacts(pks):
    """Delete these artifacts' rows (and their Xet index), then, once that commits, their
    files; the bytes freed."""
    pks = list(pks)
    if not pks:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {FREEING} (artifact_id uuid PRIMARY KEY) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {FREEING}")
        cursor.execute(
            f"INSERT INTO {FREEING} SELECT a FROM unnest(%s::uuid[]) AS u(a) WHERE NOT EXISTS "
            "(SELECT 1 FROM core_contentartifact ca WHERE ca.artifact_id = u.a) "
            "ON CONFLICT DO NOTHING",
            [pks],
        )
        freeing = RawSQL(f"SELECT artifact_id FROM {FREEING}", ())
        for model, field, on_delete in _pointing_at_artifacts():
            pointing = model.objects.filter(**{f"{field}__in": freeing})
            if on_delete is models.SET_NULL:
                pointing.update(**{field: None})
            else:
                pointing.delete()
        cursor.execute(
            "DELETE FROM core_artifact a USING " + FREEING + " f WHERE a.pulp_id = f.artifact_id "
            "RETURNING a.file, a.size, a.pulp_domain_id"
        )
        names = cursor.fetchall()
    transaction.on_commit(lambda: delete_files(names))
    return sum(size for _name, size, _domain in names)


def _pointing_at_artifacts():
    """(model, field, on_delete) of every foreign key to Artifact but ContentArtifact's (no
    freed artifact has one)."""
    for field in Artifact._meta.get_fields(include_hidden=True):
        if not (field.auto_created and not field.concrete and not field.many_to_many):
            continue
        if field.related_model is not ContentArtifact:
            yield field.related_model, field.field.name, field.on_delete


def delete_files(names):
    """Delete stored files (name, size, domain pk) no artifact names again (pulpcore names a
    file by its sha256: the same bytes stored since are at the same name); on S3 in batches of
    a thousand."""
    by_domain = {}
    for name, _size, domain_pk in names:
        by_domain.setdefault(domain_pk, []).append(name)
    for domain_pk, files in by_domain.items():
        storage = Domain.objects.get(pk=domain_pk).get_storage()
        for start in range(0, len(files), 5000):
            batch = files[start : start + 5000]
            stored_again = Artifact.objects.filter(pulp_domain_id=domain_pk, file__in=batch)
            again = set(stored_again.values_list("file", flat=True))
            _delete(storage, [name for name in batch if name not in again])


def _delete(storage, files):
    bucket = getattr(storage, "bucket", None)
    if hasattr(bucket, "delete_objects"):  # S3: a thousand a request
        for start in range(0, len(files), S3_BATCH):
            keys = [{"Key": storage._normalize_name(n)} for n in files[start : start + S3_BATCH]]
            try:
                answer = bucket.delete_objects(Delete={"Objects": keys, "Quiet": True})
                if answer.get("Errors"):
                    log.error("Could not delete %d evicted files.", len(answer["Errors"]))
            except Exception:  # the rows are gone: a file left behind is only disk
                log.exception("Could not delete %d evicted files.", len(keys))
        return
    with ThreadPoolExecutor(DELETING_THREADS) as pool:  # unlinks wait on the disk, not the CPU
        pool.map(lambda name: _delete_one(storage, name), files)


def _delete_one(storage, name):
    try:
        storage.delete(name)
    except Exception:
        log.exception("Could not delete the evicted file %s.", name)
