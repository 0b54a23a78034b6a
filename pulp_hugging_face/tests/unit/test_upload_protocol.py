"""The Hub's publishing rules: upload modes, ignored files, the commit body, LFS batches and
which paths a commit may write."""

import base64
import json

import pytest

from pulp_hugging_face import hub
from pulp_hugging_face import upload_protocol as protocol
from pulp_hugging_face.upload_protocol import AddFile, CommitRequest, Delete, UploadError

ATTRIBUTES = protocol.default_gitattributes("model")


@pytest.mark.parametrize(
    "path, size, sample, mode",
    [
        ("config.json", 10, b'{"a": 1}', "regular"),
        ("model.safetensors", 10, b"text-looking", "lfs"),  # named LFS by .gitattributes
        ("saved_model/v1/weights", 10, b"text", "lfs"),  # a pattern with a folder
        ("big.txt", protocol.LFS_SIZE, b"text", "lfs"),  # big
        ("data.raw", 10, b"\x00\x01\x02", "lfs"),  # binary
        ("latin1.txt", 10, b"caf\xe9", "lfs"),  # not UTF-8: binary to the Hub
        ("empty.bin", 0, b"", "regular"),  # empty files cannot go to LFS
        ("notes.txt", 600, ("é" * 256).encode()[:512], "regular"),  # a character cut by the end
    ],
)
def test_upload_mode_as_the_hub_decides(path, size, sample, mode):
    assert protocol.upload_mode(path, size, sample, ATTRIBUTES) == mode


def test_gitignore_ignores_names_folders_and_negations():
    ignore = "*.log\nbuild/\n!keep.log\n# a comment\n"
    assert protocol.is_ignored("x.log", ignore)
    assert protocol.is_ignored("deep/x.log", ignore)
    assert protocol.is_ignored("build/out.bin", ignore)
    assert not protocol.is_ignored("keep.log", ignore)
    assert not protocol.is_ignored("src/main.py", ignore)
    assert not protocol.is_ignored(".gitignore", "*")


@pytest.mark.parametrize(
    "path", ["../x", "a/../b", "/etc/passwd", ".git/config", "a\\b", "a//b", "bad\x01", "", None, 3]
)
def test_paths_a_commit_may_not_write(path):
    with pytest.raises(UploadError):
        protocol.validate_upload_path(path)


def line(key, **value):
    return json.dumps({"key": key, "value": value}).encode()


def test_a_commit_body_is_read_line_by_line():
    commit = CommitRequest()
    content = base64.b64encode(b"hello").decode()
    oid = "a" * 64
    for each in (
        line("header", summary="first\nline", description="why", parentCommit="b" * 40),
        line("file", path="x.txt", content=content, encoding="base64"),
        line("lfsFile", path="w.bin", algo="sha256", oid=oid, size=5),
        line("deletedFile", path="old.txt"),
        line("deletedFolder", path="logs/"),
    ):
        protocol.parse_commit_line(each, commit)
    assert (commit.summary, commit.description, commit.parent_commit) == (
        "first line",
        "why",
        "b" * 40,
    )
    assert commit.operations == [
        AddFile("x.txt", content=b"hello"),
        AddFile("w.bin", oid=oid, size=5),
        Delete("old.txt", False),
        Delete("logs", True),
    ]


@pytest.mark.parametrize(
    "lines, status",
    [
        ([line("file", path="x", content="aGk=")], 400),  # no header first
        ([line("header", summary="")], 400),
        ([line("header", summary="s"), line("header", summary="again")], 400),
        ([line("header", summary="s", parentCommit="main")], 400),
        ([line("header", summary="s\x00")], 400),
        ([line("header", summary="s"), line("file", path="x", content="not base64!")], 400),
        ([line("header", summary="s"), line("file", path="../x", content="aGk=")], 400),
        ([line("header", summary="s"), line("lfsFile", path="x", oid="abc", size=1)], 400),
        ([line("header", summary="s"), line("lfsFile", path="x", oid="a" * 64, size=-1)], 400),
        ([line("header", summary="s"), line("copy", path="x")], 400),
        ([b"[1, 2]"], 400),
        ([b"{not json"], 400),
        ([line("header", summary="s"), json.dumps({"key": "file", "value": "x"}).encode()], 400),
    ],
)
def test_bad_commit_lines_are_the_hubs_4xx(lines, status):
    commit = CommitRequest()
    with pytest.raises(UploadError) as refused:
        for each in lines:
            protocol.parse_commit_line(each, commit)
    assert refused.value.status == status


def test_a_regular_file_too_big_for_git_is_refused():
    commit = protocol.parse_commit_line(line("header", summary="s"), CommitRequest())
    big = base64.b64encode(b"x" * protocol.REGULAR_MAX).decode()
    with pytest.raises(UploadError) as refused:
        protocol.parse_commit_line(line("file", path="big.txt", content=big), commit)
    assert refused.value.status == 413


def test_preupload_and_lfs_batch_requests():
    body = {"files": [{"path": "a.bin", "size": 3, "sample": base64.b64encode(b"abc").decode()}]}
    files, ignore = protocol.parse_preupload(json.dumps({**body, "gitIgnore": "*.log"}))
    assert files == [protocol.PreuploadFile("a.bin", 3, b"abc")] and ignore == "*.log"
    for bad in (
        {"files": "x"},
        {"files": [{"path": "a", "size": -1}]},
        {"files": [{"path": "/a", "size": 1}]},
    ):
        with pytest.raises(UploadError):
            protocol.parse_preupload(json.dumps(bad))
    oid = "c" * 64
    batch = {"operation": "upload", "objects": [{"oid": oid, "size": 4}], "transfers": ["basic"]}
    assert protocol.parse_lfs_batch(json.dumps(batch)) == ("upload", [(oid, 4)])
    with pytest.raises(UploadError):
        protocol.parse_lfs_batch(json.dumps({**batch, "objects": [{"oid": "C" * 64, "size": 4}]}))


@pytest.mark.parametrize(
    "path, parsed",
    [
        ("api/whoami-v2", hub.ServicePath("whoami-v2")),
        ("api/repos/create", hub.ServicePath("repos/create")),
        ("org/m.git/info/lfs/objects/batch", hub.LfsPath(hub.Repo("model", "org/m"), "batch")),
        ("datasets/d.git/info/lfs/verify", hub.LfsPath(hub.Repo("dataset", "d"), "verify")),
        (
            "org/m.git/info/lfs/objects/" + "e" * 64,
            hub.LfsPath(hub.Repo("model", "org/m"), "upload", "e" * 64),
        ),
        (
            "org/m/resolve/main/a.git/info/lfs/objects/batch",  # a file, not the LFS API
            hub.ResolvePath(hub.Repo("model", "org/m"), "main", "a.git/info/lfs/objects/batch"),
        ),
        (
            "api/models/org/m/commit/refs%2Fpr%2F3",
            hub.ApiPath(hub.Repo("model", "org/m"), "commit", "refs/pr/3"),
        ),
    ],
)
def test_publishing_paths(path, parsed):
    assert hub.parse_url_path(path) == parsed


@pytest.mark.parametrize(
    "path", ["org/m.git/info/lfs/objects/xyz", "o/../m.git/info/lfs/verify", "m.git/info/lfs/nope"]
)
def test_bad_lfs_paths(path):
    with pytest.raises(hub.HubPathError):
        hub.parse_url_path(path)
