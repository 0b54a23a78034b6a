"""Sync pins what a remote's `includes` name into one new repository version."""

import json
import os

import pytest
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique

FILES = "hugging_face.hugging-face"
REFS = "hugging_face.hugging-face-ref"
COMMITS = "hugging_face.hugging-face-commit"


@pytest.fixture
def model(fake_hub):
    """A model with JSON, an LFS weight, a README and a nested file, on `main`."""
    repo = fake_hub.add_repo(f"org/{unique('sync')}")
    repo.commit(
        {
            "config.json": b'{"v": 1}',
            "model.safetensors": HubFile(os.urandom(300_000), lfs=True),
            "README.md": b"# readme",
            "sub/extra.json": b"{}",
        }
    )
    return repo


def sync(pulp_api, repository, remote, mirror=False):
    """Sync and wait; returns the finished task."""
    task = pulp_api.request(
        "POST",
        repository["pulp_href"] + "sync/",
        json={"remote": remote["pulp_href"], "mirror": mirror},
    )
    return pulp_api.wait_task(task["task"], timeout=120)


def summary(pulp_api, repository):
    """{content type: count} of the repository's latest version, and the version's href."""
    href = pulp_api.get(repository["pulp_href"])["latest_version_href"]
    present = pulp_api.get(href)["content_summary"]["present"]
    return {kind: value["count"] for kind, value in present.items()}, href


def progress(task, code):
    return next(r for r in task["progress_reports"] if r["code"] == code)


