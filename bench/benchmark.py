"""Measure pulp_hugging_face against baselines run on the same machine in the same run.

    make bench            # or: .venv/bin/python bench/benchmark.py [--size-mib 1024]

Starts (or reuses) the test stack of the functional tests and a fake Hub, then measures:

- warm GET of a large file through Pulp vs nginx serving the same bytes (sendfile): >= 0.8x
- cold GET through Pulp vs the same download straight from the fake Hub/CDN: <= 1.05x
- HEAD on a cached file: p50 <= 2 ms, and no upstream call
- warm snapshot_download of 1,000 files through Pulp vs against the fake Hub direct: <= 2x
- 64 concurrent clients (GET + HEAD of cached files): 0 errors
- immediate sync of the 1,000-file repo vs snapshot_download of it from the fake Hub: <= 1.5x,
  and the sync task's peak memory for 1,000 files vs 100 files: <= 1.3x (flat)

nginx is optional (Debian: `apt-get install nginx-light`); without it that ratio is skipped.
Downloads use curl, so the client is not the bottleneck. Results are printed as a table.
"""

import argparse
import concurrent.futures
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from hf_fake_hub import FakeHub, HubFile

from pulp_hugging_face.pytest_plugin import PulpApi, main_stack

RESULTS = []


def report(name, value, unit, target, ok):
    RESULTS.append((name, f"{value:.3g} {unit}", target, "ok" if ok else "MISSED"))
    print(f"  {name}: {value:.3g} {unit} (target {target})", flush=True)


