"""A cache within its disk: pulled-through files evicted by size (least recently served first)
and idle time, pinned files untouched, a download under way completed, usage figures that match
the requests made."""

import hashlib
import os
import time

import pytest
import requests
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique

from .test_sync import sync

SIZE = 100_000


def hub_files(fake_hub, *names, size=SIZE):
    """A Hub repo with an LFS file per name; (repo, commit)."""
    repo = fake_hub.add_repo(f"org/{unique('cached')}")
    commit = repo.commit({name: HubFile(os.urandom(size), lfs=True) for name in names})
    return repo, commit


def url(endpoint, repo, commit, name):
    return f"{endpoint}/{repo.repo_id}/resolve/{commit}/{name}"


def fetch(endpoint, repo, commit, name):
    response = requests.get(url(endpoint, repo, commit, name), timeout=60)
    assert response.status_code == 200, response.text
    assert response.content == repo.commits[commit][name].data
    return response


def update(api, href, **fields):
    result = api.request("PATCH", href, json=fields)
    if result and "task" in result:
        api.wait_task(result["task"])
    return api.get(href)


def files_in(api, repository_href):
    """{path: content} of the repository's latest version."""
    latest = api.get(repository_href)["latest_version_href"]
    return {u["path_in_repo"]: u for u in api.list("content", repository_version=latest)}


def wait_for(condition, timeout=60, what="the condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if found := condition():
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what} did not come true in {timeout}s")


def holds(api, repository_href, paths):
    """Wait until the latest version holds exactly `paths`; their content units."""

    def check():
        found = files_in(api, repository_href)
        return found if set(found) == set(paths) else None

    return wait_for(check, what=f"exactly {sorted(paths)} in the latest version")


def artifacts_of(api, sha256):
    return api.get("/pulp/api/v3/artifacts/", sha256=sha256)["count"]


def evict(api, repository_href):
    task = api.request("POST", repository_href + "evict/", json={})
    return api.wait_task(task["task"])


def test_the_least_recently_served_file_is_evicted_first(pulp_api, hf_distribution, fake_hub):
    setup = hf_distribution()
    endpoint, href = setup["endpoint"], setup["repository"]["pulp_href"]
    update(pulp_api, href, cache_max_bytes=2 * SIZE)
    repo, commit = hub_files(fake_hub, "a.bin", "b.bin", "c.bin")
    fetch(endpoint, repo, commit, "a.bin")
    holds(pulp_api, href, {"a.bin"})
    time.sleep(1.1)
    fetch(endpoint, repo, commit, "b.bin")
    held = holds(pulp_api, href, {"a.bin", "b.bin"})
    time.sleep(1.1)
    fetch(endpoint, repo, commit, "a.bin")  # from storage: a is now the most recently served
    time.sleep(1.1)
    fetch(endpoint, repo, commit, "c.bin")  # over the limit: b goes, by itself
    kept = holds(pulp_api, href, {"a.bin", "c.bin"})
    assert all(unit["artifact"] for unit in kept.values())
    evicted = pulp_api.get(held["b.bin"]["pulp_href"])
    assert evicted["artifact"] is None
    assert artifacts_of(pulp_api, evicted["etag"]) == 0
    usage = pulp_api.get(href)["cache_usage"]
    assert (usage["pulled_through_files"], usage["pulled_through_bytes"]) == (2, 2 * SIZE)
    assert (usage["evicted_files"], usage["evicted_bytes"]) == (1, SIZE)
    fake_hub.reset_log()
    fetch(endpoint, repo, commit, "b.bin")  # fetched again on demand
    assert fake_hub.body_fetches("b.bin")


def test_files_idle_too_long_are_evicted_by_themselves(pulp_api, hf_distribution, fake_hub):
    setup = hf_distribution()
    endpoint, href = setup["endpoint"], setup["repository"]["pulp_href"]
    update(pulp_api, href, cache_max_idle=4)
    repo, commit = hub_files(fake_hub, "idle.bin", "busy.bin")
    fetch(endpoint, repo, commit, "idle.bin")
    fetch(endpoint, repo, commit, "busy.bin")
    holds(pulp_api, href, {"idle.bin", "busy.bin"})
    deadline = time.time() + 60
    while time.time() < deadline and "idle.bin" in files_in(pulp_api, href):
        fetch(endpoint, repo, commit, "busy.bin")  # served every second: never idle
        time.sleep(1)
    assert set(files_in(pulp_api, href)) == {"busy.bin"}
    assert pulp_api.get(href)["cache_usage"]["evicted_files"] == 1


def test_evict_on_demand_reports_progress_and_spares_pinned_files(
    pulp_api, hf_distribution, fake_hub
):
    pinned_repo, pinned_commit = hub_files(fake_hub, "pinned.bin")
    setup = hf_distribution(includes=[{"repo": pinned_repo.repo_id}])
    endpoint, href = setup["endpoint"], setup["repository"]["pulp_href"]
    sync(pulp_api, setup["repository"], setup["remote"])
    repo, commit = hub_files(fake_hub, "one.bin", "two.bin")
    fetch(endpoint, repo, commit, "one.bin")
    fetch(endpoint, repo, commit, "two.bin")
    holds(pulp_api, href, {"pinned.bin", "one.bin", "two.bin"})
    usage = update(pulp_api, href, cache_max_bytes=0)["cache_usage"]
    assert (usage["pinned_files"], usage["pinned_bytes"]) == (1, SIZE)
    assert (usage["pulled_through_files"], usage["pulled_through_bytes"]) == (2, 2 * SIZE)

    task = evict(pulp_api, href)
    reports = {r["code"]: r for r in task["progress_reports"]}
    assert (reports["evict.files"]["done"], reports["evict.bytes"]["done"]) == (2, 2 * SIZE)
    kept = holds(pulp_api, href, {"pinned.bin"})
    assert kept["pinned.bin"]["artifact"]  # over the limit, and untouched
    sync(pulp_api, setup["repository"], setup["remote"])  # a synced file stays pinned
    assert evict(pulp_api, href)["progress_reports"] == []
    assert set(files_in(pulp_api, href)) == {"pinned.bin"}