def test_immediate_sync_pins_chosen_files_with_their_ref_and_commit(
    pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    remote = hf_remote_factory(
        includes=[{"repo": model.repo_id, "include": ["*.json", "*.safetensors"]}]
    )
    repository = hf_repository_factory()
    fake_hub.reset_log()
    task = sync(pulp_api, repository, remote)
    counts, first_version = summary(pulp_api, repository)
    assert counts == {FILES: 3, REFS: 1, COMMITS: 1}
    assert len(fake_hub.body_fetches()) == 3
    units = pulp_api.list("content", repo_id=model.repo_id)
    assert {u["path_in_repo"] for u in units} == {
        "config.json",
        "model.safetensors",
        "sub/extra.json",
    }
    assert all(u["artifact"] for u in units)
    assert all(u["commit"] == model.refs["main"] for u in units)
    ref = pulp_api.get("/pulp/api/v3/content/hugging_face/refs/", repo_id=model.repo_id)["results"]
    assert [(r["name"], r["commit"]) for r in ref] == [("main", model.refs["main"])]
    assert progress(task, "sync.resolving.repos")["done"] == 1
    assert progress(task, "sync.listing.files")["done"] == 3
    size = sum(
        len(model.commits[model.refs["main"]][p].data)
        for p in ("config.json", "model.safetensors", "sub/extra.json")
    )
    assert progress(task, "sync.downloading.bytes")["done"] == size

    # Nothing changed upstream: nothing is downloaded and no version is made.
    fake_hub.reset_log()
    sync(pulp_api, repository, remote)
    assert fake_hub.body_fetches() == []
    assert summary(pulp_api, repository)[1] == first_version


def content_ids(units):
    return [u["pulp_href"].rstrip("/").rsplit("/", 1)[-1] for u in units]


def remote_artifacts(stack, units):
    """{path_in_repo: (url, size, sha256, has an artifact)} of the units' RemoteArtifacts."""
    import psycopg

    db = stack.database()
    with psycopg.connect(
        dbname=db["NAME"],
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
    ) as conn:
        rows = conn.execute(
            "SELECT c.path_in_repo, ra.url, ra.size, ra.sha256, ca.artifact_id IS NOT NULL"
            " FROM core_remoteartifact ra"
            " JOIN core_contentartifact ca ON ca.pulp_id = ra.content_artifact_id"
            " JOIN hugging_face_huggingfacecontent c ON c.content_ptr_id = ca.content_id"
            " WHERE ca.content_id = ANY(%s::uuid[])",
            (content_ids(units),),
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.mark.parametrize("policy", ["on_demand", "streamed"])
def test_deferred_policies_record_where_to_fetch_and_fetch_no_bytes(
    policy, pulp_api, pulp_stack, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    remote = hf_remote_factory(policy=policy, includes=[{"repo": model.repo_id}])
    repository = hf_repository_factory()
    fake_hub.reset_log()
    task = sync(pulp_api, repository, remote)
    assert summary(pulp_api, repository)[0] == {FILES: 4, REFS: 1, COMMITS: 1}
    assert fake_hub.body_fetches() == []
    assert progress(task, "sync.downloading.bytes")["done"] == 0
    units = pulp_api.list("content", repo_id=model.repo_id)
    assert len(units) == 4 and all(u["artifact"] is None for u in units)
    commit = model.refs["main"]
    files = model.commits[commit]
    recorded = remote_artifacts(pulp_stack["stack"], units)
    assert set(recorded) == set(files)
    for path, (url, size, sha256, stored) in recorded.items():
        assert url == f"{fake_hub.url}/{model.repo_id}/resolve/{commit}/{path}"
        assert size == len(files[path].data) and not stored
        assert sha256 == (files[path].etag if files[path].lfs else None)


def test_a_whole_manifest_as_text_with_several_refs_of_one_repo_and_a_dataset(
    pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    main = model.refs["main"]
    v1 = model.commit({"config.json": b'{"v": 2}', "new.txt": b"new"}, ref="v1")
    dataset = fake_hub.add_repo(f"org/{unique('data')}", repo_type="dataset")
    data_commit = dataset.commit({"train.csv": b"a,b\n1,2\n", "README.md": b"# data"})
    manifest = f"""models:
  - repo: {model.repo_id}
    include: ["*.json"]
  - repo: {model.repo_id}
    ref: v1
    exclude: ["new.txt"]
  - repo: {dataset.repo_id}
    repo_type: dataset
"""
    remote = hf_remote_factory(includes=manifest)
    repository = hf_repository_factory()
    task = sync(pulp_api, repository, remote)
    assert summary(pulp_api, repository)[0] == {FILES: 5, REFS: 3, COMMITS: 3}
    units = pulp_api.list("content", repo_id=model.repo_id)
    assert {(u["commit"], u["path_in_repo"]) for u in units} == {
        (main, "config.json"),
        (main, "sub/extra.json"),
        (v1, "config.json"),
    }
    refs = pulp_api.get("/pulp/api/v3/content/hugging_face/refs/", repo_id=model.repo_id)
    assert {(r["name"], r["commit"]) for r in refs["results"]} == {("main", main), ("v1", v1)}
    data = pulp_api.list("content", repo_id=dataset.repo_id)
    assert {(u["repo_type"], u["commit"], u["path_in_repo"]) for u in data} == {
        ("dataset", data_commit, "train.csv"),
        ("dataset", data_commit, "README.md"),
    }
    commits = pulp_api.get("/pulp/api/v3/content/hugging_face/commits/", repo_id=dataset.repo_id)
    assert [(c["repo_type"], c["commit"]) for c in commits["results"]] == [("dataset", data_commit)]
    # Progress of a multi-entry sync: every entry resolved, every chosen file listed and fetched.
    assert {k: progress(task, "sync.resolving.repos")[k] for k in ("done", "total")} == {
        "done": 3,
        "total": 3,
    }
    assert progress(task, "sync.listing.files")["done"] == 5
    sizes = [len(b"{}"), len(b'{"v": 1}'), len(b'{"v": 2}'), len(b"a,b\n1,2\n"), len(b"# data")]
    assert progress(task, "sync.downloading.bytes")["done"] == sum(sizes)
    assert all(r["state"] == "completed" for r in task["progress_reports"])


@pytest.mark.parametrize("as_text", [True, False], ids=["lock-text", "lock-json"])
def test_a_lock_pins_its_commits_after_the_branch_moved_upstream(
    as_text, pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    from facehugger import lock

    locked_commit = model.refs["main"]
    text = lock.render([lock.Locked(model.repo_id, "model", locked_commit, ("main",))])
    model.commit({"config.json": b'{"v": "moved"}'})  # main moves after the lock is written
    assert model.refs["main"] != locked_commit
    remote = hf_remote_factory(includes=text if as_text else json.loads(text))
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    assert summary(pulp_api, repository)[0] == {FILES: 4, REFS: 1, COMMITS: 1}
    units = pulp_api.list("content", repo_id=model.repo_id)
    assert {u["commit"] for u in units} == {locked_commit}
    refs = pulp_api.get("/pulp/api/v3/content/hugging_face/refs/", repo_id=model.repo_id)
    assert [(r["name"], r["commit"]) for r in refs["results"]] == [("main", locked_commit)]


@pytest.mark.parametrize("mirror", [True, False])
def test_mirror_drops_what_the_includes_no_longer_name(
    mirror, pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    other = fake_hub.add_repo(f"org/{unique('other')}")
    other_commit = other.commit({"b.json": b"{}"})
    remote = hf_remote_factory(includes=[{"repo": model.repo_id, "include": ["*.json"]}])
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    assert summary(pulp_api, repository)[0] == {FILES: 2, REFS: 1, COMMITS: 1}
    task = pulp_api.request(
        "PATCH", remote["pulp_href"], json={"includes": [{"repo": other.repo_id}]}
    )
    pulp_api.wait_task(task["task"])
    sync(pulp_api, repository, remote, mirror=mirror)
    counts, href = summary(pulp_api, repository)
    version = {
        (u["repo_id"], u["commit"]) for u in pulp_api.list("content", repository_version=href)
    }
    if mirror:
        assert counts == {FILES: 1, REFS: 1, COMMITS: 1}
        assert version == {(other.repo_id, other_commit)}
    else:
        assert counts == {FILES: 3, REFS: 2, COMMITS: 2}
        assert version == {(other.repo_id, other_commit), (model.repo_id, model.refs["main"])}
    refs = pulp_api.get("/pulp/api/v3/content/hugging_face/refs/", repository_version=href)
    assert {r["repo_id"] for r in refs["results"]} == (
        {other.repo_id} if mirror else {other.repo_id, model.repo_id}
    )
    commits = pulp_api.get("/pulp/api/v3/content/hugging_face/commits/", repository_version=href)
    assert {c["repo_id"] for c in commits["results"]} == (
        {other.repo_id} if mirror else {other.repo_id, model.repo_id}
    )
