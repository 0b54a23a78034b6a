"""Add or remove many stored-file rows in a stack's database, for bench/benchmark.py.

    PULP_SETTINGS=<state dir>/settings.py DJANGO_SETTINGS_MODULE=pulpcore.app.settings \\
        .venv/bin/python bench/bulk_content.py add 100000 <sha256 of a stored artifact>
    ... bulk_content.py count     # HuggingFaceContent rows in the database
    ... bulk_content.py remove    # every row `add` made (prints how many)

`add` writes what a lookup of a stored file reads: HuggingFaceContent units (repo ids
`bench/bulk-<n>`, one fixed commit) in the default domain, each with a ContentArtifact pointing
at one shared, existing Artifact; no RemoteArtifact and no repository holds them. It inserts
in batches (pulp Content is multi-table: Django's bulk_create writes the core rows, the plugin's
rows go in with executemany), then runs VACUUM ANALYZE so the planner knows the new sizes.

`remove` deletes them with plain SQL: the ORM would collect 100,000 objects and send a
`post_delete` (a NOTIFY to every content app) for each.
"""

import sys

REPO_PREFIX = "bench/bulk-"
COMMIT = "b3c4" * 10
PATH_IN_REPO = "model.safetensors"
BATCH = 5000


def tables():
    from pulpcore.plugin.models import Content, ContentArtifact

    from pulp_hugging_face.app.models import HuggingFaceContent

    return HuggingFaceContent._meta.db_table, Content._meta.db_table, ContentArtifact._meta.db_table


def add(count, sha256):
    from django.db import transaction

    from pulpcore.plugin.models import Artifact
    from pulpcore.plugin.util import get_domain_pk

    domain = get_domain_pk()
    artifact = Artifact.objects.get(sha256=sha256, pulp_domain_id=domain)
    for start in range(0, count, BATCH):
        with transaction.atomic():
            add_batch(range(start, min(count, start + BATCH)), artifact, domain)
    vacuum_analyze()


def add_batch(numbers, artifact, domain):
    from django.db import connection

    from pulpcore.plugin.models import Content, ContentArtifact

    from pulp_hugging_face.app.models import HuggingFaceContent

    pulp_type = HuggingFaceContent.get_pulp_type()
    parents = Content.objects.bulk_create(
        [Content(pulp_type=pulp_type, pulp_domain_id=domain) for _ in numbers], batch_size=BATCH
    )
    columns = {
        "content_ptr": [p.pk for p in parents],
        "repo_type": ["model"] * len(parents),
        "repo_id": [f"{REPO_PREFIX}{n}" for n in numbers],
        "commit": [COMMIT] * len(parents),
        "path_in_repo": [PATH_IN_REPO] * len(parents),
        "etag": [artifact.sha256] * len(parents),
        "size": [artifact.size] * len(parents),
        "_pulp_domain": [domain] * len(parents),
    }
    names = ", ".join(HuggingFaceContent._meta.get_field(name).column for name in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {HuggingFaceContent._meta.db_table} ({names}) VALUES ({marks})",
            list(zip(*columns.values())),
        )
    ContentArtifact.objects.bulk_create(
        [
            ContentArtifact(content_id=parent.pk, artifact=artifact, relative_path=path)
            for parent, path in zip(parents, artifact_paths(numbers))
        ],
        batch_size=BATCH,
    )


def artifact_paths(numbers):
    from pulp_hugging_face import hub

    for n in numbers:
        pinned = hub.ResolvePath(hub.Repo("model", f"{REPO_PREFIX}{n}"), COMMIT, PATH_IN_REPO)
        yield pinned.artifact_path()


def remove():
    from django.db import connection, transaction

    detail, content, content_artifact = tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_bulk ON COMMIT DROP AS "
            f"SELECT content_ptr_id AS id FROM {detail} WHERE repo_id LIKE %s",
            [REPO_PREFIX + "%"],
        )
        cursor.execute(
            f"DELETE FROM {content_artifact} WHERE content_id IN (SELECT id FROM bench_bulk)"
        )
        cursor.execute(f"DELETE FROM {detail} WHERE content_ptr_id IN (SELECT id FROM bench_bulk)")
        cursor.execute(f"DELETE FROM {content} WHERE pulp_id IN (SELECT id FROM bench_bulk)")
        removed = cursor.rowcount
    if removed:
        vacuum_analyze()
    return removed


def vacuum_analyze():
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables():
            cursor.execute(f"VACUUM ANALYZE {table}")


def count():
    from pulp_hugging_face.app.models import HuggingFaceContent

    return HuggingFaceContent.objects.count()


def main(argv):
    import django

    django.setup()
    command = argv[1] if len(argv) > 1 else ""
    if command == "add" and len(argv) == 4:
        add(int(argv[2]), argv[3])
    elif command == "remove":
        print(remove())
    elif command == "count":
        print(count())
    else:
        sys.exit(f"usage: {argv[0]} add COUNT SHA256 | remove | count")


if __name__ == "__main__":
    main(sys.argv)
