"""Factories of remotes (on the fake Hub), repositories and distributions, deleted after use."""

import pytest

from .rest import unique


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
