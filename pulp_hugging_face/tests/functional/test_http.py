"""Raw HTTP against a distribution: headers, ranges, bad input."""

import os
import time

import pytest
import requests
from hf_fake_hub import HubFile
from huggingface_hub import hf_hub_download

from pulp_hugging_face.pytest_plugin import raw_request, unique, upstream_calls


@pytest.fixture
def lfs_repo(fake_hub):
    repo_id = f"org/{unique('raw')}"
    repo = fake_hub.add_repo(repo_id)
    data = os.urandom(100_000)
    commit = repo.commit({"w.bin": HubFile(data, lfs=True), "small.txt": b"0123456789"})
    return repo_id, commit, data, repo.commits[commit]


def test_head_answers_hub_headers_without_body_fetch(hf_distribution, lfs_repo, fake_hub):
    repo_id, commit, data, tree = lfs_repo
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    lfs = requests.head(f"{endpoint}/{repo_id}/resolve/main/w.bin", timeout=30)
    assert lfs.status_code == 200
    assert lfs.headers["X-Repo-Commit"] == commit
    assert lfs.headers["X-Linked-Etag"] == f'"{tree["w.bin"].etag}"'
    assert lfs.headers["X-Linked-Size"] == str(len(data))
    assert lfs.headers["Content-Length"] == str(len(data))
    small = requests.head(f"{endpoint}/{repo_id}/resolve/main/small.txt", timeout=30)
    assert small.headers["ETag"] == f'"{tree["small.txt"].etag}"'
    assert small.headers["Content-Length"] == "10"
    assert "X-Linked-Etag" not in small.headers
    assert fake_hub.body_fetches() == []
    assert {r["method"] for r in fake_hub.requests} == {"HEAD"}


def test_a_head_then_a_get_of_an_uncached_file_ask_upstream_once(
    hf_distribution, lfs_repo, fake_hub
):
    """A Hub client HEADs before it GETs: the GET reuses what upstream said of the file."""
    repo_id, commit, data, _ = lfs_repo
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/w.bin"
    fake_hub.reset_log()
    with requests.Session() as client:  # one connection, as a client keeps it
        assert client.head(url, timeout=30).status_code == 200
        assert client.get(url, timeout=30).content == data
    heads = [r for r in fake_hub.requests if r["method"] == "HEAD" and r["file"] == "w.bin"]
    assert len(heads) == 1
    assert len(fake_hub.body_fetches("w.bin")) == 1


@pytest.mark.parametrize("name", ["w.bin", "small.txt"])
def test_a_plain_get_of_an_uncached_file_asks_upstream_no_head(
    pulp_api, hf_distribution, lfs_repo, fake_hub, name
):
    """A client that GETs without a HEAD (curl, a browser): what the file is comes from
    upstream's answer to the GET itself (its redirect to the CDN, or its 200), so the first byte
    waits for one upstream round trip, not two."""
    repo_id, commit, data, tree = lfs_repo
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/{name}"
    fake_hub.reset_log()
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert response.content == (data if name == "w.bin" else b"0123456789")
    assert response.headers["X-Repo-Commit"] == commit
    etag_header = "X-Linked-Etag" if name == "w.bin" else "ETag"
    assert response.headers[etag_header] == f'"{tree[name].etag}"'
    assert [r["method"] for r in fake_hub.requests if r["file"] == name] == ["GET"]
    pulp_api.wait_for_units(1, repo_id=repo_id, path_in_repo=name)
    again = requests.get(url, timeout=30)  # stored: from Pulp, upstream not asked
    assert again.content == response.content
    assert [r["method"] for r in fake_hub.requests if r["file"] == name] == ["GET"]


def test_a_plain_get_of_a_missing_file_is_the_hubs_error(hf_distribution, lfs_repo):
    repo_id, commit, _, _ = lfs_repo
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/nope.bin"
    response = requests.get(url, timeout=30)
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EntryNotFound"
    assert response.headers["X-Repo-Commit"] == commit


