"""Every Hub client through Pulp: huggingface_hub 2.x, huggingface_hub 0.36 with hf_transfer and
huggingface.js, each in its own process as users run it (see hub_clients.py), proving the same
scenarios: snapshots by branch, tag and commit (a model, a paginated dataset), the metadata API,
errors, HEAD and Range reads, a fresh cache with the Hub down, and pinned versions served with
no upstream at all."""

import base64
import json
import struct
import os
from pathlib import Path

import pytest
from hf_fake_hub import XET_FILEINFO, HubFile

from pulp_hugging_face.pytest_plugin import unique

from .hub_clients import ClientError
from .test_sync import sync

DATASET_FILES = 60  # more than one page of the fake Hub's tree listing (50)


@pytest.fixture
def model(fake_hub):
    """A model: `v1.0` tags its first commit; `main` is a second one with every kind of file."""
    repo = fake_hub.add_repo(f"org/{unique('client')}")
    repo.commit({"config.json": b'{"v": 1}', "README.md": b"# first"}, ref="v1.0")
    repo.tags.add("v1.0")
    repo.refs["main"] = repo.refs["v1.0"]
    repo.commit(
        {
            "config.json": b'{"v": 2}',
            "README.md": b"# first",
            "model.safetensors": HubFile(os.urandom(200_000), lfs=True),
            "xet.bin": HubFile(os.urandom(30_000), lfs=True, xet=True),
            "tokenizer/vocab.txt": b"hello\nworld\n",
        }
    )
    return repo


@pytest.fixture
def dataset(fake_hub):
    repo = fake_hub.add_repo(f"org/{unique('rows')}", repo_type="dataset")
    files = {f"data/part-{n:03d}.csv": f"id\n{n}\n".encode() for n in range(DATASET_FILES)}
    repo.commit({"README.md": b"---\nlicense: mit\n---\n", **files})
    return repo


def cache_folder(cache, repo):
    return Path(cache) / f"{repo.repo_type}s--{repo.repo_id.replace('/', '--')}"


def assert_hub_snapshot(folder, repo, commit, cache, revision=None):
    """The snapshot a client made is the Hub's: the commit's folder with every file, each a
    blob named by the Hub's ETag, and `refs/<revision>` naming the commit."""
    folder, tree = Path(folder), repo.commits[commit]
    assert folder.name == commit
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(
        tree
    )
    for path, entry in tree.items():
        assert (folder / path).read_bytes() == entry.data, path
        assert (folder / path).resolve().name == entry.etag, path
    if revision and revision != commit:
        assert (cache_folder(cache, repo) / "refs" / revision).read_text() == commit


def assert_hub_snapshots(hub_client, endpoint, model, dataset, tmp_path):
    """The model by branch, tag and commit, and the (paginated) dataset, as from the Hub."""
    main, tag = model.refs["main"], model.refs["v1.0"]
    for n, (revision, commit) in enumerate([("main", main), ("v1.0", tag), (main, main)]):
        cache = tmp_path / str(n)
        folder = hub_client(
            endpoint, "snapshot", repo=model.repo_id, revision=revision, cache=cache
        )
        assert_hub_snapshot(folder, model, commit, cache, revision)
    cache = tmp_path / "dataset"
    folder = hub_client(endpoint, "snapshot", repo=dataset.repo_id, type="dataset", cache=cache)
    assert_hub_snapshot(folder, dataset, dataset.refs["main"], cache, "main")


def test_snapshots_by_branch_tag_and_commit(hub_client, hf_distribution, model, dataset, tmp_path):
    assert_hub_snapshots(hub_client, hf_distribution()["endpoint"], model, dataset, tmp_path)


def layout(cache):
    """Every path of a client's cache, blobs and refs included (the `.locks` of Python aside)."""
    return sorted(
        str(p.relative_to(cache)) for p in Path(cache).rglob("*") if ".locks" not in p.parts
    )


