"""`pulp hugging-face remote`: create, show, list, update, destroy, roles; tokens never shown."""

import json

import pytest
import yaml

from pulp_hugging_face.pytest_plugin import unique

TOKEN = "hf_secret_value_0123456789"


def hidden(remote, field):
    return next(f["is_set"] for f in remote["hidden_fields"] if f["name"] == field)


def test_remote_lifecycle(pulp_cli, cli_names, fake_hub, tmp_path):
    name = cli_names("remote")
    includes = [{"repo": "org/model", "include": ["*.json"]}]
    created = pulp_cli.hf(
        f"remote create --name {name} --url {fake_hub.url} --token {TOKEN}"
        " --metadata-ttl 60 --policy on_demand --includes",
        json.dumps(includes),
    )
    remote = created.json()
    assert remote["url"] == fake_hub.url
    assert (remote["metadata_ttl"], remote["policy"], remote["includes"]) == (
        60,
        "on_demand",
        includes,
    )
    assert hidden(remote, "hf_token")
    assert TOKEN not in created.stdout + created.stderr

    shown = pulp_cli.hf(f"remote show --name {name}")
    assert shown.json()["pulp_href"] == remote["pulp_href"]
    assert TOKEN not in shown.stdout
    listed = pulp_cli.hf(f"remote list --name {name}").json()
    assert [r["pulp_href"] for r in listed] == [remote["pulp_href"]]
    by_href = pulp_cli.hf(f"remote show --href {remote['pulp_href']}")
    assert by_href.json()["name"] == name

    manifest = tmp_path / "facehugger.yaml"
    manifest.write_text(yaml.safe_dump({"models": [{"repo": "org/other", "include": ["*.md"]}]}))
    pulp_cli.hf(f"remote update --name {name} --manifest", manifest)
    assert pulp_cli.hf(f"remote show --name {name}").json()["includes"] == manifest.read_text()

    lock = tmp_path / "facehugger.lock"
    lock.write_text(json.dumps([{"repo_id": "org/m", "repo_type": "model", "revision": "a" * 40}]))
    pulp_cli.hf(f"remote update --name {name} --lock", lock)
    assert pulp_cli.hf(f"remote show --name {name}").json()["includes"] == lock.read_text()

    # --token '' removes the token; --token-file sets one again.
    pulp_cli.hf(f"remote update --name {name} --token ''")
    assert not hidden(pulp_cli.hf(f"remote show --name {name}").json(), "hf_token")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    pulp_cli.hf(f"remote update --name {name} --token-file", token_file)
    assert hidden(pulp_cli.hf(f"remote show --name {name}").json(), "hf_token")
    pulp_cli.hf(f"remote update --name {name} --token-file -", input="hf_other\n")

    pulp_cli.hf(f"remote label set --remote {name} --key team --value ml")
    labels = pulp_cli.hf(f"remote show --name {name}").json()["pulp_labels"]
    assert labels == {"team": "ml"}

    pulp_cli.hf(f"remote destroy --name {name}")
    gone = pulp_cli.hf_fails(f"remote show --name {name}")
    assert (
        gone.stderr.strip()
        == f"Error: Could not find hugging face remote with {{'name': '{name}'}}."
    )


def test_the_token_never_reaches_the_output_not_even_verbose(pulp_cli, cli_names, fake_hub):
    name = cli_names("remote")
    created = pulp_cli.ok(
        "-vvv",
        "hugging-face",
        "remote",
        "create",
        "--name",
        name,
        "--url",
        fake_hub.url,
        "--token",
        TOKEN,
    )
    assert '"hf_token": "***"' in created.stderr  # the request body was logged, redacted
    assert TOKEN not in created.stdout + created.stderr
    updated = pulp_cli.ok(
        "-vvv", "hugging-face", "remote", "update", "--name", name, "--token", TOKEN
    )
    assert TOKEN not in updated.stdout + updated.stderr
    listed = pulp_cli.ok("-vvv", "hugging-face", "remote", "list", "--name", name)
    assert TOKEN not in listed.stdout + listed.stderr


