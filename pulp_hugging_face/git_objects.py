"""git's own names for what a published commit holds: blobs, trees and commit objects.

Pure functions (no Django, no I/O). A regular file is named by its git blob id (the Hub's ETag);
an LFS file by the blob id of its pointer. Folders are git tree objects over those ids and a
commit is a git commit object over the root tree, so the ids a client sees here are the ids git
would compute for the same files, message, author and time.
"""

import hashlib
from dataclasses import dataclass

from pulp_hugging_face import hub

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
FILE_MODE, TREE_MODE = b"100644", b"40000"


def _object_id(kind, body):
    return hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).hexdigest()


def file_blob_id(etag, size):
    """The blob id git has for a file the Hub names by `etag`: the file's own (a regular file's
    ETag is its blob id), or that of its LFS pointer."""
    return hub.git_blob_sha1(hub.lfs_pointer(etag, size)) if hub.is_lfs_etag(etag) else etag


def tree_ids(files):
    """{folder path ("" for the root): git tree id} of the tree holding `files`, an iterable of
    (path, etag, size)."""
    root = {}
    for path, etag, size in files:
        *folders, name = path.split("/")
        node = root
        for folder in folders:
            node = node.setdefault(folder, {})
        node[name] = file_blob_id(etag, size)
    found = {}
    _tree_id(root, "", found)
    return found


def _tree_id(node, path, found):
    entries = []
    for name, value in node.items():
        if isinstance(value, dict):
            child = f"{path}/{name}" if path else name
            entries.append((name.encode() + b"/", TREE_MODE, name, _tree_id(value, child, found)))
        else:
            entries.append((name.encode(), FILE_MODE, name, value))
    body = b"".join(
        mode + b" " + name.encode() + b"\0" + bytes.fromhex(oid)
        for _key, mode, name, oid in sorted(entries)  # git orders a folder as "name/"
    )
    found[path] = _object_id(b"tree", body)
    return found[path]


@dataclass(frozen=True)
class CommitObject:
    """A git commit: its tree, parents, author (also the committer), time and message."""

    tree: str
    parents: tuple
    author: str
    email: str
    timestamp: int
    title: str
    message: str = ""

    @property
    def full_message(self):
        """The commit message as git stores it: the title, then the message after a blank line."""
        return self.title + (f"\n\n{self.message}" if self.message else "") + "\n"

    def body(self):
        signature = f"{self.author} <{self.email}> {self.timestamp} +0000"
        lines = [f"tree {self.tree}"] + [f"parent {parent}" for parent in self.parents]
        lines += [f"author {signature}", f"committer {signature}"]
        return ("\n".join(lines) + "\n\n" + self.full_message).encode()

    @property
    def id(self):
        return _object_id(b"commit", self.body())
