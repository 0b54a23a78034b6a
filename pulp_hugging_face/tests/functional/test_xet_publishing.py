"""Publishing with the stock client as installed (hf_xet, nothing disabled): Xet uploads into a
distribution's own storage, each file an ordinary artifact, deduplicated, lies refused."""

import hashlib
import os

import pytest

from pulp_hugging_face.pytest_plugin import unique, upstream_calls

from .publishing import run_hf


@pytest.fixture
def folder(tmp_path):
    """A folder to upload: regular files, LFS ones (by name, binary), nested ones."""
    root = tmp_path / "out"
    files = {
        "config.json": b'{"hidden": 8}\n',
        "model.safetensors": os.urandom(3_000_000),
        "blob.dat": bytes(range(256)) * 400,
        "sub/dir/weights.bin": os.urandom(200_000),
        "sub/vocab.txt": b"a\nb\nc\n",
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root, files


def read_back(hosted, repo_id, xet=False):
    """{path: sha256} of a snapshot downloaded from a fresh cache."""
    return hosted.run(
        f"""
        import hashlib, os, json
        from huggingface_hub import snapshot_download
        folder = snapshot_download({repo_id!r})
        got = {{}}
        for base, _dirs, names in os.walk(folder):
            for name in names:
                path = os.path.join(base, name)
                data = open(path, "rb").read()
                got[os.path.relpath(path, folder)] = hashlib.sha256(data).hexdigest()
        print(json.dumps(got))
        """,
        token=None,
        xet=xet,
    )


def test_hf_upload_through_xet_and_read_back(hosted, folder, fake_hub, pulp_api):
    root, files = folder
    repo_id = f"team/{unique('model')}"
    env = hosted.env(xet=True)
    assert run_hf(["repos", "create", repo_id], env)[0] == 0
    code, out = run_hf(["upload", repo_id, str(root)], env)
    assert code == 0, out
    fake_hub.reset_log()
    got = read_back(hosted, repo_id)
    expected = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    assert {k: v for k, v in got.items() if k != ".gitattributes"} == expected
    assert not upstream_calls(fake_hub)
