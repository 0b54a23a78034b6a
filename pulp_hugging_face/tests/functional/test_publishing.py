"""Publishing with the stock tools (`hf`, huggingface_hub) into a distribution's repository,
and reading it all back with the Hub gone: the Hub's protocol, git's ids, one version a commit."""

import hashlib
import os

import pytest
import requests

from pulp_hugging_face import hub
from pulp_hugging_face.pytest_plugin import unique, upstream_calls

from .publishing import part_files_left, run_hf, send_half_and_hang_up


@pytest.fixture
def folder(tmp_path):
    """A folder to upload: regular files, an LFS file by name, a binary one, nested ones."""
    root = tmp_path / "out"
    files = {
        "config.json": b'{"hidden": 8}\n',
        "model.safetensors": os.urandom(300_000),
        "blob.dat": bytes(range(256)) * 4,  # binary: LFS whatever its name
        "sub/dir/notes.md": b"# notes\n",
        "sub/vocab.txt": b"a\nb\nc\n",
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root, files


def test_hf_cli_creates_uploads_and_everything_reads_back_with_no_upstream(
    hosted, folder, fake_hub, tmp_path
):
    root, files = folder
    repo_id = f"team/{unique('model')}"
    env = hosted.env()
    assert run_hf(["repos", "create", repo_id], env)[0] == 0
    code, out = run_hf(["upload", repo_id, str(root)], env)
    assert code == 0, out
    fake_hub.reset_log()
    back = hosted.run(
        f"""
        import hashlib, os, json
        from huggingface_hub import HfApi, snapshot_download
        api = HfApi()
        folder = snapshot_download({repo_id!r})
        got = {{}}
        for base, _dirs, names in os.walk(folder):
            for name in names:
                path = os.path.join(base, name)
                digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
                got[os.path.relpath(path, folder)] = digest
        tree = [(e.path, getattr(e, "blob_id", None) or e.tree_id, bool(getattr(e, "lfs", None)))
                for e in api.list_repo_tree({repo_id!r}, recursive=True)]
        info = api.model_info({repo_id!r})
        commits = [(c.commit_id, c.title, c.authors) for c in api.list_repo_commits({repo_id!r})]
        print(json.dumps({{"files": got, "tree": tree, "sha": info.sha, "commits": commits}}))
        """,
        token=None,  # reads need no token on an unguarded distribution
    )
    expected = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    assert {k: v for k, v in back["files"].items() if k != ".gitattributes"} == expected
    tree = {path: (oid, lfs) for path, oid, lfs in back["tree"]}
    assert tree["config.json"] == (hub.git_blob_sha1(files["config.json"]), False)
    assert tree["model.safetensors"][1] and tree["blob.dat"][1]  # LFS: by name, and binary
    assert not tree["sub/vocab.txt"][1]
    assert {"sub", "sub/dir"} <= set(tree)
    (latest, _title, authors), (first, first_title, _a) = back["commits"]
    assert back["sha"] == latest and first_title == "initial commit"
    assert authors == [hosted.user[0]]
    assert not upstream_calls(fake_hub)  # answered by the repository alone


def test_commits_branches_tags_and_pull_requests_each_land_as_one_version(hosted, pulp_api):
    repo_id = f"team/{unique('model')}"
    result = hosted.run(f"""
        from huggingface_hub import HfApi
        from huggingface_hub import CommitOperationAdd as Add, CommitOperationDelete as Delete
        api = HfApi()
        repo = {repo_id!r}
        api.create_repo(repo)
        exists = status_of(api.create_repo, repo)
        api.create_repo(repo, exist_ok=True)
        adds = [Add("a.txt", b"a"), Add("logs/1.txt", b"1"), Add("logs/2.txt", b"2")]
        one = api.create_commit(repo, adds, commit_message="one", commit_description="the first")
        api.create_branch(repo, branch="dev")
        api.create_tag(repo, tag="v1", revision=one.oid)
        two = api.create_commit(repo, [Delete("logs/"), Delete("a.txt")], commit_message="two")
        stale = status_of(api.create_commit, repo, [Add("b.txt", b"b")], commit_message="late",
                          parent_commit=one.oid)
        missing = status_of(api.create_commit, repo, [Delete("nothing.txt")], commit_message="x")
        dev = api.upload_file(path_or_fileobj=b"dev", path_in_repo="dev.txt", repo_id=repo,
                              revision="dev")
        pr = api.create_commit(repo, [Add("pr.txt", b"pr")], commit_message="proposal",
                               create_pr=True)
        no_branch = status_of(api.upload_file, path_or_fileobj=b"x", path_in_repo="x", repo_id=repo,
                              revision="nope")
        refs = api.list_repo_refs(repo, include_pull_requests=True)
        files = {{rev: sorted(api.list_repo_files(repo, revision=rev))
                 for rev in ("main", "dev", "v1", one.oid, "refs/pr/1")}}
        log = [(c.commit_id, c.title, c.message) for c in api.list_repo_commits(repo)]
        api.delete_tag(repo, tag="v1")
        api.delete_branch(repo, branch="dev")
        gone = [status_of(api.list_repo_files, repo, revision=rev) for rev in ("v1", "dev")]
        print(json.dumps({{
            "exists": exists, "one": one.oid, "two": two.oid, "stale": stale, "missing": missing,
            "dev": dev.oid, "pr": [pr.oid, pr.pr_url], "no_branch": no_branch, "files": files,
            "log": log, "gone": gone,
            "refs": {{"branches": {{b.name: b.target_commit for b in refs.branches}},
                     "tags": {{t.name: t.target_commit for t in refs.tags}},
                     "prs": {{p.name: p.target_commit for p in refs.pull_requests}}}},
        }}))
        """)
    assert result["exists"][0] == 409
    assert result["stale"][0] == 412 and result["missing"][:2] == [404, "EntryNotFound"]
    assert result["no_branch"][:2] == [404, "RevisionNotFound"]
    files = result["files"]
    assert files["main"] == [".gitattributes"]
    assert files["dev"] == [".gitattributes", "a.txt", "dev.txt", "logs/1.txt", "logs/2.txt"]
    assert (
        files["v1"]
        == files[result["one"]]
        == [".gitattributes", "a.txt", "logs/1.txt", "logs/2.txt"]
    )
    assert files["refs/pr/1"] == [".gitattributes", "pr.txt"]
    assert result["refs"]["branches"] == {"main": result["two"], "dev": result["dev"]}
    assert result["refs"]["tags"] == {"v1": result["one"]}
    assert result["refs"]["prs"] == {"refs/pr/1": result["pr"][0]}
    assert result["pr"][1].endswith(f"/models/{repo_id}/discussions/1")
    assert [(c[1], c[2]) for c in result["log"]] == [
        ("two", ""),
        ("one", "the first"),
        ("initial commit", ""),
    ]
    assert [status for status, *_ in result["gone"]] == [404, 404]
    # the stale and missing commits changed nothing: one version per change that landed
    versions = pulp_api.get(f"{hosted.repository['pulp_href']}versions/")["count"]
    assert versions == 1 + 9  # version 0; create, one, branch, tag, two, dev, pr, -tag, -branch


def api_call(hosted, method, path, token=..., **kwargs):
    """A raw call to the distribution (for what the stock clients never send)."""
    token = hosted.token if token is ... else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, f"{hosted.endpoint}/{path}", headers=headers, timeout=60, **kwargs
    )


