"""Where a download's bytes come from, each source against a real HTTP answer: upstream (the
fake Hub, in this process) with the info known or told by its answer, and the host leading the
download; and the sink that waits for that host to store."""

import asyncio
import uuid

import pytest
from aiohttp import web

from pulp_hugging_face import hub
from pulp_hugging_face.app import peers, sinks, sources, upstream
from pulp_hugging_face.app.cache import file_info
from pulp_hugging_face.app.models import HuggingFaceRemote
from pulp_hugging_face.app.storage import ArtifactSink

from .request_path import PATH, fetch, lfs_info, run, serving

BODY = b"shard" * 100_000
pytestmark = pytest.mark.django_db


@pytest.fixture
def upstream_file(fake_hub):
    """A remote on the fake Hub and the commit-pinned path of an LFS file of a new repo there."""
    from hf_fake_hub import HubFile

    repo_id = f"org/m-{uuid.uuid4().hex[:8]}"
    commit = fake_hub.add_repo(repo_id).commit({"shard.bin": HubFile(BODY, lfs=True)})
    remote = HuggingFaceRemote(name="up", url=fake_hub.url)
    return remote, hub.ResolvePath(hub.Repo("model", repo_id), commit, "shard.bin"), fake_hub


async def drain(source):
    try:
        async with source as (body, info):
            chunks = [chunk async for chunk in body.content.iter_chunked(1 << 16)]
        return b"".join(chunks), info
    finally:  # each test runs its own event loop: no session outlives it
        await upstream.close_sessions()


def test_upstream_whose_answer_tells_the_info_remembers_it(upstream_file, memory):
    remote, path, fake = upstream_file
    got, info = run(lambda: drain(sources.upstream_telling(remote, path)))
    assert got == BODY and info.etag == lfs_info(BODY).etag and info.size == len(BODY)
    assert info.commit == path.revision and file_info(remote, path) == info
    asked = [r["method"] for r in fake.requests if path.repo.repo_id in r["path"]]
    assert asked == ["GET"]  # one GET, no HEAD first


def test_upstream_with_the_info_known_asks_for_the_bytes_only(upstream_file):
    remote, path, fake = upstream_file
    known = lfs_info(BODY).__class__(path.revision, lfs_info(BODY).etag, len(BODY))
    got, info = run(lambda: drain(sources.from_upstream(remote, path, known)))
    assert got == BODY and info is known


def test_the_leading_host_is_asked_as_a_client_would_with_the_peer_mark():
    seen = []

    async def leading_host(request):
        seen.append(dict(request.headers))
        return web.Response(body=BODY)

    async def scenario():
        async with serving(leading_host) as host:
            address = str(host._base_url).rstrip("/")

            async def follower(request):
                got, _ = await drain(sources.leading_peer(address, request, "info"))
                return web.Response(body=got)

            async with serving(follower) as session:
                asked = {"Authorization": "Bearer t", "Range": "x", "If-None-Match": '"e"'}
                return await fetch(session, headers=asked)

    status, _, body = run(scenario)
    assert status == 200 and body == BODY
    assert seen[0][peers.PEER_HEADER] == "1" and seen[0]["Authorization"] == "Bearer t"
    assert "Range" not in seen[0]  # the whole file: the leader streams it all
    assert "If-None-Match" not in seen[0]  # a 304 from the leader could not be passed on


@pytest.mark.parametrize("stored_after", [2, None])
def test_stored_by_peer_waits_for_the_leading_host_to_store(
    monkeypatch, tmp_path, caplog, stored_after
):
    monkeypatch.setattr(sinks, "PEER_STORE_WAIT", 0.5)
    looked = []

    async def stored_now(distro, path):
        looked.append(part.exists())  # followers on this host still read it while waiting
        return "stored" if stored_after is not None and len(looked) > stored_after else None

    part = tmp_path / "x.part"
    checked = ArtifactSink("e" * 40, 0, str(part))
    sink = sinks.StoredByPeer(None, None, PATH, stored_now)
    run(lambda: sink.keep(checked))
    assert not part.exists() and all(looked)  # kept for the followers until then, dropped
    if stored_after is None:
        assert len(looked) == 5 and "did not store" in caplog.text
    else:
        assert len(looked) == stored_after + 1 and "did not store" not in caplog.text


def test_stored_here_refuses_to_store_what_it_cannot_verify(tmp_path):
    class Lock:
        directory = tmp_path

    sink = sinks.StoreHere(Lock(), None, None, None)
    checked = asyncio.run(sink.open(lfs_info(BODY).__class__("c" * 40, "e" * 40, None)))
    assert sink.stores is False and checked.path is None
