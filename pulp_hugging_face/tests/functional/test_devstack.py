"""`make run` is idempotent: a second run changes nothing and starts nothing."""

from .conftest import STATE_DIR, devstack


def pids():
    return {p.name: p.read_text() for p in (STATE_DIR / "run").glob("*.pid")}


def test_second_run_is_harmless(pulp_stack, pulp_api):
    before = pids()
    result = devstack("run")
    assert "already up" in result.stdout
    assert pids() == before
    status = pulp_api.get("/pulp/api/v3/status/")
    assert len(status["online_workers"]) == 2
    assert status["online_content_apps"]