def ndjson(*lines):
    import json

    return "".join(json.dumps({"key": key, "value": value}) + "\n" for key, value in lines)


def test_who_may_publish(hosted, pulp_api, pulp_user, hf_distribution_factory):
    from .publishing import issue_token

    create = {"name": unique("m"), "organization": "team"}
    reader = issue_token(pulp_api, hosted.user, scope="read")["token"]
    stranger = issue_token(pulp_api, pulp_user())["token"]  # may not modify the repository
    nobody = api_call(hosted, "POST", "api/repos/create", token=None, json=create)
    assert nobody.status_code == 401
    for bad in ("hf_" + "x" * 40, "not a token at all"):
        answer = api_call(hosted, "POST", "api/repos/create", token=bad, json=create)
        assert answer.status_code == 401
        assert answer.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    for token, why in ((reader, "read-only"), (stranger, "may not publish")):
        answer = api_call(hosted, "POST", "api/repos/create", token=token, json=create)
        assert answer.status_code == 403 and why in answer.json()["error"]
    frozen = hf_distribution_factory(repository_version=hosted.latest_version())
    answer = requests.post(
        f"{frozen['base_url'].rstrip('/')}/api/repos/create",
        json=create,
        headers={"Authorization": f"Bearer {hosted.token}"},
        timeout=30,
    )
    assert answer.status_code == 403 and "frozen" in answer.json()["error"]
    assert pulp_api.get(hosted.latest_version())["number"] == 0  # nothing landed
    assert api_call(hosted, "POST", "api/repos/create", json=create).status_code == 200


