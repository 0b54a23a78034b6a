"""Xet shards (huggingface.co/docs/xet/shard): parsing what a client uploads (file
reconstructions with verification hashes and sha256, the xorbs it made) and writing what global
dedupe answers (xorb listings with keyed chunk hashes). Pure."""

import struct
import time
from dataclasses import dataclass

from .xet_format import HASH_SIZE, XetError, hash_hex, keyed

TAG = b"HFRepoMetaData\x00" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
HEADER_VERSION, FOOTER_VERSION, FOOTER_SIZE, ENTRY = 2, 1, 200, 48
BOOKEND = b"\xff" * HASH_SIZE + bytes(16)
WITH_VERIFICATION, WITH_METADATA = 1 << 31, 1 << 30
MAX_SHARD_BYTES = 64 << 20


@dataclass(frozen=True)
class Term:
    """Chunks [start, end) of one xorb, `size` bytes once unpacked."""

    xorb: bytes
    size: int
    start: int
    end: int
    verification: bytes


@dataclass(frozen=True)
class FileInfo:
    hash: bytes
    terms: tuple
    sha256: str | None  # hex; the Hub's git repos need it

    @property
    def size(self):
        return sum(term.size for term in self.terms)


@dataclass(frozen=True)
class XorbInfo:
    hash: bytes
    chunks: tuple  # (hash, size) of each chunk


class _Reader:
    def __init__(self, data):
        self.data, self.at = memoryview(data), 0

    def take(self, size):
        if self.at + size > len(self.data):
            raise XetError("Malformed shard: it ends inside an entry.")
        self.at += size
        return bytes(self.data[self.at - size : self.at])

    def entry(self, layout):
        raw = self.take(ENTRY)
        return (raw[:HASH_SIZE], *struct.unpack(layout, raw[HASH_SIZE:]))


def parse_upload(data):
    """(files, xorbs) of an uploaded shard; XetError when it is malformed or a file lacks the
    verification entries an upload needs."""
    reader = _Reader(data)
    head = reader.take(ENTRY)
    tag, version, footer_size = head[:32], *struct.unpack("<QQ", head[32:])
    if tag != TAG or version != HEADER_VERSION:
        raise XetError("Not a shard (its header's tag or version is not the one expected).")
    files = []
    while (info := reader.entry("<IIQ"))[0] != BOOKEND[:HASH_SIZE]:
        files.append(_file_info(reader, *info[:3]))
    xorbs = []
    while (info := reader.entry("<IIII"))[0] != BOOKEND[:HASH_SIZE]:
        xorb, _flags, count = info[:3]
        entries = [reader.entry("<IIQ") for _ in range(count)]
        xorbs.append((xorb, tuple((raw, size) for raw, _at, size, _unused in entries)))
    rest = len(data) - reader.at  # with a footer, lookup tables may come first (ignored here)
    if (rest != 0) if footer_size == 0 else (rest < footer_size):
        raise XetError("Malformed shard: what follows its xorb listing is not its footer.")
    return files, [XorbInfo(xorb, chunks) for xorb, chunks in xorbs]


def _file_info(reader, file_hash, flags, count):
    if not flags & WITH_VERIFICATION:
        raise XetError(f"File {hash_hex(file_hash)} has no verification entries.")
    if count == 0:
        raise XetError(f"File {hash_hex(file_hash)} has no terms.")
    entries = [reader.entry("<IIII") for _ in range(count)]
    checks = [reader.take(ENTRY)[:HASH_SIZE] for _ in range(count)]
    sha256 = hash_hex(reader.take(ENTRY)[:HASH_SIZE]) if flags & WITH_METADATA else None
    terms = []
    for (xorb, _flags, size, start, end), check in zip(entries, checks):
        if not start < end:
            raise XetError(f"File {hash_hex(file_hash)} names an empty chunk range.")
        terms.append(Term(xorb, size, start, end, check))
    return FileInfo(file_hash, tuple(terms), sha256)


def dedupe_answer(xorbs, key, lifetime):
    """A shard listing `xorbs` ((hash, [(chunk hash, size), ...]) pairs, served uncompressed)
    for global dedupe: chunk hashes keyed with `key`, no files, with the lookup tables and the
    footer clients read (xet-core's layout of the footer's spare fields)."""
    parts = [TAG + struct.pack("<QQ", HEADER_VERSION, FOOTER_SIZE), BOOKEND]
    xorb_keys, chunk_keys, total, index = [], [], 0, 0
    for xorb, chunks in xorbs:  # `index`: where the xorb's header is, in entries (as xet-core)
        size = sum(size for _hash, size in chunks)
        total += size
        parts.append(xorb + struct.pack("<IIII", 0, len(chunks), size, size + 8 * len(chunks)))
        xorb_keys.append((_truncated(xorb), index))
        at = 0
        for number, (raw, size) in enumerate(chunks):
            hidden = keyed(key, raw)
            parts.append(hidden + struct.pack("<IIQ", at, size, 0))
            chunk_keys.append((_truncated(hidden), index, number))
            at += 8 + size
        index += 1 + len(chunks)
    parts.append(BOOKEND)
    xorb_at = sum(len(part) for part in parts)
    parts += [struct.pack("<QI", *entry) for entry in sorted(xorb_keys)]
    chunk_at = xorb_at + 12 * len(xorb_keys)
    parts += [struct.pack("<QII", *entry) for entry in sorted(chunk_keys)]
    footer_at = chunk_at + 16 * len(chunk_keys)
    now = int(time.time())
    footer = struct.pack("<QQQ", FOOTER_VERSION, ENTRY, 2 * ENTRY)
    footer += struct.pack("<QQQQQQ", xorb_at, 0, xorb_at, len(xorb_keys), chunk_at, len(chunk_keys))
    footer += key + struct.pack("<QQ", now, now + lifetime) + bytes(48)
    footer += struct.pack("<QQQQ", total + 8 * len(chunk_keys), total, total, footer_at)
    return b"".join(parts) + footer


def _truncated(raw):
    return int.from_bytes(raw[:8], "little")
