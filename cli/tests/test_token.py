"""`pulp hugging-face token`: create (the secret shown once), list, show, destroy."""

import requests


def test_token_lifecycle(pulp_cli, hf_distribution):
    endpoint = hf_distribution(with_repository=False)["endpoint"]
    created = pulp_cli.hf("token create --name ci --scope write").json()
    secret = created["token"]
    assert secret.startswith("hf_") and created["scope"] == "write"
    whoami = f"{endpoint}/api/whoami-v2"
    auth = {"Authorization": f"Bearer {secret}"}
    assert (
        requests.get(whoami, headers=auth, timeout=30).json()["auth"]["accessToken"]["role"]
        == "write"
    )
    listed = pulp_cli.hf("token list").stdout
    assert created["pulp_href"] in listed and secret not in listed
    shown = pulp_cli.hf(f"token show --href {created['pulp_href']}")
    assert shown.json()["token"] is None and secret not in shown.stdout
    pulp_cli.hf(f"token destroy --href {created['pulp_href']}")
    assert requests.get(whoami, headers=auth, timeout=30).status_code == 401
    failed = pulp_cli.hf_fails("token create --name x --scope admin")
    assert "admin" in failed.stderr
