"""Content apps remember distributions and files in memory; changes must show at once."""

import time

import requests

from pulp_hugging_face.pytest_plugin import unique


def test_changes_to_a_distribution_take_effect_at_once(pulp_api, hf_distribution, fake_hub):
    repo_id = f"org/{unique('cfg')}"
    commit = fake_hub.add_repo(repo_id).commit({"a.txt": b"a"})
    setup = hf_distribution(with_repository=False)
    url = f"{setup['endpoint']}/{repo_id}/resolve/{commit}/a.txt"
    for _ in range(3):  # warm every content-app process
        assert requests.get(url, timeout=30).content == b"a"
    task = pulp_api.request("PATCH", setup["distribution"]["pulp_href"], json={"remote": None})
    pulp_api.wait_task(task["task"])
    for _ in range(4):
        response = requests.get(url, timeout=30)
        assert response.status_code == 404
        assert response.headers["X-Error-Code"] == "EntryNotFound"
    task = pulp_api.request("DELETE", setup["distribution"]["pulp_href"])
    pulp_api.wait_task(task["task"])
    for _ in range(4):
        assert requests.head(url, timeout=30).status_code == 404


def test_orphaned_file_is_fetched_again(pulp_api, hf_distribution, fake_hub):
    repo_id = f"org/{unique('orphan')}"
    commit = fake_hub.add_repo(repo_id).commit({"b.txt": b"b"})
    setup = hf_distribution(with_repository=False)
    url = f"{setup['endpoint']}/{repo_id}/resolve/{commit}/b.txt"
    for _ in range(3):
        assert requests.get(url, timeout=30).content == b"b"
    pulp_api.wait_for_units(1, repo_id=repo_id)
    deadline = time.time() + 30  # its files are kept in a repository Pulp made for it...
    while not (cache := pulp_api.get(setup["distribution"]["pulp_href"])["cache_repository"]):
        assert time.time() < deadline
        time.sleep(0.2)
    pulp_api.wait_task(pulp_api.request("DELETE", cache)["task"])  # ...which an admin deletes
    task = pulp_api.request(
        "POST", "/pulp/api/v3/orphans/cleanup/", json={"orphan_protection_time": 0}
    )
    pulp_api.wait_task(task["task"])
    assert pulp_api.list("content", repo_id=repo_id) == []
    fake_hub.reset_log()
    for _ in range(3):
        assert requests.get(url, timeout=30).content == b"b"
    assert fake_hub.body_fetches("b.txt")
