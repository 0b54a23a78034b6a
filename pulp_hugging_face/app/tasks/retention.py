"""Tasks that keep a pull-through cache within its limits (retention.py, eviction.py)."""

from asgiref.sync import sync_to_async

from pulpcore.plugin.tasking import dispatch

from .. import eviction, retention
from ..models import HuggingFaceRepository

EVICT = "pulp_hugging_face.app.tasks.retention.evict"
FREE = "pulp_hugging_face.app.tasks.retention.free_evicted"


async def add_pulled(repository_pk, add_content_units):
    """Add what pull-through stored (one version per batch); start an eviction when the
    pulled-through bytes now exceed the repository's `cache_max_bytes`."""
    await sync_to_async(_add_pulled)(repository_pk, add_content_units)


def _add_pulled(repository_pk, content_pks):
    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    if retention.add_pulled(repository, content_pks) is not None and retention.over_limit(
        repository
    ):
        dispatch_eviction(repository)


def dispatch_eviction(repository):
    return dispatch(
        EVICT, kwargs={"repository_pk": str(repository.pk)}, exclusive_resources=[repository]
    )


def evict(repository_pk):
    """Evict what the repository's limits say (and free what earlier evictions kept while it
    was being sent)."""
    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    evicted = eviction.evict(repository)
    return {"files": evicted.files, "bytes": evicted.bytes, "freed_bytes": evicted.freed_bytes}


def dispatch_freeing():
    return dispatch(FREE, exclusive_resources=["hf-evicted-artifacts"])


def free_evicted():
    """Free what evictions kept while it was being sent, now that it is not (and forget the
    reports of content processes long gone)."""
    started = retention.database_now()
    eviction.free_left_over(retention.sending_now(started))
    retention.forget_old_reports()
