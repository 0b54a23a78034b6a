"""The content app's heartbeat through a database restart."""

import asyncio

import pytest
from django.db.utils import OperationalError

from pulp_hugging_face.app import heartbeat


class Status:
    name = "1@host"

    def __init__(self, failures):
        self.failures = failures
        self.writes = 0

    async def asave_heartbeat(self):
        self.writes += 1
        if self.writes <= self.failures:
            raise OperationalError("the database system is shutting down")


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(heartbeat, "RETRY_SECONDS", 0)
    monkeypatch.setattr(heartbeat, "reset_db_connection", lambda: None)

    def exit_(code):
        raise SystemExit(code)

    monkeypatch.setattr(heartbeat.os, "_exit", exit_)


def test_a_heartbeat_during_a_database_restart_is_written_once_the_database_is_back(quick):
    status = Status(failures=3)  # pulpcore's own gives up after two and stops the content app
    asyncio.run(heartbeat._write(status, give_up_after=30))
    assert status.writes == 4


def test_a_database_gone_for_longer_than_the_ttl_allows_stops_the_process(quick):
    with pytest.raises(SystemExit):
        asyncio.run(heartbeat._write(Status(failures=10**9), give_up_after=0.05))
