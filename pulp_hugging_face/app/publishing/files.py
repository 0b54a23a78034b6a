"""Bytes a client publishes, stored as pulpcore artifacts: checked while they arrive (size and
sha256 or git blob id), written to a part file, kept only once whole and right."""

import asyncio
import uuid
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings

from pulpcore.plugin.models import Artifact
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub
from pulp_hugging_face.upload_protocol import UploadError

from ..storage import ArtifactSink, IntegrityMismatch, save_artifact

CHUNK = 1 << 20


def _part_path():
    directory = Path(settings.WORKING_DIRECTORY) / "hf-uploads"
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory / f"{uuid.uuid4().hex}.part")


async def store_stream(stream, oid, size):
    """Store an LFS object's bytes from `stream` (an aiohttp StreamReader): the Artifact, or an
    UploadError when they are more or fewer than `size` or another sha256 than `oid`. A client
    that stops mid-way leaves nothing behind."""
    sink = ArtifactSink(oid, size, _part_path())
    loop = asyncio.get_running_loop()
    try:
        async for chunk in stream.iter_chunked(CHUNK):
            if sink.size + len(chunk) > size:
                raise UploadError(f"More than the {size} bytes announced were sent.", 400)
            await loop.run_in_executor(None, sink.write, chunk)
        return await _keep(sink)
    finally:
        sink.discard()  # after `_keep`, the artifact has the bytes (moved or copied)


async def write_regular(content):
    """A regular file's bytes from a commit, written to a part file: its checked sink (keep it
    with `keep_all`, or `discard()` it)."""
    sink = ArtifactSink(hub.git_blob_sha1(content), len(content), _part_path())
    await asyncio.get_running_loop().run_in_executor(None, _write_all, sink, content)
    return sink


def _write_all(sink, content):
    try:
        sink.write(content)
        sink.finish()
        sink.complete_digests()
    except BaseException:
        sink.discard()
        raise


async def _keep(sink):
    try:
        await asyncio.get_running_loop().run_in_executor(None, sink.finish)
    except IntegrityMismatch as exc:
        raise UploadError(f"The uploaded object does not match its oid and size: {exc}.", 400)
    await asyncio.get_running_loop().run_in_executor(None, sink.complete_digests)
    return await sync_to_async(save_artifact)(sink)


def keep_all(sinks):
    """The Artifacts of regular files' sinks (one database trip for those stored already)."""
    existing = {
        artifact.sha256: artifact
        for artifact in Artifact.objects.filter(
            pulp_domain_id=get_domain_pk(), sha256__in=[s.digests["sha256"] for s in sinks]
        )
    }
    kept = []
    for sink in sinks:
        artifact = existing.get(sink.digests["sha256"])
        if artifact is None:
            artifact = existing[sink.digests["sha256"]] = save_artifact(sink)
        else:
            sink.discard()
        kept.append(artifact)
    return kept


def stored_object(oid, size):
    """The Artifact holding an LFS object, or None (unknown, or of another size)."""
    artifact = Artifact.objects.filter(pulp_domain_id=get_domain_pk(), sha256=oid).first()
    return artifact if artifact is not None and (size is None or artifact.size == size) else None


def artifact(pk):
    return Artifact.objects.get(pk=pk)


async def keep_all_async(sinks):
    return await sync_to_async(keep_all)(sinks)
