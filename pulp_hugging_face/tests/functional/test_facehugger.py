"""facehugger through a live Pulp distribution: lock once, then install frozen from Pulp."""

import json

from facehugger.cli import main
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import unique


def test_facehugger_through_a_distribution(hf_distribution, fake_hub, tmp_path, monkeypatch):
    repo_id = f"org/{unique('fh')}"
    repo = fake_hub.add_repo(repo_id)
    commit = repo.commit(
        {"config.json": b'{"fh": 1}', "w.safetensors": HubFile(b"x" * 5000, lfs=True)}
    )
    endpoint = hf_distribution()["endpoint"]
    (tmp_path / "facehugger.yaml").write_text(f"models:\n  - repo: {repo_id}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home-a"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["-q"]) == 0
    locked = json.loads((tmp_path / "facehugger.lock").read_text())
    assert [(e["repo_id"], e["revision"], e["refs"]) for e in locked] == [
        (repo_id, commit, ["main"])
    ]
    # A second machine installs the lock frozen, entirely from Pulp storage.
    repo.commit({"config.json": b'{"fh": 2}', "w.safetensors": b"moved on"})
    fake_hub.reset_log()
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home-b"))
    assert main(["-q", "--frozen"]) == 0
    snapshot = tmp_path / "home-b" / "hub" / f"models--{repo_id.replace('/', '--')}"
    assert (snapshot / "snapshots" / commit / "config.json").read_bytes() == b'{"fh": 1}'
    assert (snapshot / "refs" / "main").read_text() == commit
    assert fake_hub.body_fetches() == []
