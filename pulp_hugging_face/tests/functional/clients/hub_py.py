"""Drives huggingface_hub (2.x, or 0.36 in its side environment) as its users call it, for the
functional tests. stdin: {"endpoint": ..., "token": ..., "ops": [{"op": ..., ...}]}; stdout: one
JSON result per op, in order: {"value": ...} or {"error": message, "status": ..., "kind": the
exception class}. Only the standard library and huggingface_hub: it runs in either environment.
"""

import base64
import json
import sys

from huggingface_hub import HfApi, HfFileSystem, get_hf_file_metadata, hf_hub_download
from huggingface_hub import hf_hub_url, snapshot_download


def main():
    request = json.load(sys.stdin)
    endpoint, token = request["endpoint"], request.get("token") or False
    api = HfApi(endpoint=endpoint, token=token)

    def where(op):
        """What every download names: the repo's type, the revision, the cache and the Hub."""
        return dict(
            repo_type=op.get("type"),
            revision=op.get("revision"),
            token=token,
            cache_dir=op["cache"],
            endpoint=endpoint,
        )

    def snapshot(op):
        return snapshot_download(op["repo"], **where(op))

    def download(op):
        return hf_hub_download(op["repo"], op["path"], **where(op))

    def info(op):
        found = api.repo_info(op["repo"], repo_type=op.get("type"), revision=op.get("revision"))
        return {"sha": found.sha, "name": found.id}

    def exists(op):
        return api.file_exists(
            op["repo"], op["path"], repo_type=op.get("type"), revision=op.get("revision")
        )

    def head(op):
        url = hf_hub_url(
            op["repo"],
            op["path"],
            repo_type=op.get("type"),
            revision=op.get("revision"),
            endpoint=endpoint,
        )
        meta = get_hf_file_metadata(url, token=token)
        return {"etag": meta.etag, "size": meta.size, "commit": meta.commit_hash}

    def read(op):
        fs = HfFileSystem(endpoint=endpoint, token=token)
        prefix = {"dataset": "datasets/", "space": "spaces/"}.get(op.get("type"), "")
        revision = f"@{op['revision']}" if op.get("revision") else ""
        with fs.open(f"{prefix}{op['repo']}{revision}/{op['path']}", "rb") as handle:
            handle.seek(op.get("start", 0))
            end = op.get("end")
            data = handle.read() if end is None else handle.read(end - op.get("start", 0))
        return base64.b64encode(data).decode()

    def paths(op):
        found = api.get_paths_info(
            op["repo"],
            op["paths"],
            repo_type=op.get("type"),
            revision=op.get("revision"),
            expand=op.get("expand", False),
        )
        return [
            {
                "path": entry.path,
                "size": entry.size,
                "lfs": entry.lfs.sha256 if getattr(entry, "lfs", None) else None,
                "lastCommit": (
                    entry.last_commit.oid if getattr(entry, "last_commit", None) else None
                ),
            }
            for entry in found
        ]

    def tree(op):
        entries = api.list_repo_tree(
            op["repo"],
            path_in_repo=op.get("path"),
            repo_type=op.get("type"),
            revision=op.get("revision"),
            recursive=op.get("recursive", False),
        )
        return sorted(entry.path for entry in entries)

    ops = dict(snapshot=snapshot, download=download, info=info, exists=exists, head=head)
    ops.update(read=read, paths=paths, tree=tree)
    results = []
    for op in request["ops"]:
        try:
            results.append({"value": ops[op["op"]](op)})
        except Exception as exc:  # reported to the test, which decides
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            results.append({"error": str(exc)[:2000], "status": status, "kind": type(exc).__name__})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
