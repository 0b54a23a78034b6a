"""`make run`'s pulp-cli set-up (scripts/devstack.py): its config, the hint, the API cache."""

import runpy
import tomllib
from pathlib import Path

import pytest

DEVSTACK = Path(__file__).resolve().parents[3] / "scripts" / "devstack.py"


@pytest.fixture
def stack(tmp_path, monkeypatch):
    monkeypatch.setenv("PULP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PULP_API_PORT", "24999")
    monkeypatch.setenv("PULP_ADMIN_PASSWORD", "s3cret")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PULP_DOMAIN_ENABLED", raising=False)
    made = runpy.run_path(str(DEVSTACK))["Stack"]()
    made.state.mkdir(parents=True)
    return made


def test_the_config_names_this_stack_and_is_private(stack):
    config = stack.write_cli_config()
    assert tomllib.loads(config.read_text())["cli"] == {
        "base_url": "http://127.0.0.1:24999",
        "username": "admin",
        "password": "s3cret",
    }
    assert config.stat().st_mode & 0o077 == 0


def test_a_user_without_a_pulp_config_gets_this_one(stack, tmp_path):
    config = stack.write_cli_config()
    hint = stack.cli_hint(config)
    user_config = tmp_path / "config" / "pulp" / "cli.toml"
    assert user_config.read_text() == config.read_text()
    assert "; pulp hugging-face remote list" in hint and "--config" not in hint


def test_a_user_config_of_their_own_is_left_alone(stack, tmp_path):
    user_config = tmp_path / "config" / "pulp" / "cli.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text('[cli]\nbase_url = "https://pulp.example"\n')
    config = stack.write_cli_config()
    hint = stack.cli_hint(config)
    assert user_config.read_text() == '[cli]\nbase_url = "https://pulp.example"\n'
    assert f"pulp --config {config} hugging-face remote list" in hint


def test_a_restarted_api_forgets_only_its_own_cached_api_document(stack, tmp_path):
    squeezer = tmp_path / "cache" / "squeezer"
    squeezer.mkdir(parents=True)
    ours = squeezer / "http___127.0.0.1_24999__pulp_api_v3_docs_api.json"
    other = squeezer / "http___127.0.0.1_24998__pulp_api_v3_docs_api.json"
    ours.write_text("{}")
    other.write_text("{}")
    stack.forget_cached_api()
    assert not ours.exists() and other.exists()