def test_a_download_under_way_completes_and_the_next_fetches_again(
    pulp_api, hf_distribution, fake_hub
):
    setup = hf_distribution()
    endpoint, href = setup["endpoint"], setup["repository"]["pulp_href"]
    repo, commit = hub_files(fake_hub, "big.bin", size=48 << 20)
    data = repo.commits[commit]["big.bin"].data
    fetch(endpoint, repo, commit, "big.bin")
    held = holds(pulp_api, href, {"big.bin"})
    sha256 = held["big.bin"]["etag"]
    update(pulp_api, href, cache_max_bytes=0)

    with requests.get(url(endpoint, repo, commit, "big.bin"), stream=True, timeout=60) as slow:
        first = slow.raw.read(1 << 20)
        evict(pulp_api, href)  # while the client is being sent the file
        assert files_in(pulp_api, href) == {}
        assert artifacts_of(pulp_api, sha256) == 1  # its bytes wait for the download
        rest = slow.raw.read()
    assert hashlib.sha256(first + rest).hexdigest() == hashlib.sha256(data).hexdigest()
    evict(pulp_api, href)  # the send is over: now freed
    assert artifacts_of(pulp_api, sha256) == 0
    fake_hub.reset_log()
    fetch(endpoint, repo, commit, "big.bin")
    assert fake_hub.body_fetches("big.bin")


def test_stats_count_the_requests_made(pulp_api, hf_distribution, fake_hub):
    setup = hf_distribution()
    endpoint, distro = setup["endpoint"], setup["distribution"]
    repo, commit = hub_files(fake_hub, "w.bin")
    fetch(endpoint, repo, commit, "w.bin")  # upstream
    holds(pulp_api, setup["repository"]["pulp_href"], {"w.bin"})
    fetch(endpoint, repo, commit, "w.bin")  # storage
    assert requests.head(url(endpoint, repo, commit, "w.bin"), timeout=30).status_code == 200
    part = requests.get(
        url(endpoint, repo, commit, "w.bin"), headers={"Range": "bytes=0-99"}, timeout=30
    )
    assert part.status_code == 206
    assert requests.get(f"{endpoint}/api/models/{repo.repo_id}", timeout=30).status_code == 200
    expected = {
        "requests": 5,
        "from_storage": 3,
        "from_upstream": 1,
        "bytes_sent": 2 * SIZE + 100,
        "bytes_fetched": SIZE,
        "evicted_files": 0,
        "evicted_bytes": 0,
        "repository": setup["repository"]["name"],
    }
    stats = wait_for(
        lambda: (s := pulp_api.get(distro["pulp_href"] + "stats/"))["requests"] >= 5 and s,
        what="5 requests in the stats",
    )
    assert stats == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"cache_max_bytes": -1},
        {"cache_max_bytes": "lots"},
        {"cache_max_idle": -5},
        {"cache_max_idle": "1 day"},
        {"cache_max_bytes": 2**64},
    ],
)
def test_bad_limits_are_refused_with_the_field_named(pulp_api, hf_repository_factory, fields):
    repository = hf_repository_factory()
    for method, target, body in (
        ("PATCH", repository["pulp_href"], fields),
        ("POST", "/pulp/api/v3/repositories/hugging_face/hugging-face/", {"name": "x", **fields}),
    ):
        response = pulp_api.session.request(method, pulp_api.url(target), json=body, timeout=30)
        assert response.status_code == 400, response.text
        assert list(fields)[0] in response.json()
    assert pulp_api.get(repository["pulp_href"])["cache_max_bytes"] is None


def test_a_remote_only_distribution_keeps_its_files_in_a_repository_pulp_manages(
    pulp_api, hf_distribution, fake_hub
):
    setup = hf_distribution(with_repository=False)
    endpoint, distro = setup["endpoint"], setup["distribution"]
    repo, commit = hub_files(fake_hub, "r.bin")
    fetch(endpoint, repo, commit, "r.bin")
    href = wait_for(
        lambda: pulp_api.get(distro["pulp_href"])["cache_repository"],
        what="a cache repository",
    )
    cache = pulp_api.get(href)
    assert cache["name"] == f"{distro['name']}-cache"
    assert cache["cache_max_idle"] == 30 * 24 * 3600
    holds(pulp_api, href, {"r.bin"})
    task = pulp_api.request(
        "POST", "/pulp/api/v3/orphans/cleanup/", json={"orphan_protection_time": 0}
    )
    pulp_api.wait_task(task["task"])
    assert pulp_api.list("content", repo_id=repo.repo_id)[0]["artifact"]  # not an orphan

    update(pulp_api, href, cache_max_bytes=0)
    evict(pulp_api, href)
    assert pulp_api.list("content", repo_id=repo.repo_id)[0]["artifact"] is None
    fake_hub.reset_log()
    fetch(endpoint, repo, commit, "r.bin")
    assert fake_hub.body_fetches("r.bin")
    stats = pulp_api.get(distro["pulp_href"] + "stats/")
    assert (stats["repository"], stats["evicted_files"]) == (cache["name"], 1)

    task = pulp_api.request("DELETE", distro["pulp_href"])
    pulp_api.wait_task(task["task"])
    gone = pulp_api.session.get(pulp_api.url(href), timeout=30)
    assert gone.status_code == 404  # the cache repository goes with its distribution
