"""Content guards on a Hugging Face distribution: the Hub routes skip pulpcore's per-request
authentication (the domain comes from memory), so a guard must still see who asks."""

import requests

from pulp_hugging_face.pytest_plugin import ADMIN, unique

GUARDS = "/pulp/api/v3/contentguards/core/rbac/"


def test_an_rbac_guard_lets_only_permitted_users_download(pulp_api, hf_distribution, repo):
    guard = pulp_api.request("POST", GUARDS, json={"name": unique("guard")})
    pulp_api.created.append(guard["pulp_href"])
    served = hf_distribution()
    url = f"{served['endpoint']}/{repo.repo_id}/resolve/main/config.json"
    assert requests.get(url, timeout=30).status_code == 200  # warm, and remembered unguarded
    task = pulp_api.request(
        "PATCH", served["distribution"]["pulp_href"], json={"content_guard": guard["pulp_href"]}
    )
    pulp_api.wait_task(task["task"])
    for method in ("HEAD", "GET"):
        anonymous = requests.request(method, url, timeout=30)
        assert anonymous.status_code == 403, (method, anonymous.status_code)
        wrong = requests.request(method, url, auth=("admin", "wrong"), timeout=30)
        assert wrong.status_code in (401, 403), (method, wrong.status_code)
        admin = requests.request(method, url, auth=ADMIN, timeout=30)
        assert admin.status_code == 200, (method, admin.status_code)
    assert requests.get(url, auth=ADMIN, timeout=30).content == b'{"v": 1}'
    api_url = f"{served['endpoint']}/api/models/{repo.repo_id}/revision/main"
    assert requests.get(api_url, timeout=30).status_code == 403
    assert requests.get(api_url, auth=ADMIN, timeout=30).json()["id"] == repo.repo_id


def test_an_unknown_domain_is_a_404(pulp_domains_stack):
    for domain in ("no-such-domain", "default"):
        url = f"{pulp_domains_stack.content}/pulp/content/{domain}/nowhere/o/m/resolve/main/f.txt"
        assert requests.get(url, timeout=30).status_code == 404
