"""Listings built from a version look like the Hub's (the fake Hub is the reference)."""

import hashlib

from hf_fake_hub import git_blob_sha1, lfs_pointer

from pulp_hugging_face.app import pinned

COMMIT = "c" * 40
SHA256 = hashlib.sha256(b"weights").hexdigest()
FILES = [
    ("a.json", git_blob_sha1(b"{}"), 2),
    ("dir/sub/w.bin", SHA256, 7),
    ("dir/x.txt", git_blob_sha1(b"x"), 1),
]


def test_an_lfs_file_is_listed_with_its_pointers_blob_id():
    entry = pinned.file_entry("w.bin", SHA256, 7)
    pointer = lfs_pointer(SHA256, 7)
    assert entry["oid"] == git_blob_sha1(pointer)
    assert entry["lfs"] == {"oid": SHA256, "size": 7, "pointerSize": len(pointer)}


def test_a_regular_file_is_listed_with_its_own_blob_id():
    assert pinned.file_entry("a.json", FILES[0][1], 2) == {
        "type": "file",
        "oid": FILES[0][1],
        "size": 2,
        "path": "a.json",
    }


def paths(entries):
    return [(e["type"], e["path"]) for e in entries]


def test_top_level_listing_shows_folders_not_their_files():
    assert paths(pinned._entries(COMMIT, FILES, "", recursive=False)) == [
        ("file", "a.json"),
        ("directory", "dir"),
    ]


def test_recursive_listing_shows_every_folder_and_file_once():
    assert paths(pinned._entries(COMMIT, FILES, "", recursive=True)) == [
        ("file", "a.json"),
        ("directory", "dir"),
        ("directory", "dir/sub"),
        ("file", "dir/sub/w.bin"),
        ("file", "dir/x.txt"),
    ]


def test_a_folder_listing_stays_inside_it():
    assert paths(pinned._entries(COMMIT, FILES, "dir", recursive=False)) == [
        ("directory", "dir/sub"),
        ("file", "dir/x.txt"),
    ]
    assert pinned._entries(COMMIT, FILES, "di", recursive=True) == []
