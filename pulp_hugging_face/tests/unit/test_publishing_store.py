"""Publishing's storage side, on the real PostgreSQL: tokens kept as hashes and who holds one,
uploaded bytes checked and stored with every digest in one pass, a commit's artifacts saved in
one go, and the units of a published commit."""

import hashlib
import os
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.utils import timezone

from pulpcore.plugin.models import Artifact

from pulp_hugging_face import git_objects, hub
from pulp_hugging_face.app import tokens
from pulp_hugging_face.app.models import HuggingFaceContent
from pulp_hugging_face.app.publishing import files, history
from pulp_hugging_face.app.publishing.changes import Author
from pulp_hugging_face.upload_protocol import UploadError

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create(username=f"u-{os.urandom(4).hex()}")


def test_a_token_is_stored_as_a_hash_and_found_by_its_secret(user):
    token, secret = tokens.HuggingFaceToken.issue(user, "laptop", "write")
    assert secret.startswith("hf_") and secret not in str(token.__dict__)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert tokens.holder(secret).user == user
    assert tokens.holder(secret + "x") is None
    assert tokens.bearer(f"Bearer {secret}") == secret
    assert tokens.bearer(f"Basic {secret}") is None and tokens.bearer("Bearer ") is None


def test_an_expired_token_or_an_inactive_user_holds_nothing(user):
    expired, secret = tokens.HuggingFaceToken.issue(user, "old", "read")
    expired.expires_at = timezone.now() - timedelta(seconds=1)
    expired.save()
    assert tokens.holder(secret) is None
    _token, other = tokens.HuggingFaceToken.issue(user, "new", "read")
    user.is_active = False
    user.save()
    assert tokens.holder(other) is None


class Chunks:
    """An aiohttp-like stream of `chunks`, failing with `error` after them if given."""

    def __init__(self, chunks, error=None):
        self.chunks, self.error = chunks, error

    async def iter_any(self):
        for chunk in self.chunks:
            yield chunk
        if self.error:
            raise self.error


def part_files():
    return set((files.Path(files.settings.WORKING_DIRECTORY) / "hf-uploads").glob("*.part"))


@pytest.fixture(autouse=True)
def no_part_file_left():
    """Every test here leaves no part file of its own behind."""
    before = part_files()
    yield
    assert not part_files() - before


def test_an_upload_is_stored_with_every_digest_in_one_pass():
    data = os.urandom(3 * files.BLOCK + 123)
    oid = hashlib.sha256(data).hexdigest()
    chunks = [data[i : i + 70_000] for i in range(0, len(data), 70_000)]
    artifact = async_to_sync(files.store_stream)(Chunks(chunks), oid, len(data))
    for name in Artifact.DIGEST_FIELDS:
        assert getattr(artifact, name) == hashlib.new(name, data).hexdigest()
    assert artifact.size == len(data)


@pytest.mark.parametrize(
    "sent, error",
    [
        (b"x" * 99, None),  # fewer bytes
        (b"x" * 101, None),  # more
        (b"y" * 100, None),  # other bytes
        (b"x" * 50, ConnectionResetError()),  # the client went away
    ],
)
def test_a_wrong_or_cut_upload_stores_nothing(sent, error):
    oid = hashlib.sha256(b"x" * 100).hexdigest()
    with pytest.raises((UploadError, ConnectionResetError)):
        async_to_sync(files.store_stream)(Chunks([sent], error), oid, 100)
    assert not Artifact.objects.filter(sha256=oid).exists()


def test_a_commits_regular_files_are_saved_at_once_and_deduplicated():
    contents = [b"one", b"two", b"one", os.urandom(100)]
    sinks = [async_to_sync(files.write_regular)(content) for content in contents]
    assert [s.etag for s in sinks] == [hub.git_blob_sha1(c) for c in contents]
    kept = files.keep_all(sinks)
    assert kept[0].pk == kept[2].pk and len({a.pk for a in kept}) == 3
    again = async_to_sync(files.write_regular)(b"two")
    assert files.keep_all([again])[0].pk == kept[1].pk


def test_a_published_commit_is_a_git_commit_over_its_files(user):
    repo = hub.Repo("model", f"team/{os.urandom(4).hex()}")
    [artifact] = files.keep_all([async_to_sync(files.write_regular)(b"hello")])
    listed = {"a/b.txt": (hub.git_blob_sha1(b"hello"), 5, artifact.pk)}
    who = Author(user.username, "u@example.com")
    unit = history.add_commit(repo, None, listed, who, "title", "message")
    made = git_objects.CommitObject(
        git_objects.tree_ids([("a/b.txt", *listed["a/b.txt"][:2])])[""],
        (),
        user.username,
        "u@example.com",
        unit.git["timestamp"],
        "title",
        "message",
    )
    assert unit.commit == made.id and unit.git["tree"] == made.tree
    (stored,) = HuggingFaceContent.objects.filter(repo_id=repo.repo_id, commit=unit.commit)
    assert (
        stored.path_in_repo == "a/b.txt" and stored.contentartifact_set.get().artifact == artifact
    )


def test_signatures_are_per_purpose_and_any_given_text_is_checked_without_error():
    good = tokens.signature("hf-lfs-upload", "a:b")
    assert tokens.signed("hf-lfs-upload", "a:b", good)
    assert not tokens.signed("hf-xet-fetch", "a:b", good)  # a key for each purpose
    assert not tokens.signed("hf-lfs-upload", "a:c", good)
    for given in ("", good[:-1], "\u00e9" * 64, good.upper()):
        assert not tokens.signed("hf-lfs-upload", "a:b", given)
