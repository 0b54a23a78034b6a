"""pytest fixtures for pulp_hugging_face: live test stacks, the fake Hub, REST helpers, factories.

Registered as the `pulp_hugging_face` pytest11 entry point, so pytest loads this module in every
run of an environment where pulp-hugging-face is installed, unit tests included. Keep its
module-level imports to the standard library and pytest: no Django, no pulpcore, no requests and
no hf_fake_hub (a test-only distribution) until a fixture or helper needs them.

A live stack is scripts/devstack.py on its own ports, database and state folder, so tests never
touch a developer's `make run` instance. These environment variables let two checkouts run the
functional tests side by side (defaults in brackets):

  PULP_TEST_API_PORT [24827], PULP_TEST_CONTENT_PORT [24826]       the main test stack
  PULP_TEST_DOMAINS_API_PORT [24847], PULP_TEST_DOMAINS_CONTENT_PORT [24846]
                                                                   the domain-enabled stack
  PULP_TEST_DB_PREFIX [pulp_hf]   databases <prefix>_functest and <prefix>_functest_domains
  PULP_TEST_DB_NAME, PULP_TEST_DOMAINS_DB_NAME                     or name each one
  PULP_TEST_STATE_DIR [.pulp-test], PULP_TEST_DOMAINS_STATE_DIR [<state dir>-domains]
                                  relative paths are taken from the repository root
  PULP_TEST_HOST2_API_PORT [24837], PULP_TEST_HOST2_CONTENT_PORT [24836],
  PULP_TEST_HOST2_STATE_DIR [<state dir>-host2]
                                  a second host of the main stack: same database and media
  PULP_TEST_S3_PORT [24858]       the moto S3 server; the S3 stack: PULP_TEST_S3_API_PORT
                                  [24857], PULP_TEST_S3_CONTENT_PORT [24856],
                                  PULP_TEST_S3_STATE_DIR [<state dir>-s3], db <prefix>_functest_s3
  PULP_TEST_PG_API_PORT [24867], PULP_TEST_PG_CONTENT_PORT [24866], PULP_TEST_PG_STATE_DIR
                                  [<state dir>-pg]: a stack on a private PostgreSQL cluster
  PULP_TEST_KEEP=1                leave the stacks running after the session (faster re-runs)
"""

import http.client
import json
import os
import runpy
import shlex
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEVSTACK = ROOT / "scripts" / "devstack.py"
PLUGIN_API = "/pulp/api/v3/{}/hugging_face/hugging-face/"
ADMIN = ("admin", "password")


# Test stacks only: basic auth checks the password on every API request, and PBKDF2 costs a
# quarter of a second each time (the stored hash of a kept stack is upgraded at its next login).
TEST_SETTINGS = (
    "PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher', "
    "'django.contrib.auth.hashers.PBKDF2PasswordHasher']\n"
)


def keep_stacks():
    return os.environ.get("PULP_TEST_KEEP") == "1"


