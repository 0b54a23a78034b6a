"""Storing what pull-through fetched: checked as it arrives, then saved as pulpcore content."""

import hashlib
import os

from django.db import IntegrityError, transaction

from pulpcore.plugin.models import Artifact, ContentArtifact, RemoteArtifact
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub

from .models import HuggingFaceContent
from .room import full_disk_as_error


class IntegrityMismatch(Exception):
    """The bytes from upstream do not match the size or ETag upstream announced."""


class StoredUnderOtherEtag(Exception):
    """The file is already stored with another ETag: two upstreams disagree about it."""


class ArtifactSink:
    """A temporary file that checks what arrives against the upstream's size and ETag.

    While streaming it computes only what verification needs: the sha256 (LFS ETags) and, when
    the Hub named the file by one, the git blob sha1. The other digests pulpcore keeps are
    computed by `complete_digests()` once the client has its bytes.
    """

    def __init__(self, etag, expected_size, path=None):
        """Writes what arrives to a new file at `path`; with no `path` it only verifies."""
        self.etag = etag
        self.expected_size = expected_size
        self.size = 0
        self._digests = {"sha256": hashlib.sha256()}
        self._git_sha1 = None
        if len(etag) == 40 and expected_size is not None:
            self._git_sha1 = hashlib.sha1(f"blob {expected_size}\0".encode())
        self._file = None
        if path:
            with full_disk_as_error():
                self._file = open(path, "xb")
        self.path = path

    def write(self, chunk, hashing=True):
        """Write and count `chunk`; with `hashing`, also update the digests (else the caller
        does, with `hash_own`, e.g. in another thread)."""
        if self._file:
            with full_disk_as_error():
                self._file.write(chunk)
        self.size += len(chunk)
        if hashing:
            self.hash_own(chunk)

    def hash_own(self, chunk):
        for digest in self._digests.values():
            digest.update(chunk)
        if self._git_sha1:
            self._git_sha1.update(chunk)

    def finish(self):
        """Close the file and check it against what upstream announced."""
        if self._file:
            with full_disk_as_error():
                self._file.close()
        if self.expected_size is not None and self.size != self.expected_size:
            raise IntegrityMismatch(f"expected {self.expected_size} bytes, got {self.size}")
        if hub.is_lfs_etag(self.etag) and self.etag != self._digests["sha256"].hexdigest():
            raise IntegrityMismatch("the sha256 does not match the upstream ETag")
        if self._git_sha1 and self.etag != self._git_sha1.hexdigest():
            raise IntegrityMismatch("the git blob sha1 does not match the upstream ETag")

    def complete_digests(self, chunk_size=1 << 20):
        """Compute the remaining digests pulpcore stores, reading the closed file again."""
        missing = {n: hashlib.new(n) for n in Artifact.DIGEST_FIELDS if n not in self._digests}
        if missing:
            with open(self.path, "rb") as handle:
                while chunk := handle.read(chunk_size):
                    for digest in missing.values():
                        digest.update(chunk)
            self._digests.update(missing)

    @property
    def digests(self):
        return {name: d.hexdigest() for name, d in self._digests.items()}

    def discard(self):
        if self._file is None:
            return
        try:
            self._file.close()  # a full disk refuses what is still buffered: dropped anyway
        except OSError:
            pass
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def save_artifact(sink):
    """The Artifact of a checked sink's file: a new one, or the one stored already."""
    artifact = Artifact(file=sink.path, size=sink.size, **sink.digests)
    try:
        with transaction.atomic():
            artifact.save()
        return artifact
    except IntegrityError:
        existing = Artifact.objects.filter(sha256=sink.digests["sha256"]).first()
        if existing is None:  # removed by orphan cleanup meanwhile
            artifact = Artifact(file=sink.path, size=sink.size, **sink.digests)
            artifact.save()
            return artifact
        existing.touch()
        sink.discard()
        return existing


def save_pulled_file(remote, pinned, info, sink):
    """Store a verified download as Artifact, Content, ContentArtifact and RemoteArtifact.

    Refuses (StoredUnderOtherEtag) when the same file is already stored under another ETag:
    two upstreams disagree about it, and the stored bytes are not replaced or mixed up.
    """
    fields = dict(
        repo_type=pinned.repo.repo_type,
        repo_id=pinned.repo.repo_id,
        commit=pinned.revision,
        path_in_repo=pinned.path_in_repo,
    )
    existing = HuggingFaceContent.objects.filter(_pulp_domain_id=get_domain_pk(), **fields).first()
    if existing is not None and existing.etag != info.etag:
        raise StoredUnderOtherEtag(
            f"{pinned.artifact_path()} is stored with ETag {existing.etag}, but this remote's "
            f"upstream names it {info.etag}"
        )
    with transaction.atomic(), full_disk_as_error():
        artifact = save_artifact(sink)
        content = HuggingFaceContent(etag=info.etag, size=sink.size, **fields)
        try:
            with transaction.atomic():
                content.save()
        except IntegrityError:
            content = HuggingFaceContent.objects.get(content.q())
        ca, created = ContentArtifact.objects.get_or_create(
            content=content,
            relative_path=pinned.artifact_path(),
            defaults={"artifact": artifact},
        )
        if not created and ca.artifact_id is None:
            ca.artifact = artifact
            ca.save()
        RemoteArtifact.objects.get_or_create(
            remote=remote,
            content_artifact=ca,
            defaults={
                "url": remote.get_remote_artifact_url(pinned.artifact_path()),
                "size": sink.size,
                "sha256": sink.digests["sha256"],
            },
        )
    return ca
