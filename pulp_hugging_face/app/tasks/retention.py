"""Tasks that keep a pull-through cache within its limits (retention.py, eviction.py)."""

from asgiref.sync import sync_to_async

from pulpcore.plugin.constants import TASK_STATES
from pulpcore.plugin.models import Task
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.util import get_prn, set_domain

from .. import eviction, retention
from ..models import HuggingFaceRepository

EVICT = "pulp_hugging_face.app.tasks.retention.evict"
FREE = "pulp_hugging_face.app.tasks.retention.free_evicted"


async def add_pulled(repository_pk, add_content_units):
    """Add what pull-through stored (one version per batch); with a `cache_max_bytes`, an
    eviction follows (a worker's task: it evicts only what goes past the limit)."""
    await sync_to_async(_add_pulled)(repository_pk, add_content_units)


def _add_pulled(repository_pk, content_pks):
    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    added = retention.add_pulled(repository, content_pks)
    if added is not None and repository.cache_max_bytes is not None:
        dispatch_eviction(repository)


def dispatch_eviction(repository):
    """An eviction task for the repository, in its domain, unless one is waiting already (every
    content process looks for idle files)."""
    queued = Task.objects.filter(
        name=EVICT,
        state=TASK_STATES.WAITING,
        reserved_resources_record__contains=[get_prn(repository)],
    )
    if queued.exists():
        return None
    set_domain(repository.pulp_domain)  # this call's context only (sync_to_async copies it)
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
    queued = Task.objects.filter(name=FREE, state=TASK_STATES.WAITING)
    return None if queued.exists() else dispatch(FREE, exclusive_resources=["hf-evicted-artifacts"])


def free_evicted():
    """Free what evictions kept while it was being sent, now that it is not (and forget the
    reports of content processes long gone)."""
    started = retention.database_now()
    eviction.free_left_over(retention.sending_now(started))
    retention.forget_old_reports()
