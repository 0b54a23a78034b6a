"""`pulp hugging-face repository`: CRUD, sync with progress, versions, repository content, and
`pulp hugging-face content` with its Hub filters."""

import json
import os

import pytest
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique


@pytest.fixture
def model(fake_hub):
    repo = fake_hub.add_repo(f"org/{unique('climodel')}")
    repo.commit(
        {
            "config.json": b'{"v": 1}',
            "model.safetensors": HubFile(os.urandom(200_000), lfs=True),
            "README.md": b"# hi",
        }
    )
    return repo


@pytest.fixture
def synced(pulp_cli, cli_pinned, model):
    """A remote naming `model` (JSON and weights), a repository using it, one sync done."""
    remote, repository = cli_pinned(
        [{"repo": model.repo_id, "include": ["*.json", "*.safetensors"]}], sync=False
    )
    first = pulp_cli.hf(f"repository sync --name {repository}")
    return {"remote": remote, "repository": repository, "first_sync": first}


def listed(pulp_cli, line, *args):
    """`pulp hugging-face <line> <args> --limit 1000`, parsed."""
    return pulp_cli.hf(line, *args, "--limit", "1000").json()


def test_sync_shows_progress_and_says_what_it_made(pulp_cli, synced, model):
    stderr = synced["first_sync"].stderr
    assert "Resolving repos: 1 of 1" in stderr
    assert "Listing files: 2" in stderr
    size = len(model.commits[model.refs["main"]]["model.safetensors"].data) + len(b'{"v": 1}')
    assert f"Downloading bytes: {size / 1024:.1f} KiB" in stderr
    assert stderr.strip().endswith(f"Synced '{synced['repository']}': created version 1.")

    again = pulp_cli.hf(f"repository sync --name {synced['repository']}")
    assert again.stderr.strip().endswith("nothing changed upstream, version 1 stays the latest.")


def test_versions_and_repository_content(pulp_cli, synced, model, fake_hub):
    name = synced["repository"]
    versions = listed(pulp_cli, f"repository version list --repository {name}")
    assert [v["number"] for v in versions] == [1, 0]
    shown = pulp_cli.hf(f"repository version show --repository {name} --version 1").json()
    present = shown["content_summary"]["present"]
    assert {k: v["count"] for k, v in present.items()} == {
        "hugging_face.hugging-face": 2,
        "hugging_face.hugging-face-ref": 1,
        "hugging_face.hugging-face-commit": 1,
    }
    files = listed(pulp_cli, f"repository content list --repository {name}")
    assert sorted(f["path_in_repo"] for f in files) == ["config.json", "model.safetensors"]
    refs = listed(pulp_cli, f"repository content --type ref list --repository {name}")
    assert [(r["name"], r["commit"]) for r in refs] == [("main", model.refs["main"])]
    commits = listed(
        pulp_cli, f"repository content --type commit list --repository {name} --version 1"
    )
    assert [c["commit"] for c in commits] == [model.refs["main"]]

    # A new upstream commit makes version 2; version 1 can then be destroyed.
    model.commit({"config.json": b'{"v": 2}'})
    pulp_cli.hf(f"repository sync --name {name}")
    pulp_cli.hf(f"repository version destroy --repository {name} --version 1")
    versions = listed(pulp_cli, f"repository version list --repository {name}")
    assert [v["number"] for v in versions] == [2, 0]
    missing = pulp_cli.hf_fails(f"repository version show --repository {name} --version 1")
    assert "Could not find" in missing.stderr

    # Remove one file from the repository, then add it back, by href.
    def present():
        found = listed(pulp_cli, f"repository content list --repository {name}")
        return {(f["path_in_repo"], f["commit"]): f["pulp_href"] for f in found}

    before = present()  # a sync without --mirror adds: both commits' files are there
    assert len(before) == 3
    config = before[("config.json", model.refs["main"])]
    pulp_cli.hf(f"repository content remove --repository {name} --href {config}")
    assert set(present()) == set(before) - {("config.json", model.refs["main"])}
    pulp_cli.hf(f"repository content add --repository {name} --href {config}")
    assert present() == before


def test_content_filters(pulp_cli, synced, model):
    commit = model.refs["main"]
    files = listed(pulp_cli, f"content list --repo-id {model.repo_id}")
    assert sorted(f["path_in_repo"] for f in files) == ["config.json", "model.safetensors"]
    one = listed(
        pulp_cli,
        f"content list --repo-id {model.repo_id} --commit {commit}"
        " --path config.json --repo-type model",
    )
    assert [(f["path_in_repo"], f["commit"]) for f in one] == [("config.json", commit)]
    assert listed(pulp_cli, f"content list --repo-id {model.repo_id} --repo-type dataset") == []
    shown = pulp_cli.hf(f"content show --href {one[0]['pulp_href']}").json()
    assert shown["etag"] == one[0]["etag"]
    refs = listed(pulp_cli, f"content --type ref list --repo-id {model.repo_id} --ref main")
    assert [r["commit"] for r in refs] == [commit]
    commits = listed(pulp_cli, f"content --type commit list --repo-id {model.repo_id}")
    assert [c["info"]["sha"] for c in commits] == [commit]
    wrong = pulp_cli.hf_fails("content --type ref list --path x")
    assert "No such option" in wrong.stderr
    bad_type = pulp_cli.hf_fails("content list --repo-type book")
    assert "--repo-type" in bad_type.stderr


def test_repository_crud_and_sync_errors(pulp_cli, cli_names, fake_hub):
    name, remote = cli_names("repository"), cli_names("remote")
    created = pulp_cli.hf(f"repository create --name {name} --retain-repo-versions 3").json()
    assert created["retain_repo_versions"] == 3 and created["remote"] is None
    no_remote = pulp_cli.hf_fails(f"repository sync --name {name}")
    assert no_remote.stderr.strip() == f"Error: Repository '{name}' has no remote: give --remote."

    missing = json.dumps([{"repo": "org/does-not-exist"}])
    pulp_cli.hf(f"remote create --name {remote} --url {fake_hub.url} --includes", missing)
    failed = pulp_cli.hf_fails(f"repository sync --name {name} --remote {remote}")
    assert "org/does-not-exist" in failed.stderr and "failed" in failed.stderr

    pulp_cli.hf(f"repository update --name {name} --remote {remote} --description d")
    shown = pulp_cli.hf(f"repository show --name {name}").json()
    assert shown["remote"].endswith("/") and shown["description"] == "d"
    assert [r["name"] for r in listed(pulp_cli, f"repository list --name {name}")] == [name]
    unknown = pulp_cli.hf_fails(f"repository update --name {name} --remote no-such-remote")
    assert "Could not find hugging face remote" in unknown.stderr
    tasks = listed(pulp_cli, f"repository task list --repository {name}")
    assert [t["state"] for t in tasks if t["name"].endswith("synchronize")] == ["failed"]
    pulp_cli.hf(f"repository destroy --name {name}")
    assert pulp_cli.hf_fails(f"repository show --name {name}")


def test_background_sync_returns_at_once(pulp_cli, synced, pulp_api):
    started = pulp_cli.ok(
        "--background", "hugging-face", "repository", "sync", "--name", synced["repository"]
    )
    assert "Started background task" in started.stderr
    href = started.stderr.split("Started background task ")[1].split()[0]
    assert pulp_api.wait_task(href)["name"].endswith("synchronize")
