"""Xet: the stock client (hf_xet as installed) publishing through Pulp, against baselines in the
same run.

    .venv/bin/python bench/xet_publish.py [--size-mib 1024] [--changed-mib 256] [--rounds 2]

(`make bench` runs it too, after bench/publish.py.) Reports:

- `upload_file` of a random `--size-mib` file through Xet against `curl -T` of the same bytes to
  nginx: target <= 1.5x (skipped without nginx)
- a second revision of a `--changed-mib` file with 1 % of its bytes changed, uploaded from a
  fresh client cache: xorb bytes on the wire / file size, target <= 10 % (global dedupe)
- a Xet download of that second revision by a client that fetched the first: bytes on the wire
  / file size, target <= 10 % (depends on the client's chunk cache)
- what Xet keeps beside the artifacts (index tables, staged blobs) / bytes uploaded
- a `--changed-mib` file (80 MiB at least) published through LFS and read over HTTP: how long
  the worker takes to give it Xet data (seconds a GiB), and a fresh client's Xet download of it
  against its HTTP download (informational)
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

from publish import against_curl, client, publishing_endpoint, standalone

from pulp_hugging_face.tests.functional.counting_proxy import CountingProxy


def random_file(path, size_mib):
    with open(path, "wb") as out:
        for _ in range(size_mib):
            out.write(os.urandom(1 << 20))


def changed_copy(source, target, fraction=0.01, places=8):
    data = bytearray(source.read_bytes())
    run = int(len(data) * fraction / places)
    for place in range(places):
        at = (2 * place + 1) * len(data) // (2 * places)
        data[at : at + run] = os.urandom(run)
    target.write_bytes(bytes(data))


def xet_client(code, endpoint, token, home):
    return client(code, endpoint, token, home, xet=True)


def upload(endpoint, token, home, path, repo, create=True):
    return xet_client(
        f"""
        import json, time
        from huggingface_hub import HfApi
        api = HfApi()
        if {create!r}:
            api.create_repo({repo!r}, exist_ok=True)
        started = time.perf_counter()
        api.upload_file(path_or_fileobj={str(path)!r}, path_in_repo="weights.bin", repo_id={repo!r})
        print(json.dumps(time.perf_counter() - started))
        """,
        endpoint,
        token,
        home,
    )


def download(endpoint, home, repo, revision_index):
    return xet_client(
        f"""
        import json
        from huggingface_hub import hf_hub_download, list_repo_commits
        commits = [c.commit_id for c in list_repo_commits({repo!r})]
        revision = commits[{revision_index}]
        print(json.dumps(hf_hub_download({repo!r}, "weights.bin", revision=revision)))
        """,
        endpoint,
        None,
        home,
    )


def measure(args, api, stack, work, bench):
    report = bench.report
    endpoint, token = publishing_endpoint(api, f"bench-xet-{uuid.uuid4().hex[:8]}")
    before = kept_bytes(stack)
    upload_ratio(args, endpoint, token, work, bench)
    changed_revision(args, endpoint, token, work, report)
    stored_file_by_xet(args, api, endpoint, token, work, report)
    uploaded = (args.size_mib * args.rounds + 2 * args.changed_mib + stored_mib(args)) << 20
    tables, staged = (now - then for now, then in zip(kept_bytes(stack), before))
    print(f"  Xet index {tables / (1 << 20):.1f} MiB, staged {staged / (1 << 20):.1f} MiB")
    share = 100 * (tables + staged) / uploaded
    report("Xet data kept beside the artifacts / bytes uploaded", share, "%", "< 1 %", share < 1)


def upload_ratio(args, endpoint, token, work, bench):
    def upload_one(path, round_):
        repo = f"bench/xet-{uuid.uuid4().hex[:8]}"
        return upload(endpoint, token, work / f"home-{round_}", path, repo)

    def make_file(path):
        random_file(path, args.size_mib)  # random: no chunk of it repeats (Xet would dedupe)

    label = f"Xet upload_file {args.size_mib} MiB"
    against_curl(bench, work, args.rounds, make_file, upload_one, label)


def changed_revision(args, endpoint, token, work, report):
    first, second = work / "first.bin", work / "second.bin"
    random_file(first, args.changed_mib)
    changed_copy(first, second)
    size = first.stat().st_size
    repo = f"bench/changed-{uuid.uuid4().hex[:8]}"
    upload(endpoint, token, work / "home-first", first, repo)
    with CountingProxy(endpoint) as proxy:
        upload(proxy.endpoint, token, work / "home-second", second, repo, create=False)
        sent = proxy.bytes_up("/xet-cas/v1/xorbs/") / size
        label = f"Xet upload of a 1 %-changed {args.changed_mib} MiB revision: bytes sent / size"
        report(label, 100 * sent, "%", "<= 10 %", sent <= 0.10)
        reader = work / "home-reader"
        download(proxy.endpoint, reader, repo, 1)
        proxy.log.clear()
        got = download(proxy.endpoint, reader, repo, 0)
        assert Path(got).read_bytes() == second.read_bytes()
        fetched = proxy.bytes_down("/xet-cas/v1/fetch/") / size
        label = "Xet download of that revision after the first: bytes fetched / size"
        report(label, 100 * fetched, "%", "<= 10 %", fetched <= 0.10)
    first.unlink()
    second.unlink()


INDEXING = "pulp_hugging_face.app.xet_indexing.index_stored"
BYTES = "xet.indexing.bytes"


def timed_download(endpoint, home, repo, xet):
    return client(
        f"""
        import json, time
        from huggingface_hub import hf_hub_download
        started = time.perf_counter()
        hf_hub_download({repo!r}, "weights.bin")
        print(json.dumps(time.perf_counter() - started))
        """,
        endpoint,
        None,
        home,
        xet=xet,
    )


def stored_mib(args):
    return max(args.changed_mib, 80)  # above HF_XET_INDEX_MIN_SIZE (64 MiB)


def stored_file_by_xet(args, api, endpoint, token, work, report):
    """A file published through LFS (no Xet data), read over HTTP, indexed by a worker, then
    read by Xet from a fresh cache."""
    path, repo = work / "stored.bin", f"bench/stored-{uuid.uuid4().hex[:8]}"
    size_mib = stored_mib(args)
    random_file(path, size_mib)
    client(
        f"""
        from huggingface_hub import HfApi
        HfApi().create_repo({repo!r})
        HfApi().upload_file(
            path_or_fileobj={str(path)!r}, path_in_repo="weights.bin", repo_id={repo!r}
        )
        print("null")
        """,
        endpoint,
        token,
        work / "home-lfs",
    )
    path.unlink()
    earlier = newest_indexing(api)
    with CountingProxy(endpoint) as proxy:  # both reads through it: the same path
        by_http = timed_download(proxy.endpoint, work / "home-http", repo, xet=False)
        task = indexing_task(api, earlier and earlier["pulp_href"])  # queued by that read
        seconds = (_when(task["finished_at"]) - _when(task["started_at"])).total_seconds()
        label = "Xet indexing of a stored file (worker)"
        report(label, seconds * 1024 / size_mib, "s/GiB", "info", True)
        by_xet = timed_download(proxy.endpoint, work / "home-xet", repo, xet=True)
        assert proxy.bytes_down("/xet-cas/v1/fetch/") >= size_mib << 20, "not by Xet"
    label = f"Xet download of a stored {size_mib} MiB file / its HTTP download"
    report(label, by_xet / by_http, f"x ({by_xet:.2f} s / {by_http:.2f} s)", "info", True)


def newest_indexing(api):
    found = api.get("/pulp/api/v3/tasks/", name=INDEXING, ordering="-pulp_created", limit=1)
    return found["results"][0] if found["results"] else None


def indexing_task(api, earlier_href, timeout=600):
    """The first indexing task after `earlier_href` that chunked something, once it ended (a
    second content process may have queued the same file: its task finds nothing to do)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = api.get("/pulp/api/v3/tasks/", name=INDEXING, ordering="-pulp_created", limit=5)
        for task in found["results"]:
            if task["pulp_href"] == earlier_href:
                break
            chunked = [r["done"] for r in task["progress_reports"] if r["code"] == BYTES]
            if task["state"] == "completed" and chunked and chunked[0] > 0:
                return task
            assert task["state"] != "failed", task.get("error")
        time.sleep(0.5)
    raise AssertionError("no Xet indexing task ended in time")


def _when(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def kept_bytes(stack):
    """(bytes of the Xet tables, bytes of staged xorbs) of the stack now."""
    database = stack.database()
    query = (
        "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
        "where c.relname like 'hugging_face_xet%' and c.relkind = 'r'"
    )
    psql = ["psql", "-h", database["HOST"], "-p", str(database["PORT"]), "-U", database["USER"]]
    done = subprocess.run(
        [*psql, "-d", database["NAME"], "-tAc", query], capture_output=True, text=True, check=True
    )
    staged_dir = Path(stack.setting("MEDIA_ROOT")) / "xet"
    staged = sum(p.stat().st_size for p in staged_dir.rglob("*") if p.is_file())
    return int(done.stdout.strip()), staged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--changed-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    return standalone(measure, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
