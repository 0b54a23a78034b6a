"""What Pulp keeps for the Xet protocol beside its artifacts: an index, not a second copy.

A xorb is its chunks' hashes and sizes; its bytes live in the stored files that hold them
(`XetSpan`: chunks [start, end) of a xorb at an offset of an artifact), or, until a shard names
them in files, in a staged blob of the xorb's chunks uncompressed. A file Pulp got through Xet
(`XetFile`) is an ordinary artifact plus the terms that rebuild it from xorbs. `XetChunk` is the
global dedupe index: the chunks a client asks about (each file's first, and the eligible ones).
Deleting an artifact (orphan cleanup, reclaim) deletes what pointed into it, so nothing here
ever names bytes Pulp no longer has.
"""

from django.db import models

from pulpcore.plugin.models import Artifact, Domain
from pulpcore.plugin.util import get_domain_pk

ENTRY = 36  # bytes of a chunk in XetXorb.chunks: its raw hash, then its size (u32 LE)


class XetXorb(models.Model):
    """A xorb clients may name: its chunks (hash and size each), and where its bytes are."""

    hash = models.CharField(max_length=64)
    chunks = models.BinaryField()
    size = models.BigIntegerField()  # its chunks' bytes, uncompressed
    staged = models.TextField(null=True)  # storage name of its uncompressed bytes, until spans
    created = models.DateTimeField(auto_now_add=True)
    pulp_domain = models.ForeignKey(Domain, default=get_domain_pk, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("pulp_domain", "hash")

    def drop_staged(self):
        """Delete its staged blob: every chunk of it now lives in stored files."""
        if self.staged:
            self.pulp_domain.get_storage().delete(self.staged)
            XetXorb.objects.filter(pk=self.pk).update(staged=None)
            self.staged = None

    def entries(self):
        """[(raw hash, size), ...] of its chunks, in order."""
        data = bytes(self.chunks)
        return [
            (data[at : at + 32], int.from_bytes(data[at + 32 : at + ENTRY], "little"))
            for at in range(0, len(data), ENTRY)
        ]


def packed(entries):
    """XetXorb.chunks of [(raw hash, size), ...]."""
    return b"".join(raw + size.to_bytes(4, "little") for raw, size in entries)


class XetSpan(models.Model):
    """Chunks [start, end) of a xorb are the bytes of `artifact` from `offset` on."""

    xorb = models.ForeignKey(XetXorb, on_delete=models.CASCADE, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="+")
    offset = models.BigIntegerField()

    class Meta:
        unique_together = ("xorb", "start", "end", "artifact")


class XetChunk(models.Model):
    """Global dedupe's index: a chunk a client may ask about, and a xorb holding it."""

    hash = models.CharField(max_length=64, db_index=True)
    xorb = models.ForeignKey(XetXorb, on_delete=models.CASCADE, related_name="+")

    class Meta:
        unique_together = ("hash", "xorb")


class XetFile(models.Model):
    """A file Pulp holds that Xet clients may fetch: its Xet hash, artifact and terms."""

    hash = models.CharField(max_length=64)
    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="+")
    terms = models.JSONField()  # [[xorb hash, start, end, size], ...]
    pulp_domain = models.ForeignKey(Domain, default=get_domain_pk, on_delete=models.CASCADE)

    class Meta:
        unique_together = ("pulp_domain", "hash")
