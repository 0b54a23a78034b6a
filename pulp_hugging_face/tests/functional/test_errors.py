"""Errors a Hub client understands: missing files, and 504 from a hanging upstream in time."""

import time

import pytest
import requests
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError


def test_missing_file_is_recorded_in_no_exist(hf_distribution, repo, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo.repo_id, "nope.txt", cache_dir=tmp_path, endpoint=endpoint)
    folder = tmp_path / f"models--{repo.repo_id.replace('/', '--')}"
    assert (folder / ".no_exist" / repo.refs["main"] / "nope.txt").exists()


@pytest.mark.parametrize("method, pinned", [("HEAD", False), ("GET", True)])
def test_hanging_upstream_gives_504_before_the_client_gives_up(
    hf_distribution, repo, fake_hub, method, pinned
):
    """A HEAD, and a plain GET of a commit (which asks upstream with its GET, no HEAD)."""
    endpoint = hf_distribution(total_timeout=1.0)["endpoint"]
    revision = repo.refs["main"] if pinned else "main"
    fake_hub.delay = 3
    try:
        started = time.monotonic()
        answer = requests.request(
            method, f"{endpoint}/{repo.repo_id}/resolve/{revision}/config.json", timeout=30
        )
        elapsed = time.monotonic() - started
    finally:
        fake_hub.delay = 0
    assert answer.status_code == 504
    assert "did not answer in time" in answer.headers["X-Error-Message"]
    assert elapsed < 2.5
