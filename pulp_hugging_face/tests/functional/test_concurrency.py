"""Concurrency: clients asking for the same uncached file share one upstream download."""

import concurrent.futures
import os
import time

import requests
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique


def uncached_lfs_file(fake_hub, hf_distribution, size):
    """(repo id, URL through a new distribution, bytes) of a new LFS file `big.bin`."""
    repo_id = f"org/{unique('busy')}"
    data = os.urandom(size)
    commit = fake_hub.add_repo(repo_id).commit({"big.bin": HubFile(data, lfs=True)})
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    return repo_id, f"{endpoint}/{repo_id}/resolve/{commit}/big.bin", data


def test_concurrent_first_requests_share_one_download(pulp_api, hf_distribution, fake_hub):
    repo_id, url, data = uncached_lfs_file(fake_hub, hf_distribution, 8 * 1024 * 1024)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        bodies = list(pool.map(lambda _: requests.get(url, timeout=60).content, range(16)))
    assert all(body == data for body in bodies)
    assert len(fake_hub.body_fetches("big.bin")) == 1, [
        (r["method"], r.get("status"), r["path"][-30:]) for r in fake_hub.body_fetches("big.bin")
    ]
    units = pulp_api.list("content", repo_id=repo_id)
    assert len(units) == 1


def test_clients_arriving_while_the_download_is_stored(hf_distribution, fake_hub):
    """Late followers find the part file moved into storage: they must wait, not spin."""
    _, url, data = uncached_lfs_file(fake_hub, hf_distribution, 48 * 1024 * 1024)
    fake_hub.cdn_rate = 48e6  # about one second of download

    def client(index):
        time.sleep(index * 0.06)  # arrive all through the download and the storing
        response = requests.get(url, timeout=60)
        return response.status_code, response.content == data

    try:
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            results = list(pool.map(client, range(24)))
    finally:
        fake_hub.cdn_rate = None
    assert results == [(200, True)] * 24
    assert len(fake_hub.body_fetches("big.bin")) == 1
