"""Pulp replication: an edge Pulp (a second stack with its own database and storage) replicates
the central Pulp's Hugging Face distributions and serves them with the central stack's Hub gone;
a second replication after a new central version moves the edge to it."""

from pathlib import Path

import pytest
from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import PulpApi, unique

from .test_sync import sync


def upstream_pulp(edge, pulp_stack, distribution_name):
    """The test stack as the edge's upstream Pulp, for one distribution: its href."""
    upstream = edge.request(
        "POST",
        "/pulp/default/api/v3/upstream-pulps/",
        json={
            "name": unique("central"),
            "base_url": pulp_stack["api"],
            "api_root": "/pulp/",
            "username": "admin",
            "password": "password",
            "q_select": f'name="{distribution_name}"',
        },
    )
    edge.created.append(upstream["pulp_href"])
    return upstream["pulp_href"]


def replicate(edge, upstream_href, distribution_name):
    """Replicate from the upstream Pulp: the edge distribution's endpoint."""
    result = edge.request("POST", upstream_href + "replicate/")
    edge.wait_task_group(result["task_group"], "finalize_replication")
    dists = edge.get(
        "/pulp/default/api/v3/distributions/hugging_face/hugging-face/", name=distribution_name
    )["results"]
    assert len(dists) == 1
    return dists[0]["base_url"].rstrip("/")


@pytest.fixture
def edge(pulp_domains_stack):
    """The second stack (domain-enabled; replication runs in its default domain)."""
    api = PulpApi(pulp_domains_stack.api)
    yield api
    api.cleanup()


def test_an_edge_replicates_and_follows_the_central_pulp(
    pulp_stack,
    pulp_api,
    edge,
    fake_hub,
    hf_remote_factory,
    hf_repository_factory,
    hf_distribution_factory,
    tmp_path,
):
    model = fake_hub.add_repo(f"org/{unique('edge')}")
    first = model.commit({"config.json": b'{"v": 1}', "w.bin": b"weights", "README.md": b"#"})
    remote = hf_remote_factory(includes=[{"repo": model.repo_id, "include": ["*.json", "*.bin"]}])
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    central = hf_distribution_factory(repository=repository)

    upstream = upstream_pulp(edge, pulp_stack, central["name"])
    endpoint = replicate(edge, upstream, central["name"])
    fake_hub.fail_with = 503  # only the central Pulp holds these now
    try:
        path = snapshot_download(model.repo_id, cache_dir=tmp_path / "a", endpoint=endpoint)
        assert Path(path).name == first
        assert sorted(p.name for p in Path(path).iterdir()) == ["config.json", "w.bin"]
    finally:
        fake_hub.fail_with = None

    second = model.commit({"config.json": b'{"v": 2}', "w.bin": b"weights 2"})
    sync(pulp_api, repository, remote)
    endpoint = replicate(edge, upstream, central["name"])
    path = snapshot_download(model.repo_id, cache_dir=tmp_path / "b", endpoint=endpoint)
    assert Path(path).name == second
    assert (Path(path) / "config.json").read_bytes() == b'{"v": 2}'


def test_an_edge_replicates_what_was_published_centrally(pulp_stack, hosted, edge, tmp_path):
    repo_id = f"team/{unique('published')}"
    published = hosted.run(f"""
        from huggingface_hub import HfApi, CommitOperationAdd as Add
        api = HfApi()
        api.create_repo({repo_id!r})
        first = api.create_commit({repo_id!r}, [Add("config.json", b'{{"v": 1}}')],
                                  commit_message="one")
        api.create_tag({repo_id!r}, tag="v1")
        second = api.create_commit({repo_id!r}, [Add("config.json", b'{{"v": 2}}')],
                                   commit_message="two")
        print(json.dumps([first.oid, second.oid]))
        """)
    name = hosted.served["distribution"]["name"]
    endpoint = replicate(edge, upstream_pulp(edge, pulp_stack, name), name)
    for revision, commit, body in (
        ("v1", published[0], b'{"v": 1}'),
        ("main", published[1], b'{"v": 2}'),
    ):
        path = snapshot_download(repo_id, revision=revision, cache_dir=tmp_path, endpoint=endpoint)
        assert Path(path).name == commit
        assert (Path(path) / "config.json").read_bytes() == body
