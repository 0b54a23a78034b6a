"""Publishing speed: the stock client's uploads through Pulp against baselines in the same run.

    .venv/bin/python bench/publish.py [--size-mib 1024] [--files 1000] [--rounds 2]

(`make bench` runs it too.) Measures, each the best of `--rounds`:

- `upload_file` of a LFS file (HF_HUB_DISABLE_XET=1: the LFS path) through Pulp against `curl -T`
  of the same bytes to nginx (`dav_methods PUT`): <= 1.5x; skipped without nginx
- the content app's resident memory while it receives that file: grows < 100 MiB (it streams)
- `upload_folder` of `--files` small files (one commit) against a warm `snapshot_download` of
  the same repo through Pulp: <= 2x
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

TOKENS = "/pulp/api/v3/hugging_face/tokens/"


def start_dav_nginx(bench, folder):
    """nginx taking PUTs into `folder` (None without nginx)."""
    folder.mkdir(parents=True, exist_ok=True)
    dav = "location / { dav_methods PUT; create_full_put_path on; }"
    return bench.start_nginx(folder, server_extra=dav, http_extra="client_max_body_size 0;")


def client(code, endpoint, token, home, xet=False):
    """Run client code in its own interpreter (as users run it); its last line is JSON. Without
    `xet`, uploads take the LFS path (HF_HUB_DISABLE_XET=1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(home),
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    if token:
        env["HF_TOKEN"] = token
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class PeakRss:
    """The highest resident memory (KiB) `sample()` returns while the block runs."""

    def __init__(self, sample):
        self.sample, self.peak, self._stop = sample, 0, threading.Event()

    def __enter__(self):
        self.before = self.sample()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.sample())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def publishing_endpoint(api, name):
    """A distribution of a new repository, and an admin write token: (HF_ENDPOINT, token)."""
    repository = api.create("repositories", name=name)
    distribution = api.create(
        "distributions", name=name, base_path=name, repository=repository["pulp_href"]
    )
    token = api.request("POST", TOKENS, json={"name": name, "scope": "write"})
    api.created.append(token["pulp_href"])
    return distribution["base_url"].rstrip("/"), token["token"]


def upload_seconds(endpoint, token, home, path):
    return client(
        f"""
        import json, time, uuid
        from huggingface_hub import HfApi
        api = HfApi()
        repo = "bench/up-" + uuid.uuid4().hex[:8]
        api.create_repo(repo)
        started = time.perf_counter()
        api.upload_file(path_or_fileobj={str(path)!r}, path_in_repo="big.safetensors", repo_id=repo)
        print(json.dumps(time.perf_counter() - started))
        """,
        endpoint,
        token,
        home,
    )


def curl_put_seconds(url, path):
    started = time.perf_counter()
    subprocess.run(["curl", "-sf", "-T", str(path), url], check=True)
    return time.perf_counter() - started


def fresh_file(path, size_mib):
    """`size_mib` MiB of bytes no upload has seen (a new first MiB: a new sha256)."""
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as out:
        out.write(os.urandom(1024 * 1024))
        for _ in range(size_mib - 1):
            out.write(block)


def against_curl(bench, work, rounds, make_file, upload_one, label):
    """`rounds` times: a file made by `make_file(path)`, sent by `curl -T` to nginx and uploaded
    through Pulp by `upload_one(path, round)` (its seconds); reports the ratio of the bests as
    "`label` / curl -T to nginx" (skipped without nginx)."""
    big = work / "upload.bin"
    nginx, nginx_url = start_dav_nginx(bench, work / "dav")
    pulp, base = [], []
    try:
        for round_ in range(rounds):
            make_file(big)
            if nginx:
                base.append(curl_put_seconds(f"{nginx_url}/r{round_}.bin", big))
                for put in (work / "dav").iterdir():
                    put.unlink()
            pulp.append(upload_one(big, round_))
            print(f"  {label}: Pulp {pulp[-1]:.2f} s", flush=True)
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        big.unlink(missing_ok=True)
    if base:
        ratio = min(pulp) / min(base)
        bench.report(f"{label} / curl -T to nginx", ratio, "x", "<= 1.5x", ratio <= 1.5)


def measure(args, api, stack, work, bench):
    """Report the publishing figures (see this module's docstring) with `bench`'s helpers (the
    benchmark module that runs them)."""
    report = bench.report
    endpoint, token = publishing_endpoint(api, f"bench-pub-{uuid.uuid4().hex[:8]}")
    growth = 0

    def upload_one(path, _round):
        nonlocal growth
        with PeakRss(lambda: bench.content_rss_kib(stack)) as rss:
            seconds = upload_seconds(endpoint, token, work / "home", path)
        growth = max(growth, (rss.peak - rss.before) / 1024)
        return seconds

    def make_file(path):
        fresh_file(path, args.size_mib)

    label = f"upload_file {args.size_mib} MiB (LFS)"
    against_curl(bench, work, args.rounds, make_file, upload_one, label)
    report("content app memory growth during uploads", growth, "MiB", "< 100", growth < 100)
    small_files_commit(args, endpoint, token, work, report)


def small_files_commit(args, endpoint, token, work, report):
    folder = work / "small"
    for i in range(args.files):
        (folder / f"part{i % 10}").mkdir(parents=True, exist_ok=True)
        (folder / f"part{i % 10}" / f"{i:05d}.json").write_text(json.dumps({"i": i}))
    timings = client(
        f"""
        import json, time, uuid
        from huggingface_hub import HfApi, snapshot_download
        api = HfApi()
        commits, snapshots = [], []
        for _ in range({args.rounds}):
            repo = "bench/small-" + uuid.uuid4().hex[:8]
            api.create_repo(repo)
            started = time.perf_counter()
            api.upload_folder(repo_id=repo, folder_path={str(folder)!r})
            commits.append(time.perf_counter() - started)
            snapshot_download(repo)  # cold: fills this cache and the content app's memory
            for _ in range(2):
                started = time.perf_counter()
                snapshot_download(repo, force_download=True)
                snapshots.append(time.perf_counter() - started)
        print(json.dumps([min(commits), min(snapshots)]))
        """,
        endpoint,
        token,
        work / "home-small",
    )
    commit_s, snapshot_s = timings
    print(f"  {args.files} files: commit {commit_s:.2f} s, warm snapshot {snapshot_s:.2f} s")
    ratio = commit_s / snapshot_s
    report(f"commit of {args.files} small files / warm snapshot", ratio, "x", "<= 2x", ratio <= 2)


def standalone(measure, args):
    """Run `measure(args, api, stack, work, benchmark)` on the `make run` stack, then print the
    table of what it reported: the exit status (1 when a target was missed)."""
    import benchmark  # bench/ is on the path

    stack = benchmark.main_stack()
    stack.devstack("run")
    api = benchmark.PulpApi(stack.api)
    work = Path(tempfile.mkdtemp(prefix="hf-bench-publish-"))
    try:
        measure(args, api, stack, work, benchmark)
    finally:
        api.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print("\n| measurement | result | target | |\n|---|---|---|---|")
    for row in benchmark.RESULTS:
        print("| " + " | ".join(row) + " |")
    return 0 if all(row[3] == "ok" for row in benchmark.RESULTS) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    return standalone(measure, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
