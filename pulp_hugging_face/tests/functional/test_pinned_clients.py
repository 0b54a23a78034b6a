"""What ML engineers run, against a pinned version with the Hub gone: `hf download`, `hf cache
ls`, transformers' AutoConfig and datasets' load_dataset, each in its own process with
HF_ENDPOINT set, as users set it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pulp_hugging_face.pytest_plugin import unique

from .test_sync import sync

CONFIG = {"model_type": "bert", "hidden_size": 48, "num_hidden_layers": 2, "vocab_size": 99}
CSV = b"text,label\nhello,1\nworld,0\npulp,1\n"


@pytest.fixture
def offline_endpoint(
    pulp_api, fake_hub, hf_remote_factory, hf_repository_factory, hf_distribution_factory
):
    """A model and a dataset pinned in one version, served by a distribution with no remote;
    the fake Hub answers 503 to everything while the test runs."""
    model = fake_hub.add_repo(f"org/{unique('bert')}")
    model.commit({"config.json": json.dumps(CONFIG).encode(), "README.md": b"# tiny"})
    dataset = fake_hub.add_repo(f"org/{unique('data')}", repo_type="dataset")
    dataset.commit({"data/train.csv": CSV, "README.md": b"---\nlicense: mit\n---\n"})
    remote = hf_remote_factory(
        includes=[{"repo": model.repo_id}, {"repo": dataset.repo_id, "repo_type": "dataset"}]
    )
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    endpoint = hf_distribution_factory(repository=repository)["base_url"].rstrip("/")
    fake_hub.fail_with = 503
    fake_hub.reset_log()
    yield endpoint, model, dataset
    fake_hub.fail_with = None
    assert fake_hub.requests == [], "a client reached the Hub"


def run(code_or_args, endpoint, home):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "HUGGINGFACE_"))
    }
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(home), HF_HUB_DISABLE_TELEMETRY="1")
    args = code_or_args if isinstance(code_or_args, list) else [sys.executable, "-c", code_or_args]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_hf_cli_downloads_and_lists_the_pinned_commit(offline_endpoint, tmp_path):
    endpoint, model, _ = offline_endpoint
    hf = shutil.which("hf", path=str(Path(sys.executable).parent))
    run([hf, "download", model.repo_id], endpoint, tmp_path)
    listed = json.loads(
        run([hf, "cache", "ls", "--revisions", "--format", "json"], endpoint, tmp_path)
    )
    entry = next(item for item in listed if item["repo_id"] == model.repo_id)
    assert entry["revision"] == model.refs["main"]
    assert entry["refs"] == ["main"]


def test_transformers_loads_a_config(offline_endpoint, tmp_path):
    endpoint, model, _ = offline_endpoint
    out = run(
        "from transformers import AutoConfig\n"
        f"config = AutoConfig.from_pretrained({model.repo_id!r})\n"
        "print(type(config).__name__, config.hidden_size, config.num_hidden_layers)\n",
        endpoint,
        tmp_path,
    )
    assert out.split() == ["BertConfig", "48", "2"]


def test_datasets_loads_a_dataset(offline_endpoint, tmp_path):
    endpoint, _, dataset = offline_endpoint
    out = run(
        "from datasets import load_dataset\n"
        f"rows = load_dataset({dataset.repo_id!r}, split='train')\n"
        "print(rows.num_rows, rows[2]['text'], rows[2]['label'])\n",
        endpoint,
        tmp_path,
    )
    assert out.split()[-3:] == ["3", "pulp", "1"]