def test_range_on_cached_and_uncached_files(hf_distribution, lfs_repo):
    repo_id, commit, data, _ = lfs_repo
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo_id}/resolve/{commit}/w.bin"
    uncached = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=30)
    assert uncached.status_code == 206
    assert uncached.content == data[10:20]
    assert uncached.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert requests.get(url, timeout=30).content == data  # now cached
    cached = requests.get(url, headers={"Range": "bytes=99990-"}, timeout=30)
    assert cached.status_code == 206
    assert cached.content == data[99990:]
    past_end = requests.get(url, headers={"Range": f"bytes={len(data) + 5}-"}, timeout=30)
    assert past_end.status_code == 416


def test_cached_get_keeps_hub_etag(hf_distribution, lfs_repo):
    repo_id, commit, data, tree = lfs_repo
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo_id}/resolve/{commit}/small.txt"
    first = requests.get(url, timeout=30)
    second = requests.get(url, timeout=30)
    for response in (first, second):
        assert response.content == b"0123456789"
        assert response.headers["ETag"] == f'"{tree["small.txt"].etag}"'
        assert response.headers["X-Repo-Commit"] == commit


@pytest.mark.parametrize(
    "path",
    [
        "org/name/resolve/main/../../../etc/passwd",
        "org/name/resolve/main/a//b",
        "org/name/resolve/..%2F..%2Fx/config.json",
        "org/na%20me/resolve/main/config.json",
        "org/name/resolve/main/%ff%fe",
        "a/b/c/resolve/main/config.json",
        "api/unknown/org/name",
        "api/models/org/name/tree",
    ],
)
def test_malformed_paths_get_a_clear_400(hf_distribution, fake_hub, path):
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    status, headers, body = raw_request(f"{endpoint}/{path}")
    assert status == 400, body
    assert headers.get("X-Error-Message")
    assert fake_hub.requests == []


def test_unknown_distribution_is_404(pulp_stack):
    status, _, _ = raw_request(
        f"{pulp_stack['content']}/pulp/content/{unique('nope')}/gpt2/resolve/main/config.json"
    )
    assert status == 404


def test_upstream_down_gives_fast_502(pulp_api, hf_distribution):
    setup = hf_distribution(url="http://127.0.0.1:9")  # nothing listens on the discard port
    response = requests.get(f"{setup['endpoint']}/gpt2/resolve/main/config.json", timeout=30)
    assert response.status_code == 502
    assert "unreachable" in response.headers["X-Error-Message"]
    assert response.elapsed.total_seconds() < 9


def test_upstream_5xx_is_reported_as_bad_gateway(hf_distribution, lfs_repo, fake_hub):
    repo_id, commit, _, _ = lfs_repo
    endpoint = hf_distribution()["endpoint"]
    fake_hub.fail_with = 503
    try:
        response = requests.get(f"{endpoint}/{repo_id}/resolve/{commit}/small.txt", timeout=30)
    finally:
        fake_hub.fail_with = None
    assert response.status_code == 502
    # Nothing bad was cached: the file is served once upstream is back.
    ok = requests.get(f"{endpoint}/{repo_id}/resolve/{commit}/small.txt", timeout=30)
    assert ok.content == b"0123456789"


@pytest.mark.parametrize(
    "served",
    [b"x" * 100_001, b"x" * 100_000, b"x" * 99_999, b"x" * 20_000_000],
    ids=["one-byte-more", "same-size-wrong-bytes", "one-byte-short", "endless"],
)
def test_hostile_upstream_bytes_are_never_stored(pulp_api, hf_distribution, fake_hub, served):
    """Bytes that do not match the announced size and sha256 fail the download, store nothing."""
    repo_id = f"org/{unique('hostile')}"
    good = os.urandom(100_000)
    entry = HubFile(good, lfs=True, served=served)
    commit = fake_hub.add_repo(repo_id).commit({"w.bin": entry})
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo_id}/resolve/{commit}/w.bin"
    try:
        response = requests.get(url, timeout=30)
    except requests.exceptions.RequestException:
        pass  # a cut-off download: what the client must see
    else:
        raise AssertionError(f"a wrong file looked complete ({response.status_code})")
    assert pulp_api.list("content", repo_id=repo_id) == []
    entry.served = None  # upstream repaired
    assert requests.get(url, timeout=30).content == good
    assert len(pulp_api.wait_for_units(1, repo_id=repo_id)) == 1


