"""Live tests of `pulp hugging-face`: the real `pulp` command (a subprocess) against the test
stack that pulp_hugging_face's pytest plugin starts, with the fake Hub as upstream."""

import json

import pytest

from pulp_hugging_face.pytest_plugin import unique

KINDS = {"remote": "remotes", "repository": "repositories", "distribution": "distributions"}


@pytest.fixture
def cli_names(pulp_api):
    """`make(kind)`: a fresh name for a remote, repository or distribution; whatever the test
    made under that name is deleted afterwards (over REST: quicker than the CLI)."""
    made = []

    def make(kind):
        name = unique(f"cli-{kind}")
        made.append((kind, name))
        return name

    yield make
    for kind, name in reversed(made):
        for found in pulp_api.list(KINDS[kind], name=name):
            pulp_api.created.append(found["pulp_href"])
    pulp_api.cleanup()


@pytest.fixture
def cli_pinned(pulp_cli, cli_names, fake_hub):
    """`make(includes, sync=True)`: with the CLI, a remote on the fake Hub whose includes are
    `includes`, a repository using it, synced once unless `sync=False`. Returns both names."""

    def make(includes, sync=True):
        remote, repository = cli_names("remote"), cli_names("repository")
        pulp_cli.hf(
            f"remote create --name {remote} --url {fake_hub.url} --includes", json.dumps(includes)
        )
        pulp_cli.hf(f"repository create --name {repository} --remote {remote}")
        if sync:
            pulp_cli.hf(f"repository sync --name {repository}")
        return remote, repository

    return make