def test_headers_are_stored_but_not_echoed(pulp_cli, cli_names, fake_hub):
    """pulp-cli 0.41's own --header option prints the headers to stderr; ours does not."""
    name = cli_names("remote")
    created = pulp_cli.hf(f"remote create --name {name} --header X-Proxy-Auth:hdr-secret-1")
    assert "hdr-secret-1" not in created.stderr
    assert created.json()["headers"] == [{"X-Proxy-Auth": "hdr-secret-1"}]
    cleared = pulp_cli.hf(f"remote update --name {name} --header ''")
    assert "()" not in cleared.stderr  # pulp-cli 0.41 echoes the (empty) header tuple
    assert pulp_cli.hf(f"remote show --name {name}").json()["headers"] == []
    bad = pulp_cli.hf_fails(f"remote update --name {name} --header nocolon")
    assert "format must be <header-name>:<value>" in bad.stderr


def test_the_token_set_from_a_file_unlocks_a_gated_repo(pulp_cli, cli_pinned, fake_hub, tmp_path):
    gated = fake_hub.add_repo(f"org/{unique('gated')}", gated=True)
    gated.commit({"config.json": b"{}"})
    fake_hub.gated_access.setdefault("hf_valid_token", set()).add(("model", gated.repo_id))
    token_file = tmp_path / "token"
    token_file.write_text("hf_valid_token\n")
    remote, repository = cli_pinned([{"repo": gated.repo_id}], sync=False)
    refused = pulp_cli.hf_fails(f"repository sync --name {repository}")
    assert gated.repo_id in refused.stderr and "gated" in refused.stderr.lower()

    pulp_cli.hf(f"remote update --name {remote} --token-file", token_file)
    pulp_cli.hf(f"repository sync --name {repository}")


@pytest.mark.parametrize(
    "args, message",
    [
        (["show", "--name", "no-such-remote"], "Could not find hugging face remote"),
        (["update", "--name", "no-such-remote", "--policy", "streamed"], "Could not find"),
        (["destroy", "--name", "no-such-remote"], "Could not find"),
        (["create", "--name", "{name}", "--url", "not a url"], "Enter a valid URL"),
        (["create", "--name", "{name}", "--manifest", "/no/such/facehugger.yaml"], "No such file"),
        (["create", "--name", "{name}", "--includes", "[1"], "Failed to decode JSON"),
        (["create", "--name", "{name}", "--includes", '[{"repo": "bad id!!"}]'], "includes"),
        (["create", "--name", "{name}", "--token", "a", "--token-file", "-"], "not both"),
        (["create", "--name", "{name}", "--includes", "[]", "--lock", "-"], "one of"),
        (["create", "--name", "{name}", "--metadata-ttl", "-1"], "--metadata-ttl"),
        (["create", "--name", "{name}", "--policy", "sometimes"], "--policy"),
    ],
)
def test_bad_input_gets_one_clear_error(pulp_cli, cli_names, args, message):
    name = cli_names("remote")
    args = [name if a == "{name}" else a for a in args]
    failed = pulp_cli.hf_fails("remote", *args, input="hf_from_stdin\n")
    assert message in failed.stderr


def test_an_unreadable_manifest_is_named(pulp_cli, cli_names, tmp_path):
    manifest = tmp_path / "facehugger.yaml"
    manifest.write_text("models:\n  - repo: ok/model\n  - repo: 'bad id!!'\n")
    failed = pulp_cli.hf_fails(f"remote create --name {cli_names('remote')} --manifest", manifest)
    assert "bad id!!" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1


def test_a_wrong_password_is_one_line(pulp_cli):
    failed = pulp_cli.fails("--password", "wrong", "hugging-face", "remote", "list")
    assert failed.stderr.strip().splitlines() == [
        "Error: Authentication failed for remotes_hugging_face_hugging_face_list."
    ]


def test_remote_roles(pulp_cli, cli_names):
    name = cli_names("remote")
    pulp_cli.hf(f"remote create --name {name}")
    user = unique("cli-user")
    pulp_cli.ok("user", "create", "--username", user, "--password", "Un1que-pass-word")
    try:
        role = "hugging_face.huggingfaceremote_viewer"
        pulp_cli.hf(f"remote role add --name {name} --role {role} --user {user}")
        roles = pulp_cli.hf(f"remote role list --name {name}").json()
        assert {"role": role, "users": [user], "groups": []} in roles["roles"]
        pulp_cli.hf(f"remote role remove --name {name} --role {role} --user {user}")
        roles = pulp_cli.hf(f"remote role list --name {name}").json()
        assert all(user not in r["users"] for r in roles["roles"])
    finally:
        pulp_cli("user", "destroy", "--username", user)
