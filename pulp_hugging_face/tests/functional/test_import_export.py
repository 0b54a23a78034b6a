"""Pulp export and import of a synced repository: into another Pulp (the domains stack, its
own database), the same files, etags, sizes, commits, refs and commit infos, with their bytes."""

import os
import shutil
from pathlib import Path

from hf_fake_hub import HubFile
from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import PulpApi, unique

from .test_sync import COMMITS, FILES, REFS, summary, sync

DOMAIN_API = "/pulp/default/api/v3"


def version_content(api, version_href, api_root="/pulp/api/v3"):
    """Everything a version holds, comparable across two Pulps (no hrefs, no ids)."""
    base = f"{api_root}/content/hugging_face"

    def every(kind, fields):
        found = api.get(f"{base}/{kind}/", repository_version=version_href, limit=1000)
        return sorted(tuple(str(item[f]) for f in fields) for item in found["results"])

    files = api.get(f"{base}/hugging-face/", repository_version=version_href, limit=1000)
    stored = {}
    for unit in files["results"]:
        assert unit["artifact"], unit
        artifact = api.get(unit["artifact"])
        stored[(unit["commit"], unit["path_in_repo"])] = (artifact["sha256"], artifact["size"])
    return {
        "files": every(
            "hugging-face", ("repo_type", "repo_id", "commit", "path_in_repo", "etag", "size")
        ),
        "refs": every("refs", ("repo_type", "repo_id", "name", "commit")),
        "commits": every("commits", ("repo_type", "repo_id", "commit", "info")),
        "artifacts": stored,
    }


def carry(pulp_api, pulp_stack, pulp_domains_stack, repository):
    """Export `repository` from the test stack and import it into the domains stack:
    (a PulpApi there, the imported repository, the folders to remove)."""
    export_dir = pulp_stack["state"] / "export" / unique("hf")
    exporter = pulp_api.request(
        "POST",
        "/pulp/api/v3/exporters/core/pulp/",
        json={
            "name": unique("exporter"),
            "path": str(export_dir),
            "repositories": [repository["pulp_href"]],
        },
    )
    pulp_api.created.append(exporter["pulp_href"])
    task = pulp_api.request("POST", exporter["pulp_href"] + "exports/", json={})
    export = pulp_api.get(pulp_api.wait_task(task["task"])["created_resources"][0])
    import_dir = pulp_domains_stack.state_dir / "import" / unique("hf")
    shutil.copytree(export_dir, import_dir)
    toc = import_dir / os.path.basename(export["toc_info"]["file"])
    other = PulpApi(pulp_domains_stack.api)
    target = other.request(
        "POST",
        f"{DOMAIN_API}/repositories/hugging_face/hugging-face/",
        json={"name": unique("imported")},
    )
    other.created.append(target["pulp_href"])
    importer = other.request(
        "POST",
        f"{DOMAIN_API}/importers/core/pulp/",
        json={"name": unique("importer"), "repo_mapping": {repository["name"]: target["name"]}},
    )
    other.created.append(importer["pulp_href"])
    started = other.request("POST", importer["pulp_href"] + "imports/", json={"toc": str(toc)})
    other.wait_task_group(started["task_group"], "import_repository_version")
    return other, target, (export_dir, import_dir)


def distribute(other, repository):
    """A distribution of `repository` on the domains stack: its endpoint."""
    distribution = other.request(
        "POST",
        f"{DOMAIN_API}/distributions/hugging_face/hugging-face/",
        json={
            "name": unique("d"),
            "base_path": unique("hf"),
            "repository": repository["pulp_href"],
        },
    )
    distribution = other.get(other.wait_task(distribution["task"])["created_resources"][0])
    other.created.append(distribution["pulp_href"])
    return distribution["base_url"].rstrip("/")


def test_export_then_import_into_another_pulp(
    pulp_api,
    pulp_stack,
    pulp_domains_stack,
    fake_hub,
    hf_remote_factory,
    hf_repository_factory,
    tmp_path,
):
    hub_repo = fake_hub.add_repo(f"org/{unique('export')}")
    hub_repo.commit({"config.json": b'{"e": 1}', "w.bin": HubFile(os.urandom(6000), lfs=True)})
    hub_repo.commit({"config.json": b'{"e": 2}', "sub/x.txt": b"x"}, ref="v2")
    dataset = fake_hub.add_repo(f"org/{unique('exdata')}", repo_type="dataset")
    dataset.commit({"train.csv": b"a\n1\n"})
    remote = hf_remote_factory(
        includes=[
            {"repo": hub_repo.repo_id},
            {"repo": hub_repo.repo_id, "ref": "v2"},
            {"repo": dataset.repo_id, "repo_type": "dataset"},
        ]
    )
    repository = hf_repository_factory()
    sync(pulp_api, repository, remote)
    counts, version_href = summary(pulp_api, repository)
    assert counts == {FILES: 5, REFS: 3, COMMITS: 3}
    expected = version_content(pulp_api, version_href)

    other, target, folders = carry(pulp_api, pulp_stack, pulp_domains_stack, repository)
    try:
        imported = other.get(target["pulp_href"])["latest_version_href"]
        assert imported.endswith("/versions/1/")
        assert version_content(other, imported, DOMAIN_API) == expected

        # A client of the importing Pulp, with no route to the Hub, gets the same snapshot.
        endpoint = distribute(other, target)
        fake_hub.fail_with = 503
        try:
            path = snapshot_download(hub_repo.repo_id, cache_dir=tmp_path, endpoint=endpoint)
        finally:
            fake_hub.fail_with = None
        assert Path(path).name == hub_repo.refs["main"]
        assert sorted(p.name for p in Path(path).iterdir()) == ["config.json", "w.bin"]
        data = hub_repo.commits[hub_repo.refs["main"]]["w.bin"].data
        assert (Path(path) / "w.bin").read_bytes() == data
    finally:
        other.cleanup()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def test_a_published_model_reaches_an_air_gapped_pulp(
    hosted, pulp_api, pulp_stack, pulp_domains_stack, tmp_path
):
    repo_id = f"team/{unique('private')}"
    weights = os.urandom(120_000)
    (tmp_path / "w.safetensors").write_bytes(weights)
    published = hosted.run(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({repo_id!r})
        api.upload_file(path_or_fileobj={str(tmp_path / "w.safetensors")!r},
                        path_in_repo="w.safetensors", repo_id={repo_id!r})
        api.create_tag({repo_id!r}, tag="v1")
        print(json.dumps([c.commit_id for c in api.list_repo_commits({repo_id!r})]))
        """)
    other, target, folders = carry(pulp_api, pulp_stack, pulp_domains_stack, hosted.repository)
    try:
        endpoint = distribute(other, target)
        back = hosted.run(
            f"""
            from huggingface_hub import HfApi, snapshot_download
            api = HfApi()
            path = snapshot_download({repo_id!r}, revision="v1")
            print(json.dumps({{
                "weights": open(path + "/w.safetensors", "rb").read().hex(),
                "commits": [c.commit_id for c in api.list_repo_commits({repo_id!r})],
            }}))
            """,
            token=None,
            HF_ENDPOINT=endpoint,
        )
        assert bytes.fromhex(back["weights"]) == weights
        assert back["commits"] == published  # the same git history, ids included
    finally:
        other.cleanup()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
