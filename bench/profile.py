"""Where the content app's time goes per request: py-spy on one content-app process under wrk.

    .venv/bin/python bench/profile.py [--seconds 10] [--size-kib 4096]

Needs wrk and ab (Debian: wrk, apache2-utils) and py-spy (`uv pip install py-spy` into .venv).

Starts (or reuses) the bench's stack with one content-app process and a fake Hub, stores a
small file (or one of `--size-kib`) through pull-through, then samples that process with py-spy
while 64 keep-alive clients send warm HEADs of it (ab), and then warm GETs (wrk). For each load
it prints the requests/s, the functions that took the most samples of their own, and each
package's share.
py-spy counts only samples where the process runs Python or is in a system call other than
waiting for the network, so shares are of the busy time.
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from benchmark import (  # bench/ is on the path: Python puts a script's own folder first
    WRK_CLIENTS,
    check_ok,
    content_pids,
    curl_seconds,
    pull_through_endpoint,
    restart_content,
    wait_for_idle_tasks,
    wait_until_served_warm,
)
from hf_fake_hub import FakeHub, HubFile

from pulp_hugging_face.pytest_plugin import PulpApi, main_stack

TOP = 12
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds of wrk per load")
    parser.add_argument(
        "--size-kib", type=int, default=0, help="size of the file (default: a small json file)"
    )
    args = parser.parse_args()
    stack = main_stack()
    stack.devstack("run")
    restart_content(stack, 1)
    hub = FakeHub().start()
    api = PulpApi(stack.api)
    try:
        url = stored_file_url(hub, api, args.size_kib)
        worker = content_pids(stack)[1]
        what = f"a {args.size_kib} KiB file" if args.size_kib else "a small file"
        for method in ("HEAD", "GET"):
            rate, samples = profile(worker, url, method, args.seconds)
            print(f"\n## warm {method} of {what}: {rate:.0f} requests/s, one process\n")
            print_top(samples)
    finally:
        api.cleanup()
        hub.stop()
        restart_content(stack, int(os.environ.get("PULP_CONTENT_WORKERS") or 2))


def stored_file_url(hub, api, size_kib):
    """A file (a small json file, or `size_kib` KiB of bytes), stored through pull-through and
    answered warm."""
    name = f"profile-{uuid.uuid4().hex[:8]}"
    endpoint = pull_through_endpoint(api, hub, name)
    repo_id = f"bench/{name}"
    if size_kib:
        path_in_repo, file = "model.bin", HubFile(os.urandom(size_kib << 10), lfs=True)
    else:
        path_in_repo, file = "config.json", HubFile(b'{"model_type": "bench"}\n')
    commit = hub.add_repo(repo_id).commit({path_in_repo: file})
    url = f"{endpoint}/{repo_id}/resolve/{commit}/{path_in_repo}"
    curl_seconds(url)
    wait_for_idle_tasks(api)
    wait_until_served_warm(hub, url)
    check_ok(url)
    return url


def profile(pid, url, method, seconds):
    """(requests/s, {stack: samples}) of `pid` while 64 keep-alive clients send `method`
    requests to `url`: wrk for GETs, ab for HEADs (wrk waits for a body after a HEAD)."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "profile.txt"
        subprocess.run(load(method, url, 2), capture_output=True, check=True)  # warm-up
        spy = subprocess.Popen(
            [PY_SPY, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250"]
            + ["--format", "raw", "--output", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        result = subprocess.run(load(method, url, seconds), capture_output=True, text=True)
        spy.wait(timeout=seconds + 30)
        found = re.search(r"Requests(?:/sec| per second):\s+([\d.]+)", result.stdout)
        if result.returncode or not found:
            raise SystemExit(f"the load generator failed:\n{result.stdout}{result.stderr}")
        samples = collections.Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            samples[stack] += int(count)
    return float(found.group(1)), samples


def load(method, url, seconds):
    """The command line of a load of `seconds` of `method` requests from 64 clients."""
    if method == "HEAD":
        return ["ab", "-q", "-k", "-i", "-c", str(WRK_CLIENTS), "-t", str(seconds)] + [
            "-n",
            "100000000",
            url,
        ]
    return ["wrk", "-t", "2", "-c", str(WRK_CLIENTS), "-d", f"{seconds}s", url]


def print_top(samples):
    """The functions with the most samples of their own, and the share of each package."""
    total = sum(samples.values()) or 1
    own, packages = collections.Counter(), collections.Counter()
    for stack, count in samples.items():
        function, path = split_frame(stack.rsplit(";", 1)[-1])
        own[f"{function} ({'/'.join(Path(path).parts[-2:])})"] += count
        packages[package_of(path)] += count
    for title, counter in (("function", own), ("package", packages)):
        print(f"| {title} (own time) | share of samples |\n|---|---|")
        for name, count in counter.most_common(TOP):
            print(f"| `{name}` | {100 * count / total:.1f} % |")
        print()


def split_frame(frame):
    """`function (path:line)` -> (function, path)."""
    function, _, where = frame.partition(" (")
    return function, where.rstrip(")").rsplit(":", 1)[0]


def package_of(path):
    """The top-level package or module of a source file (py-spy names them from sys.path)."""
    top = Path(path).parts[0] if path else "?"
    return top.removeprefix("<frozen ").removesuffix(">").removesuffix(".py")


if __name__ == "__main__":
    main()