def test_each_client_caches_the_same_through_pulp_as_from_the_hub(
    hub_client, hf_distribution, fake_hub, dataset, tmp_path
):
    """The control: each client against the fake Hub itself makes the cache it makes through
    Pulp, path for path (a dataset: its files are no Xet files, which only the real Hub's Xet
    storage would serve directly)."""
    endpoint = hf_distribution()["endpoint"]
    for where, url in (("hub", fake_hub.url), ("pulp", endpoint)):
        hub_client(url, "snapshot", repo=dataset.repo_id, type="dataset", cache=tmp_path / where)
    assert layout(tmp_path / "hub") == layout(tmp_path / "pulp")
    assert len(layout(tmp_path / "pulp")) > 2 * DATASET_FILES


def test_metadata_api(hub_client, hf_distribution, model, fake_hub):
    endpoint = hf_distribution()["endpoint"]
    main = model.refs["main"]
    for revision in (None, "main", main):  # huggingface.js asks `revision/HEAD` for None
        assert hub_client(endpoint, "info", repo=model.repo_id, revision=revision)["sha"] == main
    assert hub_client(endpoint, "info", repo=model.repo_id, revision="v1.0")["sha"] == (
        model.refs["v1.0"]
    )
    tree = hub_client(endpoint, "tree", repo=model.repo_id, revision=main, recursive=True)
    assert tree == sorted([*model.commits[main], "tokenizer"])
    wanted = ["config.json", "model.safetensors", "nope.txt"]
    found = hub_client(endpoint, "paths", repo=model.repo_id, paths=wanted, expand=True)
    weights = model.commits[main]["model.safetensors"]
    assert found == [
        {"path": "config.json", "size": 8, "lfs": None, "lastCommit": main},
        {"path": "model.safetensors", "size": 200_000, "lfs": weights.etag, "lastCommit": main},
    ]
    assert all("xetHash" not in str(r) for r in fake_hub.requests)  # nothing to strip asked


def test_errors_are_the_hubs(hub_client, hf_distribution, model, fake_hub, tmp_path):
    gated = fake_hub.add_repo(f"org/{unique('gated')}", gated=True)
    gated.commit({"a.txt": b"a"})
    endpoint = hf_distribution()["endpoint"]
    results = hub_client.run(
        endpoint,
        [
            {"op": "snapshot", "repo": "org/no-such-repo", "cache": str(tmp_path)},
            {"op": "snapshot", "repo": model.repo_id, "revision": "v9", "cache": str(tmp_path)},
            {"op": "download", "repo": model.repo_id, "path": "nope.txt", "cache": str(tmp_path)},
            {"op": "snapshot", "repo": gated.repo_id, "cache": str(tmp_path)},
            {"op": "exists", "repo": model.repo_id, "path": "nope.txt"},
            {"op": "exists", "repo": model.repo_id, "path": "config.json"},
        ],
    )
    statuses = [r.get("status") for r in results[:4]]
    if hub_client.is_js:  # it has no error classes; a missing file has no path info
        assert statuses == [401, 404, None, 401], results
        assert "cannot get path info" in results[2]["error"]
    else:
        kinds = [r["kind"] for r in results[:4]]
        assert kinds == [
            "RepositoryNotFoundError",
            "RevisionNotFoundError",
            "EntryNotFoundError" if "0.36" in hub_client.name else "RemoteEntryNotFoundError",
            "GatedRepoError",
        ], results
        assert statuses == [401, 404, 404, 401]
    assert [r["value"] for r in results[4:]] == [False, True]


def test_head_and_range_reads(hub_client, hf_distribution, model, fake_hub):
    endpoint = hf_distribution()["endpoint"]
    main = model.refs["main"]
    weights, xet = model.commits[main]["model.safetensors"], model.commits[main]["xet.bin"]
    head = hub_client(endpoint, "head", repo=model.repo_id, path="model.safetensors")
    assert (head["etag"], head["size"]) == (weights.etag, 200_000)
    part = hub_client(
        endpoint, "read", repo=model.repo_id, path="model.safetensors", start=1000, end=1100
    )
    assert base64.b64decode(part) == weights.data[1000:1100]
    fake_hub.reset_log()
    whole = hub_client(endpoint, "read", repo=model.repo_id, path="xet.bin")
    assert base64.b64decode(whole) == xet.data  # over plain HTTP: Pulp strips the Xet signals
    assert not any(XET_FILEINFO in (r["accept"] or "") for r in fake_hub.requests)
    if hub_client.is_js:  # it asks for the Xet file info, which the Hub answers, Pulp not
        assert hub_client(fake_hub.url, "head", repo=model.repo_id, path="xet.bin")["xet"]
        assert not hub_client(endpoint, "head", repo=model.repo_id, path="xet.bin")["xet"]


