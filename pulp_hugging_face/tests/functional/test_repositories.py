"""Repositories: pull-through lands in batched repository versions; every repo type is served."""

from pathlib import Path

from huggingface_hub import HfApi, snapshot_download

from pulp_hugging_face.pytest_plugin import unique


def test_pull_through_is_batched_and_survives_orphan_cleanup(
    pulp_api, hf_distribution, fake_hub, tmp_path
):
    repo_id = f"org/{unique('batch')}"
    files = {f"shard-{i:02d}.txt": f"shard {i}".encode() for i in range(12)}
    commit = fake_hub.add_repo(repo_id).commit(files)
    setup = hf_distribution()
    snapshot_download(repo_id, cache_dir=tmp_path / "a", endpoint=setup["endpoint"])
    _, version = pulp_api.wait_for_content(setup["repository"]["pulp_href"], 12)
    assert version["number"] <= 3, "one repository version per file instead of batches"
    task = pulp_api.request(
        "POST", "/pulp/api/v3/orphans/cleanup/", json={"orphan_protection_time": 0}
    )
    pulp_api.wait_task(task["task"])
    fake_hub.reset_log()
    folder = snapshot_download(
        repo_id, revision=commit, cache_dir=tmp_path / "b", endpoint=setup["endpoint"]
    )
    assert sorted(p.name for p in Path(folder).iterdir()) == sorted(files)
    assert fake_hub.body_fetches() == []


def test_dataset_and_space_repo_types(hf_distribution, fake_hub, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    for repo_type in ("dataset", "space"):
        repo_id = f"org/{unique(repo_type)}"
        fake_hub.add_repo(repo_id, repo_type=repo_type).commit({"README.md": b"# hi"})
        folder = snapshot_download(
            repo_id, repo_type=repo_type, cache_dir=tmp_path, endpoint=endpoint
        )
        assert (Path(folder) / "README.md").read_bytes() == b"# hi"
        info = getattr(HfApi(endpoint=endpoint), f"{repo_type}_info")(repo_id)
        assert info.id == repo_id