@pytest.mark.parametrize("lfs", [True, False], ids=["lfs-from-the-cdn", "regular-file"])
def test_an_endless_upstream_body_is_cut_off(pulp_api, hf_distribution, fake_hub, lfs):
    """An upstream that never stops sending is cut off at the announced size: a failed
    download for the client, in seconds, and nothing stored."""
    repo_id = f"org/{unique('endless')}"
    entry = HubFile(os.urandom(100_000), lfs=lfs, endless=True)
    commit = fake_hub.add_repo(repo_id).commit({"w.bin": entry})
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/w.bin"
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=30)
    assert time.monotonic() - started < 10
    assert pulp_api.list("content", repo_id=repo_id) == []
    entry.endless = False
    assert requests.get(url, timeout=30).content == entry.data


@pytest.mark.parametrize("where", ["hub", "cdn"])
def test_a_redirect_loop_is_cut_off_with_a_clear_error(pulp_api, hf_distribution, fake_hub, where):
    repo_id = f"org/{unique('loop')}"
    data = os.urandom(1000)
    commit = fake_hub.add_repo(repo_id).commit({"w.bin": HubFile(data, lfs=True)})
    url = f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/w.bin"
    fake_hub.reset_log()
    fake_hub.redirect_loop = where
    try:
        response = requests.get(url, timeout=30)
    finally:
        fake_hub.redirect_loop = None
    assert response.status_code == 502
    assert "Too many redirects" in response.headers["X-Error-Message"]
    assert len(fake_hub.requests) + len(fake_hub.cdn_requests) < 30
    assert pulp_api.list("content", repo_id=repo_id) == []
    assert requests.get(url, timeout=30).content == data


def test_streamed_policy_serves_without_storing(pulp_api, hf_distribution, lfs_repo, fake_hub):
    repo_id, commit, data, _ = lfs_repo
    endpoint = hf_distribution(policy="streamed")["endpoint"]
    url = f"{endpoint}/{repo_id}/resolve/{commit}/w.bin"
    fake_hub.reset_log()
    for _ in range(2):
        assert requests.get(url, timeout=30).content == data
    assert len(fake_hub.body_fetches("w.bin")) == 2
    assert pulp_api.list("content", repo_id=repo_id) == []


def test_head_on_cached_file_makes_no_upstream_call(
    pulp_api, hf_distribution, repo, fake_hub, tmp_path
):
    endpoint = hf_distribution()["endpoint"]
    hf_hub_download(repo.repo_id, "weights.bin", cache_dir=tmp_path, endpoint=endpoint)
    pulp_api.wait_for_units(1, repo_id=repo.repo_id, path_in_repo="weights.bin")
    fake_hub.reset_log()
    head = requests.head(f"{endpoint}/{repo.repo_id}/resolve/main/weights.bin", timeout=30)
    entry = repo.commits[repo.refs["main"]]["weights.bin"]
    assert head.headers["X-Repo-Commit"] == repo.refs["main"]
    assert head.headers["X-Linked-Etag"] == f'"{entry.etag}"'
    assert head.headers["X-Linked-Size"] == str(len(entry.data))
    assert head.headers["Accept-Ranges"] == "bytes"
    assert upstream_calls(fake_hub) == []


def test_range_past_the_end_of_an_uncached_file(hf_distribution, repo):
    endpoint = hf_distribution()["endpoint"]
    url = f"{endpoint}/{repo.repo_id}/resolve/main/weights.bin"
    response = requests.get(url, headers={"Range": "bytes=60000-"}, timeout=30)
    assert response.status_code == 416
