"""The first warm snapshot a content process serves, against the Hub direct, in rounds.

    .venv/bin/python bench/first_warm.py [--files 2000] [--rounds 3]

One repo of small files, one cold pass through Pulp, then rounds of: a snapshot straight from the
fake Hub, a restart of the content app (every process forgets what it had seen), a warm snapshot
through Pulp and a second one. Prints each round and the medians' ratios. Run it in two checkouts
(each with its own PULP_TEST_* stack) to compare them.
"""

import argparse
import statistics
import tempfile
import uuid
from pathlib import Path

from benchmark import (  # bench/ is on the path: Python puts a script's own folder first
    FakeHub,
    PulpApi,
    main_stack,
    pull_through_endpoint,
    restart_content,
    snapshot_seconds,
    wait_for_idle_tasks,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2, help="content processes")
    args = parser.parse_args()
    stack = main_stack()
    stack.devstack("run")
    hub = FakeHub().start()
    api = PulpApi(stack.api)
    work = Path(tempfile.mkdtemp(prefix="hf-first-warm-"))
    try:
        endpoint = pull_through_endpoint(api, hub, f"first-warm-{uuid.uuid4().hex[:8]}")
        repo_id = f"bench/first-warm-{uuid.uuid4().hex[:8]}"
        files = {f"shard/{i:05d}.json": f'{{"i": {i}}}'.encode() for i in range(args.files)}
        hub.add_repo(repo_id).commit(files)
        cold = snapshot_seconds(repo_id, endpoint, work / "cold")
        wait_for_idle_tasks(api)
        rounds = []
        for number in range(args.rounds):
            direct = snapshot_seconds(repo_id, hub.url, work / f"direct-{number}")
            restart_content(stack, args.processes)
            first = snapshot_seconds(repo_id, endpoint, work / f"first-{number}")
            second = snapshot_seconds(repo_id, endpoint, work / f"second-{number}")
            rounds.append((direct, first, second))
            print(
                f"round {number}: direct {direct:.2f} s, first warm {first:.2f} s, "
                f"second {second:.2f} s",
                flush=True,
            )
    finally:
        api.cleanup()
        hub.stop()
    direct, first, second = (statistics.median(column) for column in zip(*rounds))
    print(
        f"cold {cold:.1f} s; first warm / direct {first / direct:.3f}x, "
        f"second warm / direct {second / direct:.3f}x (medians)"
    )


if __name__ == "__main__":
    main()