def _state_dir(value):
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class LiveStack:
    """One test stack of scripts/devstack.py: its ports, database, state folder and settings."""

    api_port: int
    content_port: int
    db_name: str
    state_dir: Path
    settings: dict = field(default_factory=dict)  # more PULP_* variables for devstack.py
    own_database: bool = True  # False: another stack's, never dropped

    @property
    def api(self):
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def content(self):
        return f"http://127.0.0.1:{self.content_port}"

    def env(self, **extra):
        env = dict(os.environ)
        env.update(
            PULP_STATE_DIR=str(self.state_dir),
            PULP_API_PORT=str(self.api_port),
            PULP_CONTENT_PORT=str(self.content_port),
            PULP_DB_NAME=self.db_name,
            PULP_HF_NO_DEFAULTS="1",
            PULP_ADMIN_PASSWORD=ADMIN[1],
        )
        env.update(self.settings)
        env.update(extra)
        env["PULP_EXTRA_SETTINGS"] = TEST_SETTINGS + env.get("PULP_EXTRA_SETTINGS", "")
        return env

    def devstack(self, command, **extra):
        """Run `scripts/devstack.py <command>` for this stack; raises CalledProcessError."""
        return subprocess.run(
            [sys.executable, str(DEVSTACK), command],
            env=self.env(**extra),
            check=True,
            text=True,
            capture_output=True,
        )

    def setting(self, name):
        """One of the stack's settings as devstack.py wrote them."""
        return runpy.run_path(str(self.state_dir / "settings.py"))[name]

    def database(self):
        """The stack's DATABASES["default"] as devstack.py wrote it (NAME, HOST, PORT, USER...)."""
        return self.setting("DATABASES")["default"]

    def pids(self):
        return [int(p.read_text()) for p in (self.state_dir / "run").glob("*.pid")]

    def start(self):
        """Start the stack on a fresh database (kept as it is with PULP_TEST_KEEP=1, and always
        when it shares another stack's database)."""
        fresh = self.own_database and not keep_stacks()
        return self.devstack("run", PULP_DB_FRESH="1" if fresh else "0")

    def stop(self):
        """Stop the stack and check that nothing it started is left behind."""
        pids = self.pids()
        self.devstack("stop")
        alive = [pid for pid in pids if _alive(pid)]
        assert not alive, f"`devstack.py stop` left processes behind: {alive}"


def main_stack():
    """The functional tests' stack, as configured by the PULP_TEST_* variables."""
    return LiveStack(
        api_port=int(os.environ.get("PULP_TEST_API_PORT") or "24827"),
        content_port=int(os.environ.get("PULP_TEST_CONTENT_PORT") or "24826"),
        db_name=os.environ.get("PULP_TEST_DB_NAME") or f"{_db_prefix()}_functest",
        state_dir=_state_dir(os.environ.get("PULP_TEST_STATE_DIR") or ".pulp-test"),
        settings={"PULP_WORKERS": "2"},
    )


def _side_stack(name, ports, db_name, settings, own_database=True):
    """Another stack beside the main one: ports, folder (and database, where `db_name` reads
    one) overridable as PULP_TEST_<name>_API_PORT, _CONTENT_PORT, _STATE_DIR (and _DB_NAME)."""
    main = main_stack()
    prefix = f"PULP_TEST_{name.upper()}_"
    state = os.environ.get(prefix + "STATE_DIR") or f"{main.state_dir}-{name}"
    return LiveStack(
        api_port=int(os.environ.get(prefix + "API_PORT") or ports[0]),
        content_port=int(os.environ.get(prefix + "CONTENT_PORT") or ports[1]),
        db_name=db_name,
        state_dir=_state_dir(state),
        settings=settings,
        own_database=own_database,
    )


def _db_prefix():
    return os.environ.get("PULP_TEST_DB_PREFIX") or "pulp_hf"


def domains_stack():
    """The second, domain-enabled stack, as configured by the PULP_TEST_DOMAINS_* variables."""
    db_name = os.environ.get("PULP_TEST_DOMAINS_DB_NAME") or f"{_db_prefix()}_functest_domains"
    settings = {"PULP_DOMAIN_ENABLED": "1", "PULP_WORKERS": "1"}
    return _side_stack("domains", (24847, 24846), db_name, settings)


def second_host_stack():
    """A second "host" of the main stack: its own ports, state folder and working directory;
    the main stack's database, media folder (as a shared NFS export would be) and keys."""
    main = main_stack()
    certs = main.state_dir / "certs"
    shared = (
        f"MEDIA_ROOT = {str(main.state_dir / 'media')!r}\n"
        f"DB_ENCRYPTION_KEY = {str(certs / 'database_fields.symmetric.key')!r}\n"
        f"SECRET_KEY = open({str(certs / 'secret_key')!r}).read()\n"
    )
    settings = {"PULP_WORKERS": "1", "PULP_EXTRA_SETTINGS": shared}
    return _side_stack("host2", (24837, 24836), main.db_name, settings, own_database=False)


