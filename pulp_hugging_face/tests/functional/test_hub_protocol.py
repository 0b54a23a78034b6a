"""A Hub client must not tell a distribution from the Hub (issue 4), except for speed."""

import concurrent.futures
import os
import time
from pathlib import Path

import pytest
import requests
from hf_fake_hub import FakeHub, HubFile
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, GatedRepoError

from pulp_hugging_face.pytest_plugin import unique


@pytest.fixture
def repo(fake_hub):
    repo_id = f"org/{unique('proto')}"
    hub_repo = fake_hub.add_repo(repo_id)
    hub_repo.commit(
        {
            "config.json": b'{"v": 1}',
            "weights.bin": HubFile(os.urandom(50_000), lfs=True),
            "xet.bin": HubFile(os.urandom(20_000), lfs=True, xet=True),
            "sub/dir/deep.txt": b"deep",
        }
    )
    return hub_repo


def upstream_calls(fake_hub):
    return list(fake_hub.requests) + list(fake_hub.cdn_requests)


# 1. Revisions ---------------------------------------------------------------------------------
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


# 2. Headers from upstream truth ---------------------------------------------------------------
def test_head_on_cached_file_makes_no_upstream_call(hf_distribution, repo, fake_hub, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    hf_hub_download(repo.repo_id, "weights.bin", cache_dir=tmp_path, endpoint=endpoint)
    fake_hub.reset_log()
    head = requests.head(f"{endpoint}/{repo.repo_id}/resolve/main/weights.bin", timeout=30)
    entry = repo.commits[repo.refs["main"]]["weights.bin"]
    assert head.headers["X-Repo-Commit"] == repo.refs["main"]
    assert head.headers["X-Linked-Etag"] == f'"{entry.etag}"'
    assert head.headers["X-Linked-Size"] == str(len(entry.data))
    assert head.headers["Accept-Ranges"] == "bytes"
    assert upstream_calls(fake_hub) == []


# 3. Metadata API --------------------------------------------------------------------------------
def test_metadata_api_answers(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution()["endpoint"]
    api = HfApi(endpoint=endpoint)
    commit = repo.refs["main"]
    info = api.model_info(repo.repo_id)
    assert info.sha == commit
    assert sorted(s.rfilename for s in info.siblings) == sorted(repo.commits[commit])
    assert api.model_info(repo.repo_id, revision=commit).sha == commit
    tree = list(api.list_repo_tree(repo.repo_id, recursive=True))
    assert sorted(e.path for e in tree if e.__class__.__name__ == "RepoFile") == sorted(
        repo.commits[commit]
    )
    top = list(api.list_repo_tree(repo.repo_id, path_in_repo="sub"))
    assert [e.path for e in top] == ["sub/dir"]
    infos = api.get_paths_info(repo.repo_id, ["config.json", "weights.bin"], revision=commit)
    assert sorted(i.path for i in infos) == ["config.json", "weights.bin"]
    lfs = next(i for i in infos if i.path == "weights.bin")
    assert lfs.lfs.sha256 == repo.commits[commit]["weights.bin"].etag


def test_tree_pagination_and_xet_keys(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    fake_hub.page_size = 1
    try:
        url = f"{endpoint}/api/models/{repo.repo_id}/tree/main?recursive=true&expand=false"
        pages, entries = 0, []
        while url:
            response = requests.get(url, timeout=30)
            assert response.status_code == 200
            assert "xetHash" not in response.text
            entries += response.json()
            pages += 1
            url = response.links.get("next", {}).get("url")
            if url:
                assert url.startswith(endpoint + "/api/models/"), url
                assert fake_hub.url not in url
    finally:
        fake_hub.page_size = 50
    assert pages > 3
    assert any(e["path"] == "xet.bin" for e in entries)
    forwarded = [r["query"] for r in fake_hub.requests if "/tree/" in r["path"]]
    assert all(q.get("recursive") == "true" and q.get("expand") == "false" for q in forwarded)


def test_commit_addressed_answers_are_cached_for_good(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution(metadata_ttl=0)["endpoint"]
    commit = repo.refs["main"]
    url = f"{endpoint}/api/models/{repo.repo_id}/tree/{commit}?recursive=true"
    first = requests.get(url, timeout=30).json()
    fake_hub.reset_log()
    assert requests.get(url, timeout=30).json() == first
    assert fake_hub.requests == []
    branch = f"{endpoint}/api/models/{repo.repo_id}/tree/main?recursive=true"
    requests.get(branch, timeout=30)
    requests.get(branch, timeout=30)
    assert len([r for r in fake_hub.requests if "/tree/main" in r["path"]]) == 2  # ttl=0


# 5. Xet ---------------------------------------------------------------------------------------
def test_xet_file_downloads_over_http_through_pulp(hf_distribution, repo, fake_hub, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    path = hf_hub_download(repo.repo_id, "xet.bin", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(path).read_bytes() == repo.commits[repo.refs["main"]]["xet.bin"].data
    calls = [r["path"] for r in fake_hub.requests + fake_hub.cdn_requests]
    assert not [p for p in calls if "xet-read-token" in p or "xet-cas" in p]


# 6. Errors ------------------------------------------------------------------------------------
def test_missing_file_is_recorded_in_no_exist(hf_distribution, repo, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo.repo_id, "nope.txt", cache_dir=tmp_path, endpoint=endpoint)
    folder = tmp_path / f"models--{repo.repo_id.replace('/', '--')}"
    assert (folder / ".no_exist" / repo.refs["main"] / "nope.txt").exists()


def test_hanging_upstream_gives_504_before_the_client_gives_up(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution(total_timeout=1.0)["endpoint"]
    fake_hub.delay = 3
    try:
        started = time.monotonic()
        head = requests.head(f"{endpoint}/{repo.repo_id}/resolve/main/config.json", timeout=30)
        elapsed = time.monotonic() - started
    finally:
        fake_hub.delay = 0
    assert head.status_code == 504
    assert elapsed < 2.5


# 7. Tokens ------------------------------------------------------------------------------------
def test_client_token_is_not_forwarded(hf_distribution, fake_hub, tmp_path):
    repo_id = f"org/{unique('gated')}"
    fake_hub.add_repo(repo_id, gated=True).commit({"w.bin": b"w"})
    fake_hub.valid_tokens.add("hf_user_token")
    fake_hub.gated_access.setdefault("hf_user_token", set()).add(("model", repo_id))
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            repo_id, "w.bin", cache_dir=tmp_path, endpoint=endpoint, token="hf_user_token"
        )
    assert fake_hub.requests and all(r["authorization"] is None for r in fake_hub.requests)


# 8. Range --------------------------------------------------------------------------------------
def test_range_past_the_end_of_an_uncached_file(hf_distribution, repo):
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo.repo_id}/resolve/main/weights.bin"
    response = requests.get(url, headers={"Range": "bytes=60000-"}, timeout=30)
    assert response.status_code == 416


# 9. Isolation ---------------------------------------------------------------------------------
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


# 10. Concurrency --------------------------------------------------------------------------------
def test_concurrent_first_requests_share_one_download(pulp_api, hf_distribution, fake_hub):
    repo_id = f"org/{unique('busy')}"
    data = os.urandom(8 * 1024 * 1024)
    commit = fake_hub.add_repo(repo_id).commit({"big.bin": HubFile(data, lfs=True)})
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo_id}/resolve/{commit}/big.bin"
    fake_hub.reset_log()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        bodies = list(pool.map(lambda _: requests.get(url, timeout=60).content, range(16)))
    assert all(body == data for body in bodies)
    assert len(fake_hub.body_fetches("big.bin")) == 1, [
        (r["method"], r.get("status"), r["path"][-30:]) for r in fake_hub.body_fetches("big.bin")
    ]
    units = pulp_api.list("content", repo_id=repo_id)
    assert len(units) == 1


# 11. Repositories -----------------------------------------------------------------------------
def test_pull_through_is_batched_and_survives_orphan_cleanup(
    pulp_api, hf_distribution, fake_hub, tmp_path
):
    repo_id = f"org/{unique('batch')}"
    files = {f"shard-{i:02d}.txt": f"shard {i}".encode() for i in range(12)}
    commit = fake_hub.add_repo(repo_id).commit(files)
    setup = hf_distribution()
    snapshot_download(repo_id, cache_dir=tmp_path / "a", endpoint=setup["endpoint"])
    href = setup["repository"]["pulp_href"]
    deadline = time.time() + 30
    while time.time() < deadline:
        repository = pulp_api.get(href)
        version = pulp_api.get(repository["latest_version_href"])
        count = version["content_summary"]["present"].get("hugging_face.hugging-face", {})
        if count.get("count") == 12:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the pulled files did not all land in the repository")
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


def test_clients_arriving_while_the_download_is_stored(hf_distribution, fake_hub):
    """Late followers find the part file moved into storage: they must wait, not spin."""
    repo_id = f"org/{unique('late')}"
    data = os.urandom(48 * 1024 * 1024)
    commit = fake_hub.add_repo(repo_id).commit({"big.bin": HubFile(data, lfs=True)})
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo_id}/resolve/{commit}/big.bin"
    fake_hub.reset_log()
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
