"""Functional test fixtures: a live Pulp stack of its own, the fake Hub, and REST helpers.

The stack is started with scripts/devstack.py on its own ports, state folder and a fresh
database, so tests never touch a developer's `make run` instance. Set PULP_TEST_KEEP=1 to leave
it running after the session (faster re-runs while developing).
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from hf_fake_hub import FakeHub

ROOT = Path(__file__).resolve().parents[3]
API_PORT = int(os.environ.get("PULP_TEST_API_PORT", "24827"))
CONTENT_PORT = int(os.environ.get("PULP_TEST_CONTENT_PORT", "24826"))
STATE_DIR = ROOT / ".pulp-test"
PLUGIN_API = "/pulp/api/v3/{}/hugging_face/hugging-face/"


def stack_env():
    env = dict(os.environ)
    env.update(
        PULP_STATE_DIR=str(STATE_DIR),
        PULP_API_PORT=str(API_PORT),
        PULP_CONTENT_PORT=str(CONTENT_PORT),
        PULP_DB_NAME="pulp_hf_functest",
        PULP_HF_NO_DEFAULTS="1",
        PULP_WORKERS="2",
        PULP_ADMIN_PASSWORD="password",
    )
    return env


def devstack(command, **extra):
    env = stack_env()
    env.update(extra)
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "devstack.py"), command],
        env=env,
        check=True,
        text=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def pulp_stack():
    """A running pulpcore-api, -content and -worker with this plugin, on a fresh database."""
    fresh = "0" if os.environ.get("PULP_TEST_KEEP") == "1" else "1"
    try:
        devstack("run", PULP_DB_FRESH=fresh)
    except subprocess.CalledProcessError as exc:
        pytest.exit(f"Could not start the test Pulp stack:\n{exc.stdout}\n{exc.stderr}", 3)
    yield {
        "api": f"http://127.0.0.1:{API_PORT}",
        "content": f"http://127.0.0.1:{CONTENT_PORT}",
        "state": STATE_DIR,
    }
    if os.environ.get("PULP_TEST_KEEP") != "1":
        pids = [int(p.read_text()) for p in (STATE_DIR / "run").glob("*.pid")]
        devstack("stop")
        alive = [pid for pid in pids if _alive(pid)]
        assert not alive, f"`devstack.py stop` left processes behind: {alive}"


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class PulpApi:
    """A small REST client for the test stack that deletes what it created."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self.session.auth = ("admin", "password")
        self.created = []

    def url(self, path):
        return path if path.startswith("http") else self.base + path

    def request(self, method, path, **kwargs):
        response = self.session.request(method, self.url(path), timeout=60, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def wait_task(self, href, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            task = self.get(href)
            if task["state"] == "completed":
                return task
            if task["state"] in ("failed", "canceled"):
                raise AssertionError(f"task {href} {task['state']}: {task.get('error')}")
            time.sleep(0.2)
        raise AssertionError(f"task {href} did not finish in {timeout}s")

    def create(self, kind, **body):
        result = self.request("POST", PLUGIN_API.format(kind), json=body)
        if "task" in result:
            task = self.wait_task(result["task"])
            result = self.get(task["created_resources"][0])
        self.created.append(result["pulp_href"])
        return result

    def list(self, kind, **params):
        return self.get(PLUGIN_API.format(kind), **params)["results"]

    def cleanup(self):
        for href in reversed(self.created):
            try:
                result = self.session.delete(self.url(href), timeout=60)
                if result.status_code == 202:
                    self.wait_task(result.json()["task"])
            except (requests.RequestException, AssertionError):
                pass


@pytest.fixture
def pulp_api(pulp_stack):
    api = PulpApi(pulp_stack["api"])
    yield api
    api.cleanup()


@pytest.fixture(scope="session")
def fake_hub():
    hub = FakeHub().start()
    yield hub
    hub.stop()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def hf_distribution(pulp_api, fake_hub):
    """Create a remote (on the fake Hub), a repository and a distribution; return a dict."""

    def make(with_repository=True, **remote_fields):
        remote_fields.setdefault("url", fake_hub.url)
        remote = pulp_api.create("remotes", name=unique("remote"), **remote_fields)
        body = {"name": unique("dist"), "base_path": unique("hf"), "remote": remote["pulp_href"]}
        repository = None
        if with_repository:
            repository = pulp_api.create("repositories", name=unique("repo"))
            body["repository"] = repository["pulp_href"]
        distribution = pulp_api.create("distributions", **body)
        return {
            "remote": remote,
            "repository": repository,
            "distribution": distribution,
            "endpoint": distribution["base_url"].rstrip("/"),
        }

    return make


@pytest.fixture
def hub_env(tmp_path):
    """Environment for the `hf` CLI with its own empty cache."""
    env = dict(os.environ)
    env["HF_HOME"] = str(tmp_path / "hf-home")
    env.pop("HF_TOKEN", None)
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    return env
