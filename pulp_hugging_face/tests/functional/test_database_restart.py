"""PostgreSQL restarts under a content app serving downloads (on a stack with a cluster of its
own): service resumes within seconds without restarting Pulp, never with wrong bytes, and the
change notifications listen again."""

import os
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import requests
from hf_fake_hub import HubFile

from pulp_hugging_face.pytest_plugin import PulpApi, unique

from .test_faults import wait_until

PRIVATE_PG_PORT = 54329  # scripts/devstack.py


def test_the_content_app_resumes_after_postgresql_restarts(pulp_private_pg_stack, fake_hub):
    stack = pulp_private_pg_stack
    pgdata = stack.state_dir / "pgdata"
    api = PulpApi(stack.api)
    try:
        remote = api.create("remotes", name=unique("r"), url=fake_hub.url)
        made = api.create(
            "distributions", name=unique("d"), base_path=unique("pg"), remote=remote["pulp_href"]
        )
        repo_id = f"org/{unique('pgrestart')}"
        data = os.urandom(300_000)
        commit = fake_hub.add_repo(repo_id).commit({"w.bin": HubFile(data, lfs=True)})
        path = f"{repo_id}/resolve/{commit}/w.bin"
        url = f"{made['base_url'].rstrip('/')}/{path}"
        assert requests.get(url, timeout=30).content == data
        api.wait_for_units(1, repo_id=repo_id)

        def listeners():
            with psycopg.connect(
                host=str(pgdata), port=PRIVATE_PG_PORT, user="postgres", dbname="postgres"
            ) as conn:
                query = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN pulp_hug%'"
                return conn.execute(query).fetchone()[0]

        wait_until(lambda: listeners() == 2, 30, "the change listeners", ignore=(psycopg.Error,))
        results, stop = [], threading.Event()

        def client():
            while not stop.is_set():
                try:
                    answer = requests.get(url, timeout=10)
                    results.append((time.time(), answer.status_code, answer.content == data))
                except requests.RequestException:
                    results.append((time.time(), None, False))

        threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            restarted = time.time()
            runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            pg_ctl = sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
            restart = [pg_ctl, "-D", str(pgdata), "-l", str(pgdata / "postgresql.log")]
            done = subprocess.run(  # no pipes: the new server would hold them open
                runas + restart + ["-m", "fast", "-w", "restart"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
            assert done.returncode == 0
            back = time.time()
            time.sleep(8)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
        assert all(ok for _, status, ok in results if status == 200)  # never wrong bytes
        assert any(ok for when, _, ok in results if when < restarted)
        after = [(status, ok) for when, status, ok in results if when > back + 5]
        assert after and all(ok for _, ok in after), after[:5]
        wait_until(lambda: listeners() == 2, 20, "the change listeners", ignore=(psycopg.Error,))

        # pulpcore workers exit when they lose the database (their supervisor restarts them).
        stack.devstack("run")
        new_base = unique("pgmoved")
        task = api.request("PATCH", made["pulp_href"], json={"base_path": new_base})
        api.wait_task(task["task"])
        assert requests.head(url, timeout=10).status_code == 404
        moved = url.replace(made["base_path"], new_base)
        assert requests.get(moved, timeout=30).content == data
    finally:
        api.cleanup()
