"""Isolation: what one upstream or one token fetched is never served to another."""

from pathlib import Path

import requests
from hf_fake_hub import FakeHub
from huggingface_hub import hf_hub_download


def test_other_upstream_never_gets_this_upstreams_bytes(hf_distribution, repo, tmp_path):
    other_hub = FakeHub().start()
    try:
        twin = other_hub.add_repo(repo.repo_id)
        files = dict(repo.commits[repo.refs["main"]], **{"config.json": b'{"v": "other hub"}'})
        twin.commit(files)  # same repo id, same file names: the same commit id
        commit = repo.refs["main"]
        assert twin.refs["main"] == commit
        mine = hf_distribution()["endpoint"]
        theirs = hf_distribution(url=other_hub.url)["endpoint"]
        a = hf_hub_download(repo.repo_id, "config.json", cache_dir=tmp_path / "a", endpoint=mine)
        assert Path(a).read_bytes() == b'{"v": 1}'
        for attempt in range(2):
            b = hf_hub_download(
                repo.repo_id, "config.json", cache_dir=tmp_path / f"b{attempt}", endpoint=theirs
            )
            assert Path(b).read_bytes() == b'{"v": "other hub"}'
        # Each time from its own upstream: the disagreeing file is not stored over ours.
        assert len(other_hub.body_fetches("config.json")) == 2
        c = hf_hub_download(repo.repo_id, "config.json", cache_dir=tmp_path / "c", endpoint=mine)
        assert Path(c).read_bytes() == b'{"v": 1}'
    finally:
        other_hub.stop()


def test_remote_with_other_token_does_not_see_cached_files(hf_distribution, repo, fake_hub):
    with_token = hf_distribution(hf_token="hf_valid_token")["endpoint"]
    anonymous = hf_distribution()["endpoint"]
    commit = repo.refs["main"]
    requests.get(f"{with_token}/{repo.repo_id}/resolve/{commit}/config.json", timeout=30)
    fake_hub.reset_log()
    response = requests.get(f"{anonymous}/{repo.repo_id}/resolve/{commit}/config.json", timeout=30)
    assert response.status_code == 200
    assert fake_hub.body_fetches("config.json"), "served another remote's cache"
