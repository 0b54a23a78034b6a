"""git_objects names blobs, trees and commits exactly as git does: checked against git itself."""

import os
import shutil
import subprocess

import pytest

from pulp_hugging_face import git_objects, hub

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FILES = {
    "README.md": b"# hello\n",
    "config.json": b'{"a": 1}\n',
    "a/b/deep.txt": b"deep\n",
    "a/y": b"y",
    "a-b": b"sorts between a and a/ in git's order",
    "model.safetensors": os.urandom(300),
}
LFS = {"model.safetensors"}


def git(folder, *args, env=None):
    done = subprocess.run(
        ["git", *args], cwd=folder, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repository(tmp_path):
    """A git repo of FILES (LFS files as their pointers) committed at a known time."""
    for path, data in FILES.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path in LFS:
            data = hub.lfs_pointer(hub_sha256(data), len(data))
        target.write_bytes(data)
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "1700000000 +0000",
        "GIT_COMMITTER_DATE": "1700000000 +0000",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    git(tmp_path, "init", "-q", env=env)
    git(tmp_path, "add", "-A", env=env)
    identity = ["-c", "user.name=alice", "-c", "user.email=alice@example.com"]
    git(tmp_path, *identity, "commit", "-q", "-m", "the title", "-m", "the body", env=env)
    return tmp_path


def hub_sha256(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def our_files():
    """(path, Hub ETag, size) of FILES, as a published commit keeps them."""
    for path, data in FILES.items():
        etag = hub_sha256(data) if path in LFS else hub.git_blob_sha1(data)
        yield path, etag, len(data)


def test_tree_ids_are_gits(repository):
    trees = git_objects.tree_ids(our_files())
    for folder in ("", "a", "a/b"):
        assert trees[folder] == git(repository, "rev-parse", f"HEAD:{folder}")


def test_an_lfs_files_blob_is_its_pointers(repository):
    data = FILES["model.safetensors"]
    blob = git_objects.file_blob_id(hub_sha256(data), len(data))
    assert blob == git(repository, "rev-parse", "HEAD:model.safetensors")


def test_commit_ids_are_gits(repository):
    trees = git_objects.tree_ids(our_files())
    made = git_objects.CommitObject(
        trees[""], (), "alice", "alice@example.com", 1700000000, "the title", "the body"
    )
    assert made.id == git(repository, "rev-parse", "HEAD")
    child = git_objects.CommitObject(trees[""], (made.id,), "alice", "a@b", 1, "next")
    assert child.body().decode().splitlines()[1] == f"parent {made.id}"


def test_an_empty_tree_is_gits_empty_tree():
    assert git_objects.tree_ids([])[""] == git_objects.EMPTY_TREE
