"""A file request without a live stack: what the resolver knows, the handler's choices, who
fetches (fetch_and_store), following a leader, and stored files' Range and conditional answers."""

import asyncio
import os

import pytest
from aiohttp import web

from pulpcore.plugin.models import Artifact, ContentArtifact, RemoteArtifact

from pulp_hugging_face import hub
from pulp_hugging_face.app import downloads, follow, pinned, resolver
from pulp_hugging_face.app.handler import HuggingFaceHandler
from pulp_hugging_face.app.inflight import InflightLock
from pulp_hugging_face.app.models import (
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRemote,
    HuggingFaceRepository,
)
from pulp_hugging_face.app.responses import stored_file_response
from pulp_hugging_face.app.stored_files import StoredFile

from .request_path import COMMIT, PATH, fetch, lfs_info, run, serving

BODY = os.urandom(300_000)
INFO = lfs_info(BODY)


@pytest.fixture
def hub_files(settings, tmp_path):
    """A remote, its distribution, and a.bin and b.bin of org/m at COMMIT fetched by it."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    remote = HuggingFaceRemote.objects.create(name="up", url="http://hub.test")
    distro = HuggingFaceDistribution.objects.create(name="d", base_path="d", remote=remote)
    for name in ("a.bin", "b.bin"):
        source = tmp_path / name
        source.write_bytes(name.encode())
        artifact = Artifact.init_and_validate(str(source))
        artifact.save()
        content = HuggingFaceContent.objects.create(
            repo_type="model", repo_id="org/m", commit=COMMIT, path_in_repo=name,
            etag="e" * 40, size=5,
        )  # fmt: skip
        ca = ContentArtifact.objects.create(content=content, artifact=artifact, relative_path=name)
        RemoteArtifact.objects.create(remote=remote, content_artifact=ca, url=f"http://x/{name}")
    return remote, distro


def at(name, revision=COMMIT):
    return hub.ResolvePath(PATH.repo, revision, name)


@pytest.fixture
def lookups(monkeypatch):
    """Counts the resolver's database lookups: per commit and per file."""
    counted = {"commit": 0, "file": 0}

    def counting(name, real):
        def lookup(*args, **kwargs):
            counted[name] += 1
            return real(*args, **kwargs)

        return lookup

    monkeypatch.setattr(resolver, "files_at_commit", counting("commit", resolver.files_at_commit))
    monkeypatch.setattr(resolver, "find_file", counting("file", resolver.find_file))
    return counted


@pytest.mark.django_db
def test_the_first_stored_file_of_a_commit_brings_its_whole_commit(hub_files, memory, lookups):
    remote, distro = hub_files

    async def scenario():
        first = await resolver.resolve(distro, remote, at("a.bin"))
        second = await resolver.resolve(distro, remote, at("b.bin"))
        cold = await resolver.resolve(distro, remote, at("c.bin"))
        return first, second, cold

    first, second, cold = run(scenario)
    assert open(first.stored.file_path, "rb").read() == b"a.bin"
    assert open(second.stored.file_path, "rb").read() == b"b.bin"
    assert cold.stored is None and cold.remote == remote and cold.info is None
    assert lookups == {"commit": 1, "file": 2}  # the first file and the commit, the cold file


@pytest.mark.django_db
def test_a_branch_resolves_upstream_once_and_its_answer_is_remembered(
    hub_files, memory, monkeypatch
):
    remote, distro = hub_files
    asked = []

    async def resolve_revision(remote, path):
        asked.append(path.revision)
        return COMMIT, INFO

    monkeypatch.setattr(resolver.remembered, "resolve_revision", resolve_revision)
    found = run(lambda: resolver.resolve(distro, remote, at("c.bin", "main")))
    assert found.path == at("c.bin") and found.info == INFO and asked == ["main"]
    assert run(lambda: resolver.file_info(remote, at("c.bin"))) == INFO  # no upstream call


