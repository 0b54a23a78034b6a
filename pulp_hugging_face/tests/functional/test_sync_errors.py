"""A sync that cannot pin what the includes name fails, names the entry and makes no version."""

import hashlib
import os

import pytest
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import PLUGIN_API, unique


def finished(pulp_api, repository, remote, timeout=120):
    """Start a sync and return its task once it ended, whatever the outcome."""
    href = pulp_api.request(
        "POST", repository["pulp_href"] + "sync/", json={"remote": remote["pulp_href"]}
    )["task"]
    return pulp_api.ended_task(href, timeout)


def assert_failed(pulp_api, task, repository, *words):
    assert task["state"] == "failed", task
    message = task["error"]["description"]
    for word in words:
        assert word in message, message
    latest = pulp_api.get(repository["pulp_href"])["latest_version_href"]
    assert latest.endswith("/versions/0/")


@pytest.fixture
def model(fake_hub):
    repo = fake_hub.add_repo(f"org/{unique('err')}")
    repo.commit({"config.json": b'{"v": 1}', "w.bin": HubFile(os.urandom(2000), lfs=True)})
    return repo


def test_unknown_repo_or_ref_fails_before_anything_is_downloaded(
    pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    missing = f"org/{unique('missing')}"
    for entries, words in (
        ([{"repo": model.repo_id}, {"repo": missing}], (f"{missing}@main", "RepoNotFound")),
        (
            [{"repo": model.repo_id}, {"repo": model.repo_id, "ref": "no-such-branch"}],
            (f"{model.repo_id}@no-such-branch", "RevisionNotFound"),
        ),
    ):
        repository = hf_repository_factory()
        fake_hub.reset_log()
        task = finished(pulp_api, repository, hf_remote_factory(includes=entries))
        assert_failed(pulp_api, task, repository, *words)
        assert fake_hub.body_fetches() == []


def test_a_gated_repo_needs_a_token_that_unlocks_it(
    pulp_api, fake_hub, hf_remote_factory, hf_repository_factory
):
    gated = fake_hub.add_repo(f"org/{unique('gated')}", gated=True)
    gated.commit({"config.json": b"{}"})
    remote = hf_remote_factory(includes=[{"repo": gated.repo_id}])
    repository = hf_repository_factory()
    assert_failed(
        pulp_api, finished(pulp_api, repository, remote), repository, gated.repo_id, "GatedRepo"
    )

    token = f"hf_{unique('gate')}"
    fake_hub.valid_tokens.add(token)
    task = pulp_api.request("PATCH", remote["pulp_href"], json={"hf_token": token})
    pulp_api.wait_task(task["task"])
    assert_failed(  # a valid token that was not granted access
        pulp_api, finished(pulp_api, repository, remote), repository, gated.repo_id, "GatedRepo"
    )
    fake_hub.gated_access[token] = {("model", gated.repo_id)}
    assert finished(pulp_api, repository, remote)["state"] == "completed"
    units = pulp_api.list("content", repo_id=gated.repo_id)
    assert [(u["path_in_repo"], bool(u["artifact"])) for u in units] == [("config.json", True)]


@pytest.mark.parametrize("path", ["../x", "sub/../../x", "/etc/passwd", "a//b"])
def test_a_hostile_listing_fails_the_sync(
    path, pulp_api, fake_hub, model, hf_remote_factory, hf_repository_factory
):
    model.extra_listing = [{"type": "file", "oid": "a" * 40, "size": 1, "path": path}]
    repository = hf_repository_factory()
    fake_hub.reset_log()
    task = finished(pulp_api, repository, hf_remote_factory(includes=[{"repo": model.repo_id}]))
    assert_failed(pulp_api, task, repository, f"{model.repo_id}@main", "invalid file", path)
    assert fake_hub.body_fetches() == []


@pytest.mark.parametrize("lfs", [False, True], ids=["git-blob", "lfs"])
def test_bytes_that_do_not_match_upstream_fail_an_immediate_sync_and_store_nothing(
    lfs, pulp_api, fake_hub, hf_remote_factory, hf_repository_factory
):
    good, bad = os.urandom(5000), os.urandom(5000)
    hub_repo = fake_hub.add_repo(f"org/{unique('bad')}")
    hub_repo.commit({"ok.json": b"{}", "broken.bin": HubFile(good, lfs=lfs, served=bad)})
    repository = hf_repository_factory()
    remote = hf_remote_factory(includes=[{"repo": hub_repo.repo_id}])
    task = finished(pulp_api, repository, remote)
    assert_failed(pulp_api, task, repository)
    assert "broken.bin" not in {
        u["path_in_repo"] for u in pulp_api.list("content", repo_id=hub_repo.repo_id)
    }
    for data in (good, bad):
        sha256 = hashlib.sha256(data).hexdigest()
        assert pulp_api.get("/pulp/api/v3/artifacts/", sha256=sha256)["count"] == 0


INVALID = [
    ([{"repo": "org/ok"}, {"repo": "org/ok", "ref": "../main"}], "entry 2 (org/ok@../main)"),
    ([{"repo": "org/ok"}, {"repo": "bad id!"}], "entry 2 (bad id!@main)"),
    ([{"repo": "org/ok", "repo_type": "kernel"}], "includes[1].repo_type"),
    ([{"repo": "org/ok", "colour": "red"}], "includes[1]"),
    ("models:\n  - repo: org/ok\n  - repo: org/ok\n    ref: ../x\n", "entry 2 (org/ok@../x)"),
    ('[{"repo_id": "org/x", "repo_type": "model", "revision": "main"}]', "entry 1: revision"),
    ({"repo": "org/ok"}, "expected a list"),
]


@pytest.mark.parametrize("value,words", INVALID)
def test_invalid_includes_are_refused_at_the_api_naming_the_entry(
    value, words, pulp_api, hf_remote_factory
):
    url = pulp_api.url(PLUGIN_API.format("remotes"))
    body = {"name": unique("bad"), "url": "https://hub.invalid", "includes": value}
    response = pulp_api.session.post(url, json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert words in str(response.json()["includes"]), response.text

    remote = hf_remote_factory(includes=[{"repo": "org/ok"}])
    response = pulp_api.session.patch(
        pulp_api.url(remote["pulp_href"]), json={"includes": value}, timeout=30
    )
    assert response.status_code == 400, response.text
    assert words in str(response.json()["includes"]), response.text
