"""Evicting pulled-through files at scale: --files of them (100,000) in under a minute.

    .venv/bin/python bench/eviction.py [--files 100000]     # also part of `make bench`

Fills a new repository with --files pulled-through files, each with its own small artifact in
the stack's storage. `fill` writes them straight into the database and the media folder, run
with the stack's settings, as pull-through would have left them. It then sets `cache_max_bytes`
to 0 and times `POST {repository_href}evict/`: the task's own run time, and the wall time from
the request to the task's end.

Checks that every file left the latest version, that the counters say so, and that a sample of
the artifacts is gone from the database and from the disk.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

BATCH = 5000
SAMPLE = 200


def fill(repository_pk, count):
    """(Under Django) `count` pulled-through files in a new version of the repository; prints
    a JSON sample of (sha256, storage path)."""
    from pulp_hugging_face.app.models import PULLING_THROUGH, HuggingFaceRepository

    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    sample = []
    PULLING_THROUGH.set(True)  # as pull-through adds them: evictable
    with repository.new_version() as version:
        for start in range(0, count, BATCH):
            sample += fill_batch(repository, version, range(start, min(count, start + BATCH)))
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would after so many rows
        cursor.execute("ANALYZE")
    print(json.dumps(sample[:SAMPLE]))


def fill_batch(repository, version, numbers):
    from django.core.files.base import ContentFile
    from django.db import connection
    from django.utils import timezone

    from pulpcore.plugin.models import Artifact, Content, ContentArtifact
    from pulpcore.plugin.util import get_domain

    from pulp_hugging_face.app.models import CachedFile, HuggingFaceContent

    domain = get_domain()
    storage = domain.get_storage()
    artifacts = []
    for _ in numbers:
        data = os.urandom(64)
        digests = {n: hashlib.new(n, data).hexdigest() for n in ("sha224", "sha256", "sha384")}
        digests["sha512"] = hashlib.sha512(data).hexdigest()
        name = storage.save(
            f"artifact/{digests['sha256'][:2]}/{digests['sha256'][2:]}", ContentFile(data)
        )
        artifacts.append(Artifact(file=name, size=len(data), pulp_domain=domain, **digests))
    Artifact.objects.bulk_create(artifacts)
    pulp_type = HuggingFaceContent.get_pulp_type()
    parents = Content.objects.bulk_create(
        [Content(pulp_type=pulp_type, pulp_domain=domain) for _ in numbers]
    )
    commit = uuid.uuid4().hex[:40].ljust(40, "0")
    rows = [
        (p.pk, "model", "bench/evict", commit, f"f{n}.bin", a.sha256, a.size, domain.pk)
        for p, a, n in zip(parents, artifacts, numbers)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {HuggingFaceContent._meta.db_table} (content_ptr_id, repo_type, "
            "repo_id, commit, path_in_repo, etag, size, _pulp_domain_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    ContentArtifact.objects.bulk_create(
        [
            ContentArtifact(content_id=p.pk, artifact=a, relative_path=f"f{n}.bin")
            for p, a, n in zip(parents, artifacts, numbers)
        ]
    )
    version.add_content(Content.objects.filter(pk__in=[p.pk for p in parents]))
    now = timezone.now()
    CachedFile.objects.bulk_create(
        [CachedFile(repository=repository, content_id=p.pk, served_at=now) for p in parents]
    )
    return [(a.sha256, storage.path(a.file.name)) for a in artifacts[:SAMPLE]]


def measure(args, api, stack, work, bench):
    """Report the eviction figure with `bench`'s helpers (the benchmark module that runs it)."""
    repository = api.create("repositories", name=f"bench-evict-{uuid.uuid4().hex[:8]}")
    href = repository["pulp_href"]
    print(f"Filling a repository with {args.evict_files} pulled-through files ...", flush=True)
    pk = href.rstrip("/").rpartition("/")[2]
    sample = json.loads(run_with_settings(stack, "fill", pk, args.evict_files).splitlines()[-1])
    result = api.request("PATCH", href, json={"cache_max_bytes": 0})
    api.wait_task(result["task"])
    print("Evicting them ...", flush=True)
    started = time.monotonic()
    task = api.request("POST", href + "evict/", json={})
    task = api.wait_task(task["task"], timeout=900)
    wall = time.monotonic() - started
    ran = (stamp(task["finished_at"]) - stamp(task["started_at"])).total_seconds()
    usage = api.get(href)["cache_usage"]
    gone = all(not os.path.exists(path) for _sha256, path in sample)
    rows = sum(api.get("/pulp/api/v3/artifacts/", sha256=s)["count"] for s, _p in sample[:20])
    complete = (
        usage["pulled_through_files"] == 0
        and usage["evicted_files"] == args.evict_files
        and gone
        and rows == 0
    )
    if not complete:
        print(f"  incomplete: usage {usage}, sample files gone {gone}, rows left {rows}")
    label = f"evict {args.evict_files:,} pulled-through files"
    bench.report(f"{label}: task", ran, "s", "< 60", ran < 60 and complete)
    bench.report(f"{label}: request to done", wall, "s", "info", complete)


def stamp(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_with_settings(stack, *args):
    env = dict(
        os.environ,
        PULP_SETTINGS=str(stack.state_dir / "settings.py"),
        DJANGO_SETTINGS_MODULE="pulpcore.app.settings",
    )
    result = subprocess.run(
        [sys.executable, __file__, *map(str, args)], env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"eviction.py {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout.strip()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "fill":
        import django

        django.setup()
        return fill(sys.argv[2], int(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evict-files", type=int, default=100_000)
    sys.path.insert(0, str(Path(__file__).parent))
    from publish import standalone

    return standalone(measure, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
