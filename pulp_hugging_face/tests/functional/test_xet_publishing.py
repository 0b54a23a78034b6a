"""Publishing with the stock client as installed (hf_xet, nothing disabled): Xet uploads into a
distribution's own storage, each file an ordinary artifact, deduplicated, lies refused."""

import hashlib
import os

import pytest

from pulp_hugging_face.pytest_plugin import unique, upstream_calls

from .counting_proxy import CountingProxy
from .publishing import client_env, run_hf


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


def read_back(hosted, repo_id, xet=False, **env):
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
        **env,
    )


def test_hf_upload_through_xet_and_read_back_by_http_and_by_xet(hosted, folder, fake_hub, tmp_path):
    root, files = folder
    repo_id = f"team/{unique('model')}"
    with CountingProxy(hosted.endpoint) as proxy:  # another origin: the CAS must stay on it
        env = client_env(proxy.endpoint, hosted.token, tmp_path / "up", xet=True)
        assert run_hf(["repos", "create", repo_id], env)[0] == 0
        code, out = run_hf(["upload", repo_id, str(root)], env)
        assert code == 0, out
        sent = proxy.bytes_up("/xet-cas/v1/xorbs/")
        assert 3_000_000 <= sent < 3_600_000  # the LFS files' bytes, once each
        assert [p for p in proxy.log if p.path.endswith("/shards") and p.status == 200]
        fake_hub.reset_log()
        expected = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
        by_http = read_back(hosted, repo_id)
        assert {k: v for k, v in by_http.items() if k != ".gitattributes"} == expected
        proxy.log.clear()
        by_xet = read_back(hosted, repo_id, xet=True, HF_ENDPOINT=proxy.endpoint)
        assert by_xet == by_http
        assert proxy.bytes_down("/xet-cas/v1/fetch/") >= 3_000_000  # LFS files came by Xet
        assert not proxy.bytes_down("/resolve/model.safetensors") > 100_000
    assert not upstream_calls(fake_hub)


def changed(data, fraction, places=4):
    """`data` with `fraction` of its bytes replaced, in `places` spread-out runs."""
    out, run = bytearray(data), int(len(data) * fraction / places)
    for place in range(places):
        at = (2 * place + 1) * len(data) // (2 * places)
        out[at : at + run] = os.urandom(run)
    return bytes(out)


def test_a_changed_revision_sends_only_changed_chunks_and_comes_back_by_xet(hosted, tmp_path):
    size = 80 << 20  # two xorbs: the answer to a dedupe query names the second one too
    first = os.urandom(size)
    second = changed(first, 0.01)
    repo_id = f"team/{unique('model')}"
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "weights.bin").write_bytes(first)
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "weights.bin").write_bytes(second)
    (tmp_path / "v2" / "copy.bin").write_bytes(first)  # stored already: not sent at all
    with CountingProxy(hosted.endpoint) as proxy:

        def upload(home, folder):
            env = client_env(proxy.endpoint, hosted.token, tmp_path / home, xet=True)
            code, out = run_hf(["upload", repo_id, str(tmp_path / folder)], env)
            assert code == 0, out

        assert run_hf(["repos", "create", repo_id], hosted.env(xet=True))[0] == 0
        upload("home-1", "v1")
        assert proxy.bytes_up("/xet-cas/v1/xorbs/") >= size
        proxy.log.clear()
        upload("home-2", "v2")  # a fresh cache: only global dedupe knows the first revision
        assert proxy.bytes_up("/xet-cas/v1/xorbs/") <= size // 10
        download = f"""
            import json
            from huggingface_hub import hf_hub_download, list_repo_commits
            commits = [c.commit_id for c in list_repo_commits({repo_id!r})]
            path = hf_hub_download({repo_id!r}, "weights.bin", revision=commits[{{}}])
            print(json.dumps(open(path, "rb").read() == open({{!r}}, "rb").read()))
        """
        home = tmp_path / "reader"
        reader = dict(HF_ENDPOINT=proxy.endpoint, HF_HOME=str(home))
        v1, v2 = tmp_path / "v1" / "weights.bin", tmp_path / "v2" / "weights.bin"
        assert hosted.run(download.format(1, str(v1)), xet=True, **reader)
        proxy.log.clear()
        assert hosted.run(download.format(0, str(v2)), xet=True, **reader)
        # hf_xet 1.8 keeps no chunk cache on this path: it fetches the whole file again
        assert proxy.bytes_down("/xet-cas/v1/fetch/") >= size


def test_upload_folder_split_into_several_commits_through_xet(hosted, tmp_path):
    root = tmp_path / "many"
    files = {f"part-{n:03}.txt": f"row {n}\n".encode() for n in range(290)}
    files.update({f"shards/w-{n}.bin": os.urandom(20_000) for n in range(12)})
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    repo_id = f"team/{unique('model')}"
    result = hosted.run(
        f"""
        import json
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({repo_id!r})
        api.upload_folder(repo_id={repo_id!r}, folder_path={str(root)!r})
        print(json.dumps(len(api.list_repo_commits({repo_id!r}))))
        """,
        xet=True,
    )
    assert result >= 3  # the first commit, then the folder in two or more
    got = read_back(hosted, repo_id)
    expected = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    assert {k: v for k, v in got.items() if k != ".gitattributes"} == expected
