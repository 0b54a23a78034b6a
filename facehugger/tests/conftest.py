"""Fixtures: the repository's fake Hub (aiohttp only, no pulpcore) and a private HF cache."""

import uuid
from pathlib import Path

import pytest
from hf_fake_hub import FakeHub, HubFile


@pytest.fixture(scope="session")
def hub():
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.fixture
def env(monkeypatch, tmp_path, hub):
    """HF_ENDPOINT at the fake Hub, HF_HOME in a temporary folder."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for name in ("HF_TOKEN", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "FACEHUGGER_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def model(hub):
    """A model with a config, weights and a tokenizer folder, on `main` and tag `v1`."""
    repo = hub.add_repo(f"org/model-{uuid.uuid4().hex[:8]}")
    first = repo.commit(
        {
            "config.json": b'{"v": 1}',
            "model.safetensors": HubFile(b"w" * 4096, lfs=True),
            "tokenizer/vocab.txt": b"a\nb\n",
        },
        ref="v1",
    )
    repo.tags.add("v1")
    repo.refs["main"] = first
    return repo


def write_manifest(folder: Path, text: str) -> Path:
    path = folder / "facehugger.yaml"
    path.write_text(text)
    return path