@pytest.mark.django_db
def test_a_file_pinned_but_not_stored_is_fetched_with_the_remote_that_pinned_it(memory):
    pinning = HuggingFaceRemote.objects.create(name="pinning", url="http://hub.test")
    content = HuggingFaceContent.objects.create(
        repo_type="model", repo_id="org/m", commit=COMMIT, path_in_repo="w.bin", etag="f" * 64,
        size=9,
    )  # fmt: skip
    ca = ContentArtifact.objects.create(content=content, artifact=None, relative_path="w.bin")
    RemoteArtifact.objects.create(remote=pinning, content_artifact=ca, url="http://x/w.bin")
    repository = HuggingFaceRepository.objects.create(name="r")
    with repository.new_version() as version:
        version.add_content(HuggingFaceContent.objects.filter(pk=content.pk))
    distro = HuggingFaceDistribution.objects.create(name="d", base_path="d", repository=repository)
    found = run(lambda: resolver.resolve(distro, None, at("w.bin")))
    assert found.stored is None and found.remote.pk == pinning.pk
    assert (found.info.commit, found.info.etag, found.info.size) == (COMMIT, "f" * 64, 9)
    with pytest.raises(pinned.NotPinned) as refused:
        run(lambda: resolver.resolve(distro, None, at("w.bin", "main")))
    assert refused.value.status == 404


class Recorder:
    """Stands in for the functions a choice leads to; records which ran and the FileInfo given."""

    def __init__(self, monkeypatch):
        self.calls = []
        self.monkeypatch = monkeypatch

    def stand_in(self, module, name, info_at=None):
        async def called(*args, **kwargs):
            info = args[info_at] if info_at is not None and len(args) > info_at else None
            self.calls.append((name, info))
            return web.Response(text=name)

        self.monkeypatch.setattr(module, name, called)


@pytest.mark.parametrize(
    "method, headers, known, chosen, info_passed",
    [
        ("HEAD", {}, True, None, None),  # from what is known: no upstream call, no download
        ("GET", {}, False, "fetch_and_store", None),  # the download's answer tells the info
        ("GET", {}, True, "fetch_and_store", INFO),
        ("GET", {"Range": "bytes=0-9"}, True, "stream_range", INFO),
        ("GET", {"Range": "bytes=0-9"}, False, "stream_range", INFO),  # asked first
        ("GET", {"Range": "bytes=0-9", "If-Range": '"other"'}, True, "fetch_and_store", INFO),
        ("HEAD", {"If-None-Match": f'"{INFO.etag}"'}, True, None, None),  # a 304
        ("GET", {"If-None-Match": f'"{INFO.etag}"'}, True, None, None),
    ],
)
def test_the_handler_chooses_once(monkeypatch, method, headers, known, chosen, info_passed):
    recorder = Recorder(monkeypatch)
    recorder.stand_in(downloads, "fetch_and_store", info_at=4)
    recorder.stand_in(downloads, "stream_range", info_at=3)
    asked = []

    async def file_info(remote, path):
        asked.append(path)
        return INFO

    monkeypatch.setattr(resolver, "file_info", file_info)
    found = resolver.Resolved(PATH, None, "a remote", INFO if known else None)

    async def scenario():
        async with serving(lambda r: HuggingFaceHandler._from_upstream(r, "d", found)) as s:
            return await fetch(s, method, headers)

    status, answered_headers, body = run(scenario)
    assert recorder.calls == ([(chosen, info_passed)] if chosen else [])
    assert len(asked) == (0 if known or chosen == "fetch_and_store" else 1)
    if chosen is None:
        assert answered_headers["ETag"] == f'"{INFO.etag}"' and body == b""
        assert status == (304 if "If-None-Match" in headers else 200)
    if chosen is None and status == 200:
        assert answered_headers["Content-Length"] == str(len(BODY))


class FakeRemote:
    pk, policy = 1, "immediate"


@pytest.fixture
def fetching(monkeypatch, settings, tmp_path):
    """fetch_and_store with `transfer`, `follow`, the peers and the stored check stood in for:
    returns the recorder and a dict to set what the stand-ins find."""
    settings.WORKING_DIRECTORY = str(tmp_path)
    recorder, world = Recorder(monkeypatch), {"peer": None, "stored": None, "own": None}

    async def transfer(request, path, source, sink, info=None):
        recorder.calls.append(("transfer", source.func.__name__, type(sink).__name__, info))

    async def follow(request, lock, distro, remote, path, info):
        recorder.calls.append(("follow", info))

    async def leading_peer(digest, request):
        return world["peer"]

    async def release(digest):
        recorder.calls.append(("release",))

    async def stored_now(distro, path):
        recorder.calls.append(("looked",))
        return world["stored"]

    async def answer_stored(request, distro, stored, path):
        recorder.calls.append(("answer_stored", stored))

    async def file_info(remote, path):
        return INFO

    for module, name, stand_in in [
        (downloads, "transfer", transfer),
        (downloads, "follow", follow),
        (downloads.peers, "leading_peer", leading_peer),
        (downloads.peers, "release", release),
        (downloads.peers, "own_address", lambda: world["own"]),
        (resolver, "stored_now", stored_now),
        (resolver, "answer_stored", answer_stored),
        (resolver, "file_info", file_info),
    ]:
        monkeypatch.setattr(module, name, stand_in)
    return recorder, world


