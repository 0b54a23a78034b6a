"""Manifest checking and the lock format."""

import json

import pytest

from facehugger import lock
from facehugger.manifest import Entry, FacehuggerError, load

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_manifest_defaults_and_globs(tmp_path):
    path = tmp_path / "facehugger.yaml"
    path.write_text(
        "models:\n"
        "  - repo: gpt2\n"
        "  - repo: org/data\n    repo_type: dataset\n    ref: v2\n"
        "    include: ['*.json', 'data/*']\n    exclude: '*.bin'\n"
    )
    assert load(path) == [
        Entry("gpt2"),
        Entry("org/data", "v2", ("*.json", "data/*"), ("*.bin",), "dataset"),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("models: [", "not valid YAML"),
        ("- repo: x\n", "one key, `models`"),
        ("models: []\n", "non-empty list"),
        ("models:\n  - gpt2\n", "models[1]: must be a mapping"),
        ("models:\n  - repo: a\n  - ref: main\n", "models[2]: `repo` is required"),
        ("models:\n  - repo: a\n    revision: x\n", "models[1]: unknown key 'revision'"),
        ("models:\n  - repo: a\n    repo_type: kernel\n", "models[1].repo_type: must be"),
        ("models:\n  - repo: ''\n", "models[1].repo: must be a non-empty string"),
        ("models:\n  - repo: a\n    ref: 3\n", "models[1].ref: must be a non-empty string"),
        ("models:\n  - repo: a\n    include: []\n", "models[1].include: must be a glob"),
        ("models:\n  - repo: a\n    exclude: [1]\n", "models[1].exclude: must be a glob"),
    ],
)
def test_manifest_errors_name_file_entry_and_field(tmp_path, text, message):
    path = tmp_path / "facehugger.yaml"
    path.write_text(text)
    with pytest.raises(FacehuggerError, match="facehugger.yaml") as info:
        load(path)
    assert message in str(info.value)


def test_missing_manifest(tmp_path):
    with pytest.raises(FacehuggerError, match="no such manifest"):
        load(tmp_path / "nope.yaml")


def test_lock_is_deterministic_and_merges_refs():
    a, b = Entry("org/m", "main"), Entry("org/m", "stable")
    pinned = Entry("org/m", COMMIT)
    first = lock.render(lock.build([(a, COMMIT), (b, COMMIT), (pinned, COMMIT)]))
    second = lock.render(lock.build([(pinned, COMMIT), (b, COMMIT), (a, COMMIT)]))
    assert first == second
    assert json.loads(first) == [
        {
            "id": "model/org/m",
            "refs": ["main", "stable"],
            "repo_id": "org/m",
            "repo_type": "model",
            "revision": COMMIT,
        }
    ]


def test_hf_cache_ls_output_is_a_valid_lock(tmp_path):
    """The JSON of `hf cache ls --revisions --format json`, old and new size/time keys."""
    path = tmp_path / "facehugger.lock"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "model/org/m",
                    "repo_id": "org/m",
                    "repo_type": "model",
                    "revision": COMMIT,
                    "snapshot_path": "/somewhere/snapshots/" + COMMIT,
                    "size": "370.1K",
                    "last_modified": "21 seconds ago",
                    "refs": ["main"],
                },
                {
                    "repo_id": "org/d",
                    "repo_type": "dataset",
                    "revision": COMMIT,
                    "size_on_disk": 1,
                    "refs": [],
                },
            ]
        )
    )
    locked = lock.read(path)
    assert locked[0] == lock.Locked("org/m", "model", COMMIT, ("main",))
    assert lock.find(locked, Entry("org/m")) == locked[0]
    assert lock.find(locked, Entry("org/m", "other")) is None
    assert lock.find(locked, Entry("org/d", COMMIT, repo_type="dataset")) == locked[1]
    assert lock.find(locked, Entry("org/d", COMMIT)) is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON"),
        ("{}", "expected a JSON list"),
        ('[{"repo_id": "a"}]', "entry 1 lacks"),
        ('["x"]', "entry 1 lacks"),
        ('[{"repo_id": "a", "repo_type": "model", "revision": "main"}]', "40-hex"),
    ],
)
def test_bad_locks(tmp_path, text, message):
    path = tmp_path / "facehugger.lock"
    path.write_text(text)
    with pytest.raises(FacehuggerError, match=message):
        lock.read(path)


def test_missing_lock(tmp_path):
    with pytest.raises(FacehuggerError, match="no lock file"):
        lock.read(tmp_path / "facehugger.lock")


def test_a_commit_is_exactly_40_hex_digits():
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert lock.is_commit(sha)
    assert not lock.is_commit(sha + "\n")
    assert not lock.is_commit(sha[:-1])
    assert not lock.is_commit(sha.upper())
