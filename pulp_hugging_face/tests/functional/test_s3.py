"""Files in S3 (moto's server mode: the real S3 protocol): pull-through and sync store into the
bucket, and every answer stays Hub-shaped. Stored files are streamed through the content app,
never answered with a redirect to a signed storage URL (the Hub sends none for regular files,
and a signed URL is a credential), and no storage address or key appears in any header."""

import time
from pathlib import Path

import pytest
import requests
from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import (
    S3_BUCKET,
    S3_KEYS,
    PulpApi,
    s3_port,
    unique,
    upstream_calls,
)

from . import test_retention as retention
from .test_sync import sync


@pytest.fixture
def s3_api(pulp_s3_stack):
    api = PulpApi(pulp_s3_stack.api)
    yield api
    api.cleanup()


def s3_distribution(api, fake_hub, repository=None, remote=True, **remote_fields):
    fields = {"name": unique("d"), "base_path": unique("s3")}
    if remote:
        remote = api.create("remotes", name=unique("r"), url=fake_hub.url, **remote_fields)
        fields["remote"] = remote["pulp_href"]
    if repository is not None:
        fields["repository"] = repository["pulp_href"]
    return api.create("distributions", **fields)["base_url"].rstrip("/")


def assert_no_storage_in(response):
    text = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    for secret in (f":{s3_port()}", "amz", "Signature", S3_KEYS[0], S3_BUCKET):
        assert secret.lower() not in text.lower(), (secret, text)
    assert response.status_code not in (301, 302, 303, 307, 308), response.headers


def bucket_keys(s3_server):
    pages = s3_server.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_pull_through_stores_in_s3_and_serves_hub_answers(
    s3_api, s3_server, pulp_s3_stack, fake_hub, repo, tmp_path
):
    endpoint = s3_distribution(s3_api, fake_hub)
    first = snapshot_download(repo.repo_id, cache_dir=tmp_path / "a", endpoint=endpoint)
    units = s3_api.wait_for_units(4, repo_id=repo.repo_id)
    stored = {s3_api.get(unit["artifact"])["file"] for unit in units}
    assert stored <= bucket_keys(s3_server)
    assert not list((pulp_s3_stack.state_dir / "tmp").rglob("*.part"))  # uploaded, not left

    fake_hub.reset_log()
    second = snapshot_download(repo.repo_id, cache_dir=tmp_path / "b", endpoint=endpoint)
    commit = repo.refs["main"]
    assert Path(second).name == Path(first).name == commit
    for path, entry in repo.commits[commit].items():
        assert (Path(second) / path).read_bytes() == entry.data

    lfs = repo.commits[commit]["weights.bin"]
    url = f"{endpoint}/{repo.repo_id}/resolve/{commit}/weights.bin"
    head = requests.head(url, allow_redirects=False, timeout=30)
    assert (head.status_code, head.headers["ETag"]) == (200, f'"{lfs.etag}"')
    assert head.headers["Content-Length"] == str(len(lfs.data))
    whole = requests.get(url, allow_redirects=False, timeout=30)
    assert (whole.status_code, whole.content) == (200, lfs.data)
    part = requests.get(url, headers={"Range": "bytes=10-19"}, allow_redirects=False, timeout=30)
    assert (part.status_code, part.content) == (206, lfs.data[10:20])
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(lfs.data)}"
    tail = requests.get(url, headers={"Range": "bytes=-5"}, timeout=30)
    assert (tail.status_code, tail.content) == (206, lfs.data[-5:])
    past = requests.get(url, headers={"Range": "bytes=99999999-"}, timeout=30)
    assert (past.status_code, past.headers["Content-Range"]) == (416, f"bytes */{len(lfs.data)}")
    regular = requests.get(f"{endpoint}/{repo.repo_id}/resolve/{commit}/config.json", timeout=30)
    config = repo.commits[commit]["config.json"]
    assert (regular.content, regular.headers["ETag"]) == (config.data, f'"{config.etag}"')
    assert len(config.etag) == 40  # the git blob sha1, not the artifact's sha256
    for response in (head, whole, part, tail, past, regular):
        assert_no_storage_in(response)
    assert upstream_calls(fake_hub) == []


def test_a_synced_version_in_s3_serves_with_the_hub_gone(s3_api, fake_hub, repo, tmp_path):
    remote = s3_api.create("remotes", name=unique("r"), url=fake_hub.url)
    s3_api.request("PATCH", remote["pulp_href"], json={"includes": [{"repo": repo.repo_id}]})
    repository = s3_api.create("repositories", name=unique("repo"))
    sync(s3_api, repository, s3_api.get(remote["pulp_href"]))
    endpoint = s3_distribution(s3_api, fake_hub, repository=repository, remote=False)
    fake_hub.fail_with = 503
    try:
        path = snapshot_download(repo.repo_id, cache_dir=tmp_path, endpoint=endpoint)
    finally:
        fake_hub.fail_with = None
    commit = repo.refs["main"]
    for name, entry in repo.commits[commit].items():
        assert (Path(path) / name).read_bytes() == entry.data


def test_evicted_files_leave_the_bucket(s3_api, s3_server, fake_hub):
    repository = s3_api.create("repositories", name=unique("r"))
    href = repository["pulp_href"]
    endpoint = s3_distribution(s3_api, fake_hub, repository=repository)
    repo, commit = retention.hub_files(fake_hub, "kept.bin", "evicted.bin")
    retention.fetch(endpoint, repo, commit, "evicted.bin")
    retention.holds(s3_api, href, {"evicted.bin"})
    time.sleep(1.1)
    retention.fetch(endpoint, repo, commit, "kept.bin")
    held = retention.holds(s3_api, href, {"evicted.bin", "kept.bin"})
    keys = {name: s3_api.get(unit["artifact"])["file"] for name, unit in held.items()}
    assert set(keys.values()) <= bucket_keys(s3_server)

    retention.update(s3_api, href, cache_max_bytes=retention.SIZE)
    retention.evict(s3_api, href)
    retention.holds(s3_api, href, {"kept.bin"})
    assert keys["evicted.bin"] not in bucket_keys(s3_server)
    assert keys["kept.bin"] in bucket_keys(s3_server)
    fake_hub.reset_log()
    retention.fetch(endpoint, repo, commit, "evicted.bin")  # fetched again, into the bucket
    assert fake_hub.body_fetches("evicted.bin")
