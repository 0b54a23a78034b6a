"""The live test stacks: scripts/devstack.py on their own ports, databases and state folders.

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

import os
import runpy
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVSTACK = ROOT / "scripts" / "devstack.py"
PLUGIN_API = "/pulp/api/v3/{}/hugging_face/hugging-face/"
ADMIN = ("admin", "password")


# Test stacks only: basic auth checks the password on every API request, and PBKDF2 costs a
# quarter of a second each time (the stored hash of a kept stack is upgraded at its next login).
TEST_SETTINGS = (
    "PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher', "
    "'django.contrib.auth.hashers.PBKDF2PasswordHasher']\n"
    # Usage figures written every second and idle files looked for every 3 s (retention tests).
    "HF_USAGE_FLUSH_INTERVAL = 1\nHF_CACHE_EVICT_INTERVAL = 3\n"
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
