"""Pull-through with the real huggingface_hub client (hf_xet installed) against the fake Hub."""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
from hf_fake_hub import HubFile, git_blob_sha1
from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from pulp_hugging_face.pytest_plugin import unique


def hf_cli():
    """The `hf` command of the venv running the tests."""
    import sys

    return str(Path(sys.executable).parent / "hf")


@pytest.fixture
def model_repo(fake_hub):
    """`org/<name>` with a regular file, an LFS file, an Xet-backed LFS file and a subfolder."""
    repo_id = f"org/{unique('model')}"
    repo = fake_hub.add_repo(repo_id)
    files = {
        "config.json": json.dumps({"model_type": "fake", "id": repo_id}).encode(),
        "model.safetensors": HubFile(os.urandom(300_000), lfs=True),
        "xet.bin": HubFile(os.urandom(70_000), lfs=True, xet=True),
        "tokenizer/vocab.txt": b"hello\nworld\n",
    }
    repo.commit(files)
    return repo


def cache_folder(cache_dir, repo_type, repo_id):
    return Path(cache_dir) / f"{repo_type}s--{repo_id.replace('/', '--')}"


def test_hf_hub_download_fills_cache_like_the_hub(hf_distribution, model_repo, tmp_path):
    """Commit folder, refs/main and ETag-named blobs are exactly the upstream's."""
    setup = hf_distribution()
    commit = model_repo.refs["main"]
    tree = model_repo.commits[commit]
    for name in ("config.json", "model.safetensors", "xet.bin"):
        path = hf_hub_download(
            model_repo.repo_id, name, cache_dir=tmp_path, endpoint=setup["endpoint"]
        )
        assert Path(path).read_bytes() == tree[name].data
        assert Path(path).parent.name == commit
    folder = cache_folder(tmp_path, "model", model_repo.repo_id)
    assert (folder / "refs" / "main").read_text() == commit
    blobs = sorted(p.name for p in (folder / "blobs").iterdir())
    expected = sorted(tree[n].etag for n in ("config.json", "model.safetensors", "xet.bin"))
    assert blobs == expected
    assert tree["config.json"].etag == git_blob_sha1(tree["config.json"].data)
    assert (
        tree["model.safetensors"].etag == hashlib.sha256(tree["model.safetensors"].data).hexdigest()
    )


def test_second_download_comes_from_pulp_storage(hf_distribution, model_repo, fake_hub, tmp_path):
    setup = hf_distribution()
    endpoint = setup["endpoint"]
    hf_hub_download(
        model_repo.repo_id, "model.safetensors", cache_dir=tmp_path / "a", endpoint=endpoint
    )
    assert len(fake_hub.body_fetches("model.safetensors")) >= 1
    fake_hub.reset_log()
    commit = model_repo.refs["main"]
    path = hf_hub_download(
        model_repo.repo_id,
        "model.safetensors",
        revision=commit,
        cache_dir=tmp_path / "b",
        endpoint=endpoint,
    )
    assert Path(path).read_bytes() == model_repo.commits[commit]["model.safetensors"].data
    assert fake_hub.body_fetches() == []
    assert fake_hub.requests == []  # commit-pinned and cached: no upstream call at all


def test_snapshot_download_public_model(hf_distribution, model_repo, fake_hub, tmp_path):
    setup = hf_distribution()
    fake_hub.page_size = 2  # force a paginated tree listing through the proxy
    try:
        folder = snapshot_download(
            model_repo.repo_id, cache_dir=tmp_path / "a", endpoint=setup["endpoint"]
        )
    finally:
        fake_hub.page_size = 50
    commit = model_repo.refs["main"]
    assert Path(folder).name == commit
    got = sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())
    assert got == sorted(model_repo.commits[commit])
    for name, entry in model_repo.commits[commit].items():
        assert (Path(folder) / name).read_bytes() == entry.data
    cursors = [r for r in fake_hub.requests if "cursor" in r["query"]]
    assert cursors, "the tree listing was not paginated through the distribution"


def test_second_snapshot_downloads_no_file_bodies(hf_distribution, model_repo, fake_hub, tmp_path):
    setup = hf_distribution()
    snapshot_download(model_repo.repo_id, cache_dir=tmp_path / "a", endpoint=setup["endpoint"])
    fake_hub.reset_log()
    folder = snapshot_download(
        model_repo.repo_id, cache_dir=tmp_path / "b", endpoint=setup["endpoint"]
    )
    assert fake_hub.body_fetches() == []
    assert len(list(Path(folder).rglob("*.json"))) == 1


