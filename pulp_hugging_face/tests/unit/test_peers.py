"""peers.py without a second host: keys, and when a process leads without asking anyone."""

import asyncio

import pytest

from pulp_hugging_face.app import peers


class FakeRequest:
    def __init__(self, headers=None):
        self.headers = headers or {}


def test_lock_keys_are_signed_64_bit_and_split_like_pg_locks():
    key = peers.lock_key("ff" * 32)
    assert key == -1
    assert ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF) == (0xFFFFFFFF, 0xFFFFFFFF)
    key = peers.lock_key("0123456789abcdef" + "0" * 48)
    assert key == 0x0123456789ABCDEF
    assert ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF) == (0x01234567, 0x89ABCDEF)


@pytest.mark.parametrize(
    "address, headers",
    [
        (None, {}),  # not configured: each host on its own
        ("http://10.0.0.5:24816", {peers.PEER_HEADER: "1"}),  # a peer's request never hops on
        ("http://" + "h" * 60 + ":24816", {}),  # too long for a PostgreSQL application_name
    ],
)
def test_without_a_cluster_a_process_leads_without_asking_the_database(
    settings, monkeypatch, address, headers
):
    settings.HF_PEER_ADDRESS = address

    async def no_database(*args):
        raise AssertionError("the database was asked")

    monkeypatch.setattr(peers._connection, "execute", no_database)
    assert asyncio.run(peers.leading_peer("ab" * 32, FakeRequest(headers))) is None


def test_a_database_failure_means_leading_here(settings, monkeypatch):
    settings.HF_PEER_ADDRESS = "http://10.0.0.5:24816"

    async def broken(*args):
        raise OSError("connection refused")

    monkeypatch.setattr(peers._connection, "execute", broken)
    assert asyncio.run(peers.leading_peer("ab" * 32, FakeRequest())) is None


@pytest.mark.parametrize("address, opened", [("http://10.0.0.5:24816", 1), (None, 0)])
def test_the_lock_connection_opens_at_start_up_when_hosts_share_downloads(
    settings, monkeypatch, address, opened
):
    settings.HF_PEER_ADDRESS = address
    statements = []

    async def execute(query, params):
        statements.append(query)

    monkeypatch.setattr(peers._connection, "execute", execute)
    asyncio.run(peers.connect())
    assert len(statements) == opened


def test_a_database_down_at_start_up_does_not_stop_the_content_app(settings, monkeypatch):
    settings.HF_PEER_ADDRESS = "http://10.0.0.5:24816"

    async def down(*args):
        raise OSError("connection refused")

    monkeypatch.setattr(peers._connection, "execute", down)
    asyncio.run(peers.connect())  # logs, does not raise


@pytest.mark.parametrize("address, statements", [("http://10.0.0.5:24816", 2), (None, 0)])
def test_only_a_lock_taken_is_released(settings, monkeypatch, address, statements):
    settings.HF_PEER_ADDRESS = address
    asked = []

    async def execute(query, params):
        asked.append(query)
        return (True,)

    monkeypatch.setattr(peers._connection, "execute", execute)

    async def lead_then_release():
        assert await peers.leading_peer("cd" * 32, FakeRequest()) is None
        await peers.release("cd" * 32)
        await peers.release("cd" * 32)  # once only

    asyncio.run(lead_then_release())
    assert len(asked) == statements
    assert not asked or asked[-1].startswith("SELECT pg_advisory_unlock")
