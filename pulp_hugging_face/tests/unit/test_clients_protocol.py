"""What other clients send: `/raw/` paths, JSON paths-info bodies, and repo info selections
(`expand=`) answered from what is known of a commit."""

import json

import pytest
from multidict import MultiDict

from pulp_hugging_face import hub, repo_info
from pulp_hugging_face.hub import HubPathError, Repo, ResolvePath

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            "gpt2/raw/main/config.json",
            ResolvePath(Repo("model", "gpt2"), "main", "config.json", True),
        ),
        (
            "datasets/org/data/raw/refs%2Fpr%2F2/a/b.csv",
            ResolvePath(Repo("dataset", "org/data"), "refs/pr/2", "a/b.csv", True),
        ),
        ("org/m/resolve/main/raw/x", ResolvePath(Repo("model", "org/m"), "main", "raw/x")),
    ],
)
def test_raw_paths_are_the_files_resolve_paths_in_gits_view(raw, expected):
    parsed = hub.parse_url_path(raw)
    assert parsed == expected and parsed.url() == raw
    assert not parsed.resolved().raw and parsed.at(COMMIT).raw == parsed.raw
    stored = parsed.at(COMMIT).artifact_path()  # both views name the same stored file
    assert stored == parsed.resolved().at(COMMIT).artifact_path() and "/resolve/" in stored


def test_an_artifact_path_is_never_a_raw_view():
    with pytest.raises(HubPathError):
        hub.parse_artifact_path(f"org/m/raw/{COMMIT}/config.json")


def test_the_pointer_of_an_lfs_file_is_gits():
    pointer = hub.lfs_pointer("ab" * 32, 1234)
    assert pointer == (
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 1234\n"
    )
    assert hub.git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git's


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", json.dumps({"paths": ["b.txt", "a.txt", "b.txt"], "expand": True})),
        ("application/x-www-form-urlencoded", "paths=b.txt&paths=a.txt&expand=True"),
        ("application/x-www-form-urlencoded", "paths=a.txt&expand=true&paths=b.txt"),
    ],
)
def test_paths_info_bodies_of_every_client_mean_the_same(content_type, body):
    query = hub.parse_paths_info(content_type, body.encode())
    assert query == hub.PathsInfoQuery(("a.txt", "b.txt"), True)
    assert query.form() == [("paths", "a.txt"), ("paths", "b.txt"), ("expand", "True")]


def test_paths_info_without_expand():
    for content_type, body in [
        ("application/json", b'{"paths": ["x"]}'),
        ("application/json", b'{"paths": "x", "expand": false}'),
        ("application/x-www-form-urlencoded", b"paths=x&expand=False"),
        ("", b"paths=x"),
    ]:
        assert hub.parse_paths_info(content_type, body) == hub.PathsInfoQuery(("x",), False)


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b'{"paths": [1]}'),
        ("application/json", b'{"paths": {"a": 1}}'),
        ("application/json", b'{"paths": ["a\\nb"]}'),
        ("application/json", b"\xff\xfe"),
        ("application/x-www-form-urlencoded", b"paths=%ff"),
        ("application/x-www-form-urlencoded", b"paths=a%0Ab"),
        ("application/json", json.dumps({"paths": ["p"] * (hub.MAX_PATHS_INFO + 1)}).encode()),
    ],
)
def test_bad_paths_info_bodies_are_refused(content_type, body):
    with pytest.raises(HubPathError):
        hub.parse_paths_info(content_type, body)


def query(*pairs):
    return MultiDict(pairs)


def test_selections():
    assert repo_info.selection(query()) is None
    assert repo_info.selection(
        query(("expand", "sha"), ("expand", "gated"), ("expand", "sha"))
    ) == (
        "sha",
        "gated",
    )
    with pytest.raises(repo_info.NotASelection):
        repo_info.selection(query(("blobs", "true")))


DEFAULT = {"_id": "x1", "id": "org/m", "sha": COMMIT, "private": False, "siblings": []}


def test_the_default_answer_answers_every_selection_of_its_fields():
    record = repo_info.Record().learn(DEFAULT, None)
    assert record.covers(None) and record.answer(None) == DEFAULT
    assert list(record.answer(None)) == list(DEFAULT)  # the Hub's order
    assert record.covers(("sha", "private"))
    assert record.answer(("private", "sha")) == {
        "_id": "x1",
        "id": "org/m",
        "private": False,
        "sha": COMMIT,
    }
    assert record.missing(("sha", "pipeline_tag", "downloadsAllTime")) == [
        "pipeline_tag",
        "downloadsAllTime",
    ]


def test_fields_only_expand_names_are_learned_once_present_or_not():
    record = repo_info.Record().learn(DEFAULT, None)
    wanted = ("sha", "pipeline_tag", "downloadsAllTime")
    record.learn({"_id": "x1", "id": "org/m", "downloadsAllTime": 70}, list(record.missing(wanted)))
    assert record.covers(wanted)
    assert record.answer(wanted) == {
        "_id": "x1",
        "id": "org/m",
        "sha": COMMIT,
        "downloadsAllTime": 70,
    }
    assert record.answer(None) == DEFAULT  # the default answer stays the Hub's default answer


def test_a_record_learned_from_a_selection_does_not_answer_the_default():
    record = repo_info.Record().learn({"_id": "x1", "id": "org/m", "sha": COMMIT}, ("sha",))
    assert not record.covers(None) and record.covers(("sha",))
    again = repo_info.Record.from_json(json.loads(json.dumps(record.to_json())))
    assert again == record


def test_every_clients_query_spelling_is_one():
    from pulp_hugging_face.app.api import canonical_query

    spelled = canonical_query(
        query(("recursive", "True"), ("expand", "False"), ("expand[]", "likes"), ("cursor", "Ab"))
    )
    assert list(spelled.items()) == [
        ("recursive", "true"),
        ("expand", "false"),
        ("expand", "likes"),
        ("cursor", "Ab"),
    ]
    assert repo_info.selection(canonical_query(query(("expand[]", "likes")))) == ("likes",)
