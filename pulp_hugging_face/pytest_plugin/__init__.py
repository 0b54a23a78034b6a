"""pytest fixtures for pulp_hugging_face: live test stacks, the fake Hub, REST helpers, factories.

Registered as the `pulp_hugging_face` pytest11 entry point, so pytest loads this package in every
run of an environment where pulp-hugging-face is installed, unit tests included. Keep its
module-level imports to the standard library and pytest: no Django, no pulpcore, no requests and
no hf_fake_hub (a test-only distribution) until a fixture or helper needs them.

`stacks`: the live stacks and the PULP_TEST_* variables that place them; `rest`: PulpApi and
helpers; `cli`: the real `pulp` command; `factories`: remotes, repositories, distributions.
The fixtures are here (the factories' in `factories`), under the names tests have always used.
"""

import os

import pytest

from .cli import CliResult, PulpCli
from .factories import (  # noqa: F401 (fixtures)
    hf_distribution,
    hf_distribution_factory,
    hf_remote_factory,
    hf_repository_factory,
)
from .rest import PulpApi, raw_request, unique, upstream_calls
from .stacks import (
    ADMIN,
    PLUGIN_API,
    S3_BUCKET,
    S3_KEYS,
    LiveStack,
    domains_stack,
    keep_stacks,
    main_stack,
    private_pg_stack,
    running,
    s3_port,
    s3_stack,
    second_host_stack,
)

__all__ = [
    "ADMIN",
    "PLUGIN_API",
    "S3_BUCKET",
    "S3_KEYS",
    "CliResult",
    "LiveStack",
    "PulpApi",
    "PulpCli",
    "domains_stack",
    "keep_stacks",
    "main_stack",
    "private_pg_stack",
    "raw_request",
    "s3_port",
    "s3_stack",
    "second_host_stack",
    "unique",
    "upstream_calls",
]


# -- the live stacks ---------------------------------------------------------------------------
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