def test_a_streamed_remote_or_an_unknown_size_is_verified_not_stored(fetching):
    recorder, _ = fetching
    streamed = FakeRemote()
    streamed.policy = "streamed"
    run(lambda: downloads.fetch_and_store(None, None, streamed, PATH))
    unknown = INFO.__class__(COMMIT, "e" * 40, None)
    run(lambda: downloads.fetch_and_store(None, None, FakeRemote(), PATH, unknown))
    assert recorder.calls == [
        ("transfer", "upstream_telling", "VerifyOnly", None),
        ("transfer", "upstream_known", "VerifyOnly", unknown),
    ]


@pytest.mark.parametrize("info", [None, INFO])
def test_the_first_request_leads_from_upstream_into_storage(fetching, info):
    recorder, _ = fetching
    run(lambda: downloads.fetch_and_store(None, None, FakeRemote(), PATH, info))
    source = "upstream_known" if info else "upstream_telling"
    assert recorder.calls == [("transfer", source, "StoreHere", info), ("release",)]


def test_a_request_arriving_meanwhile_follows_the_leader(fetching):
    recorder, _ = fetching
    leader = InflightLock(FakeRemote.pk, PATH.artifact_path())
    assert leader.try_lead()
    try:
        run(lambda: downloads.fetch_and_store(None, None, FakeRemote(), PATH))
    finally:
        leader.release()
    assert recorder.calls == [("follow", INFO)]  # its info asked first: a follower has none


def test_when_another_host_leads_its_bytes_are_streamed_and_it_stores_them(fetching):
    recorder, world = fetching
    world["peer"] = "http://other-host:24816"
    run(lambda: downloads.fetch_and_store(None, None, FakeRemote(), PATH))
    assert recorder.calls == [("transfer", "leading_peer", "StoredByPeer", INFO)]


@pytest.mark.parametrize(
    "own, stored, calls",
    [
        ("http://h1:24816", "the file", [("looked",), ("answer_stored", "the file"), ("release",)]),
        (None, "the file", [("transfer", "upstream_telling", "StoreHere", None), ("release",)]),
    ],
)
def test_a_new_leader_looks_once_more_only_when_hosts_share_downloads(fetching, own, stored, calls):
    """Another host may have stored the file and let go of the lead since this one looked; on
    one host a new lock file means nobody stored it since (no query more)."""
    recorder, world = fetching
    world.update(own=own, stored=stored)
    run(lambda: downloads.fetch_and_store(None, None, FakeRemote(), PATH))
    assert recorder.calls == calls


def test_a_leader_after_another_serves_what_that_one_stored(fetching):
    recorder, world = fetching
    world["stored"] = "the file"
    earlier = InflightLock(FakeRemote.pk, PATH.artifact_path())
    assert earlier.try_lead()
    earlier.release()  # the lock file stays: the next leader's is not fresh
    run(lambda: downloads.fetch_and_store(None, None, FakeRemote(), PATH))
    assert recorder.calls == [("looked",), ("answer_stored", "the file")]


@pytest.mark.parametrize("leader_finishes", [True, False])
def test_a_follower_tails_the_leaders_part_file(monkeypatch, settings, tmp_path, leader_finishes):
    settings.WORKING_DIRECTORY = str(tmp_path)
    monkeypatch.setattr(follow, "FOLLOW_POLL", 0.005)
    stored = []

    async def stored_now(distro, path):
        return stored[0] if stored else None

    monkeypatch.setattr(resolver, "stored_now", stored_now)
    leader = InflightLock(FakeRemote.pk, PATH.artifact_path())
    assert leader.try_lead()

    async def lead():
        with open(leader.new_part_path(), "wb") as part:
            for offset in range(0, len(BODY) if leader_finishes else 1000, 100_000):
                part.write(BODY[offset : offset + 100_000])
                part.flush()
                await asyncio.sleep(0.02)
        if leader_finishes:
            stored.append("stored")
        leader.release()

    async def scenario():
        lock = InflightLock(FakeRemote.pk, PATH.artifact_path())
        assert not lock.try_lead()
        leading = asyncio.ensure_future(lead())
        answer = lambda request: follow.follow(request, lock, None, None, PATH, INFO)  # noqa
        async with serving(answer) as session:
            got = await fetch(session)
        await leading
        return got

    status, _, body = run(scenario)
    assert status == 200 and body == (BODY if leader_finishes else None)