def test_no_upstream_or_cdn_url_reaches_the_client(hf_distribution, model_repo, fake_hub):
    setup = hf_distribution()
    url = f"{setup['endpoint']}/{model_repo.repo_id}/resolve/main/model.safetensors"
    for method in ("HEAD", "GET"):
        response = requests.request(method, url, allow_redirects=False, timeout=30)
        assert response.status_code == 200
        text = json.dumps(dict(response.headers))
        assert fake_hub.url not in text and fake_hub.cdn_url not in text
        assert "X-Xet-Hash" not in response.headers
        assert "xet" not in response.headers.get("Link", "")


def test_token_goes_to_the_hub_only(hf_distribution, model_repo, fake_hub, tmp_path):
    setup = hf_distribution(hf_token="hf_valid_token")
    fake_hub.reset_log()
    hf_hub_download(
        model_repo.repo_id, "model.safetensors", cache_dir=tmp_path, endpoint=setup["endpoint"]
    )
    assert fake_hub.requests
    assert all(r["authorization"] == "Bearer hf_valid_token" for r in fake_hub.requests)
    assert fake_hub.cdn_requests
    assert all(r["authorization"] is None for r in fake_hub.cdn_requests)


def test_remote_token_unlocks_gated_repo(hf_distribution, fake_hub, tmp_path):
    repo_id = f"org/{unique('gated')}"
    repo = fake_hub.add_repo(repo_id, gated=True)
    repo.commit({"weights.bin": HubFile(b"secret weights", lfs=True)})
    fake_hub.gated_access.setdefault("hf_valid_token", set()).add(("model", repo_id))
    anonymous = hf_distribution()
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            repo_id, "weights.bin", cache_dir=tmp_path / "a", endpoint=anonymous["endpoint"]
        )
    with_token = hf_distribution(hf_token="hf_valid_token")
    path = hf_hub_download(
        repo_id, "weights.bin", cache_dir=tmp_path / "b", endpoint=with_token["endpoint"]
    )
    assert Path(path).read_bytes() == b"secret weights"
    # What the token holder cached is not served through the anonymous distribution.
    commit = repo.refs["main"]
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            repo_id,
            "weights.bin",
            revision=commit,
            cache_dir=tmp_path / "c",
            endpoint=anonymous["endpoint"],
        )


def test_errors_map_to_client_exceptions(hf_distribution, model_repo, tmp_path):
    endpoint = hf_distribution()["endpoint"]
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/does-not-exist", "config.json", cache_dir=tmp_path, endpoint=endpoint)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            model_repo.repo_id,
            "config.json",
            revision="nope",
            cache_dir=tmp_path,
            endpoint=endpoint,
        )
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(model_repo.repo_id, "missing.txt", cache_dir=tmp_path, endpoint=endpoint)


def test_single_name_repo_and_dataset(hf_distribution, fake_hub, tmp_path):
    name = unique("gpt")
    fake_hub.add_repo(name).commit({"config.json": b'{"n_layer": 2}'})
    dataset_id = f"org/{unique('data')}"
    fake_hub.add_repo(dataset_id, repo_type="dataset").commit(
        {"data/train.csv": b"a,b\n1,2\n", "README.md": b"# data"}
    )
    endpoint = hf_distribution()["endpoint"]
    path = hf_hub_download(name, "config.json", cache_dir=tmp_path, endpoint=endpoint)
    assert Path(path).read_bytes() == b'{"n_layer": 2}'
    folder = snapshot_download(
        dataset_id, repo_type="dataset", cache_dir=tmp_path, endpoint=endpoint
    )
    assert (Path(folder) / "data" / "train.csv").read_bytes() == b"a,b\n1,2\n"
    assert cache_folder(tmp_path, "dataset", dataset_id).is_dir()


def test_hf_cli_download(hf_distribution, model_repo, hub_env, tmp_path):
    setup = hf_distribution()
    hub_env["HF_ENDPOINT"] = setup["endpoint"]
    result = subprocess.run(
        [hf_cli(), "download", model_repo.repo_id],
        env=hub_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    commit = model_repo.refs["main"]
    assert commit in result.stdout
    cache = Path(hub_env["HF_HOME"]) / "hub" / f"models--{model_repo.repo_id.replace('/', '--')}"
    folder = cache / "snapshots" / commit
    assert (folder / "config.json").read_bytes() == model_repo.commits[commit]["config.json"].data
    assert (cache / "refs" / "main").read_text() == commit
    assert sorted(p.name for p in (cache / "blobs").iterdir()) == sorted(
        e.etag for e in model_repo.commits[commit].values()
    )
