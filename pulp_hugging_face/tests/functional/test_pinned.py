"""A distribution of a synced repository serves what the version pins, with no upstream at all:
the same commits, files, listings and errors as the Hub, and nothing it does not pin."""

import os
from pathlib import Path

import pytest
import requests
from hf_fake_hub import HubFile
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from pulp_hugging_face.pytest_plugin import unique

from .test_sync import sync

PINNED = ["config.json", "model.safetensors", "sub/deep/extra.json", "sub/more.json"]


@pytest.fixture
def model(fake_hub):
    repo = fake_hub.add_repo(f"org/{unique('pin')}")
    repo.commit(
        {
            "config.json": b'{"v": 1}',
            "model.safetensors": HubFile(os.urandom(200_000), lfs=True),
            "xet.safetensors.bak": HubFile(os.urandom(1000), lfs=True, xet=True),
            "README.md": b"# not pinned",
            "sub/deep/extra.json": b"{}",
            "sub/more.json": b"[]",
        }
    )
    return repo


@pytest.fixture
def pinned(pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory):
    """Sync the model's JSON and safetensors files; a distribution of the repository only."""

    def make(policy="immediate", **remote_fields):
        includes = [{"repo": model.repo_id, "include": ["*.json", "*.safetensors"]}]
        remote = hf_remote_factory(includes=includes, policy=policy, **remote_fields)
        repository = hf_repository_factory()
        sync(pulp_api, repository, remote)
        return remote, repository

    return make


@pytest.fixture
def serve(hf_distribution_factory):
    def make(**fields):
        return hf_distribution_factory(**fields)["base_url"].rstrip("/")

    return make