def test_raw_is_gits_view_of_a_file(hub_clients, hf_distribution, model, fake_hub):
    """huggingface.js' `fileExists` and `downloadFile({raw: true})` read `/raw/`: an LFS file's
    pointer, a regular file as is; the same through Pulp as from the Hub, and no bytes of an
    LFS file move for its pointer."""
    js = hub_clients["huggingface.js"]
    endpoint = hf_distribution()["endpoint"]
    ops = [
        {"op": "read", "repo": model.repo_id, "path": name, "raw": True}
        for name in ("model.safetensors", "config.json")
    ]
    ops.append({"op": "head", "repo": model.repo_id, "path": "model.safetensors", "raw": True})
    direct = js.run(fake_hub.url, ops)
    fake_hub.reset_log()
    assert js.run(endpoint, ops) == direct
    assert base64.b64decode(direct[0]["value"]).startswith(b"version https://git-lfs")
    assert base64.b64decode(direct[1]["value"]) == b'{"v": 2}'
    assert fake_hub.body_fetches("model.safetensors") == []


def test_a_fresh_cache_with_the_hub_down(
    hub_client, hub_clients, hf_distribution, model, fake_hub, tmp_path
):
    """What one client fetched through Pulp, any client gets with the Hub down: by branch, by
    commit (never asked by that spelling before) and the repo info huggingface.js asks."""
    endpoint = hf_distribution(metadata_ttl=0)["endpoint"]
    main = model.refs["main"]
    hub_clients["huggingface_hub"](endpoint, "snapshot", repo=model.repo_id, cache=tmp_path / "a")
    fake_hub.fail_with = 503
    try:
        for n, revision in enumerate(("main", main)):
            cache = tmp_path / f"down-{n}"
            folder = hub_client(
                endpoint, "snapshot", repo=model.repo_id, revision=revision, cache=cache
            )
            assert_hub_snapshot(folder, model, main, cache, revision)
        for revision in (None, main):
            assert hub_client(endpoint, "info", repo=model.repo_id, revision=revision)["sha"] == (
                main
            )
    finally:
        fake_hub.fail_with = None


def test_a_pinned_version_with_no_upstream(
    hub_client,
    pulp_api,
    hf_remote_factory,
    hf_repository_factory,
    hf_distribution_factory,
    model,
    dataset,
    fake_hub,
    tmp_path,
):
    includes = [
        {"repo": model.repo_id},
        {"repo": model.repo_id, "ref": "v1.0"},
        {"repo": dataset.repo_id, "repo_type": "dataset"},
    ]
    repository = hf_repository_factory()
    sync(pulp_api, repository, hf_remote_factory(includes=includes))
    endpoint = hf_distribution_factory(repository=repository)["base_url"].rstrip("/")
    main = model.refs["main"]
    fake_hub.fail_with = 503
    fake_hub.reset_log()
    try:
        assert_hub_snapshots(hub_client, endpoint, model, dataset, tmp_path)
        assert hub_client(endpoint, "info", repo=model.repo_id)["sha"] == main
        tree = hub_client(endpoint, "tree", repo=model.repo_id, revision=main, recursive=True)
        assert tree == sorted([*model.commits[main], "tokenizer"])  # 0.36 asks `recursive=True`
        found = hub_client(
            endpoint, "paths", repo=model.repo_id, paths=["config.json"], expand=True
        )
        assert [(e["path"], e["size"]) for e in found] == [("config.json", 8)]
        assert hub_client(endpoint, "exists", repo=model.repo_id, path="tokenizer/vocab.txt")
        assert not hub_client(endpoint, "exists", repo=model.repo_id, path="nope.txt")
        with pytest.raises(ClientError) as unknown:
            hub_client(endpoint, "info", repo="org/not-pinned-here")
        assert unknown.value.status == 401
    finally:
        fake_hub.fail_with = None
    assert [r for r in fake_hub.requests if r.get("status") != 503] == []


