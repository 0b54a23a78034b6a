"""Functional tests: the live stack, the fake Hub, PulpApi and the factories come from
pulp_hugging_face.pytest_plugin (a pytest11 entry point). Fixtures shared by several test
files of this folder only are here."""

import os

import pytest
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique


@pytest.fixture
def repo(fake_hub):
    """A model on the fake Hub: a regular file, an LFS file, a Xet-backed file, a deep path."""
    repo_id = f"org/{unique('proto')}"
    hub_repo = fake_hub.add_repo(repo_id)
    hub_repo.commit(
        {
            "config.json": b'{"v": 1}',
            "weights.bin": HubFile(os.urandom(50_000), lfs=True),
            "xet.bin": HubFile(os.urandom(20_000), lfs=True, xet=True),
            "sub/dir/deep.txt": b"deep",
        }
    )
    return hub_repo


@pytest.fixture(scope="session")
def hub_clients(pulp_stack):
    """Every Hub client the suite proves (see hub_clients.py), installed once."""
    from .hub_clients import install_all

    return install_all(pulp_stack["state"] / "clients")


@pytest.fixture(params=["huggingface_hub", "huggingface_hub-0.36", "huggingface.js"])
def hub_client(request, hub_clients):
    """Each Hub client in turn."""
    return hub_clients[request.param]


@pytest.fixture
def pulp_user(pulp_api):
    """`pulp_user(role=None, on=None)`: a new Pulp user (name, password), with `role` on the
    object `on` (an href) if given; deleted after the test."""
    from .publishing import make_user

    return lambda role=None, on=None: make_user(pulp_api, role, on)


@pytest.fixture
def hosted(pulp_api, hf_distribution, pulp_user, tmp_path):
    """A distribution serving a remote (the fake Hub) and a repository to publish to, and a
    write token of a user owning that repository: `.endpoint`, `.token`, `.run(code)`..."""
    from .publishing import Hosted

    served = hf_distribution()
    user = pulp_user("hugging_face.huggingfacerepository_owner", served["repository"]["pulp_href"])
    return Hosted(pulp_api, served, user, tmp_path)