def snapshot_files(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def test_a_version_serves_the_hub_protocol_with_upstream_gone(
    pinned, serve, model, fake_hub, tmp_path
):
    _, repository = pinned()
    endpoint = serve(repository=repository)
    commit = model.refs["main"]
    fake_hub.fail_with = 503  # the internet is gone
    fake_hub.reset_log()
    try:
        by_branch = snapshot_download(model.repo_id, cache_dir=tmp_path / "a", endpoint=endpoint)
        by_sha = snapshot_download(
            model.repo_id, revision=commit, cache_dir=tmp_path / "b", endpoint=endpoint
        )
        assert Path(by_branch).name == Path(by_sha).name == commit
        assert snapshot_files(by_branch) == snapshot_files(by_sha) == PINNED
        data = model.commits[commit]["model.safetensors"].data
        assert (Path(by_branch) / "model.safetensors").read_bytes() == data
        refs = tmp_path / "a" / f"models--{model.repo_id.replace('/', '--')}" / "refs" / "main"
        assert refs.read_text() == commit

        api = HfApi(endpoint=endpoint)
        info = api.model_info(model.repo_id)
        assert info.sha == commit
        assert sorted(s.rfilename for s in info.siblings) == PINNED
        assert [r.name for r in api.list_repo_refs(model.repo_id).branches] == ["main"]
        fs = HfFileSystem(endpoint=endpoint)
        assert sorted(fs.ls(model.repo_id, detail=False)) == sorted(
            f"{model.repo_id}/{name}" for name in ("config.json", "model.safetensors", "sub")
        )

        with pytest.raises(EntryNotFoundError):
            hf_hub_download(model.repo_id, "README.md", cache_dir=tmp_path / "c", endpoint=endpoint)
        with pytest.raises(RevisionNotFoundError):
            hf_hub_download(
                model.repo_id, "config.json", revision="v9", cache_dir=tmp_path, endpoint=endpoint
            )
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download("org/unknown", "config.json", cache_dir=tmp_path, endpoint=endpoint)
    finally:
        fake_hub.fail_with = None
    assert fake_hub.requests == [] and fake_hub.cdn_requests == []


def test_listings_are_the_hubs_for_what_is_pinned(pinned, serve, model, fake_hub):
    _, repository = pinned()
    ours = HfApi(endpoint=serve(repository=repository))
    hubs = HfApi(endpoint=fake_hub.url)
    commit = model.refs["main"]

    def tree(api, **kwargs):
        entries = api.list_repo_tree(model.repo_id, revision=commit, **kwargs)
        return sorted(
            (e.path, type(e).__name__, getattr(e, "size", 0), getattr(e, "lfs", None))
            for e in entries
        )

    def pinned_only(entries):
        return [e for e in entries if e[1] == "RepoFolder" or e[0] in PINNED]

    assert tree(ours, recursive=True) == pinned_only(tree(hubs, recursive=True))
    assert tree(ours) == pinned_only(tree(hubs))
    assert tree(ours, path_in_repo="sub") == tree(hubs, path_in_repo="sub")
    ours_info = ours.get_paths_info(model.repo_id, ["config.json", "model.safetensors", "sub"])
    hubs_info = hubs.get_paths_info(model.repo_id, ["config.json", "model.safetensors", "sub"])
    files = [(i.path, i.size, i.blob_id, i.lfs) for i in ours_info if hasattr(i, "blob_id")]
    assert files == [(i.path, i.size, i.blob_id, i.lfs) for i in hubs_info if hasattr(i, "blob_id")]


def test_on_demand_files_are_fetched_once_then_served_from_pulp(
    pinned, serve, model, fake_hub, pulp_api, tmp_path
):
    _, repository = pinned(policy="on_demand")
    endpoint = serve(repository=repository)
    assert not any(u["artifact"] for u in pulp_api.list("content", repo_id=model.repo_id))
    fake_hub.reset_log()
    first = snapshot_download(model.repo_id, cache_dir=tmp_path / "a", endpoint=endpoint)
    assert snapshot_files(first) == PINNED
    assert len(fake_hub.body_fetches()) == len(PINNED)
    fake_hub.reset_log()
    snapshot_download(model.repo_id, cache_dir=tmp_path / "b", endpoint=endpoint)
    assert fake_hub.body_fetches() == []


def test_streamed_files_are_never_stored(pinned, serve, model, fake_hub, pulp_api):
    _, repository = pinned(policy="streamed")
    url = f"{serve(repository=repository)}/{model.repo_id}/resolve/main/config.json"
    fake_hub.reset_log()
    for _ in range(2):
        assert requests.get(url, timeout=30).content == b'{"v": 1}'
    assert len(fake_hub.body_fetches("config.json")) == 2
    units = pulp_api.list("content", repo_id=model.repo_id, path_in_repo="config.json")
    assert units[0]["artifact"] is None


def test_a_newer_version_moves_the_branch_and_a_pinned_version_does_not(
    pinned, serve, model, pulp_api, tmp_path
):
    remote, repository = pinned()
    old = model.refs["main"]
    first_version = pulp_api.get(repository["pulp_href"])["latest_version_href"]
    latest = serve(repository=repository)
    frozen = serve(repository_version=first_version)
    new = model.commit({"config.json": b'{"v": 2}', "model.safetensors": b"new weights"})
    sync(pulp_api, repository, remote)

    def main_commit(endpoint, where):
        path = hf_hub_download(model.repo_id, "config.json", cache_dir=where, endpoint=endpoint)
        return Path(path).parent.name, Path(path).read_bytes()

    assert main_commit(latest, tmp_path / "a") == (new, b'{"v": 2}')
    assert main_commit(frozen, tmp_path / "b") == (old, b'{"v": 1}')


def test_with_a_remote_pinned_refs_come_first_and_the_rest_is_pulled_through(
    pinned, serve, model, fake_hub, tmp_path
):
    remote, repository = pinned()
    old = model.refs["main"]
    model.commit({"config.json": b'{"v": 2}'})  # upstream moves on; the version does not
    other = fake_hub.add_repo(f"org/{unique('other')}")
    other_commit = other.commit({"a.json": b"{}"})
    endpoint = serve(repository=repository, remote=remote)
    path = hf_hub_download(model.repo_id, "config.json", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(path).parent.name == old
    pulled = hf_hub_download(other.repo_id, "a.json", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(pulled).parent.name == other_commit
    assert HfApi(endpoint=endpoint).model_info(model.repo_id).sha == old


def test_every_page_is_synced_and_served(
    pulp_api, fake_hub, hf_remote_factory, hf_repository_factory, serve
):
    """Upstream pages its listing (50 entries); the version's own listing pages at 1,000."""
    repo = fake_hub.add_repo(f"org/{unique('pages')}")
    commit = repo.commit({f"shard/{n:04d}.json": b"%d" % n for n in range(1001)})
    remote = hf_remote_factory(includes=[{"repo": repo.repo_id}], policy="on_demand")
    repository = hf_repository_factory()
    fake_hub.reset_log()
    sync(pulp_api, repository, remote)
    tree_pages = [r for r in fake_hub.requests if "/tree/" in r["path"]]
    assert len(tree_pages) == 21  # 1,001 files and a folder, 50 a page
    endpoint = serve(repository=repository)
    fake_hub.reset_log()
    listed = list(HfApi(endpoint=endpoint).list_repo_tree(repo.repo_id, "shard", revision=commit))
    assert len(listed) == 1001
    assert fake_hub.requests == []
