"""Xet reads of files Pulp got from the Hub: the first client gets plain HTTP (the Hub's Xet
signals stripped), a worker then gives the stored file Pulp's own Xet data, and clients with
hf_xet read it through the distribution's CAS: from storage only, with the upstream down too."""

import os
import time
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hf_xet
import pytest
import requests
from hf_fake_hub import HubFile
from huggingface_hub import hf_hub_download

from pulp_hugging_face.pytest_plugin import unique, upstream_calls

from .counting_proxy import CountingProxy
from .test_xet_refusals import fetched

INDEXING = "pulp_hugging_face.app.xet_indexing.index_stored"
BIG = (64 << 20) + 300_000  # above HF_XET_INDEX_MIN_SIZE: two xorbs
BYTES = "xet.indexing.bytes"


def test_xet_file_downloads_over_http_through_pulp(hf_distribution, repo, fake_hub, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    path = hf_hub_download(repo.repo_id, "xet.bin", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(path).read_bytes() == repo.commits[repo.refs["main"]]["xet.bin"].data
    calls = [r["path"] for r in fake_hub.requests + fake_hub.cdn_requests]
    assert not [p for p in calls if "xet-read-token" in p or "xet-cas" in p]


def big_model(fake_hub, name, xet=False):
    """A model on the fake Hub with one LFS file of BIG bytes, and a small regular file."""
    repo = fake_hub.add_repo(f"org/{unique('xet')}")
    repo.commit({name: HubFile(os.urandom(BIG), lfs=True, xet=xet), "config.json": b"{}"})
    return repo


def with_xet_hash(endpoint, repo_id, path, revision="main", timeout=90):
    """Pulp's resolve answer for a file once it carries an X-Xet-Hash (its indexing done)."""
    url = f"{endpoint}/{repo_id}/resolve/{revision}/{path}"
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.head(url, allow_redirects=False, timeout=30)
        if "X-Xet-Hash" in answer.headers or time.monotonic() > deadline:
            assert "X-Xet-Hash" in answer.headers, "the stored file got no Xet data in time"
            return answer
        time.sleep(0.5)


@pytest.mark.parametrize("with_repository", [True, False], ids=["repository", "remote-only"])
def test_a_pulled_file_gets_xet_data_then_clients_read_it_by_xet(
    with_repository, hf_distribution, fake_hub, pulp_api, tmp_path
):
    repo = big_model(fake_hub, "xet.bin", xet=True)
    since = datetime.now(timezone.utc).isoformat()
    endpoint = hf_distribution(with_repository=with_repository)["endpoint"]
    data = repo.commits[repo.refs["main"]]["xet.bin"].data
    with CountingProxy(endpoint) as proxy:
        first = hf_hub_download(
            repo.repo_id, "xet.bin", cache_dir=tmp_path / "a", endpoint=proxy.endpoint
        )
        assert not proxy.bytes_down("/xet-cas/")  # nothing of it here yet: plain HTTP
        answer = with_xet_hash(proxy.endpoint, repo.repo_id, "xet.bin")
        assert answer.headers["X-Xet-Hash"] == hf_xet.hash_files([first])[0].hash
        hub = f"{fake_hub.url}/{repo.repo_id}/resolve/main/xet.bin"
        upstream = requests.head(hub, allow_redirects=False, timeout=30).headers["X-Xet-Hash"]
        assert answer.headers["X-Xet-Hash"] == upstream  # what the Hub says, its own work
        links = answer.headers["Link"]
        assert f"<{proxy.endpoint}/api/models/{repo.repo_id}/xet-read-token/" in links
        assert f"<{proxy.endpoint}/xet-cas/v1/reconstructions/" in links
        fake_hub.reset_log()
        proxy.log.clear()
        with ThreadPoolExecutor(4) as clients:  # fresh caches, at once
            paths = list(
                clients.map(
                    lambda n: hf_hub_download(
                        repo.repo_id,
                        "xet.bin",
                        cache_dir=tmp_path / f"b{n}",
                        endpoint=proxy.endpoint,
                    ),
                    range(4),
                )
            )
        assert all(Path(p).read_bytes() == data for p in paths)
        assert proxy.bytes_down("/xet-cas/v1/fetch/") >= 4 * len(data)  # by Xet
        assert proxy.bytes_down("/resolve/") < 4 * 10_000  # not by HTTP

    assert fake_hub.body_fetches() == []  # from storage: upstream gave the bytes once
    tasks = pulp_api.get(
        "/pulp/api/v3/tasks/", name=INDEXING, state="completed", pulp_created__gte=since
    )["results"]
    chunked = [r["done"] for t in tasks for r in t["progress_reports"] if r["code"] == BYTES]
    assert len(data) in chunked  # the task that indexed it reported its bytes


def test_a_small_stored_file_stays_on_plain_http(hf_distribution, repo, fake_hub, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    for cache in ("a", "b"):  # stored, then served from storage (which would queue it)
        hf_hub_download(repo.repo_id, "weights.bin", cache_dir=tmp_path / cache, endpoint=endpoint)
    url = f"{endpoint}/{repo.repo_id}/resolve/main/weights.bin"
    for _ in range(16):  # well past the queue's window and a task's run
        assert "X-Xet-Hash" not in requests.head(url, allow_redirects=False, timeout=30).headers
        time.sleep(0.5)


def test_xet_reads_go_on_with_the_upstream_down(hf_distribution, fake_hub, tmp_path):
    repo = big_model(fake_hub, "weights.bin")
    endpoint = hf_distribution(metadata_ttl=0)["endpoint"]
    data = repo.commits[repo.refs["main"]]["weights.bin"].data
    hf_hub_download(repo.repo_id, "weights.bin", cache_dir=tmp_path / "a", endpoint=endpoint)
    with_xet_hash(endpoint, repo.repo_id, "weights.bin")
    fake_hub.fail_with = 503
    try:
        with CountingProxy(endpoint) as proxy:
            path = hf_hub_download(
                repo.repo_id, "weights.bin", cache_dir=tmp_path / "b", endpoint=proxy.endpoint
            )
            assert proxy.bytes_down("/xet-cas/v1/fetch/") >= len(data)
    finally:
        fake_hub.fail_with = None
    assert Path(path).read_bytes() == data
    assert Path(path).parent.name == repo.refs["main"]  # the stale commit, as over HTTP


def test_a_synced_file_reads_by_xet_with_byte_ranges(
    hf_remote_factory, hf_repository_factory, hf_distribution_factory, pulp_api, fake_hub
):
    repo = big_model(fake_hub, "model.safetensors")
    remote = hf_remote_factory(includes=[{"repo": repo.repo_id, "include": ["*.safetensors"]}])
    repository = hf_repository_factory()
    task = pulp_api.request(
        "POST", repository["pulp_href"] + "sync/", json={"remote": remote["pulp_href"]}
    )
    pulp_api.wait_task(task["task"], timeout=120)
    distribution = hf_distribution_factory(repository=repository)  # no remote: pinned only
    endpoint = distribution["base_url"].rstrip("/")
    data = repo.commits[repo.refs["main"]]["model.safetensors"].data
    file_hash = with_xet_hash(endpoint, repo.repo_id, "model.safetensors").headers["X-Xet-Hash"]
    token = requests.get(
        f"{endpoint}/api/models/{repo.repo_id}/xet-read-token/main", timeout=30
    ).json()
    auth = {"Authorization": f"Bearer {token['accessToken']}"}
    plan_url = f"{token['casUrl']}/v1/reconstructions/{file_hash}"
    fake_hub.reset_log()
    assert fetched(requests.get(plan_url, headers=auth, timeout=30).json()) == data
    for first, last in ((0, 0), (70_000, 450_000), (len(data) - 10, len(data) + 10)):
        ranged = {**auth, "Range": f"bytes={first}-{last}"}
        plan = requests.get(plan_url, headers=ranged, timeout=30).json()
        assert fetched(plan)[: last - first + 1] == data[first : last + 1], (first, last)
    beyond = {**auth, "Range": f"bytes={len(data)}-"}
    assert requests.get(plan_url, headers=beyond, timeout=30).status_code == 416
    assert upstream_calls(fake_hub) == []
