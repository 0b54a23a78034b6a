"""Two hosts, one Pulp: a second set of pulpcore-api/-content/-worker with its own ports, state
folder and working directory, on the main test stack's database and media folder (as a shared
NFS export would be). Files and changes made through one host are the other's at once."""

import concurrent.futures
import os
import time

import requests
from hf_fake_hub import FakeHub, HubFile
from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import unique, upstream_calls

from . import test_retention as retention
from .test_sync import sync


def on(host, url, pulp_stack):
    """`url` (a URL of the main stack's content app) on another host's content app."""
    return url.replace(pulp_stack["content"], host.content, 1)


def test_a_snapshot_fetched_through_one_host_is_warm_on_the_other(
    pulp_stack, pulp_second_host, hf_distribution, fake_hub, repo, tmp_path
):
    endpoint = hf_distribution()["endpoint"]
    first = snapshot_download(repo.repo_id, cache_dir=tmp_path / "one", endpoint=endpoint)
    fake_hub.reset_log()
    second = snapshot_download(
        repo.repo_id,
        cache_dir=tmp_path / "two",
        endpoint=on(pulp_second_host, endpoint, pulp_stack),
    )
    assert upstream_calls(fake_hub) == []
    files = sorted(p.name for p in (tmp_path / "two").rglob("*") if p.is_file())
    assert files and files == sorted(p.name for p in (tmp_path / "one").rglob("*") if p.is_file())
    commit = repo.refs["main"]
    assert second.endswith(commit) and first.endswith(commit)
    for path, entry in repo.commits[commit].items():
        assert open(f"{second}/{path}", "rb").read() == entry.data


def test_a_moved_distribution_is_moved_on_the_other_host_at_once(
    pulp_api, pulp_stack, pulp_second_host, hf_distribution, repo
):
    made = hf_distribution()
    commit = repo.refs["main"]
    file_path = f"{repo.repo_id}/resolve/{commit}/config.json"
    old = on(pulp_second_host, made["endpoint"], pulp_stack)
    assert requests.get(f"{old}/{file_path}", timeout=30).status_code == 200  # remembered there
    new_base = unique("moved")
    task = pulp_api.request(
        "PATCH", made["distribution"]["pulp_href"], json={"base_path": new_base}
    )
    pulp_api.wait_task(task["task"])
    assert requests.head(f"{old}/{file_path}", timeout=30).status_code == 404
    new = old.rsplit("/", 1)[0] + "/" + new_base
    assert requests.get(f"{new}/{file_path}", timeout=30).content == b'{"v": 1}'


def test_a_new_remote_url_is_used_by_the_other_host_at_once(
    pulp_api, pulp_stack, pulp_second_host, hf_distribution, fake_hub, repo
):
    made = hf_distribution(with_repository=False)
    url = on(pulp_second_host, made["endpoint"], pulp_stack) + f"/{repo.repo_id}/resolve/main/"
    assert requests.head(url + "config.json", timeout=30).headers["X-Repo-Commit"] == (
        repo.refs["main"]
    )
    other_hub = FakeHub().start()
    try:
        twin = other_hub.add_repo(repo.repo_id)
        twin.commit({"config.json": b'{"v": "the other hub"}'})
        task = pulp_api.request("PATCH", made["remote"]["pulp_href"], json={"url": other_hub.url})
        pulp_api.wait_task(task["task"])
        answer = requests.get(url + "config.json", timeout=30)
        assert answer.headers["X-Repo-Commit"] == twin.refs["main"]
        assert answer.content == b'{"v": "the other hub"}'
    finally:
        other_hub.stop()


def test_a_new_repository_version_is_served_by_the_other_host_at_once(
    pulp_api,
    pulp_stack,
    pulp_second_host,
    hf_remote_factory,
    hf_repository_factory,
    hf_distribution_factory,
    repo,
):
    remote = hf_remote_factory(includes=[{"repo": repo.repo_id, "include": ["config.json"]}])
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    distribution = hf_distribution_factory(repository=repository)  # pinned only: no remote
    url = on(pulp_second_host, distribution["base_url"], pulp_stack)
    url = url.rstrip("/") + f"/{repo.repo_id}/resolve/main/config.json"
    assert requests.get(url, timeout=30).headers["X-Repo-Commit"] == repo.refs["main"]
    repo.commit({"config.json": b'{"v": 2}'})
    sync(pulp_api, repository, remote)
    answer = requests.get(url, timeout=30)
    assert (answer.headers["X-Repo-Commit"], answer.content) == (repo.refs["main"], b'{"v": 2}')


def test_clients_split_across_hosts_share_one_upstream_download(
    pulp_api, pulp_stack, pulp_second_host, hf_distribution, fake_hub
):
    repo_id = f"org/{unique('split')}"
    data = os.urandom(8 * 1024 * 1024)
    commit = fake_hub.add_repo(repo_id).commit({"big.bin": HubFile(data, lfs=True)})
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/big.bin"
    urls = [url, on(pulp_second_host, url, pulp_stack)] * 8
    fake_hub.reset_log()
    fake_hub.cdn_rate = 16e6  # half a second: every client arrives while it downloads
    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            bodies = list(pool.map(lambda u: requests.get(u, timeout=60).content, urls))
    finally:
        fake_hub.cdn_rate = None
    assert [len(body) for body in bodies] == [len(data)] * 16
    assert all(body == data for body in bodies)
    assert len(fake_hub.body_fetches("big.bin")) == 1
    assert len(pulp_api.wait_for_units(1, repo_id=repo_id)) == 1


def test_a_file_one_host_just_sent_is_not_fetched_again_by_the_other(
    pulp_api, pulp_stack, pulp_second_host, hf_distribution, fake_hub
):
    """The other host asks right after the first host's client has every byte, while that host
    still stores the file: it gets the file from that host or from storage, never upstream."""
    repo_id = f"org/{unique('after')}"
    data = os.urandom(48 * 1024 * 1024)  # storing takes a while: digests, then the move
    commit = fake_hub.add_repo(repo_id).commit({"big.bin": HubFile(data, lfs=True)})
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/big.bin"
    fake_hub.reset_log()
    assert requests.get(url, timeout=60).content == data
    assert requests.get(on(pulp_second_host, url, pulp_stack), timeout=60).content == data
    assert len(fake_hub.body_fetches("big.bin")) == 1
    assert len(pulp_api.wait_for_units(1, repo_id=repo_id)) == 1


def test_files_served_by_either_host_count_as_recently_served(
    pulp_api, pulp_stack, pulp_second_host, hf_distribution, fake_hub
):
    setup = hf_distribution()
    endpoint, href = setup["endpoint"], setup["repository"]["pulp_href"]
    other = on(pulp_second_host, endpoint, pulp_stack)
    retention.update(pulp_api, href, cache_max_bytes=2 * retention.SIZE)
    repo, commit = retention.hub_files(fake_hub, "a.bin", "b.bin", "c.bin")
    retention.fetch(endpoint, repo, commit, "a.bin")
    retention.holds(pulp_api, href, {"a.bin"})
    time.sleep(1.1)
    retention.fetch(endpoint, repo, commit, "b.bin")
    retention.holds(pulp_api, href, {"a.bin", "b.bin"})
    time.sleep(1.1)
    retention.fetch(other, repo, commit, "a.bin")  # only the second host knows a was served
    time.sleep(1.1)
    retention.fetch(endpoint, repo, commit, "c.bin")
    retention.holds(pulp_api, href, {"a.bin", "c.bin"})