@pytest.mark.parametrize(
    "headers, status, body",
    [
        ({}, 200, BODY),
        ({"Range": "bytes=10-19"}, 206, BODY[10:20]),
        ({"Range": "bytes=-5"}, 206, BODY[-5:]),
        ({"If-None-Match": f'"{INFO.etag}"'}, 304, b""),
        ({"If-None-Match": '"other", W/"' + INFO.etag + '"'}, 304, b""),
        ({"If-None-Match": '"other"'}, 200, BODY),
        ({"If-Match": '"other"'}, 412, b""),
        ({"If-Match": f'"{INFO.etag}"', "Range": "bytes=1-2"}, 206, BODY[1:3]),
        ({"If-Range": f'"{INFO.etag}"', "Range": "bytes=0-9"}, 206, BODY[:10]),
        ({"If-Range": '"other"', "Range": "bytes=0-9"}, 200, BODY),  # changed: the whole file
        ({"If-Range": "Tue, 01 Dec 2026 00:00:00 GMT", "Range": "bytes=0-9"}, 200, BODY),
    ],
)
def test_a_stored_file_answers_ranges_and_conditions(tmp_path, headers, status, body):
    path = tmp_path / "blob"
    path.write_bytes(BODY)
    stored = StoredFile(COMMIT, INFO.etag, len(BODY), str(path), None, True)

    async def scenario():
        answer = lambda request: stored_file_response(request, stored, "weights.bin")  # noqa
        async with serving(answer) as session:
            return await fetch(session, headers=headers)

    got_status, got_headers, got_body = run(scenario)
    assert (got_status, got_body) == (status, body)
    assert got_headers["ETag"] == f'"{INFO.etag}"' and got_headers["X-Repo-Commit"] == COMMIT
    if status == 206:
        assert got_headers["Content-Range"].endswith(f"/{len(BODY)}")


@pytest.mark.django_db
def test_a_process_that_does_not_remember_looks_up_one_file_at_a_time(hub_files, lookups):
    """While not listening for changes nothing is remembered: loading a whole commit for each
    request would cost more than the one file it needs."""
    remote, distro = hub_files

    async def scenario():
        return [await resolver.resolve(distro, remote, at(name)) for name in ("a.bin", "b.bin")]

    assert all(found.stored for found in run(scenario))
    assert lookups == {"commit": 0, "file": 2}


@pytest.mark.django_db
def test_cold_files_do_not_load_their_commit(hub_files, memory, lookups):
    """A cold snapshot asks for files not stored yet, while repository adds keep making the
    process forget: loading the whole commit for each would cost more as the commit fills."""
    remote, distro = hub_files

    async def scenario():
        return [await resolver.resolve(distro, remote, at(f"cold{i}.bin")) for i in range(3)]

    assert all(found.stored is None for found in run(scenario))
    assert lookups == {"commit": 0, "file": 3}


@pytest.mark.django_db
def test_what_a_change_made_out_of_date_while_it_was_read_is_not_remembered(
    hub_files, memory, monkeypatch
):
    remote, distro = hub_files

    def changed_meanwhile(real):
        def lookup(*args):
            found = real(*args)
            memory.forget(f"distribution:{distro.pk}")  # e.g. its repository changed
            return found

        return lookup

    for name in ("find_file", "files_at_commit"):
        monkeypatch.setattr(resolver, name, changed_meanwhile(getattr(resolver, name)))
    found = run(lambda: resolver.resolve(distro, remote, at("a.bin")))
    assert found.stored is not None  # answered from what was read
    assert resolver.cache.stored_file(distro, at("a.bin")) is None  # but not remembered
    assert not resolver.cache.commit_loaded(distro, PATH.repo, COMMIT)