def test_bad_input_is_the_hubs_4xx_and_changes_nothing(hosted, pulp_api, pulp_stack):
    repo_id = f"team/{unique('m')}"
    created = api_call(
        hosted,
        "POST",
        "api/repos/create",
        json={"name": repo_id.split("/")[1], "organization": "team"},
    )
    assert created.status_code == 200, created.text
    before = hosted.latest_version()
    commit_url = f"api/models/{repo_id}/commit/main"
    header = ("header", {"summary": "bad", "description": ""})
    never_uploaded = {"path": "w.bin", "algo": "sha256", "oid": "f" * 64, "size": 3}
    for body, status in (
        (
            ndjson(
                header, ("file", {"path": "../escape", "content": "aGk=", "encoding": "base64"})
            ),
            400,
        ),
        (
            ndjson(
                header, ("file", {"path": ".git/config", "content": "aGk=", "encoding": "base64"})
            ),
            400,
        ),
        (ndjson(header, ("file", {"path": "/abs", "content": "aGk=", "encoding": "base64"})), 400),
        (ndjson(header, ("lfsFile", never_uploaded)), 400),
        (ndjson(("file", {"path": "x", "content": "aGk="})), 400),
        ("{not json\n", 400),
        ("x" * (17 * 1024 * 1024), 413),  # one endless line
    ):
        answer = api_call(hosted, "POST", commit_url, data=body.encode())
        assert answer.status_code == status, (body[:80], answer.status_code, answer.text[:200])
    for paths in (("a", "a/b"), ("a/b", "a")):  # git has no file that is also a folder
        lines = [("file", {"path": p, "content": "aGk=", "encoding": "base64"}) for p in paths]
        clash = api_call(hosted, "POST", commit_url, data=ndjson(header, *lines).encode())
        assert clash.status_code == 400 and "file and a folder" in clash.json()["error"]
    missing = api_call(
        hosted, "POST", f"api/models/team/{unique('none')}/commit/main", data=ndjson(header)
    )
    assert (missing.status_code, missing.headers.get("X-Error-Code")) == (404, "RepoNotFound")
    no_branch = api_call(hosted, "POST", f"api/models/{repo_id}/commit/nope", data=ndjson(header))
    assert (no_branch.status_code, no_branch.headers.get("X-Error-Code")) == (
        404,
        "RevisionNotFound",
    )
    assert hosted.latest_version() == before


def lfs_upload_url(hosted, repo_id, data):
    oid = hashlib.sha256(data).hexdigest()
    body = {
        "operation": "upload",
        "transfers": ["basic"],
        "objects": [{"oid": oid, "size": len(data)}],
    }
    answer = api_call(hosted, "POST", f"{repo_id}.git/info/lfs/objects/batch", json=body)
    assert answer.status_code == 200, answer.text
    (entry,) = answer.json()["objects"]
    return oid, entry["actions"]["upload"]["href"]


def stored_artifacts(pulp_api, oid):
    return pulp_api.get("/pulp/api/v3/artifacts/", sha256=oid)["count"]


