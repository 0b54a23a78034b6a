"""Models, on the real PostgreSQL (pytest-django)."""

import os

import pytest
from django.db import IntegrityError, connection, transaction
from hf_fake_hub import git_blob_sha1

from pulp_hugging_face.app.models import (
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRemote,
    HuggingFaceRepository,
)
from pulp_hugging_face.app.storage import ArtifactSink, IntegrityMismatch

COMMIT = "0123456789abcdef0123456789abcdef01234567"
pytestmark = pytest.mark.django_db


def make_content(**overrides):
    fields = dict(
        repo_type="model",
        repo_id="org/m",
        commit=COMMIT,
        path_in_repo="config.json",
        etag="e" * 40,
        size=2,
    )
    fields.update(overrides)
    return HuggingFaceContent.objects.create(**fields)


def test_content_is_unique_per_repo_commit_and_path():
    make_content()
    make_content(path_in_repo="other.json")
    make_content(repo_type="dataset")
    make_content(commit="f" * 40)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_content()


def test_content_artifact_path_is_commit_pinned():
    content = make_content(repo_type="dataset", path_in_repo="data/train.csv")
    assert content.resolve_path.artifact_path() == f"datasets/org/m/resolve/{COMMIT}/data/train.csv"


def test_remote_defaults_and_pinned_urls():
    remote = HuggingFaceRemote.objects.create(name="r", url="https://hub.example/")
    assert remote.metadata_ttl == 300
    assert remote.hf_token is None
    assert (
        remote.get_remote_artifact_url(f"org/m/resolve/{COMMIT}/dir/a b.txt")
        == f"https://hub.example/org/m/resolve/{COMMIT}/dir/a%20b.txt"
    )
    assert remote.get_remote_artifact_content_type(f"gpt2/resolve/{COMMIT}/x") is HuggingFaceContent
    assert remote.get_remote_artifact_content_type("gpt2/resolve/main/x") is None
    assert remote.get_remote_artifact_content_type("api/models/gpt2") is None


def test_token_is_encrypted_at_rest():
    remote = HuggingFaceRemote.objects.create(name="t", url="https://hub.example", hf_token="hf_x1")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hf_token FROM hugging_face_huggingfaceremote WHERE remote_ptr_id = %s",
            [remote.pk],
        )
        stored = cursor.fetchone()[0]
    assert stored and "hf_x1" not in stored
    assert HuggingFaceRemote.objects.get(pk=remote.pk).hf_token == "hf_x1"


def test_repository_and_distribution_types():
    repo = HuggingFaceRepository.objects.create(name="repo")
    assert repo.PULL_THROUGH_SUPPORTED
    assert HuggingFaceContent in repo.CONTENT_TYPES
    dist = HuggingFaceDistribution.objects.create(name="d", base_path="hf", repository=repo)
    assert dist.cast().repository.cast() == repo


@pytest.fixture
def working_dir(settings, tmp_path):
    settings.WORKING_DIRECTORY = str(tmp_path)
    return tmp_path


def test_sink_verifies_git_blob_sha1(working_dir):
    data = b"hello world\n"
    sink = ArtifactSink(git_blob_sha1(data), len(data), str(working_dir / "part"))
    sink.write(data[:5])
    sink.write(data[5:])
    sink.finish()
    assert open(sink.path, "rb").read() == data
    assert sink.size == len(data)
    assert len(sink.digests["sha256"]) == 64
    sink.discard()
    assert not os.path.exists(sink.path)


def test_sink_rejects_wrong_bytes(working_dir):
    import hashlib

    good = b"x" * 100
    for etag, size, payload in [
        (git_blob_sha1(good), 100, b"y" * 100),  # git sha1 mismatch
        (hashlib.sha256(good).hexdigest(), 100, b"y" * 100),  # sha256 mismatch
        (hashlib.sha256(good).hexdigest(), 100, good[:50]),  # truncated
    ]:
        sink = ArtifactSink(etag, size, str(working_dir / "part"))
        sink.write(payload)
        with pytest.raises(IntegrityMismatch):
            sink.finish()
        sink.discard()
    assert list(working_dir.iterdir()) == []


def test_verify_only_sink_writes_nothing(working_dir):
    data = b"streamed, not stored"
    sink = ArtifactSink(git_blob_sha1(data), len(data))
    sink.write(data)
    sink.finish()
    assert sink.path is None
    sink.discard()
    bad = ArtifactSink(git_blob_sha1(data), len(data))
    bad.write(data[::-1])
    with pytest.raises(IntegrityMismatch):
        bad.finish()
    assert list(working_dir.iterdir()) == []