def test_hf_transfer_reads_a_large_file_in_parallel_ranges(
    hub_clients, hf_distribution, pulp_api, fake_hub, tmp_path
):
    """huggingface_hub 0.36 hands files over 50 MiB to hf_transfer, which reads them in
    parallel 10 MiB ranges. The first download is stored once; after it every range is Pulp's."""
    legacy = hub_clients["huggingface_hub-0.36"]
    repo = fake_hub.add_repo(f"org/{unique('large')}")
    data = os.urandom(56 * 1024 * 1024)
    commit = repo.commit({"big.safetensors": HubFile(data, lfs=True)})
    setup = hf_distribution()
    fake_hub.reset_log()
    for n in range(2):
        path = legacy(
            setup["endpoint"],
            "download",
            repo=repo.repo_id,
            path="big.safetensors",
            cache=tmp_path / str(n),
        )
        assert Path(path).read_bytes() == data and Path(path).parent.name == commit
        if n == 0:
            assert len(pulp_api.wait_for_units(1, repo_id=repo.repo_id)) == 1
            # hf_transfer's ranges of a file not stored yet were passed through
            assert any(r["range"] for r in fake_hub.requests if "/resolve/" in r["path"])
            fake_hub.reset_log()
    assert fake_hub.body_fetches("big.safetensors") == []


def test_repo_info_is_asked_once_per_commit_whatever_the_client_asks(
    hub_clients, hf_distribution, model, fake_hub
):
    """Nine ways of asking one commit's repo info (three clients, three spellings, two field
    selections): upstream is asked its default answer by the first revision spelling of each
    (HEAD is huggingface.js'), and once more for the one field it lacks; no client's selection
    or spelling is a call of its own."""
    endpoint = hf_distribution()["endpoint"]
    main = model.refs["main"]
    fake_hub.reset_log()
    for client in hub_clients.values():
        for revision in (None, "main", main):
            assert client(endpoint, "info", repo=model.repo_id, revision=revision)["sha"] == main
    asked = sorted((r["path"].rsplit("/", 1)[-1], r["query"]) for r in fake_hub.requests)
    assert asked == sorted(
        [("HEAD", {}), (main, {"expand": "pipeline_tag"}), (model.repo_id.rsplit("/", 1)[-1], {})]
    )


def safetensors(tensors):
    """A real safetensors file: its header's length, the JSON header, then the tensors' bytes."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, values in tensors.items():
        raw = b"".join(struct.pack("<f", v) for v in values)
        header[name] = {
            "dtype": "F32",
            "shape": [len(values)],
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_huggingface_js_reads_safetensors_headers_and_probes_repos(
    hub_clients,
    pulp_api,
    hf_distribution,
    hf_remote_factory,
    hf_repository_factory,
    hf_distribution_factory,
    fake_hub,
):
    """`parseSafetensorsMetadata` (fileExists on /raw/, then Range reads of the header) and
    `repoExists` (`?expand[]=likes`): as from the Hub, online and from a pinned version."""
    js = hub_clients["huggingface.js"]
    repo = fake_hub.add_repo(f"org/{unique('tensors')}")
    weights = safetensors({"w": [1.0, 2.0, 3.0], "b": [0.5]})
    repo.commit({"model.safetensors": HubFile(weights, lfs=True), "config.json": b"{}"})
    ops = [
        {"op": "safetensors", "repo": repo.repo_id},
        {"op": "repoExists", "repo": repo.repo_id},
        {"op": "repoExists", "repo": "org/no-such-repo"},
    ]
    direct = js.run(fake_hub.url, ops)
    assert direct[0]["value"]["header"]["w"]["shape"] == [3] and direct[1:] == [
        {"value": True},
        {"value": False},
    ]
    assert js.run(hf_distribution()["endpoint"], ops) == direct
    repository = hf_repository_factory()
    sync(pulp_api, repository, hf_remote_factory(includes=[{"repo": repo.repo_id}]))
    pinned = hf_distribution_factory(repository=repository)["base_url"].rstrip("/")
    fake_hub.fail_with = 503
    try:
        assert js.run(pinned, ops) == direct
    finally:
        fake_hub.fail_with = None
