"""Moving bytes without a live stack: sources and sinks through `transfer`, the held-back last
chunk, a client going away, and who leads, follows or streams (downloads.fetch_and_store)."""

import asyncio
import os
from contextlib import asynccontextmanager

import pytest

from pulpcore.plugin.models import Artifact

from pulp_hugging_face.app import sinks, transfer, upstream
from pulp_hugging_face.app.inflight import InflightLock
from pulp_hugging_face.app.models import HuggingFaceContent, HuggingFaceRemote
from pulp_hugging_face.app.room import StorageFull

from .request_path import (
    PATH,
    FakeBody,
    failing_source,
    fake_source,
    fetch,
    lfs_info,
    run,
    serving,
)

CHUNK = transfer.CHUNK_SIZE
BODY = os.urandom(3 * CHUNK + 17)
CHUNKS = [BODY[i : i + CHUNK] for i in range(0, len(BODY), CHUNK)]


def transferred(source, sink, info=None):
    """(status, headers, body) a client gets from `transfer` of `source` through `sink`."""

    async def scenario():
        async with serving(lambda r: transfer.transfer(r, PATH, source, sink, info)) as session:
            return await fetch(session)

    return run(scenario)


def test_verify_only_passes_every_byte_with_the_hubs_headers():
    info = lfs_info(BODY)
    status, headers, body = transferred(
        fake_source(FakeBody(CHUNKS), info), sinks.VerifyOnly(), info
    )
    assert status == 200 and body == BODY
    assert headers["ETag"] == f'"{info.etag}"' and headers["X-Repo-Commit"] == PATH.revision
    assert headers["Content-Length"] == str(len(BODY))


@pytest.mark.parametrize(
    "chunks, why",
    [
        (CHUNKS[:-1] + [b"x" * len(CHUNKS[-1])], "wrong last bytes"),
        (CHUNKS + [b"more"], "more than announced"),
        (CHUNKS[:-1], "fewer than announced"),
    ],
)
def test_a_wrong_download_never_reaches_the_client_whole(chunks, why):
    """The last chunk is held back until size and sha256 match: the client gets a cut
    connection, never a complete file of wrong bytes."""
    info = lfs_info(BODY)
    status, _, body = transferred(fake_source(FakeBody(chunks), info), sinks.VerifyOnly(), info)
    assert status == 200 and body is None, why


def test_an_upstream_error_before_the_first_byte_is_the_hubs_error():
    status, _, body = transferred(failing_source(503), sinks.VerifyOnly())
    assert status == 503 and b"down" in body


@pytest.fixture
def lock(settings, tmp_path):
    settings.WORKING_DIRECTORY = str(tmp_path / "work")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    os.makedirs(settings.WORKING_DIRECTORY)
    taken = InflightLock(1, PATH.artifact_path())
    assert taken.try_lead()
    yield taken
    taken.release()


@pytest.fixture
def adds(monkeypatch):
    queued = []

    async def add_to_repository(distro, content_artifact):
        queued.append(content_artifact.content_id)

    monkeypatch.setattr(sinks, "add_to_repository", add_to_repository)
    return queued


@pytest.mark.django_db
@pytest.mark.parametrize("client_leaves", [False, True])
def test_store_here_keeps_every_byte_even_when_the_client_leaves(lock, adds, client_leaves):
    remote = HuggingFaceRemote.objects.create(name="up", url="http://hub.test")
    info = lfs_info(BODY)
    body = FakeBody(CHUNKS, pause=0.05)

    async def scenario():
        sink = sinks.StoreHere(lock, None, remote, PATH)
        answered = asyncio.get_running_loop().create_future()

        async def answer(request):
            response = await transfer.transfer(request, PATH, fake_source(body, info), sink, info)
            answered.set_result(True)
            return response

        async with serving(answer) as session:
            if client_leaves:
                async with session.get("/file") as response:
                    await response.content.readexactly(10)
            else:
                got = await fetch(session)
            await asyncio.wait_for(answered, 10)  # storing goes on after the client's answer
            return None if client_leaves else got

    answer = run(scenario)
    if not client_leaves:
        assert answer[2] == BODY
    content = HuggingFaceContent.objects.get(path_in_repo=PATH.path_in_repo)
    assert content.etag == info.etag and adds == [content.pk]
    artifact = Artifact.objects.get(sha256=info.etag)
    assert artifact.file.read() == BODY
    assert body.taken == len(CHUNKS)
    assert not list(lock.directory.glob("*.part"))


def test_verify_only_stops_pulling_when_the_client_leaves():
    info = lfs_info(BODY)
    body = FakeBody(CHUNKS * 20, pause=0.02)
    info = info.__class__(info.commit, info.etag, len(BODY) * 20)

    async def scenario():
        done = asyncio.get_running_loop().create_future()

        async def answer(request):
            try:
                return await transfer.transfer(
                    request, PATH, fake_source(body, info), sinks.VerifyOnly(), info
                )
            finally:
                done.set_result(True)

        async with serving(answer) as session:
            async with session.get("/file") as response:
                await response.content.readexactly(10)
            await asyncio.wait_for(done, 10)

    run(scenario)
    assert body.taken < len(CHUNKS) * 20


@pytest.mark.django_db
def test_a_file_of_unknown_size_is_passed_on_not_stored(lock, adds):
    remote = HuggingFaceRemote.objects.create(name="up", url="http://hub.test")
    info = lfs_info(BODY).__class__(PATH.revision, "e" * 40, None)  # a git blob, size unknown
    sink = sinks.StoreHere(lock, None, remote, PATH)
    body = transferred(fake_source(FakeBody(CHUNKS, len(BODY)), info), sink)[2]
    assert body == BODY
    assert sink.stores is False and not HuggingFaceContent.objects.exists() and adds == []


def test_no_room_is_refused_before_upstream_is_asked(lock, monkeypatch):
    def no_room(directory, size):
        raise StorageFull("no room")

    monkeypatch.setattr(sinks, "ensure_room", no_room)
    opened = []
    info = lfs_info(BODY)

    async def scenario():
        sink = sinks.StoreHere(lock, None, None, PATH)
        source = fake_source(FakeBody(CHUNKS), info, opened)
        with pytest.raises(StorageFull):
            await transfer.transfer(None, PATH, source, sink, info)

    run(scenario)
    assert opened == []


def test_no_part_file_is_named_before_upstream_answered(lock):
    """A request arriving while upstream is asked must not follow a download upstream may still
    refuse: it would get a 200 cut short instead of the Hub's error."""
    seen = []

    @asynccontextmanager
    async def refusing():
        seen.append(lock.published_part())
        raise upstream.UpstreamError(429, "slow down")
        yield  # pragma: no cover

    info = lfs_info(BODY)
    status, _, _ = transferred(refusing(), sinks.StoreHere(lock, None, None, PATH), info)
    assert status == 429 and seen == [None] and lock.published_part() is None
    assert not list(lock.directory.glob("*.part"))
