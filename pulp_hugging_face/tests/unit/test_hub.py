"""The Hub URL grammar."""

import pytest

from pulp_hugging_face import hub
from pulp_hugging_face.hub import ApiPath, HubPathError, Repo, ResolvePath

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            "gpt2/resolve/main/config.json",
            ResolvePath(Repo("model", "gpt2"), "main", "config.json"),
        ),
        (
            "openai-community/gpt2/resolve/main/config.json",
            ResolvePath(Repo("model", "openai-community/gpt2"), "main", "config.json"),
        ),
        (
            "datasets/org/data/resolve/v1.0/data/train-00000.parquet",
            ResolvePath(Repo("dataset", "org/data"), "v1.0", "data/train-00000.parquet"),
        ),
        (
            "spaces/org/app/resolve/main/app.py",
            ResolvePath(Repo("space", "org/app"), "main", "app.py"),
        ),
        (
            "org/name/resolve/refs%2Fpr%2F1/weights/model.bin",
            ResolvePath(Repo("model", "org/name"), "refs/pr/1", "weights/model.bin"),
        ),
        (
            "org/name/resolve/main/dir/file%20with%20space.txt",
            ResolvePath(Repo("model", "org/name"), "main", "dir/file with space.txt"),
        ),
        ("gpt2/resolve/main/resolve/x", ResolvePath(Repo("model", "gpt2"), "main", "resolve/x")),
        ("api/models/gpt2", ApiPath(Repo("model", "gpt2"))),
        ("api/models/org/name", ApiPath(Repo("model", "org/name"))),
        ("api/models/gpt2/refs", ApiPath(Repo("model", "gpt2"), "refs")),
        (
            "api/datasets/org/name/revision/refs%2Fpr%2F3",
            ApiPath(Repo("dataset", "org/name"), "revision", "refs/pr/3"),
        ),
        (
            "api/models/gpt2/tree/main/sub%20dir/x",
            ApiPath(Repo("model", "gpt2"), "tree", "main", "sub dir/x"),
        ),
        (
            f"api/spaces/org/app/paths-info/{COMMIT}",
            ApiPath(Repo("space", "org/app"), "paths-info", COMMIT),
        ),
    ],
)
def test_parse_url_path(raw, expected):
    assert hub.parse_url_path(raw) == expected


@pytest.mark.parametrize(
    "path",
    [
        ResolvePath(Repo("model", "gpt2"), "main", "config.json"),
        ResolvePath(Repo("dataset", "org/d"), "refs/pr/1", "a b/c%d.txt"),
        ApiPath(Repo("model", "org/m"), "tree", "refs/pr/2", "x y"),
        ApiPath(Repo("space", "s"), "refs"),
    ],
)
def test_url_round_trip(path):
    assert hub.parse_url_path(path.url()) == path


def test_quoting_matches_the_hub_client():
    path = ResolvePath(Repo("model", "org/m"), "refs/pr/1", "dir/a b.txt")
    assert path.url() == "org/m/resolve/refs%2Fpr%2F1/dir/a%20b.txt"
    assert path.at(COMMIT).artifact_path() == f"org/m/resolve/{COMMIT}/dir/a b.txt"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "config.json",
        "gpt2/resolve/main",
        "gpt2/resolve/main/",
        "a/b/c/resolve/main/x",
        "org/name/resolve/main/../secret",
        "org/name/resolve/main/./x",
        "org/name/resolve/main/a//b",
        "org/name/resolve/..%2Fescape/x",
        "org/name/resolve/%00/x",
        "org/na--me/resolve/main/x",
        "org/-name/resolve/main/x",
        "org/name./resolve/main/x",
        "org/name.git/resolve/main/x",
        "org/name/resolve/main/a%5Cb",
        "org/name/resolve/main/%ff",
        "api/things/gpt2",
        "api/models/gpt2/tree",
        "api/models/gpt2/refs/extra",
        "api/models",
        "x" * 97 + "/resolve/main/f",
    ],
)
def test_rejects_malformed_paths(raw):
    with pytest.raises(HubPathError):
        hub.parse_url_path(raw)


def test_parse_artifact_path_requires_a_commit():
    pinned = hub.parse_artifact_path(f"datasets/org/d/resolve/{COMMIT}/a/b.csv")
    assert pinned == ResolvePath(Repo("dataset", "org/d"), COMMIT, "a/b.csv")
    with pytest.raises(HubPathError):
        hub.parse_artifact_path("org/d/resolve/main/a.csv")
    with pytest.raises(HubPathError):
        hub.parse_artifact_path(f"api/models/org/d/revision/{COMMIT}")


def test_artifact_path_is_not_unquoted_twice():
    pinned = hub.parse_artifact_path(f"org/m/resolve/{COMMIT}/100%25.txt")
    assert pinned.path_in_repo == "100%25.txt"
    assert pinned.url().endswith("/100%2525.txt")


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"abc"', "abc"),
        ('W/"abc"', "abc"),
        ("abc", "abc"),
        ("", None),
        (None, None),
        ('""', None),
    ],
)
def test_normalize_etag(value, expected):
    assert hub.normalize_etag(value) == expected


def test_is_commit():
    assert hub.is_commit(COMMIT)
    assert not hub.is_commit(COMMIT.upper())
    assert not hub.is_commit(COMMIT[:-1])
    assert not hub.is_commit("main")
    assert not hub.is_commit(None)


HASH = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "raw, expected",
    [
        (f"xet-cas/v1/xorbs/default/{HASH}", hub.XetPath("v1", "xorbs", HASH)),
        (f"xet-cas/v1/chunks/default-merkledb/{HASH}", hub.XetPath("v1", "chunks", HASH)),
        (f"xet-cas/v1/chunks/default/{HASH}", hub.XetPath("v1", "chunks", HASH)),  # hf_xet 1.8
        (f"xet-cas/v2/reconstructions/{HASH}", hub.XetPath("v2", "reconstructions", HASH)),
        ("xet-cas/v1/reconstructions", hub.XetPath("v1", "reconstructions")),
        ("xet-cas/v2/shards", hub.XetPath("v2", "shards")),
        (f"xet-cas/v1/xorb-grants/default/{HASH}", hub.XetPath("v1", "xorb-grants")),  # a 404
        (
            "api/models/org/m/xet-write-token/main",
            hub.ApiPath(hub.Repo("model", "org/m"), "xet-write-token", "main"),
        ),
        # a model repo named xet-cas/v1 keeps its files
        (
            "xet-cas/v1/resolve/main/a.txt",
            hub.ResolvePath(hub.Repo("model", "xet-cas/v1"), "main", "a.txt"),
        ),
    ],
)
def test_xet_paths(raw, expected):
    assert hub.parse_url_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        f"xet-cas/v1/xorbs/default/{HASH[:-1]}",
        f"xet-cas/v1/xorbs/default/{HASH.upper()}",
        f"xet-cas/v1/xorbs/other/{HASH}",
        f"xet-cas/v1/xorbs/default/{HASH}/more",
        "xet-cas/v1/shards/extra",
        "xet-cas/v1/files",
    ],
)
def test_malformed_xet_paths_are_the_grammar_error(raw):
    with pytest.raises(hub.HubPathError):
        hub.parse_url_path(raw)
