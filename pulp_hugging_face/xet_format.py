"""The Xet protocol's hashes and objects (huggingface.co/docs/xet): chunk, xorb, file and term
verification hashes, their string form, the xorb format (chunks, LZ4 and byte-grouped LZ4) and
the shard format (file reconstructions and xorb listings). Pure: bytes in, values out."""

import blake3
import lz4.frame
import numpy

DATA_KEY = bytes.fromhex("6697f5775b9550de3135cbaca597181c9de421109beb2b58b4d0b04b93adf229")
NODE_KEY = bytes.fromhex("017ec5c7a5472996fd946666b48a02e65ddd536f37c76dd2f86352e64a53713f")
VERIFICATION_KEY = bytes.fromhex("7f1857d6ce56ed66127ff913e7a5c3f3a4cd26d5b5db49e64124987f28fb94c3")
HASH_SIZE = 32
MAX_CHUNK = 128 << 10
MAX_XORB_BYTES = 64 << 20  # serialized, as the CAS refuses larger ones
MAX_XORB_CHUNKS = 8192
ELIGIBLE_EVERY = 1024  # a chunk whose hash is 0 modulo this is looked up by global dedupe


class XetError(ValueError):
    """A malformed or lying Xet object or request: the CAS answers 400 (or `status`)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def hash_hex(raw):
    """A hash's string form: each 8-byte word as a little-endian u64, in hex."""
    return b"".join(raw[at : at + 8][::-1] for at in (0, 8, 16, 24)).hex()


def parse_hash(text):
    """The raw 32 bytes of a hash's string form, or XetError."""
    if len(text) != 64 or text.strip("0123456789abcdef"):
        raise XetError(f"Not a hash: {text[:80]!r} (64 lowercase hex digits expected).")
    raw = bytes.fromhex(text)
    return b"".join(raw[at : at + 8][::-1] for at in (0, 8, 16, 24))


def keyed(key, data):
    return blake3.blake3(data, key=key).digest()


def chunk_hash(data):
    return keyed(DATA_KEY, data)


def _next_cut(level):
    if len(level) <= 2:
        return len(level)
    end = min(9, len(level))  # a node has 2 to 9 children, 4 on average
    for at in range(2, end):
        if int.from_bytes(level[at][0][24:], "little") % 4 == 0:
            return at + 1
    return end


def _merged(entries):
    text = "".join(f"{hash_hex(raw)} : {size}\n" for raw, size in entries)
    return keyed(NODE_KEY, text.encode()), sum(size for _raw, size in entries)


def merkle_root(entries):
    """The root of Xet's aggregated hash tree over `entries`, (hash, size) pairs: a xorb's hash."""
    level = list(entries)
    if not level:
        return bytes(HASH_SIZE)
    while len(level) > 1:
        merged, at = [], 0
        while at < len(level):
            cut = at + _next_cut(level[at:])
            merged.append(_merged(level[at:cut]))
            at = cut
        level = merged
    return level[0][0]


def file_hash(entries):
    """A file's Xet hash from its chunks' (hash, size) pairs."""
    return keyed(bytes(HASH_SIZE), merkle_root(entries)) if entries else bytes(HASH_SIZE)


def verification_hash(hashes):
    """The verification hash of a term: its chunks' raw hashes, concatenated and keyed."""
    return keyed(VERIFICATION_KEY, b"".join(hashes))


def eligible(raw):
    """Whether global dedupe is asked about a chunk of this hash (besides each file's first)."""
    return int.from_bytes(raw[24:], "little") % ELIGIBLE_EVERY == 0


# -- xorbs ------------------------------------------------------------------------------------
CHUNK_HEADER = 8
FOOTER_IDENT = b"XETBLOB"  # xet-core appends its own index after the chunks; it is not needed


def chunk_header(size):
    """The header of a chunk stored uncompressed (scheme 0)."""
    three = size.to_bytes(3, "little")
    return b"\x00" + three + b"\x00" + three


def read_chunks(read):
    """Yield the uncompressed chunks of a serialized xorb, read with `read(n)`, checking their
    headers and decompressing them; XetError when anything is malformed."""
    count = 0
    while True:
        head = read(CHUNK_HEADER)
        if not head or head.startswith(FOOTER_IDENT):
            return
        if len(head) < CHUNK_HEADER or head[0] != 0:
            raise XetError("Malformed xorb: a chunk header is cut short or of an unknown version.")
        packed, scheme = int.from_bytes(head[1:4], "little"), head[4]
        size = int.from_bytes(head[5:8], "little")
        if not 0 < size <= MAX_CHUNK or count >= MAX_XORB_CHUNKS:
            raise XetError(f"Malformed xorb: chunk {count} is {size} bytes (1 to 128 KiB).")
        body = read(packed)
        if len(body) != packed:
            raise XetError("Malformed xorb: it ends inside a chunk.")
        yield _unpacked(body, scheme, size, count)
        count += 1


def _unpacked(body, scheme, size, index):
    if scheme == 0:
        data = body
    elif scheme in (1, 2):
        try:
            inflater = lz4.frame.LZ4FrameDecompressor()
            data = inflater.decompress(body, max_length=size + 1)
        except RuntimeError as exc:
            raise XetError(f"Malformed xorb: chunk {index} does not decompress ({exc}).")
        if scheme == 2:
            data = _ungrouped(data)
    else:
        raise XetError(f"Malformed xorb: chunk {index} has unknown compression {scheme}.")
    if len(data) != size:
        raise XetError(f"Malformed xorb: chunk {index} holds {len(data)} bytes, not {size}.")
    return bytes(data)


def _ungrouped(grouped):
    """Undo byte grouping: byte k of every 4 was stored in group k, groups one after another."""
    size = len(grouped)
    source, out, at = numpy.frombuffer(grouped, numpy.uint8), numpy.empty(size, numpy.uint8), 0
    for group in range(4):
        length = size // 4 + (1 if group < size % 4 else 0)
        out[group::4] = source[at : at + length]
        at += length
    return out.tobytes()
