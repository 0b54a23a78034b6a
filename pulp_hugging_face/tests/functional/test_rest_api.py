"""The REST API at /pulp/api/v3/{remotes,repositories,distributions,content}/hugging_face/."""

import subprocess

import pytest
import requests
from hf_fake_hub import HubFile
from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import PLUGIN_API, unique


def hidden(remote, name):
    return next(f["is_set"] for f in remote["hidden_fields"] if f["name"] == name)


def test_remote_defaults_and_write_only_token(pulp_api, pulp_stack):
    remote = pulp_api.create("remotes", name=unique("remote"), hf_token="hf_do_not_leak")
    assert remote["url"] == "https://huggingface.co"
    assert remote["metadata_ttl"] == 300
    assert remote["policy"] == "immediate"
    assert "hf_token" not in remote
    assert hidden(remote, "hf_token") is True
    listed = requests.get(
        pulp_stack["api"] + PLUGIN_API.format("remotes"),
        params={"name": remote["name"]},
        auth=("admin", "password"),
        timeout=30,
    )
    assert "hf_do_not_leak" not in listed.text
    # Encrypted at rest: the database holds no plain token.
    db = pulp_stack["stack"].database()
    row = subprocess.run(
        [
            "psql",
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            "-d",
            db["NAME"],
            "-Atc",
            "SELECT hf_token FROM hugging_face_huggingfaceremote WHERE remote_ptr_id = "
            f"'{remote['pulp_href'].rstrip('/').rsplit('/', 1)[-1]}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert row and "hf_do_not_leak" not in row
    # Clearing it.
    task = pulp_api.request("PATCH", remote["pulp_href"], json={"hf_token": None})
    pulp_api.wait_task(task["task"])
    assert hidden(pulp_api.get(remote["pulp_href"]), "hf_token") is False


def test_token_is_not_logged(pulp_api, pulp_stack, hf_distribution, fake_hub, tmp_path):
    repo_id = f"org/{unique('logged')}"
    fake_hub.add_repo(repo_id).commit({"a.txt": b"a"})
    setup = hf_distribution(hf_token="hf_valid_token")
    snapshot_download(repo_id, cache_dir=tmp_path, endpoint=setup["endpoint"])
    for log in (pulp_stack["state"] / "log").glob("*.log"):
        assert "hf_valid_token" not in log.read_text(errors="replace"), log.name


def test_remote_rejects_bad_values(pulp_api):
    with pytest.raises(AssertionError, match="400"):
        pulp_api.create("remotes", name=unique("remote"), metadata_ttl=-1)
    with pytest.raises(AssertionError, match="400"):
        pulp_api.create("remotes", name=unique("remote"), url="not a url")


def test_distribution_exposes_remote_and_repository(pulp_api, hf_distribution):
    setup = hf_distribution()
    dist = setup["distribution"]
    assert dist["remote"] == setup["remote"]["pulp_href"]
    assert dist["repository"] == setup["repository"]["pulp_href"]
    assert dist["base_url"].endswith(f"/pulp/content/{dist['base_path']}/")
    assert "/hugging_face/hugging-face/" in dist["pulp_href"]


def test_pull_through_lands_in_repository_and_content_is_filterable(
    pulp_api, hf_distribution, fake_hub, tmp_path
):
    repo_id = f"org/{unique('pinned')}"
    data = b"\x00" * 1000
    commit = fake_hub.add_repo(repo_id).commit(
        {"config.json": b"{}", "weights.bin": HubFile(data, lfs=True)}
    )
    setup = hf_distribution()
    snapshot_download(repo_id, cache_dir=tmp_path, endpoint=setup["endpoint"])
    pulp_api.wait_for_content(setup["repository"]["pulp_href"], 2)

    units = pulp_api.list("content", repo_id=repo_id)
    assert {u["path_in_repo"] for u in units} == {"config.json", "weights.bin"}
    weights = next(u for u in units if u["path_in_repo"] == "weights.bin")
    assert weights["commit"] == commit
    assert weights["repo_type"] == "model"
    assert weights["size"] == 1000
    assert weights["etag"] == fake_hub.repos[("model", repo_id)].commits[commit]["weights.bin"].etag
    assert weights["artifact"]
    assert (
        pulp_api.list("content", repo_id=repo_id, path_in_repo="config.json")[0]["commit"] == commit
    )
    assert pulp_api.list("content", commit=commit, repo_type="dataset") == []
    assert len(pulp_api.list("content", commit=commit)) == 2


def test_pulp_cli_sees_the_plugin(pulp_stack, tmp_path):
    import json
    import sys
    from pathlib import Path

    pulp = str(Path(sys.executable).parent / "pulp")
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[cli]\nbase_url = "{pulp_stack["api"]}"\nusername = "admin"\npassword = "password"\n'
    )
    result = subprocess.run(
        [pulp, "--config", str(config), "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    versions = {v["component"]: v for v in json.loads(result.stdout)["versions"]}
    assert versions["hugging_face"]["package"] == "pulp-hugging-face"
    assert versions["hugging_face"]["domain_compatible"] is True


@pytest.mark.parametrize("kind", ["hugging-face", "refs", "commits"])
def test_a_century_of_orphan_minutes_is_a_400_not_a_500(pulp_api, kind):
    """pulpcore's own filter overflows a date for this (found by schemathesis)."""
    url = pulp_api.url(f"/pulp/api/v3/content/hugging_face/{kind}/")
    assert pulp_api.session.get(url, params={"orphaned_for": 5}, timeout=30).status_code == 200
    huge = pulp_api.session.get(url, params={"orphaned_for": 99999999999}, timeout=30)
    assert huge.status_code == 400, huge.text
    assert "orphaned_for" in huge.text


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("POST", "add_role/", {"role": "x", "users": ["a\0"]}),
        ("POST", "remove_role/", {"role": "x\0y", "users": ["admin"]}),
        ("GET", "?pulp_last_updated__gt=3560-06-10T14:09:41%2B18:22", None),
    ],
    ids=["nul-user", "nul-role", "date-out-of-range"],
)
def test_values_postgresql_refuses_are_a_400_not_a_500(
    pulp_api, hf_remote_factory, method, path, data
):
    """pulpcore passes these to PostgreSQL, which refuses them (found by schemathesis)."""
    remote = hf_remote_factory()
    base = remote["pulp_href"] if method == "POST" else PLUGIN_API.format("remotes")
    refused = pulp_api.session.request(method, pulp_api.url(base + path), json=data, timeout=30)
    assert refused.status_code == 400, refused.text
    assert "Refused value" in refused.text
