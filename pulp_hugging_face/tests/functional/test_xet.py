"""Xet-backed files: clients download them over plain HTTP through Pulp, never from Xet."""

from pathlib import Path

from huggingface_hub import hf_hub_download


def test_xet_file_downloads_over_http_through_pulp(hf_distribution, repo, fake_hub, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    path = hf_hub_download(repo.repo_id, "xet.bin", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(path).read_bytes() == repo.commits[repo.refs["main"]]["xet.bin"].data
    calls = [r["path"] for r in fake_hub.requests + fake_hub.cdn_requests]
    assert not [p for p in calls if "xet-read-token" in p or "xet-cas" in p]
