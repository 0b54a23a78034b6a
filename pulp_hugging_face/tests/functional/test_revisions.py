"""Revisions: branches trusted for metadata_ttl, PR refs and tags, and stale commits served when
upstream is down (issue 4: a Hub client must not tell a distribution from the Hub)."""

from pathlib import Path

from huggingface_hub import HfApi, hf_hub_download, snapshot_download

from pulp_hugging_face.pytest_plugin import upstream_calls


def test_branch_is_remembered_for_the_ttl(hf_distribution, repo, fake_hub, tmp_path):
    endpoint = hf_distribution(metadata_ttl=300)["endpoint"]
    hf_hub_download(repo.repo_id, "config.json", cache_dir=tmp_path / "a", endpoint=endpoint)
    old = repo.refs["main"]
    repo.commit({"config.json": b'{"v": 2}'})  # main moves upstream
    fake_hub.reset_log()
    path = hf_hub_download(repo.repo_id, "config.json", cache_dir=tmp_path / "b", endpoint=endpoint)
    assert Path(path).parent.name == old  # still trusted: within metadata_ttl
    assert upstream_calls(fake_hub) == []  # HEAD and GET answered from the database


def test_branch_is_asked_again_after_the_ttl(hf_distribution, repo, tmp_path):
    endpoint = hf_distribution(metadata_ttl=0)["endpoint"]
    hf_hub_download(repo.repo_id, "config.json", cache_dir=tmp_path / "a", endpoint=endpoint)
    new = repo.commit({"config.json": b'{"v": 2}'})
    path = hf_hub_download(repo.repo_id, "config.json", cache_dir=tmp_path / "b", endpoint=endpoint)
    assert Path(path).parent.name == new
    assert Path(path).read_bytes() == b'{"v": 2}'


def test_pr_refs_and_tags(hf_distribution, repo, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    pr = repo.commit({"config.json": b'{"pr": 1}'}, ref="refs/pr/1")
    tag = repo.commit({"config.json": b'{"tag": true}'}, ref="v1.0")
    repo.tags.add("v1.0")
    path = hf_hub_download(
        repo.repo_id, "config.json", revision="refs/pr/1", cache_dir=tmp_path, endpoint=endpoint
    )
    assert Path(path).parent.name == pr and Path(path).read_bytes() == b'{"pr": 1}'
    folder = snapshot_download(repo.repo_id, revision="v1.0", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(folder).name == tag
    refs = HfApi(endpoint=endpoint).list_repo_refs(repo.repo_id)
    assert [t.name for t in refs.tags] == ["v1.0"]
    assert {b.name: b.target_commit for b in refs.branches}["main"] == repo.refs["main"]


def test_stale_commit_is_served_when_upstream_is_down(
    pulp_api, hf_distribution, repo, fake_hub, tmp_path
):
    setup = hf_distribution(metadata_ttl=0)
    endpoint = setup["endpoint"]
    first = snapshot_download(repo.repo_id, cache_dir=tmp_path / "a", endpoint=endpoint)
    commit = repo.refs["main"]
    fake_hub.fail_with = 503
    try:
        path = hf_hub_download(
            repo.repo_id, "config.json", cache_dir=tmp_path / "b", endpoint=endpoint
        )
        assert Path(path).parent.name == commit
        again = snapshot_download(repo.repo_id, cache_dir=tmp_path / "c", endpoint=endpoint)
    finally:
        fake_hub.fail_with = None
    assert Path(again).name == Path(first).name == commit
    assert sorted(p.name for p in Path(again).rglob("*") if p.is_file()) == sorted(
        p.name for p in Path(first).rglob("*") if p.is_file()
    )
    # Upstream gone for good (nothing listens there any more): still served.
    task = pulp_api.request(
        "PATCH", setup["remote"]["pulp_href"], json={"url": "http://127.0.0.1:9"}
    )
    pulp_api.wait_task(task["task"])
    offline = snapshot_download(repo.repo_id, cache_dir=tmp_path / "d", endpoint=endpoint)
    assert Path(offline).name == commit