def private_pg_stack():
    """A stack on a PostgreSQL cluster of its own (devstack starts one in its state folder when
    the configured server does not answer; nothing listens on port 1), so a test may restart
    that server under it without touching the other stacks' server."""
    settings = {"PULP_WORKERS": "1", "PULP_DB_PORT": "1"}
    return _side_stack("pg", (24867, 24866), f"{_db_prefix()}_functest_pg", settings)


S3_BUCKET = "pulp-hf-test"
S3_KEYS = ("hf-test-access-key", "hf-test-secret-key")


def s3_port():
    return int(os.environ.get("PULP_TEST_S3_PORT") or "24858")


def s3_stack():
    """A stack storing its files in S3 (the session's moto server): its own ports, database and
    state folder."""
    options = {
        "access_key": S3_KEYS[0],
        "secret_key": S3_KEYS[1],
        "bucket_name": S3_BUCKET,
        "endpoint_url": f"http://127.0.0.1:{s3_port()}",
        "region_name": "us-east-1",
        "signature_version": "s3v4",
        "addressing_style": "path",
        "default_acl": "private",
    }
    storages = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    extra = f"STORAGES = {storages!r}\nMEDIA_ROOT = ''\n"
    settings = {"PULP_WORKERS": "1", "PULP_EXTRA_SETTINGS": extra}
    return _side_stack("s3", (24857, 24856), f"{_db_prefix()}_functest_s3", settings)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def upstream_calls(hub):
    """Every request a fake Hub and its CDN received since the last `reset_log()`."""
    return list(hub.requests) + list(hub.cdn_requests)


