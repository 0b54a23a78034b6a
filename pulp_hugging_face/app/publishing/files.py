"""Bytes a client publishes, stored as pulpcore artifacts: checked while they arrive (size and
sha256 or git blob id), written to a part file, kept only once whole and right."""

import asyncio
import hashlib
import uuid
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.models import Artifact
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub
from pulp_hugging_face.upload_protocol import UploadError

from ..room import full_disk_as_error
from ..storage import ArtifactSink, IntegrityMismatch, save_artifact

CHUNK = 1 << 20
BLOCK = 4 << 20  # bytes of an upload hashed and written at once (two blocks in memory at most)
# Rough cost of each digest (ns per byte on x86-64 with SHA extensions), to share them fairly
# between two threads (a third one writes the file).
DIGEST_COST = {
    "md5": 1.45,
    "sha1": 0.58,
    "sha224": 0.62,
    "sha256": 0.61,
    "sha384": 1.33,
    "sha512": 1.43,
}


class UploadSink(ArtifactSink):
    """An ArtifactSink that computes every digest pulpcore keeps while the bytes arrive (the
    client waits for its PUT's answer anyway), shared between two threads (`hash_own`,
    `hash_rest`) beside the one that writes: no second pass."""

    def __init__(self, etag, expected_size, path):
        super().__init__(etag, expected_size, path)
        names = sorted(Artifact.DIGEST_FIELDS, key=lambda n: -DIGEST_COST.get(n, 1.0))
        loads, groups = [0.0, 0.0], ([], [])
        for name in names:
            lighter = loads.index(min(loads))
            loads[lighter] += DIGEST_COST.get(name, 1.0)
            groups[lighter].append(name)
        # `hash_own` updates `_digests`; `hash_rest` the others, until `finish`.
        self._digests = {name: hashlib.new(name) for name in groups[0]}
        self._others = {name: hashlib.new(name) for name in groups[1]}

    def hash_rest(self, chunk):
        for digest in self._others.values():
            digest.update(chunk)

    def finish(self):
        self._digests.update(self._others)
        self._others = {}
        super().finish()

    async def feed(self, chunk):
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            loop.run_in_executor(None, self.write, chunk, False),
            loop.run_in_executor(None, self.hash_own, chunk),
            loop.run_in_executor(None, self.hash_rest, chunk),
        )


def part_path():
    directory = Path(settings.WORKING_DIRECTORY) / "hf-uploads"
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory / f"{uuid.uuid4().hex}.part")


async def store_stream(stream, oid, size):
    """Store an LFS object's bytes from `stream` (an aiohttp StreamReader): the Artifact, or an
    UploadError when they are more or fewer than `size` or another sha256 than `oid`. A client
    that stops mid-way leaves nothing behind."""
    sink, received, block, feeding = UploadSink(oid, size, part_path()), 0, bytearray(), None
    try:
        async for chunk in stream.iter_any():  # what arrived; hashed and written a block at once
            received += len(chunk)
            if received > size:
                raise UploadError(f"More than the {size} bytes announced were sent.", 400)
            block += chunk
            if len(block) >= BLOCK:
                if feeding is not None:
                    await feeding  # one block in the threads while the next one arrives
                feeding, block = asyncio.ensure_future(sink.feed(bytes(block))), bytearray()
        if feeding is not None:
            await feeding
        if block:
            await sink.feed(bytes(block))
        return await _keep(sink)
    finally:
        if feeding is not None and not feeding.done():
            await asyncio.wait([feeding])  # its threads still write to the part file
        sink.discard()  # after `_keep`, the artifact has the bytes (moved or copied)


async def write_regular(content):
    """A regular file's bytes from a commit, written to a part file: its checked sink (keep it
    with `keep_all`, or `discard()` it)."""
    sink = UploadSink(hub.git_blob_sha1(content), len(content), part_path())
    await asyncio.get_running_loop().run_in_executor(None, _write_all, sink, content)
    return sink


def _write_all(sink, content):
    try:
        sink.write(content)
        sink.hash_rest(content)
        sink.finish()
    except BaseException:
        sink.discard()
        raise


async def _keep(sink):
    try:
        await asyncio.get_running_loop().run_in_executor(None, sink.finish)
    except IntegrityMismatch as exc:
        raise UploadError(f"The uploaded object does not match its oid and size: {exc}.", 400)
    return await sync_to_async(save_artifact)(sink)


def keep_all(sinks):
    """The Artifacts of checked sinks, in their order: those stored already found in one query,
    the others saved in one (their part files copied or moved into storage). The sinks are
    spent: their part files are gone."""
    by_sha256 = {
        artifact.sha256: artifact
        for artifact in Artifact.objects.filter(
            pulp_domain_id=get_domain_pk(), sha256__in=[s.digests["sha256"] for s in sinks]
        )
    }
    new = {}
    for sink in sinks:
        sha256 = sink.digests["sha256"]
        if sha256 in by_sha256 or sha256 in new:
            sink.discard()
        else:
            new[sha256] = Artifact(file=sink.path, size=sink.size, **sink.digests)
    if new:
        try:
            with full_disk_as_error():
                saved = Artifact.objects.bulk_get_or_create(list(new.values()))
        finally:
            for sink in sinks:
                sink.discard()
        by_sha256.update((artifact.sha256, artifact) for artifact in saved)
    return [by_sha256[sink.digests["sha256"]] for sink in sinks]


def stored_objects(oids):
    """{oid: Artifact} of the LFS objects among `oids` that are stored, in one query (check
    their sizes with `fits`)."""
    found = Artifact.objects.filter(pulp_domain_id=get_domain_pk(), sha256__in=list(oids))
    return {artifact.sha256: artifact for artifact in found}


def fits(artifact, size):
    """Whether `artifact` is there and of `size` (None: any)."""
    return artifact is not None and (size is None or artifact.size == size)


def stored_object(oid, size):
    """The Artifact holding an LFS object, or None (unknown, or of another size)."""
    artifact = stored_objects([oid]).get(oid)
    return artifact if fits(artifact, size) else None


def artifact(pk):
    return Artifact.objects.get(pk=pk)
