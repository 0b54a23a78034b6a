"""Xet data for files Pulp got otherwise (sync, pull-through, LFS uploads, import).

A stored LFS file served without Xet data is queued (per process, batched like pull-through
adds); a worker task then chunks it exactly as hf_xet would (`xet_chunking`) and indexes it
(`xet_index`): xorbs whose only bytes are spans into the artifact, no copy. From then on its
resolve answers carry `X-Xet-Hash` and Xet clients read it through the reconstruction API.
"""

import asyncio
import logging
import time

from django.conf import settings
from django.db import transaction

from pulpcore.plugin.models import Artifact, ContentArtifact, ProgressReport
from pulpcore.plugin.tasking import adispatch
from pulpcore.plugin.util import set_domain

from pulp_hugging_face import hub
from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.xet_chunking import Chunker

from .cache import changes
from .xet_index import XetChunk, XetFile, XetSpan, XetXorb, packed

log = logging.getLogger(__name__)

BATCH_WINDOW = 2.0  # seconds a process collects files before one task indexes them
BATCH_MAX = 200
RECENT_SECONDS = 600.0  # a file queued is not queued again for this long (its task may run)
RECENT_MAX = 100_000
BLOCK = 1 << 20
PROGRESS_EVERY = 64 << 20  # bytes between progress report saves
TASK = "pulp_hugging_face.app.xet_indexing.index_stored"


def wanted(etag, size, xet_hash=None):
    """Whether a stored file should get Xet data: an LFS file (the Hub gives only those a Xet
    hash) of at least HF_XET_INDEX_MIN_SIZE, not indexed yet, with Xet and stored-file indexing
    on."""
    return (
        xet_hash is None
        and (size or 0) >= max(settings.HF_XET_INDEX_MIN_SIZE, 1)
        and hub.is_lfs_etag(etag)
        and settings.HF_XET
        and settings.HF_XET_INDEX_STORED
    )