def curl_seconds(url, out="/dev/null"):
    result = subprocess.run(
        ["curl", "-sf", "-o", out, "-w", "%{time_total}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


def best_of(n, func):
    return min(func() for _ in range(n))


def start_nginx(directory):
    if not shutil.which("nginx"):
        return None, None
    conf_dir = Path(tempfile.mkdtemp(prefix="hf-bench-nginx-"))
    port = 24899
    (conf_dir / "nginx.conf").write_text(f"""user root;
worker_processes 2;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path {conf_dir};
  proxy_temp_path {conf_dir};
  fastcgi_temp_path {conf_dir};
  uwsgi_temp_path {conf_dir};
  scgi_temp_path {conf_dir};
  server {{ listen 127.0.0.1:{port}; root {directory}; }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf_dir / "nginx.conf"), "-g", "daemon off;"])
    time.sleep(0.5)
    return proc, f"http://127.0.0.1:{port}"


def head_latencies(url, count=500):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("HEAD", parts.path)
        response = conn.getresponse()
        response.read()
        timings.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    conn.close()
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="large file size (MiB)")
    parser.add_argument("--files", type=int, default=1000, help="files in the snapshot")
    parser.add_argument(
        "--upstream-mbps", type=int, default=200, help="rate of the throttled upstream (MB/s)"
    )
    args = parser.parse_args()

    print("Starting the test stack and the fake Hub ...", flush=True)
    stack = main_stack()  # the PULP_TEST_* variables choose its ports, database and folder
    stack.devstack("run")
    hub = FakeHub().start()
    api = PulpApi(stack.api)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    remote = api.create("remotes", name=name, url=hub.url)
    repository = api.create("repositories", name=name)
    dist = api.create(
        "distributions",
        name=name,
        base_path=name,
        remote=remote["pulp_href"],
        repository=repository["pulp_href"],
    )
    endpoint = dist["base_url"].rstrip("/")
    work = Path(tempfile.mkdtemp(prefix="hf-bench-"))
    try:
        run(args, hub, endpoint, work, api, stack)
    finally:
        api.cleanup()
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("\n| measurement | result | target | |\n|---|---|---|---|")
    for row in RESULTS:
        print("| " + " | ".join(row) + " |")
    return 0 if all(r[3] == "ok" for r in RESULTS) else 1


def run(args, hub, endpoint, work, api, stack):
    size = args.size_mib * 1024 * 1024
    print(f"Preparing a {args.size_mib} MiB LFS file ...", flush=True)
    data = os.urandom(1024 * 1024) * args.size_mib
    repo_id = f"bench/big-{uuid.uuid4().hex[:8]}"
    big = HubFile(data, lfs=True)
    commit = hub.add_repo(repo_id).commit({"big.bin": big, "big-copy.bin": big})
    etag = hub.repos[("model", repo_id)].commits[commit]["big.bin"].etag
    (work / "big.bin").write_bytes(data)
    del data

    # Cold GET vs straight from upstream (the CDN the Hub redirects to): once with the fake
    # CDN sending as fast as loopback allows, once at a fixed rate like a real network link.
    pulp_url = f"{endpoint}/{repo_id}/resolve/{commit}/big.bin"
    for rate in (None, args.upstream_mbps):
        hub.cdn_rate = rate * 1e6 if rate else None
        label = f"{rate} MB/s upstream" if rate else "unthrottled loopback upstream"
        direct = best_of(2, lambda: curl_seconds(f"{hub.cdn_url}/repos/{etag}"))
        url = pulp_url if rate is None else pulp_url.replace("/big.bin", "/big-copy.bin")
        cold = curl_seconds(url)
        print(f"  cold GET {cold:.3f} s, upstream direct {direct:.3f} s ({label})", flush=True)
        ok = cold / direct <= 1.05
        report(f"cold GET / upstream direct, {label}", cold / direct, "x", "<= 1.05x", ok)
    hub.cdn_rate = None

    # Warm GET vs nginx, once the cold downloads are stored (their extra digests use the CPU).
    time.sleep(6)
    warm = best_of(3, lambda: curl_seconds(pulp_url))
    nginx, nginx_url = start_nginx(work)
    if nginx:
        try:
            base = best_of(3, lambda: curl_seconds(f"{nginx_url}/big.bin"))
        finally:
            nginx.terminate()
        ratio = base / warm
        report("warm GET throughput / nginx", ratio, "x", ">= 0.8x", ratio >= 0.8)
    print(f"  warm GET: {size / warm / 1e9:.2f} GB/s", flush=True)

    # HEAD on a cached file.
    hub.reset_log()
    timings = head_latencies(pulp_url)
    p50 = statistics.median(timings) * 1000
    report("HEAD cached p50", p50, "ms", "<= 2 ms", p50 <= 2)
    report("upstream calls during HEADs", len(hub.requests), "", "0", not hub.requests)

    # Snapshot of many small files.
    snap_id = f"bench/many-{uuid.uuid4().hex[:8]}"
    files = {f"shard/{i:04d}.json": f'{{"i": {i}}}'.encode() for i in range(args.files)}
    hub.add_repo(snap_id).commit(files)
    direct_s = snapshot_seconds(snap_id, hub.url, work / "direct")
    snapshot_seconds(snap_id, endpoint, work / "cold")
    warm_s = min(snapshot_seconds(snap_id, endpoint, work / f"warm{i}") for i in range(2))
    ratio = warm_s / direct_s
    report(f"warm snapshot of {args.files} files / Hub direct", ratio, "x", "<= 2x", ratio <= 2)

    # Sync (immediate) of the same repo into a repository, and the task's memory.
    sync_s, peak_mib = sync_seconds(api, hub, snap_id, stack)
    ratio = sync_s / direct_s
    report(
        f"immediate sync of {args.files} files / snapshot direct",
        ratio,
        "x",
        "<= 1.5x",
        ratio <= 1.5,
    )
    few = f"bench/few-{uuid.uuid4().hex[:8]}"
    hub.add_repo(few).commit(dict(list(files.items())[: max(1, args.files // 10)]))
    _, few_peak_mib = sync_seconds(api, hub, few, stack)
    growth = peak_mib / max(few_peak_mib, 1)
    report(
        f"sync task memory, {args.files} / {args.files // 10} files",
        growth,
        "x",
        "<= 1.3x",
        growth <= 1.3,
    )

    # 64 concurrent clients.
    small = f"{endpoint}/{snap_id}/resolve/main/shard/0001.json"
    errors = concurrent_clients(small, pulp_url, clients=64, seconds=10)
    report("errors with 64 concurrent clients", errors, "", "0", errors == 0)


def sync_seconds(api, hub, repo_id, stack):
    """Seconds from POST sync/ to a finished task, and the task process's peak RSS (MiB)."""
    name = f"bench-sync-{uuid.uuid4().hex[:8]}"
    remote = api.create("remotes", name=name, url=hub.url, includes=[{"repo": repo_id}])
    repository = api.create("repositories", name=name)
    started = time.perf_counter()
    task = api.request(
        "POST", repository["pulp_href"] + "sync/", json={"remote": remote["pulp_href"]}
    )
    peak = 0
    while True:
        state = api.get(task["task"])["state"]
        peak = max(peak, task_process_rss(stack))
        if state in ("completed", "failed", "canceled"):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if state != "completed":
        raise SystemExit(f"sync of {repo_id} {state}")
    return elapsed, peak / 1024


def task_process_rss(stack):
    """KiB of resident memory of the processes the workers forked to run tasks."""
    workers = {int(p.read_text()) for p in (stack.state_dir / "run").glob("worker*.pid")}
    total = 0
    for stat in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in stat.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if int(fields.get("PPid", "0")) in workers and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0])
    return total


def snapshot_seconds(repo_id, endpoint, cache):
    code = (
        "import sys, time; from huggingface_hub import snapshot_download; t = time.perf_counter();"
        f"snapshot_download({repo_id!r}, cache_dir={str(cache)!r}, endpoint={endpoint!r});"
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def concurrent_clients(small_url, big_url, clients, seconds):
    deadline = time.monotonic() + seconds

    def client(index):
        errors = 0
        parts = urlsplit(small_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            for method, url in (("GET", small_url), ("HEAD", big_url)):
                try:
                    conn.request(method, urlsplit(url).path)
                    response = conn.getresponse()
                    response.read()
                    errors += response.status != 200
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.close()
        return errors

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(client, range(clients)))


if __name__ == "__main__":
    sys.exit(main())
