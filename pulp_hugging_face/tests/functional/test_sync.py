"""Sync pins what a remote's `includes` name into one new repository version."""

import os

import pytest
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique

FILES = "hugging_face.hugging-face"
REFS = "hugging_face.hugging-face-ref"
COMMITS = "hugging_face.hugging-face-commit"


@pytest.fixture
def model(fake_hub):
    """A model with JSON, an LFS weight, a README and a nested file, on `main`."""
    repo = fake_hub.add_repo(f"org/{unique('sync')}")
    repo.commit(
        {
            "config.json": b'{"v": 1}',
            "model.safetensors": HubFile(os.urandom(300_000), lfs=True),
            "README.md": b"# readme",
            "sub/extra.json": b"{}",
        }
    )
    return repo


def sync(pulp_api, repository, remote, mirror=False):
    """Sync and wait; returns the finished task."""
    task = pulp_api.request(
        "POST",
        repository["pulp_href"] + "sync/",
        json={"remote": remote["pulp_href"], "mirror": mirror},
    )
    return pulp_api.wait_task(task["task"], timeout=120)


def summary(pulp_api, repository):
    """{content type: count} of the repository's latest version, and the version's href."""
    href = pulp_api.get(repository["pulp_href"])["latest_version_href"]
    present = pulp_api.get(href)["content_summary"]["present"]
    return {kind: value["count"] for kind, value in present.items()}, href


def progress(task, code):
    return next(r for r in task["progress_reports"] if r["code"] == code)


def test_immediate_sync_pins_chosen_files_with_their_ref_and_commit(
    pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    remote = hf_remote_factory(
        includes=[{"repo": model.repo_id, "include": ["*.json", "*.safetensors"]}]
    )
    repository = hf_repository_factory()
    fake_hub.reset_log()
    task = sync(pulp_api, repository, remote)
    counts, first_version = summary(pulp_api, repository)
    assert counts == {FILES: 3, REFS: 1, COMMITS: 1}
    assert len(fake_hub.body_fetches()) == 3
    units = pulp_api.list("content", repo_id=model.repo_id)
    assert {u["path_in_repo"] for u in units} == {
        "config.json",
        "model.safetensors",
        "sub/extra.json",
    }
    assert all(u["artifact"] for u in units)
    assert all(u["commit"] == model.refs["main"] for u in units)
    ref = pulp_api.get("/pulp/api/v3/content/hugging_face/refs/", repo_id=model.repo_id)["results"]
    assert [(r["name"], r["commit"]) for r in ref] == [("main", model.refs["main"])]
    assert progress(task, "sync.resolving.repos")["done"] == 1
    assert progress(task, "sync.listing.files")["done"] == 3
    size = sum(
        len(model.commits[model.refs["main"]][p].data)
        for p in ("config.json", "model.safetensors", "sub/extra.json")
    )
    assert progress(task, "sync.downloading.bytes")["done"] == size

    # Nothing changed upstream: nothing is downloaded and no version is made.
    fake_hub.reset_log()
    sync(pulp_api, repository, remote)
    assert fake_hub.body_fetches() == []
    assert summary(pulp_api, repository)[1] == first_version
