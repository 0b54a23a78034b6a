"""Hugging Face tokens Pulp issues: REST, the secret shown once, `hf auth whoami`, revocation,
and reads through a content guard with HF_TOKEN alone."""

import requests

from pulp_hugging_face.pytest_plugin import ADMIN, unique

from .publishing import TOKENS, client_env, issue_token, run_hf

GUARDS = "/pulp/api/v3/contentguards/core/rbac/"


def test_a_token_is_shown_once_listed_by_its_owner_and_revoked(pulp_api, pulp_user):
    alice, bob = pulp_user(), pulp_user()
    created = issue_token(pulp_api, alice, scope="write")
    secret = created["token"]
    assert secret.startswith("hf_") and created["hint"] == secret[:8]
    url = pulp_api.url(TOKENS)
    mine = requests.get(url, auth=alice, timeout=30).json()["results"]
    assert [(t["name"], t["token"], t["user"]) for t in mine] == [(created["name"], None, alice[0])]
    assert requests.get(url, auth=bob, timeout=30).json()["count"] == 0  # not bob's
    assert (
        requests.delete(pulp_api.url(created["pulp_href"]), auth=bob, timeout=30).status_code == 404
    )
    everyone = pulp_api.get(TOKENS, user=None)["results"]  # an admin sees every token
    assert created["pulp_href"] in {t["pulp_href"] for t in everyone}
    assert secret not in str(everyone)
    for bad in (
        {"name": "x", "scope": "admin"},
        {"name": "x", "expires_at": "2001-01-01T00:00Z"},
        {},
    ):
        assert requests.post(url, json=bad, auth=alice, timeout=30).status_code == 400
    assert (
        requests.delete(pulp_api.url(created["pulp_href"]), auth=alice, timeout=30).status_code
        == 204
    )


def test_hf_auth_whoami_and_a_revoked_token(pulp_api, pulp_user, hf_distribution, tmp_path):
    user = pulp_user()
    created = issue_token(pulp_api, user, scope="read")
    endpoint = hf_distribution(with_repository=False)["endpoint"]
    env = client_env(endpoint, created["token"], tmp_path / "home")
    code, out = run_hf(["auth", "whoami"], env)
    assert code == 0 and user[0] in out, out
    whoami = requests.get(
        f"{endpoint}/api/whoami-v2",
        headers={"Authorization": f"Bearer {created['token']}"},
        timeout=30,
    ).json()
    assert whoami["orgs"] == [] and whoami["auth"]["accessToken"] == {
        "displayName": created["name"],
        "role": "read",
        "createdAt": whoami["auth"]["accessToken"]["createdAt"],
    }
    login_env = client_env(endpoint, None, tmp_path / "login-home")
    code, out = run_hf(["auth", "login", "--token", created["token"]], login_env)
    assert code == 0, out
    stored = (tmp_path / "login-home" / "stored_tokens").read_text()
    assert f"[{created['name']}]" in stored  # named by the token's displayName
    requests.delete(pulp_api.url(created["pulp_href"]), auth=user, timeout=30)
    code, out = run_hf(["auth", "whoami"], env)
    assert code != 0 and "Invalid user token" in out, out
    assert requests.get(f"{endpoint}/api/whoami-v2", timeout=30).status_code == 401


def test_a_guarded_distribution_lets_a_token_holder_in(
    pulp_api, pulp_user, hf_distribution, fake_hub
):
    repo_id = f"org/{unique('guarded')}"
    fake_hub.add_repo(repo_id).commit({"config.json": b"{}"})
    guard = pulp_api.request("POST", GUARDS, json={"name": unique("guard")})
    pulp_api.created.append(guard["pulp_href"])
    served = hf_distribution()
    task = pulp_api.request(
        "PATCH", served["distribution"]["pulp_href"], json={"content_guard": guard["pulp_href"]}
    )
    pulp_api.wait_task(task["task"])
    allowed = pulp_user("core.rbaccontentguard_downloader", guard["pulp_href"])
    other = pulp_user()
    url = f"{served['endpoint']}/{repo_id}/resolve/main/config.json"

    def get(token):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(url, headers=headers, timeout=30)

    assert get(issue_token(pulp_api, allowed, scope="read")["token"]).content == b"{}"
    assert get(issue_token(pulp_api, other, scope="read")["token"]).status_code == 403
    bad = get("hf_" + "y" * 40)
    assert bad.status_code == 401
    assert bad.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    assert get(None).status_code == 403
    assert requests.get(url, auth=ADMIN, timeout=30).status_code == 200  # basic auth as before


def test_an_unguarded_read_ignores_a_token_pulp_did_not_issue(hf_distribution, fake_hub):
    repo_id = f"org/{unique('open')}"
    fake_hub.add_repo(repo_id).commit({"config.json": b"{}"})
    served = hf_distribution()
    fake_hub.reset_log()
    url = f"{served['endpoint']}/{repo_id}/resolve/main/config.json"
    headers = {"Authorization": "Bearer hf_my_huggingface_co_token"}
    assert requests.get(url, headers=headers, timeout=30).content == b"{}"
    assert not any("my_huggingface_co_token" in str(r.get("headers")) for r in fake_hub.requests)
