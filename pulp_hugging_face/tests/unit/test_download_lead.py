"""Who downloads a cold file: a host that takes the lead after another host stored the file
(and let go of the lead) since it looked serves the stored file instead of asking upstream."""

import asyncio

import pytest

from pulp_hugging_face import hub
from pulp_hugging_face.app import downloads

PATH = hub.ResolvePath(hub.Repo("model", "org/m"), "a" * 40, "big.bin")


class FakeLock:
    fresh, digest = True, "ab" * 32

    def __init__(self, *args):
        pass

    def try_lead(self):
        return True

    def release(self):
        pass


class FakeRemote:
    pk, policy = 1, "immediate"


@pytest.mark.parametrize("address, stored_elsewhere", [("http://h1:24816", True), (None, False)])
def test_a_new_leader_looks_once_more_only_when_hosts_share_downloads(
    monkeypatch, settings, address, stored_elsewhere
):
    settings.HF_PEER_ADDRESS = address
    calls = []

    async def leading_peer(digest, request):
        return None  # nobody leads any more: the other host is done

    async def release(digest):
        calls.append("release")

    async def stored(distro, path):
        calls.append("looked")
        return "the stored file"

    async def stored_file_response(request, cached, path_in_repo):
        return f"served {cached}"

    async def download(*args, **kwargs):
        return "downloaded from upstream"

    monkeypatch.setattr(downloads, "InflightLock", FakeLock)
    monkeypatch.setattr(downloads.peers, "leading_peer", leading_peer)
    monkeypatch.setattr(downloads.peers, "release", release)
    monkeypatch.setattr(downloads, "_stored", stored)
    monkeypatch.setattr(downloads, "stored_file_response", stored_file_response)
    monkeypatch.setattr(downloads, "_download", download)
    answer = asyncio.run(downloads.fetch_and_store(None, None, FakeRemote(), PATH))
    if stored_elsewhere:
        assert answer == "served the stored file" and calls == ["looked", "release"]
    else:  # one host: a new lock file means nobody stored it since (no query more)
        assert answer == "downloaded from upstream" and calls == ["release"]
