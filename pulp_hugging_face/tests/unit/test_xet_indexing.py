"""Xet data for stored files Pulp got otherwise, on the real PostgreSQL: chunked and hashed as
hf_xet itself does, indexed as xorbs whose bytes are the artifact's, no copy."""

import asyncio
import os
import uuid

import hf_xet
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings

from pulpcore.plugin.models import Artifact

from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.app import xet_indexing
from pulp_hugging_face.app.xet import reading
from pulp_hugging_face.app.xet_index import XetChunk, XetFile, XetSpan, XetXorb, packed

pytestmark = pytest.mark.django_db
LFS_ETAG = "a" * 64


def stored(folder, data):
    path = folder / os.urandom(4).hex()
    path.write_bytes(data)
    artifact = Artifact.init_and_validate(str(path))
    artifact.save()
    return artifact, path


def test_a_stored_file_gets_the_xet_hash_hf_xet_gives_it_and_reads_back(tmp_path):
    data = os.urandom(3 << 20) + bytes(1 << 20)  # random, then a long run of zeros
    artifact, path = stored(tmp_path, data)
    (expected,) = hf_xet.hash_files([str(path)])
    assert xet_indexing.index_artifact(artifact) is True
    found = XetFile.objects.get(artifact=artifact)
    assert found.hash == expected.hash
    assert not XetXorb.objects.filter(staged__isnull=False).exists()  # no copy: spans only
    at = 0
    for name, start, end, size in found.terms:
        placed = reading.placed(name)
        assert placed.covered()
        assert b"".join(placed.read(start, end)) == data[at : at + size]
        at += size
    assert at == len(data)
    first = XetXorb.objects.get(hash=found.terms[0][0]).entries()[0][0]
    assert XetChunk.objects.filter(hash=xet.hash_hex(first)).exists()  # global dedupe finds it
    assert xet_indexing.index_artifact(artifact) is False  # known already


def test_xorbs_keep_within_the_cas_limits():
    many_small = [(bytes(32), 4 << 10)] * 10_000
    assert [len(g) for g in xet_indexing.xorbs_of(many_small)] == [8192, 1808]
    big = [(bytes(32), 128 << 10)] * 1_000
    groups = list(xet_indexing.xorbs_of(big))
    for group in groups:
        assert sum(s + xet.CHUNK_HEADER for _h, s in group) <= xet.MAX_XORB_BYTES
    assert sum(map(len, groups)) == 1_000 and len(groups[0]) == 511


def test_a_file_of_several_xorbs_hashes_as_hf_xet_says(tmp_path, monkeypatch):
    monkeypatch.setattr(xet, "MAX_XORB_CHUNKS", 7)  # several xorbs from a small file
    data = os.urandom(1 << 20)
    artifact, path = stored(tmp_path, data)
    xet_indexing.index_artifact(artifact)
    found = XetFile.objects.get(artifact=artifact)
    assert len(found.terms) > 1 and found.hash == hf_xet.hash_files([str(path)])[0].hash
    assert XetSpan.objects.filter(artifact=artifact).count() == len(found.terms)
    artifact.delete()  # orphan cleanup, reclaim: nothing left naming its bytes
    assert not XetFile.objects.exists() and not XetSpan.objects.exists()


def test_an_empty_file_gets_no_xet_data(tmp_path):
    artifact, _ = stored(tmp_path, b"")
    assert xet_indexing.index_artifact(artifact) is False and not XetFile.objects.exists()


def test_only_big_stored_lfs_files_without_xet_data_are_wanted(settings):
    big = settings.HF_XET_INDEX_MIN_SIZE
    assert xet_indexing.wanted(LFS_ETAG, big)
    assert not xet_indexing.wanted(LFS_ETAG, big - 1)  # one xorb: a GET is quicker
    assert not xet_indexing.wanted("b" * 40, big)  # a regular (git) file: the Hub gives none
    assert not xet_indexing.wanted(LFS_ETAG, big, "c" * 64)
    with override_settings(HF_XET_INDEX_MIN_SIZE=0):
        assert xet_indexing.wanted(LFS_ETAG, 1) and not xet_indexing.wanted(LFS_ETAG, 0)
    with override_settings(HF_XET_INDEX_STORED=False):
        assert not xet_indexing.wanted(LFS_ETAG, big)
    with override_settings(HF_XET=False):
        assert not xet_indexing.wanted(LFS_ETAG, big)


def test_the_queue_sends_each_file_once_in_one_batch(monkeypatch):
    sent = []

    async def dispatch(task, kwargs, exclusive_resources):
        sent.append((task, kwargs["artifact_pks"], exclusive_resources))

    monkeypatch.setattr(xet_indexing, "adispatch", dispatch)

    async def serve():
        queue = xet_indexing.Queue(window=0.05)
        for pk in ("p2", "p1", "p2", "p1"):
            queue.add(pk)
        await asyncio.sleep(0.2)
        queue.add("p1")  # asked again soon after: its task may still be running
        await asyncio.sleep(0.2)

    asyncio.run(serve())
    assert sent == [(xet_indexing.TASK, ["p1", "p2"], ["hf-xet-index:p1", "hf-xet-index:p2"])]


def test_a_batch_that_could_not_be_sent_is_asked_for_again(monkeypatch):
    sent, pk = [], uuid.uuid4()  # artifact pks as the content app has them: UUIDs

    async def dispatch(task, kwargs, exclusive_resources):
        if not sent:
            sent.append(None)
            raise ConnectionError("database gone")
        sent.append(kwargs["artifact_pks"])

    monkeypatch.setattr(xet_indexing, "adispatch", dispatch)

    async def serve():
        queue = xet_indexing.Queue(window=0.05)
        queue.add(pk)
        await asyncio.sleep(0.2)  # the dispatch failed: not remembered as queued
        queue.add(pk)
        await asyncio.sleep(0.2)

    asyncio.run(serve())
    assert sent == [None, [str(pk)]]


def test_an_uploaded_xorb_the_file_now_holds_loses_its_staged_copy(tmp_path):
    data = os.urandom(300_000)
    artifact, _ = stored(tmp_path, data)
    entries = xet_indexing.chunk_entries(artifact)
    name = xet.hash_hex(xet.merkle_root(entries))
    blob = default_storage.save(f"{reading.STAGED}{name}", ContentFile(data))
    XetXorb.objects.create(hash=name, chunks=packed(entries), size=len(data), staged=blob)
    xet_indexing.index_artifact(artifact)
    xorb = XetXorb.objects.get(hash=name)
    assert xorb.staged is None and not default_storage.exists(blob)
    assert b"".join(reading.placed(name).read(0, len(entries))) == data