def raw_request(url, method="GET"):
    """Send the path exactly as written (no client-side normalisation of `..` or `%2e`).

    Returns (status, headers, body).
    """
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, parts.path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class PulpApi:
    """A small REST client for a test stack that deletes what it created."""

    def __init__(self, base):
        import requests

        self.base = base
        self.session = requests.Session()
        self.session.auth = ADMIN
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

    def ended_task(self, href, timeout=60):
        """The task once it has ended, whatever the outcome."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            task = self.get(href)
            if task["state"] in ("completed", "failed", "canceled"):
                return task
            time.sleep(0.2)
        raise AssertionError(f"task {href} did not finish in {timeout}s")

    def wait_task(self, href, timeout=60):
        """The task once it has completed; fails when it failed or was canceled."""
        task = self.ended_task(href, timeout)
        if task["state"] != "completed":
            raise AssertionError(f"task {href} {task['state']}: {task.get('error')}")
        return task

    def wait_task_group(self, href, last_task, timeout=180):
        """Wait until `last_task` (a task name's last part) of a task group has ended.

        pulpcore 3.123 never marks replication or import groups "all tasks dispatched", so the
        group is over once its last task is there and nothing waits or runs. A failed or
        canceled task fails at once, with its error.
        """
        deadline = time.time() + timeout
        while time.time() < deadline:
            group = self.get(href)
            failed = [
                (task["name"], self.get(task["pulp_href"]).get("error"))
                for task in group["tasks"]
                if task["state"] in ("failed", "canceled")
            ]
            assert not failed, failed
            names = {task["name"].rsplit(".", 1)[-1] for task in group["tasks"]}
            if last_task in names and not (group["waiting"] or group["running"]):
                return group
            time.sleep(0.3)
        raise AssertionError(f"task group {href} did not finish in {timeout}s")

    def wait_for_units(self, count, timeout=30, **filters):
        """Wait until `count` files match `filters`: a download is stored after its client
        has every byte, so a test that looks right away can be too early."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            units = self.list("content", **filters)
            if len(units) >= count:
                return units
            time.sleep(0.2)
        raise AssertionError(f"{count} files matching {filters} were not stored in {timeout}s")

    def wait_for_content(self, repository_href, count, timeout=30):
        """Wait until the latest version holds `count` files; return (repository, version)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            repository = self.get(repository_href)
            version = self.get(repository["latest_version_href"])
            present = version["content_summary"]["present"].get("hugging_face.hugging-face")
            if present and present["count"] >= count:
                return repository, version
            time.sleep(0.3)
        raise AssertionError(f"repository did not reach {count} files in {timeout}s")

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
        import requests

        for href in reversed(self.created):
            try:
                result = self.session.delete(self.url(href), timeout=60)
                if result.status_code == 202:
                    self.wait_task(result.json()["task"])
            except (requests.RequestException, AssertionError):
                pass
        self.created.clear()


# -- the live stack ----------------------------------------------------------------------------
@contextmanager
def running(stack, what):
    """`stack` started for the session (kept running after it with PULP_TEST_KEEP=1)."""
    try:
        stack.start()
    except subprocess.CalledProcessError as exc:
        pytest.exit(f"Could not start the {what}:\n{exc.stdout}\n{exc.stderr}", 3)
    yield stack
    if not keep_stacks():
        stack.stop()


@pytest.fixture(scope="session")
def pulp_stack():
    """A running pulpcore-api, -content and -worker with this plugin, on a fresh database."""
    with running(main_stack(), "test Pulp stack") as stack:
        yield {"api": stack.api, "content": stack.content, "state": stack.state_dir, "stack": stack}


@pytest.fixture(scope="session")
def pulp_domains_stack():
    """The domain-enabled stack (see `domains_stack()`), started once for the whole session."""
    with running(domains_stack(), "domains test stack") as stack:
        yield stack


@pytest.fixture(scope="session")
def pulp_second_host(pulp_stack):
    """A second host of the main stack (see `second_host_stack()`), for the session."""
    with running(second_host_stack(), "second host of the test stack") as stack:
        yield stack


@pytest.fixture(scope="session")
def pulp_private_pg_stack():
    """A stack on its own PostgreSQL cluster (see `private_pg_stack()`), for the session."""
    with running(private_pg_stack(), "private-PostgreSQL test stack") as stack:
        yield stack


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-protocol server (moto's server mode) on loopback, with the test bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port(), verbose=False)
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{s3_port()}",
        aws_access_key_id=S3_KEYS[0],
        aws_secret_access_key=S3_KEYS[1],
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=S3_BUCKET)
    yield client
    server.stop()


@pytest.fixture(scope="session")
def pulp_s3_stack(s3_server):
    """A stack whose files live in S3 (see `s3_stack()`), for the session."""
    with running(s3_stack(), "S3 test stack") as stack:
        yield stack


@pytest.fixture
def pulp_api(pulp_stack):
    """A PulpApi on the test stack; deletes what it created after the test."""
    api = PulpApi(pulp_stack["api"])
    yield api
    api.cleanup()


@pytest.fixture(scope="class")
def pulp_api_class(pulp_stack):
    """Like `pulp_api`, but cleans up after the test class (after the test outside a class)."""
    api = PulpApi(pulp_stack["api"])
    yield api
    api.cleanup()


# -- the pulp CLI -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CliResult:
    args: tuple
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class PulpCli:
    """The real `pulp` command against a test stack: the stack's own `cli.toml` (written by
    devstack.py) and API-document cache, and no user config."""

    def __init__(self, stack):
        self.stack = stack
        self.env = dict(os.environ)
        self.env.update(
            XDG_CACHE_HOME=str(stack.state_dir / "cache"),
            XDG_CONFIG_HOME=str(stack.state_dir / "cli-home"),
            COLUMNS="200",
        )

    def __call__(self, *args, input=None, timeout=180):
        command = [str(Path(sys.executable).parent / "pulp"), "--config"]
        command += [str(self.stack.state_dir / "cli.toml"), *map(str, args)]
        done = subprocess.run(
            command, env=self.env, input=input, capture_output=True, text=True, timeout=timeout
        )
        return CliResult(tuple(args), done.returncode, done.stdout, done.stderr)

    def ok(self, *args, **kwargs):
        """Run; it must succeed."""
        result = self(*args, **kwargs)
        assert (
            result.returncode == 0
        ), f"pulp {' '.join(map(str, args))}: {result.stderr}{result.stdout}"
        return result

    def fails(self, *args, **kwargs):
        """Run; it must fail with a message on stderr and never a traceback."""
        result = self(*args, **kwargs)
        assert result.returncode != 0, f"pulp {' '.join(map(str, args))} succeeded: {result.stdout}"
        assert "Error" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        return result

    @staticmethod
    def hf_args(line, *args):
        """`hugging-face`, then `line` split as a shell would (shlex), then `args` verbatim."""
        return ["hugging-face", *shlex.split(line), *map(str, args)]

    def hf(self, line, *args, **kwargs):
        """`pulp hugging-face <line> <args>`, e.g. `hf(f"remote show --name {name}")`; put
        values with spaces, quotes or JSON (and Paths) in `args`. Like `ok`: it must succeed."""
        return self.ok(*self.hf_args(line, *args), **kwargs)

    def hf_fails(self, line, *args, **kwargs):
        """Like `hf`, but like `fails`: it must fail with an error and no traceback."""
        return self.fails(*self.hf_args(line, *args), **kwargs)


@pytest.fixture
def pulp_cli(pulp_stack):
    """`pulp_cli(*args)`, `.ok(*args)`, `.fails(*args)`: the `pulp` command on the test stack."""
    return PulpCli(pulp_stack["stack"])


# -- the fake Hub ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def fake_hub():
    """A fake Hub and CDN on loopback for the session (hf_fake_hub, installed by `make venv`)."""
    from hf_fake_hub import FakeHub

    hub = FakeHub().start()
    yield hub
    hub.stop()


@pytest.fixture
def hub_env(tmp_path):
    """Environment for the `hf` CLI with its own empty cache."""
    env = dict(os.environ)
    env["HF_HOME"] = str(tmp_path / "hf-home")
    env.pop("HF_TOKEN", None)
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    return env


# -- factories ---------------------------------------------------------------------------------
def _href(value):
    return value["pulp_href"] if isinstance(value, dict) else value


@pytest.fixture(scope="class")
def hf_remote_factory(pulp_api_class, fake_hub):
    """`hf_remote_factory(**fields)`: a remote, on the fake Hub unless `url` is given."""

    def make(**fields):
        fields.setdefault("name", unique("remote"))
        fields.setdefault("url", fake_hub.url)
        return pulp_api_class.create("remotes", **fields)

    return make


@pytest.fixture(scope="class")
def hf_repository_factory(pulp_api_class):
    """`hf_repository_factory(**fields)`: a repository."""

    def make(**fields):
        fields.setdefault("name", unique("repo"))
        return pulp_api_class.create("repositories", **fields)

    return make


@pytest.fixture(scope="class")
def hf_distribution_factory(pulp_api_class):
    """`hf_distribution_factory(remote=..., repository=..., **fields)`: a distribution.

    `remote` and `repository` may be the objects the other factories return or their hrefs.
    """

    def make(remote=None, repository=None, **fields):
        fields.setdefault("name", unique("dist"))
        fields.setdefault("base_path", unique("hf"))
        if remote is not None:
            fields["remote"] = _href(remote)
        if repository is not None:
            fields["repository"] = _href(repository)
        return pulp_api_class.create("distributions", **fields)

    return make


@pytest.fixture
def hf_distribution(hf_remote_factory, hf_repository_factory, hf_distribution_factory):
    """`hf_distribution(with_repository=True, **remote_fields)`: a remote (on the fake Hub), a
    repository and a distribution serving both. Returns a dict of the three and `endpoint`, the
    distribution's base URL, which is an HF_ENDPOINT."""

    def make(with_repository=True, **remote_fields):
        remote = hf_remote_factory(**remote_fields)
        repository = hf_repository_factory() if with_repository else None
        distribution = hf_distribution_factory(remote=remote, repository=repository)
        return {
            "remote": remote,
            "repository": repository,
            "distribution": distribution,
            "endpoint": distribution["base_url"].rstrip("/"),
        }

    return make