def test_lfs_uploads_are_checked_and_a_cut_upload_leaves_nothing(hosted, pulp_api, pulp_stack):
    repo_id = f"team/{unique('m')}"
    data = os.urandom(200_000)
    oid, url = lfs_upload_url(hosted, repo_id, data)
    assert (
        requests.put(url.replace("signature=", "signature=0"), data=data, timeout=30).status_code
        == 403
    )
    assert requests.put(url, data=os.urandom(200_000), timeout=30).status_code == 400  # other bytes
    assert requests.put(url, data=data + b"more", timeout=30).status_code == 400
    send_half_and_hang_up(url, "PUT", data)
    assert not part_files_left(pulp_stack)
    assert stored_artifacts(pulp_api, oid) == 0
    assert requests.put(url, data=data, timeout=30).status_code == 200
    assert stored_artifacts(pulp_api, oid) == 1
    verify = api_call(
        hosted, "POST", f"{repo_id}.git/info/lfs/verify", json={"oid": oid, "size": len(data)}
    )
    assert verify.status_code == 200
    body = {"operation": "upload", "objects": [{"oid": oid, "size": len(data)}]}
    batch = api_call(hosted, "POST", f"{repo_id}.git/info/lfs/objects/batch", json=body).json()
    assert "actions" not in batch["objects"][0]  # stored: nothing to send again


