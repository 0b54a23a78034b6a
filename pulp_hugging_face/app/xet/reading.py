"""Where a xorb's bytes are, and reading them: from the stored files its spans point into, or
from its staged blob until a shard has placed every chunk of it in files."""

import itertools
import os
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from pulpcore.plugin.util import get_domain, get_domain_pk

from pulp_hugging_face.xet_format import XetError

from ..xet_index import XetXorb

BLOCK = 1 << 20
STAGED = "xet/staged/"


def storage():
    return get_domain().get_storage()


def stage(name, part_path):
    """Move the file at `part_path` into storage as `name` (a rename on file system storage on
    the same device): the name it has there."""
    where = storage()
    try:
        target = where.path(name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(part_path, target)  # the same bytes as any earlier copy: named by their hash
        return name
    except (NotImplementedError, AttributeError, OSError):  # object storage; another device
        pass
    if where.exists(name):
        return name
    with open(part_path, "rb") as handle:
        return where.save(name, File(handle))


def prune_staged():
    """Drop staged bytes no shard placed in files within HF_XET_STAGED_RETENTION: xorbs with
    no chunk in a stored file go, the others keep what files hold. The number dropped."""
    since = timezone.now() - timedelta(seconds=settings.HF_XET_STAGED_RETENTION)
    dropped = 0
    for xorb in XetXorb.objects.filter(staged__isnull=False, created__lt=since):
        if xorb.spans.exists():
            xorb.drop_staged()
        else:
            xorb.pulp_domain.get_storage().delete(xorb.staged)
            xorb.delete()
        dropped += 1
    return dropped


def placed(hash_hex):
    """The xorb of this domain named `hash_hex`, as a Placed, or None."""
    found = XetXorb.objects.filter(pulp_domain_id=get_domain_pk(), hash=hash_hex).first()
    return Placed(found) if found is not None else None


class Placed:
    """A xorb with its spans loaded: which of its chunks Pulp can read, and their bytes."""

    def __init__(self, xorb):
        self.xorb = xorb
        self.entries = xorb.entries()
        self.offsets = [0, *itertools.accumulate(size for _hash, size in self.entries)]
        self.spans = sorted(xorb.spans.select_related("artifact"), key=lambda s: s.start)

    def covered(self):
        """Whether spans place every chunk (the staged blob is then not needed)."""
        return self._gap(0, len(self.entries)) is None

    def holds(self, start, end):
        return bool(self.xorb.staged) or self._gap(start, end) is None

    def _gap(self, start, end):
        at = start
        for span in self.spans:
            if span.start <= at < span.end:
                at = span.end
            if at >= end:
                return None
        return at if at < end else None

    def read(self, start, end, block=BLOCK):
        """Yield the bytes of chunks [start, end), uncompressed, in pieces of at most `block`;
        XetError when Pulp lost some."""
        at = start
        while at < end:
            span = max(
                (s for s in self.spans if s.start <= at < s.end), key=lambda s: s.end, default=None
            )
            if span is not None:
                stop = min(end, span.end)
                offset = span.offset + self.offsets[at] - self.offsets[span.start]
                length = self.offsets[stop] - self.offsets[at]
                yield from _read(span.artifact.file, offset, length, block)
            elif self.xorb.staged:
                stop = end
                staged = _Staged(self.xorb.staged)
                length = self.offsets[stop] - self.offsets[at]
                yield from _read(staged, self.offsets[at], length, block)
            else:
                raise XetError(f"Chunk {at} of xorb {self.xorb.hash} is no longer held here.")
            at = stop


class _Staged:
    """A staged blob, opened only when read (it may be gone by then: placed by another shard)."""

    def __init__(self, name):
        self.name = name

    def open(self, mode):
        return storage().open(self.name, mode)


def _read(opened, offset, length, block):
    try:
        yield from _read_open(opened, offset, length, block)
    except FileNotFoundError:  # staged bytes placed (and dropped) by another shard meanwhile
        raise XetError("These chunks just moved into a stored file: try again.", 503)


def _read_open(opened, offset, length, block):
    with opened.open("rb") as handle:
        handle.seek(offset)
        while length > 0:
            piece = handle.read(min(block, length))
            if not piece:
                raise XetError("A stored file is shorter than its Xet index says.", 500)
            length -= len(piece)
            yield piece
