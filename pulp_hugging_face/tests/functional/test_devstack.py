"""`make run` is idempotent: a second run changes nothing and starts nothing."""


def pids(stack):
    return {p.name: p.read_text() for p in (stack.state_dir / "run").glob("*.pid")}


def test_second_run_is_harmless(pulp_stack, pulp_api):
    stack = pulp_stack["stack"]
    before = pids(stack)
    result = stack.devstack("run")
    assert "already up" in result.stdout
    assert pids(stack) == before
    status = pulp_api.get("/pulp/api/v3/status/")
    assert len(status["online_workers"]) == 2
    assert status["online_content_apps"]