def test_a_published_repo_shadows_the_upstream_one(hosted, fake_hub):
    repo_id = f"org/{unique('shadowed')}"
    fake_hub.add_repo(repo_id).commit({"upstream.txt": b"from the Hub"})
    result = hosted.run(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        before = sorted(api.list_repo_files({repo_id!r}))  # pulled through
        api.create_repo({repo_id!r})
        api.upload_file(path_or_fileobj=b"ours", path_in_repo="ours.txt", repo_id={repo_id!r})
        after = sorted(api.list_repo_files({repo_id!r}))
        print(json.dumps({{"before": before, "after": after,
                           "theirs": status_of(api.hf_hub_download, {repo_id!r}, "upstream.txt")}}))
        """)
    assert "upstream.txt" in result["before"]
    assert result["after"] == [".gitattributes", "ours.txt"]
    assert result["theirs"][:2] == [404, "EntryNotFound"]


@pytest.mark.parametrize("xet", [False, True], ids=["lfs", "xet"])
def test_transformers_and_datasets_push_to_hub_and_load_back(hosted, xet):
    model_id, dataset_id = f"team/{unique('tok')}", f"team/{unique('ds')}"
    result = hosted.run(
        f"""
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import AutoConfig, AutoTokenizer, BertConfig, PreTrainedTokenizerFast
        import datasets
        vocab = {{"[UNK]": 0, "[PAD]": 1, "hello": 2, "world": 3}}
        words = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
        words.pre_tokenizer = pre_tokenizers.Whitespace()
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, unk_token="[UNK]",
                                            pad_token="[PAD]")
        tokenizer.push_to_hub({model_id!r})
        BertConfig(vocab_size=4, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                   intermediate_size=8).push_to_hub({model_id!r})
        rows = {{"text": ["a", "b", "c"], "label": [0, 1, 0]}}
        datasets.Dataset.from_dict(rows).push_to_hub({dataset_id!r})
        print(json.dumps({{
            "ids": AutoTokenizer.from_pretrained({model_id!r})("hello world")["input_ids"],
            "hidden": AutoConfig.from_pretrained({model_id!r}).hidden_size,
            "rows": datasets.load_dataset({dataset_id!r}, split="train").to_dict(),
        }}))
        """,
        HF_DATASETS_CACHE=str(hosted.folder / "datasets-cache"),
        xet=xet,
    )
    assert result == {
        "ids": [2, 3],
        "hidden": 8,
        "rows": {"text": ["a", "b", "c"], "label": [0, 1, 0]},
    }


def test_huggingface_hub_0_36_publishes_the_same_way(hosted, hub_clients, folder):
    root, files = folder
    repo_id = f"team/{unique('legacy')}"
    python = hub_clients["huggingface_hub-0.36"].argv[0]
    result = hosted.run(
        f"""
        import hashlib, os
        import huggingface_hub
        from huggingface_hub import HfApi, CommitOperationDelete, snapshot_download
        api = HfApi()
        api.create_repo({repo_id!r})
        api.upload_folder(repo_id={repo_id!r}, folder_path={str(root)!r})
        api.create_commit({repo_id!r}, [CommitOperationDelete("sub/")], commit_message="rm")
        folder = snapshot_download({repo_id!r}, cache_dir={str(hosted.folder / "fresh")!r})
        got = sorted(os.path.relpath(os.path.join(b, n), folder)
                     for b, _d, names in os.walk(folder) for n in names)
        weights = hashlib.sha256(open(folder + "/model.safetensors", "rb").read()).hexdigest()
        print(json.dumps({{"version": huggingface_hub.__version__, "files": got,
                           "weights": weights, "me": api.whoami()["name"],
                           "titles": [c.title for c in api.list_repo_commits({repo_id!r})]}}))
        """,
        python=python,
    )
    assert result["version"].startswith("0.36")
    assert result["files"] == [".gitattributes", "blob.dat", "config.json", "model.safetensors"]
    assert result["weights"] == hashlib.sha256(files["model.safetensors"]).hexdigest()
    assert result["me"] == hosted.user[0]
    assert result["titles"][0] == "rm" and result["titles"][-1] == "initial commit"


def test_racing_commits_one_after_the_other_or_refused_by_parent(hosted, pulp_api):
    repo_id = f"team/{unique('race')}"
    result = hosted.run(f"""
        from concurrent.futures import ThreadPoolExecutor
        from huggingface_hub import HfApi, CommitOperationAdd as Add
        api = HfApi()
        api.create_repo({repo_id!r})
        head = api.model_info({repo_id!r}).sha

        def commit(name, parent):
            return status_of(api.create_commit, {repo_id!r}, [Add(name, name.encode())],
                             commit_message=name, parent_commit=parent)

        with ThreadPoolExecutor(4) as pool:
            with_parent = list(pool.map(commit, ["p1.txt", "p2.txt"], [head, head]))
            without = list(pool.map(commit, ["a.txt", "b.txt", "c.txt"], [None] * 3))
        print(json.dumps({{"with_parent": with_parent, "without": without,
                           "files": sorted(api.list_repo_files({repo_id!r})),
                           "log": len(api.list_repo_commits({repo_id!r}))}}))
        """)
    statuses = sorted(status for status, *_ in result["with_parent"])
    assert statuses == [200, 412]  # the loser changed nothing
    assert [status for status, *_ in result["without"]] == [200, 200, 200]
    landed = [name for name in ("p1.txt", "p2.txt") if name in result["files"]]
    assert len(landed) == 1
    assert {"a.txt", "b.txt", "c.txt"} <= set(result["files"])
    assert result["log"] == 1 + 1 + 3  # initial, the winner, the three


def test_hf_upload_to_a_new_branch_with_a_model_card(hosted, tmp_path):
    repo_id = f"team/{unique('card')}"
    card = tmp_path / "card"
    card.mkdir()
    (card / "README.md").write_text("---\nlicense: mit\n---\n# A model\n")
    env = hosted.env()
    assert run_hf(["repos", "create", repo_id], env)[0] == 0
    code, out = run_hf(["upload", repo_id, str(card), "--revision", "draft"], env)
    assert code == 0, out
    result = hosted.run(f"""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        print(json.dumps({{
            "main": sorted(api.list_repo_files({repo_id!r})),
            "draft": sorted(api.list_repo_files({repo_id!r}, revision="draft")),
            "card": open(hf_hub_download({repo_id!r}, "README.md", revision="draft")).read(),
        }}))
        """)
    assert result["main"] == [".gitattributes"]
    assert result["draft"] == [".gitattributes", "README.md"]
    assert result["card"].startswith("---\nlicense: mit")
