"""pulpcore's repository upkeep on Hugging Face repositories: reclaim_space and
retain_repo_versions."""

import os

from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique

from .test_sync import FILES, sync


def files_of(pulp_api, version_href):
    return {
        (u["commit"], u["path_in_repo"]): u
        for u in pulp_api.list("content", repository_version=version_href)
    }


def test_reclaim_space_drops_the_bytes_of_files_only_older_versions_hold(
    pulp_api, fake_hub, hf_remote_factory, hf_repository_factory
):
    hub_repo = fake_hub.add_repo(f"org/{unique('reclaim')}")
    old = hub_repo.commit({"old.json": b'{"old": 1}', "w.bin": HubFile(os.urandom(4000), lfs=True)})
    remote = hf_remote_factory(includes=[{"repo": hub_repo.repo_id}])
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    first = pulp_api.get(repository["pulp_href"])["latest_version_href"]
    new = hub_repo.commit({"new.json": b'{"new": 2}', "w.bin": HubFile(os.urandom(4000), lfs=True)})
    sync(pulp_api, repository, remote, mirror=True)
    latest = pulp_api.get(repository["pulp_href"])["latest_version_href"]
    assert {c for c, _p in files_of(pulp_api, latest)} == {new}
    before = files_of(pulp_api, first)
    assert all(u["artifact"] for u in before.values())
    lfs_sha256 = before[(old, "w.bin")]["etag"]

    task = pulp_api.request(
        "POST",
        "/pulp/api/v3/repositories/reclaim_space/",
        json={"repo_hrefs": [repository["pulp_href"]], "repo_versions_keeplist": [latest]},
    )
    pulp_api.wait_task(task["task"])

    after = files_of(pulp_api, first)  # the content stays, in the same version...
    assert {k: u["pulp_href"] for k, u in after.items()} == {
        k: u["pulp_href"] for k, u in before.items()
    }
    assert all(u["artifact"] is None for u in after.values())  # ...without its bytes
    assert pulp_api.get("/pulp/api/v3/artifacts/", sha256=lfs_sha256)["count"] == 0
    kept = files_of(pulp_api, latest)
    assert len(kept) == 2 and all(u["artifact"] for u in kept.values())


def test_retain_repo_versions_keeps_the_newest_versions(
    pulp_api, fake_hub, hf_remote_factory, hf_repository_factory
):
    hub_repo = fake_hub.add_repo(f"org/{unique('retain')}")
    remote = hf_remote_factory(includes=[{"repo": hub_repo.repo_id}])
    repository = hf_repository_factory(retain_repo_versions=2)
    commits = []
    for n in range(3):
        commits.append(hub_repo.commit({"config.json": b'{"n": %d}' % n}))
        sync(pulp_api, repository, remote, mirror=True)
    versions = pulp_api.get(repository["versions_href"])["results"]
    assert [v["number"] for v in versions] == [3, 2]
    assert {c for c, _p in files_of(pulp_api, versions[0]["pulp_href"])} == {commits[2]}
    assert {c for c, _p in files_of(pulp_api, versions[1]["pulp_href"])} == {commits[1]}
    assert versions[0]["content_summary"]["present"][FILES]["count"] == 1