class Queue:
    """Artifacts this process wants indexed, sent to a worker in batches."""

    def __init__(self, window=BATCH_WINDOW, max_items=BATCH_MAX):
        self.window, self.max_items = window, max_items
        self._pending = set()
        self._timer = None
        self._recent = {}  # artifact pk -> when it was last queued
        self._flushing = set()  # flushes under way (kept: the loop holds tasks weakly)

    def add(self, artifact_pk):
        artifact_pk, now = str(artifact_pk), time.monotonic()
        if now - self._recent.get(artifact_pk, -RECENT_SECONDS) < RECENT_SECONDS:
            return
        if len(self._recent) >= RECENT_MAX:
            self._recent = {k: t for k, t in self._recent.items() if now - t < RECENT_SECONDS}
        self._recent[artifact_pk] = now
        self._pending.add(artifact_pk)
        if len(self._pending) >= self.max_items:
            self._start_flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window, self._start_flush)

    def _start_flush(self):
        flushing = asyncio.ensure_future(self.flush())
        self._flushing.add(flushing)
        flushing.add_done_callback(self._flushing.discard)

    async def flush(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pks, self._pending = sorted(self._pending), set()
        if not pks:
            return None
        try:
            return await adispatch(
                TASK,
                kwargs={"artifact_pks": pks},
                exclusive_resources=[f"hf-xet-index:{pk}" for pk in pks],
            )
        except Exception:  # the files are served as they are; only their Xet data waits
            log.exception("Could not queue %d stored files for Xet indexing.", len(pks))
            for pk in pks:
                self._recent.pop(pk, None)
            return None


queue = Queue()


def index_later(content_artifact, etag, size, xet_hash=None):
    """Queue a stored file for Xet indexing when it wants it (see `wanted`)."""
    if content_artifact.artifact_id and wanted(etag, size, xet_hash):
        queue.add(content_artifact.artifact_id)


def index_stored(artifact_pks):
    """The task: index the given artifacts that have no Xet data yet, with progress."""
    indexed = XetFile.objects.filter(artifact_id__in=artifact_pks).values("artifact_id")
    found = Artifact.objects.filter(pk__in=artifact_pks).exclude(pk__in=indexed)
    artifacts = list(found.select_related("pulp_domain"))
    with (
        ProgressReport(
            message="Indexing stored files for Xet",
            code="xet.indexing.files",
            total=len(artifacts),
        ) as files,
        ProgressReport(
            message="Chunking stored files for Xet",
            code="xet.indexing.bytes",
            total=sum(a.size for a in artifacts),
        ) as progress,
    ):
        for artifact in artifacts:
            try:
                set_domain(artifact.pulp_domain)  # its storage (one batch, any domain)
                index_artifact(artifact, progress)
            except Exception as exc:  # deleted meanwhile, storage trouble: the others go on
                log.warning("Not indexed for Xet: artifact %s (%s).", artifact.pk, exc)
            files.increment()


def index_artifact(artifact, progress=None):
    """Chunk one stored file and keep its Xet index; its remembered answers are forgotten so
    the next one carries the Xet hash. Whether it was indexed now."""
    entries = chunk_entries(artifact, progress)
    if not entries:
        return False
    domain = artifact.pulp_domain_id
    with transaction.atomic():
        terms, offset = [], 0
        for group in xorbs_of(entries):
            terms.append(_keep_xorb(domain, group, artifact, offset, first=offset == 0))
            offset += terms[-1][3]
        _, created = XetFile.objects.get_or_create(
            pulp_domain_id=domain,
            hash=xet.hash_hex(xet.file_hash(entries)),
            defaults={"artifact": artifact, "terms": terms},
        )
        for pk in ContentArtifact.objects.filter(artifact=artifact).values_list("content_id"):
            changes.content_changed(pk[0])
    _unstage_covered(domain, [term[0] for term in terms])
    return created


def _unstage_covered(domain, names):
    """Staged blobs of uploaded xorbs this file now holds whole (its spans cover each)."""
    for xorb in XetXorb.objects.filter(pulp_domain_id=domain, hash__in=names, staged__isnull=False):
        xorb.drop_staged()


def chunk_entries(artifact, progress=None):
    """[(raw chunk hash, size), ...] of a stored file, chunked as hf_xet chunks."""
    chunker, pending, entries, unreported = Chunker(), bytearray(), [], 0

    def take(lengths):
        for length in lengths:
            entries.append((xet.chunk_hash(bytes(pending[:length])), length))
            del pending[:length]

    with artifact.file.open("rb") as handle:
        while block := handle.read(BLOCK):
            pending += block
            take(chunker.feed(block))
            unreported += len(block)
            if progress is not None and unreported >= PROGRESS_EVERY:
                progress.increase_by(unreported)
                unreported = 0
    take(chunker.finish())
    if progress is not None and unreported:
        progress.increase_by(unreported)
    return entries


def xorbs_of(entries):
    """The chunks grouped into xorbs within the CAS's limits (chunks and serialized bytes)."""
    group, size = [], 0
    for raw, length in entries:
        framed = length + xet.CHUNK_HEADER
        if group and (len(group) == xet.MAX_XORB_CHUNKS or size + framed > xet.MAX_XORB_BYTES):
            yield group
            group, size = [], 0
        group.append((raw, length))
        size += framed
    if group:
        yield group


def _keep_xorb(domain, group, artifact, offset, first):
    """A virtual xorb: its chunks are the artifact's bytes from `offset` on. Its term."""
    length = sum(size for _raw, size in group)
    name = xet.hash_hex(xet.merkle_root(group))
    xorb, _ = XetXorb.objects.get_or_create(
        pulp_domain_id=domain, hash=name, defaults={"chunks": packed(group), "size": length}
    )
    span = XetSpan(xorb=xorb, start=0, end=len(group), artifact=artifact, offset=offset)
    XetSpan.objects.bulk_create([span], ignore_conflicts=True)
    asked = [raw for at, (raw, _s) in enumerate(group) if (first and at == 0) or xet.eligible(raw)]
    XetChunk.objects.bulk_create(
        [XetChunk(hash=xet.hash_hex(raw), xorb=xorb) for raw in asked], ignore_conflicts=True
    )
    return [name, 0, len(group), length]
