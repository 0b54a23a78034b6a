"""The command, end to end against the fake Hub (imported, not run as a subprocess)."""

import json
from pathlib import Path

import pytest
from hf_fake_hub import HubFile

from facehugger import __version__
from facehugger.cli import main

from .conftest import write_manifest


def cache_dir(env: Path, repo_id: str, repo_type: str = "model") -> Path:
    return env / "hf-home" / "hub" / f"{repo_type}s--{repo_id.replace('/', '--')}"


def test_resolve_download_and_lock(env, model, capsys):
    manifest = write_manifest(
        env,
        f"models:\n  - repo: {model.repo_id}\n  - repo: {model.repo_id}\n    ref: v1\n"
        f"    include: '*.json'\n",
    )
    assert main([str(manifest)]) == 0
    commit = model.refs["main"]
    folder = cache_dir(env, model.repo_id)
    snapshot = folder / "snapshots" / commit
    assert sorted(str(p.relative_to(snapshot)) for p in snapshot.rglob("*") if p.is_file()) == [
        "config.json",
        "model.safetensors",
        "tokenizer/vocab.txt",
    ]
    assert (folder / "refs" / "main").read_text() == commit
    assert (folder / "refs" / "v1").read_text() == commit
    locked = json.loads((env / "facehugger.lock").read_text())
    assert locked == [
        {
            "id": f"model/{model.repo_id}",
            "refs": ["main", "v1"],
            "repo_id": model.repo_id,
            "repo_type": "model",
            "revision": commit,
        }
    ]
    assert "wrote" in capsys.readouterr().out


def test_lock_pins_until_upgrade(env, model):
    write_manifest(env, f"models:\n  - repo: {model.repo_id}\n")
    assert main([]) == 0
    first = (env / "facehugger.lock").read_text()
    old = model.refs["main"]
    new = model.commit({"config.json": b'{"v": 2}'})
    assert main([]) == 0
    assert (env / "facehugger.lock").read_text() == first  # byte-identical, still pinned
    assert main(["--locked"]) == 0
    assert main(["--upgrade"]) == 0
    assert json.loads((env / "facehugger.lock").read_text())[0]["revision"] == new
    assert new != old
    assert (cache_dir(env, model.repo_id) / "refs" / "main").read_text() == new


def test_locked_fails_when_the_lock_would_change(env, model, hub, capsys):
    write_manifest(env, f"models:\n  - repo: {model.repo_id}\n")
    assert main([]) == 0
    other = hub.add_repo(model.repo_id + "-b")
    other.commit({"a.txt": b"a"})
    write_manifest(env, f"models:\n  - repo: {model.repo_id}\n  - repo: {other.repo_id}\n")
    assert main(["--locked"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_frozen_installs_the_lock_and_works_offline(env, model, monkeypatch, capsys):
    write_manifest(env, f"models:\n  - repo: {model.repo_id}\n    include: config.json\n")
    assert main([]) == 0
    locked = model.refs["main"]
    model.commit({"config.json": b'{"v": 3}'})  # upstream moves on
    monkeypatch.setenv("HF_HOME", str(env / "other-home"))
    assert main(["--frozen"]) == 0
    frozen = env / "other-home" / "hub" / f"models--{model.repo_id.replace('/', '--')}"
    assert (frozen / "snapshots" / locked / "config.json").read_bytes() == b'{"v": 1}'
    assert (frozen / "refs" / "main").read_text() == locked
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the network is gone
    assert main(["--frozen", "--quiet"]) == 0
    assert capsys.readouterr().out.count("wrote") == 1


def test_frozen_needs_a_lock_entry(env, model, capsys):
    write_manifest(env, f"models:\n  - repo: {model.repo_id}\n")
    assert main(["--frozen"]) == 1
    assert "no lock file" in capsys.readouterr().err
    (env / "facehugger.lock").write_text("[]")
    assert main(["--frozen"]) == 1
    assert f"no entry for model {model.repo_id}@main" in capsys.readouterr().err


def test_dry_run_writes_and_downloads_nothing(env, model, hub, capsys):
    write_manifest(
        env, f"models:\n  - repo: {model.repo_id}\n    exclude: ['tokenizer/*', '*.json']\n"
    )
    hub.reset_log()
    assert main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{model.refs['main']}: 1 files, 4096 bytes" in out
    assert "  model.safetensors" in out and "would write" in out
    assert not (env / "facehugger.lock").exists()
    assert not (env / "hf-home").exists()
    assert hub.body_fetches() == []
    assert main([]) == 0
    assert main(["--frozen", "--dry-run"]) == 0
    assert "would write" not in capsys.readouterr().out


def test_commit_ref_dataset_and_token(env, hub, monkeypatch, capsys):
    import uuid

    data = hub.add_repo(f"org/data-{uuid.uuid4().hex[:6]}", repo_type="dataset")
    commit = data.commit({"train.csv": b"a,b\n"})
    gated = hub.add_repo(f"org/gated-{uuid.uuid4().hex[:6]}", gated=True)
    gated.commit({"w.bin": HubFile(b"secret", lfs=True)})
    write_manifest(
        env,
        f"models:\n  - repo: {data.repo_id}\n    repo_type: dataset\n    ref: {commit}\n"
        f"  - repo: {gated.repo_id}\n",
    )
    assert main(["-q"]) == 1
    err = capsys.readouterr().err
    assert "gated" in err.lower() and "\n" not in err.rstrip("\n")
    hub.gated_access.setdefault("hf_valid_token", set()).add(("model", gated.repo_id))
    monkeypatch.setenv("HF_TOKEN", "hf_valid_token")
    assert main(["-q"]) == 0
    snapshot = cache_dir(env, data.repo_id, "dataset") / "snapshots" / commit
    assert (snapshot / "train.csv").read_bytes() == b"a,b\n"
    assert not (cache_dir(env, data.repo_id, "dataset") / "refs").exists()


def test_expected_errors_have_no_traceback(env, capsys, monkeypatch):
    write_manifest(env, "models:\n  - repo: org/does-not-exist\n")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("facehugger: error:") and "Traceback" not in err
    assert main(["missing.yaml"]) == 1
    (env / "facehugger.lock").mkdir()
    assert main([]) == 1  # an OSError reading the lock
    assert "error" in capsys.readouterr().err


def test_unreachable_hub(env, monkeypatch, capsys):
    write_manifest(env, "models:\n  - repo: org/m\n")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert main([]) == 1
    assert capsys.readouterr().err.startswith("facehugger: error:")
    monkeypatch.setenv("FACEHUGGER_DEBUG", "1")
    with pytest.raises(Exception, match="Connection refused"):
        main([])


def test_version_help_and_usage(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0 and "--frozen" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["--frozen", "--locked"])
    assert done.value.code == 2


def test_hub_cache_env(monkeypatch, tmp_path):
    from facehugger.sync import hub_cache

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "c"))
    assert hub_cache() == tmp_path / "c"
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert hub_cache() == tmp_path / "x" / "huggingface" / "hub"
