"""Content apps forget only what a change concerns (see app/cache): a cold fill of many files
through one distribution must not empty what other distributions remember."""

import psycopg
from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import unique

CHANNEL = "pulp_hugging_face_changes"
FILES = 24


def pk_of(href):
    return href.rstrip("/").rsplit("/", 1)[-1]


def listen(pulp_stack):
    """A connection LISTENing where the stack's content apps do."""
    db = pulp_stack["stack"].database()
    conn = psycopg.connect(
        dbname=db["NAME"],
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def test_a_cold_fill_notifies_only_its_own_repository(
    pulp_stack, pulp_api, hf_distribution, fake_hub, tmp_path
):
    repo_id = f"org/{unique('fill')}"
    fake_hub.add_repo(repo_id).commit({f"f{n:02}.txt": b"%d" % n for n in range(FILES)})
    filled = hf_distribution()
    other = hf_distribution()
    with listen(pulp_stack) as conn:
        snapshot_download(repo_id, cache_dir=tmp_path, endpoint=filled["endpoint"])
        pulp_api.wait_for_content(filled["repository"]["pulp_href"], FILES)
        payloads = [n.payload for n in conn.notifies(timeout=3)]
    assert payloads, "repository versions made by pull-through must still be heard"
    assert set(payloads) == {f"repository:{pk_of(filled['repository']['pulp_href'])}"}
    for kind in ("remote", "repository", "distribution"):
        assert f"{kind}:{pk_of(other[kind]['pulp_href'])}" not in payloads
