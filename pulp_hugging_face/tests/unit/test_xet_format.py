"""The Xet modules (chunking, hashes, xorbs, shards) against the spec (huggingface.co/docs/xet)
and against the real client library, hf_xet, for file hashes."""

import hashlib
import io
import struct
import time

import blake3
import lz4.frame
import numpy
import pytest

from pulp_hugging_face import xet_shard
from pulp_hugging_face.xet_chunking import Chunker, chunk_lengths
from pulp_hugging_face.xet_format import (
    XetError,
    chunk_hash,
    chunk_header,
    eligible,
    file_hash,
    hash_hex,
    merkle_root,
    parse_hash,
    read_chunks,
    verification_hash,
)
from pulp_hugging_face.xet_shard import dedupe_answer, parse_upload

# Spec constants (hashing.md, chunking.md, shard.md; the shard tag is xet-core's).
DATA_KEY = bytes(
    [102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28]
    + [157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41]
)
NODE_KEY = bytes(
    [1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230]
    + [93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63]
)
VERIFICATION_KEY = bytes(
    [127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243]
    + [164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195]
)
MIN, MAX = 8 << 10, 128 << 10
HEADER_TAG = b"HFRepoMetaData\x00" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
BOOKEND = b"\xff" * 32 + bytes(16)
WITH_VERIFICATION, WITH_METADATA = 1 << 31, 1 << 30


def random_bytes(size, seed=0):
    return numpy.random.default_rng(seed).bytes(size)


def spec_hex(raw):
    """A hash's string form as api.md defines it: four little-endian u64s, in hex."""
    return "".join(f"{word:016x}" for word in struct.unpack("<4Q", raw))


def spec_node(entries):
    """An internal node's hash as hashing.md defines it."""
    text = "".join(f"{spec_hex(raw)} : {size}\n" for raw, size in entries)
    return blake3.blake3(text.encode(), key=NODE_KEY).digest(), sum(s for _r, s in entries)


def entries_of(data, lengths):
    entries, at = [], 0
    for length in lengths:
        entries.append((chunk_hash(data[at : at + length]), length))
        at += length
    assert at == len(data)
    return entries


# -- chunking and file hashes, against hf_xet ---------------------------------------------------


def _magic():
    """64 bytes whose gear hash is a chunk boundary: the hash at a byte depends on the last 64."""
    data = random_bytes(1 << 20, seed=5)
    at = 0
    for length in chunk_lengths([data]):
        at += length
        if length < MAX and at < len(data):
            return data[at - 64 : at]
    raise AssertionError("no content-defined boundary in 1 MiB of random bytes")


MAGIC = _magic()


def candidate_at(end, total):
    """Zeros (which never make a boundary) with MAGIC ending at `end`, `total` bytes in all."""
    return bytes(end - 64) + MAGIC + bytes(total - end)


def dense():
    """Random bytes with a boundary candidate every 2000 bytes, far closer than MIN."""
    return b"".join(random_bytes(1936, seed) + MAGIC for seed in range(11))


# name: (data, the chunk lengths the spec's rules give, when the case is about them)
CASES = {
    "empty": (b"", []),
    "one byte": (random_bytes(1), [1]),
    "under 8 KiB": (random_bytes(5000), [5000]),
    "8 KiB - 1": (random_bytes(MIN - 1), [MIN - 1]),
    "8 KiB": (random_bytes(MIN), [MIN]),
    "8 KiB + 1": (random_bytes(MIN + 1), None),
    "random 128 KiB - 1": (random_bytes(MAX - 1, seed=1), None),
    "random 128 KiB": (random_bytes(MAX, seed=2), None),
    "random 128 KiB + 1": (random_bytes(MAX + 1, seed=3), None),
    "random 3 MiB": (random_bytes(3 << 20, seed=4), None),
    "zeros 128 KiB": (bytes(MAX), [MAX]),
    "zeros 128 KiB + 1": (bytes(MAX + 1), [MAX, 1]),
    "zeros 1 MiB + 5": (bytes((1 << 20) + 5), [MAX] * 8 + [5]),
    "abcd repeated": (b"abcd" * 100_000, [MAX, MAX, MAX, 400_000 - 3 * MAX]),
    # 20 chunks of one hash, not 0 modulo 4: merkle nodes of 9 children, the most there are
    "0x01 repeated": (b"\x01" * (20 * MAX + 77), [MAX] * 20 + [77]),
    "candidate at 8 KiB - 1": (candidate_at(MIN - 1, 30_000), [30_000]),
    "candidate at 8 KiB": (candidate_at(MIN, 30_000), [MIN, 30_000 - MIN]),
    "candidate at 128 KiB - 1": (candidate_at(MAX - 1, MAX + 1000), [MAX - 1, 1001]),
    "candidate at 128 KiB": (candidate_at(MAX, MAX + 1000), [MAX, 1000]),
    "candidate at 128 KiB + 1": (candidate_at(MAX + 1, MAX + 1000), [MAX, 1000]),
    "candidate at 8 KiB after a cut": (candidate_at(MAX + MIN, MAX + MIN + 9), [MAX, MIN, 9]),
    "dense candidates": (dense(), [10_000, 10_000, 2000]),
}


@pytest.fixture(scope="module")
def client_hashes(tmp_path_factory):
    """What hf_xet says of each case: (file hash, file size)."""
    hf_xet = pytest.importorskip("hf_xet")
    folder = tmp_path_factory.mktemp("xet")
    paths = []
    for index, (data, _lengths) in enumerate(CASES.values()):
        path = folder / str(index)
        path.write_bytes(data)
        paths.append(str(path))
    infos = hf_xet.hash_files(paths)
    return {name: (info.hash, info.file_size) for name, info in zip(CASES, infos)}


@pytest.mark.parametrize("name", CASES)
def test_file_hash_is_the_clients(name, client_hashes):
    data, expected = CASES[name]
    lengths = list(chunk_lengths([data]))
    assert all(MIN <= length <= MAX for length in lengths[:-1])
    assert all(0 < length <= MAX for length in lengths[-1:])
    if expected is not None:
        assert lengths == expected
    assert (hash_hex(file_hash(entries_of(data, lengths))), len(data)) == client_hashes[name]


def test_a_client_case_makes_merkle_nodes_of_nine():
    """ "0x01 repeated" only reaches nine-child nodes if its chunks' hash is not 0 modulo 4."""
    assert int.from_bytes(chunk_hash(b"\x01" * MAX)[24:], "little") % 4 != 0


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 7])
def test_tiny_blocks_give_the_same_chunks(size):
    data = dense()
    whole = list(chunk_lengths([data]))
    assert len(whole) >= 3
    assert list(chunk_lengths(data[at : at + size] for at in range(0, len(data), size))) == whole


@pytest.mark.parametrize(
    "name", ["random 3 MiB", "zeros 1 MiB + 5", "candidate at 8 KiB after a cut"]
)
def test_large_blocks_give_the_same_chunks(name):
    data = CASES[name][0]
    whole = list(chunk_lengths([data]))
    size = 100 << 10
    assert list(chunk_lengths(data[at : at + size] for at in range(0, len(data), size))) == whole


def test_irregular_blocks_give_the_same_chunks():
    data = dense() + random_bytes(1 << 20, seed=6) + bytes(300_000) + dense()
    whole = list(chunk_lengths([data]))
    sizes, blocks, at, turn = [0, 1, 7, 63, 64, 65, 4096, MIN - 1, 100 << 10], [], 0, 0
    while at < len(data):
        size = sizes[turn % len(sizes)]
        blocks.append(data[at : at + size])
        at, turn = at + size, turn + 1
    assert len(whole) > 10
    assert list(chunk_lengths(blocks)) == whole


def test_chunker_reports_chunks_as_they_complete():
    chunker = Chunker()
    assert chunker.feed(bytes(MAX - 1)) == []
    assert chunker.feed(b"") == []
    assert chunker.feed(bytes(2)) == [MAX]
    assert chunker.feed(bytes(MAX - 2)) == []
    assert chunker.feed(bytes(1)) == [MAX]
    assert chunker.feed(bytes(3)) == []
    assert chunker.finish() == [3]
    assert chunker.finish() == []
    assert Chunker().feed(bytes(3 * MAX + 5)) == [MAX] * 3
    assert Chunker().finish() == []


# -- hashes -----------------------------------------------------------------------------------


def test_chunk_hash_is_keyed_blake3():
    data = random_bytes(1000, seed=7)
    assert chunk_hash(data) == blake3.blake3(data, key=DATA_KEY).digest()
    assert chunk_hash(data) != chunk_hash(data[:-1])


# api.md's example: the hash [0, 1, ..., 31] is written as these bytes, in hex. (The string the
# spec prints for it, 07060504030201000f0e0d0c0b0a0908171615141312111f1e1d1c1b1a1918, has 62
# digits: it drops the "10" that ends its third word.)
EXAMPLE = bytes([7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8])
EXAMPLE = (EXAMPLE + bytes([23, 22, 21, 20, 19, 18, 17, 16, 31, 30, 29, 28, 27, 26, 25, 24])).hex()


def test_hash_string_of_the_spec_example():
    raw = bytes(range(32))
    assert EXAMPLE == "07060504030201000f0e0d0c0b0a0908" + "1716151413121110" + "1f1e1d1c1b1a1918"
    assert hash_hex(raw) == EXAMPLE
    assert parse_hash(EXAMPLE) == raw


@pytest.mark.parametrize("seed", range(5))
def test_hash_string_round_trips(seed):
    raw = random_bytes(32, seed=seed)
    text = hash_hex(raw)
    assert text == spec_hex(raw)
    assert parse_hash(text) == raw
    assert hash_hex(parse_hash(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE.upper(),
        EXAMPLE[:-1],
        EXAMPLE + "0",
        "",
        EXAMPLE[:16] + " " + EXAMPLE[17:],
        " " + EXAMPLE[1:],
        EXAMPLE[:-1] + "\n",
        EXAMPLE[:-2] + "g8",
        "0x" + EXAMPLE[2:],
        EXAMPLE[:-1] + "\u00e9",
    ],
)
def test_parse_hash_refuses(text):
    with pytest.raises(XetError, match="Not a hash") as refused:
        parse_hash(text)
    assert refused.value.status == 400


def test_merkle_root_of_nothing_and_of_one():
    assert merkle_root([]) == bytes(32)
    raw = random_bytes(32, seed=8)
    assert merkle_root([(raw, 5)]) == raw


def test_merkle_root_of_the_spec_example_node():
    # hashing.md's example node: four chunks, none of the last two 0 modulo 4, so one node
    lines = [
        ("1f6a2b8e9d3c4075a2e8c5fd4f0b763e6f3c1d7a9b2e6487de3f91ab7c6d5401", 10000),
        ("7c94fe2a38bdcf9b4d2a6f7e1e08ac35bc24a7903d6f5a0e7d1c2b93e5f748de", 20000),
        ("cfd18a92e0743bb09e56dbf76ea2c34d99b5a0cf271f8d429b6cd148203df061", 25000),
        ("e38d7c09a21b4cf8d0f92b3a85e6df19f7c20435e0b1c78a9d635f7b8c2e4da1", 64000),
    ]
    text = "".join(f"{digits} : {size}\n" for digits, size in lines)
    expected = blake3.blake3(text.encode(), key=NODE_KEY).digest()
    assert merkle_root([(parse_hash(digits), size) for digits, size in lines]) == expected


def _hash_modulo_4(remainder, seed):
    """A random hash whose last 8 bytes, a little-endian u64, are `remainder` modulo 4."""
    raw = bytearray(random_bytes(32, seed=seed))
    raw[24] = (raw[24] & ~3) | remainder
    return bytes(raw)


def test_merkle_nodes_have_at_most_nine_children():
    entries = [(_hash_modulo_4(1, seed), 100 + seed) for seed in range(10)]
    expected = spec_node([spec_node(entries[:9]), spec_node(entries[9:])])[0]
    assert merkle_root(entries) == expected


def test_merkle_node_ends_after_a_hash_0_modulo_4():
    entries = [(_hash_modulo_4(0 if seed == 2 else 3, seed), 100 + seed) for seed in range(5)]
    expected = spec_node([spec_node(entries[:3]), spec_node(entries[3:])])[0]
    assert merkle_root(entries) == expected


def test_merkle_root_follows_its_chunks():
    data = random_bytes(40 * 1000, seed=9)
    entries = entries_of(data, [1000] * 40)
    root = merkle_root(entries)
    assert merkle_root(list(entries)) == root
    changed = bytearray(data)
    changed[20_500] ^= 1
    assert merkle_root(entries_of(bytes(changed), [1000] * 40)) != root
    assert merkle_root(entries[1:] + entries[:1]) != root
    assert merkle_root(entries[:10] + [entries[11], entries[10]] + entries[12:]) != root
    assert merkle_root(entries[:-1] + [(entries[-1][0], 999)]) != root
    assert merkle_root(entries[:-1]) != root


def test_file_hash_keys_the_root_with_zeros():
    entries = entries_of(random_bytes(5000, seed=10), [2000, 3000])
    expected = blake3.blake3(merkle_root(entries), key=bytes(32)).digest()
    assert file_hash(entries) == expected
    assert file_hash([]) == bytes(32)


def test_verification_hash():
    hashes = [random_bytes(32, seed=seed) for seed in range(3)]
    expected = blake3.blake3(b"".join(hashes), key=VERIFICATION_KEY).digest()
    assert verification_hash(hashes) == expected
    assert verification_hash(hashes[::-1]) != expected


@pytest.mark.parametrize(
    "last, answer",
    [(0, True), (1024, True), (7 * 1024 + (1 << 40), True), (1, False), (512, False), (1023, False)]
    + [((1 << 63) + 1, False), ((1 << 64) - 1024, True)],
)
def test_eligible_by_the_last_eight_bytes(last, answer):
    for seed in range(3):
        assert eligible(random_bytes(24, seed=seed) + last.to_bytes(8, "little")) is answer


def test_eligible_ignores_the_first_bytes():
    assert eligible(bytes(24) + (1).to_bytes(8, "little")) is False
    assert eligible((1).to_bytes(8, "little") + bytes(24)) is True


# -- xorbs ------------------------------------------------------------------------------------


def header(packed, scheme, size, version=0):
    return (
        bytes([version])
        + packed.to_bytes(3, "little")
        + bytes([scheme])
        + size.to_bytes(3, "little")
    )


def grouped(data):
    """xorb.md's byte grouping: byte k of every 4 into group k, the remainder to the first."""
    return b"".join(data[k::4] for k in range(4))


def stored(data, scheme):
    body = {0: data, 1: lz4.frame.compress(data), 2: lz4.frame.compress(grouped(data))}[scheme]
    return header(len(body), scheme, len(data)) + body


def chunks_of(xorb):
    return list(read_chunks(io.BytesIO(xorb).read))


def floats(count, seed):
    return numpy.random.default_rng(seed).standard_normal(count).astype("<f4").tobytes()


def test_grouping_helper_follows_the_spec():
    assert grouped(b"0123456789") == b"0481592637"


def test_chunk_header_is_an_uncompressed_one():
    assert chunk_header(0x01F2E3) == b"\x00\xe3\xf2\x01\x00\xe3\xf2\x01"
    assert chunk_header(5) == header(5, 0, 5)
    assert chunks_of(chunk_header(5) + b"hello") == [b"hello"]


def test_read_chunks_decodes_every_scheme():
    chunks = [
        (random_bytes(1000, seed=11), 0),
        (bytes(5000) + b"x" * 3000, 1),
        (random_bytes(MAX, seed=12), 1),
        (random_bytes(MAX, seed=13), 0),
        (floats(2000, 14), 2),
        (floats(2000, 15) + b"\x01", 2),
        (floats(2000, 16) + b"\x01\x02\x03", 2),
        (floats(2000, 17)[:-2], 2),
        (b"\x07", 2),
        (b"ab", 2),
        (b"abc", 2),
        (b"abcde", 2),
    ]
    assert all(grouped(data) != data for data, scheme in chunks if scheme == 2 and len(data) > 4)
    xorb = b"".join(stored(data, scheme) for data, scheme in chunks)
    assert chunks_of(xorb) == [data for data, _scheme in chunks]
    assert chunks_of(b"") == []


def test_read_chunks_stops_at_the_footer():
    chunks = [random_bytes(300, seed=18), floats(77, 19) + b"\x09"]
    xorb = stored(chunks[0], 1) + stored(chunks[1], 2)
    footer = b"XETBLOB" + b"\x01" + header(10, 9, 0, version=7) + random_bytes(200, seed=20)
    assert chunks_of(xorb + footer) == chunks


def relabeled(chunk, size):
    """A stored chunk whose header claims another uncompressed size."""
    return chunk[:5] + size.to_bytes(3, "little") + chunk[8:]


GOOD = stored(b"good chunk", 0)


REFUSED = {
    "header cut short": (b"\x00\x10\x00", "cut short"),
    "header cut short by one": (header(4, 0, 4)[:7], "cut short"),
    "version 1": (header(4, 0, 4, version=1) + b"abcd", "unknown version"),
    "scheme 3": (header(4, 3, 4) + b"abcd", "chunk 1 has unknown compression 3"),
    "scheme 255": (header(4, 255, 4) + b"abcd", "chunk 1 has unknown compression 255"),
    "128 KiB + 1": (header(MAX + 1, 0, MAX + 1) + bytes(MAX + 1), f"chunk 1 is {MAX + 1} bytes"),
    "128 KiB + 1 in LZ4": (stored(bytes(MAX + 1), 1), f"chunk 1 is {MAX + 1} bytes"),
    "0 bytes": (header(0, 0, 0), "chunk 1 is 0 bytes"),
    "0 bytes in LZ4": (header(0, 1, 0) + lz4.frame.compress(b""), "chunk 1 is 0 bytes"),
    "body cut short": (header(100, 0, 100) + bytes(99), "ends inside a chunk"),
    "no body": (header(100, 0, 100), "ends inside a chunk"),
    "not LZ4": (header(14, 1, 100) + b"not lz4 at all", "chunk 1 does not decompress"),
    "not grouped LZ4": (header(14, 2, 100) + b"not lz4 at all", "chunk 1 does not decompress"),
    "bad LZ4 header": (
        header(10, 1, 100) + b"\x04\x22\x4d\x18" + bytes(6),
        "chunk 1 does not decompress",
    ),
    "short uncompressed": (header(10, 0, 12) + bytes(10), "chunk 1 holds 10 bytes, not 12"),
    "short LZ4": (relabeled(stored(bytes(99), 1), 100), "chunk 1 holds 99 bytes, not 100"),
    "long LZ4": (relabeled(stored(bytes(101), 1), 100), "chunk 1 holds 101 bytes, not 100"),
    "long grouped LZ4": (relabeled(stored(b"abcde", 2), 4), "chunk 1 holds 5 bytes, not 4"),
    "short grouped LZ4": (relabeled(stored(b"abcde", 2), 6), "chunk 1 holds 5 bytes, not 6"),
}


@pytest.mark.parametrize("bad, message", REFUSED.values(), ids=REFUSED)
def test_read_chunks_refuses(bad, message):
    with pytest.raises(XetError, match="Malformed xorb") as refused:
        chunks_of(GOOD + bad)
    assert message in str(refused.value)


def test_read_chunks_takes_8192_chunks_at_most():
    one = stored(b"x", 0)
    assert len(chunks_of(one * 8192)) == 8192
    with pytest.raises(XetError, match="chunk 8192"):
        chunks_of(one * 8193)


# -- shards -----------------------------------------------------------------------------------


def shard_header(tag=HEADER_TAG, version=2, footer_size=0):
    return tag + struct.pack("<QQ", version, footer_size)


def file_block(raw, terms, checks=None, sha256=None, flags=None, count=None):
    """terms: (xorb hash, unpacked size, chunk start, chunk end)."""
    if flags is None:
        flags = WITH_VERIFICATION | (WITH_METADATA if sha256 is not None else 0)
    block = raw + struct.pack("<II", flags, len(terms) if count is None else count) + bytes(8)
    for xorb, size, start, end in terms:
        block += xorb + struct.pack("<IIII", 0, size, start, end)
    for check in checks or []:
        block += check + bytes(16)
    if sha256 is not None:
        block += sha256 + bytes(16)
    return block


def xorb_block(raw, chunks):
    total = sum(size for _hash, size in chunks)
    block = raw + struct.pack("<IIII", 0, len(chunks), total, total + 8 * len(chunks))
    at = 0
    for chunk, size in chunks:
        block += chunk + struct.pack("<II", at, size) + bytes(8)
        at += 8 + size
    return block


def shard(files, xorbs, **head):
    return shard_header(**head) + b"".join(files) + BOOKEND + b"".join(xorbs) + BOOKEND


class Upload:
    """Two xorbs and two files made of them, the second without a sha256."""

    def __init__(self):
        self.data = [random_bytes(size, seed=30 + n) for n, size in enumerate([700, 900, 500])]
        self.data += [random_bytes(size, seed=40 + n) for n, size in enumerate([300, 400])]
        self.chunks = [(chunk_hash(data), len(data)) for data in self.data]
        self.xorbs = [self.chunks[:3], self.chunks[3:]]
        self.xorb_hashes = [merkle_root(chunks) for chunks in self.xorbs]
        one, two = self.xorb_hashes
        # file 1: chunks 1..2 of xorb one, then chunk 0 of xorb two; file 2: all of xorb two
        self.terms = [
            [(one, 900 + 500, 1, 3), (two, 300, 0, 1)],
            [(two, 700, 0, 2)],
        ]
        self.checks = [
            [
                verification_hash([h for h, _s in self.xorbs[0][1:3]]),
                verification_hash([h for h, _s in self.xorbs[1][0:1]]),
            ],
            [verification_hash([h for h, _s in self.xorbs[1]])],
        ]
        content = self.data[1] + self.data[2] + self.data[3]
        self.sha256 = hashlib.sha256(content).hexdigest()
        self.file_hashes = [
            file_hash(self.chunks[1:4]),
            file_hash(self.chunks[3:]),
        ]

    def files(self):
        return [
            file_block(self.file_hashes[0], self.terms[0], self.checks[0], parse_hash(self.sha256)),
            file_block(self.file_hashes[1], self.terms[1], self.checks[1]),
        ]

    def xorb_blocks(self):
        return [xorb_block(raw, chunks) for raw, chunks in zip(self.xorb_hashes, self.xorbs)]

    def bytes(self, **head):
        return shard(self.files(), self.xorb_blocks(), **head)


@pytest.fixture(scope="module")
def upload():
    return Upload()


def test_shard_tag_is_the_specs():
    assert xet_shard.TAG == HEADER_TAG


def test_parse_upload(upload):
    files, xorbs = parse_upload(upload.bytes())
    assert [file.hash for file in files] == upload.file_hashes
    for file, terms, checks in zip(files, upload.terms, upload.checks):
        assert [(t.xorb, t.size, t.start, t.end) for t in file.terms] == terms
        assert [term.verification for term in file.terms] == checks
    assert [file.size for file in files] == [1700, 700]
    assert files[0].sha256 == upload.sha256
    assert files[1].sha256 is None
    assert [xorb.hash for xorb in xorbs] == upload.xorb_hashes
    assert [list(xorb.chunks) for xorb in xorbs] == upload.xorbs


def test_parse_upload_of_nothing():
    assert parse_upload(shard([], [])) == ([], [])


def test_parse_upload_without_xorbs(upload):
    files, xorbs = parse_upload(shard(upload.files(), []))
    assert len(files) == 2 and xorbs == []


def test_parse_upload_returns_the_sha256_as_written():
    sha = hashlib.sha256(b"some file").hexdigest()
    raw = parse_hash(sha)
    assert raw != bytes.fromhex(sha)
    block = file_block(bytes(32), [(bytes(32), 9, 0, 1)], [bytes(32)], raw)
    files, _xorbs = parse_upload(shard([block], []))
    assert files[0].sha256 == sha


@pytest.mark.parametrize(
    "head",
    [
        {"tag": HEADER_TAG[:-1] + b"\x00"},
        {"tag": b"HFRepoMetaDatb" + HEADER_TAG[14:]},
        {"version": 1},
        {"version": 3},
    ],
)
def test_parse_upload_refuses_another_header(upload, head):
    with pytest.raises(XetError, match="Not a shard"):
        parse_upload(upload.bytes(**head))


def test_parse_upload_refuses_files_without_verification(upload):
    for flags in (0, WITH_METADATA):
        sha = parse_hash(upload.sha256) if flags else None
        block = file_block(upload.file_hashes[0], upload.terms[0], None, sha, flags=flags)
        with pytest.raises(XetError, match="has no verification entries"):
            parse_upload(shard([upload.files()[1], block], upload.xorb_blocks()))


def test_parse_upload_refuses_a_file_without_terms(upload):
    block = file_block(upload.file_hashes[0], [], [], parse_hash(upload.sha256))
    with pytest.raises(XetError, match="has no terms"):
        parse_upload(shard([block], upload.xorb_blocks()))


@pytest.mark.parametrize("start, end", [(2, 2), (0, 0), (3, 1)])
def test_parse_upload_refuses_an_empty_chunk_range(upload, start, end):
    one, two = upload.xorb_hashes
    terms = [(two, 300, 0, 1), (one, 900, start, end)]
    block = file_block(upload.file_hashes[0], terms, upload.checks[0])
    with pytest.raises(XetError, match="empty chunk range"):
        parse_upload(shard([block], upload.xorb_blocks()))


def test_parse_upload_refuses_any_cut(upload):
    data = upload.bytes()
    for end in range(len(data)):
        with pytest.raises(XetError, match="Malformed shard"):
            parse_upload(data[:end])


def test_parse_upload_refuses_a_count_beyond_the_data(upload):
    two = upload.xorb_hashes[1]
    sha = parse_hash(upload.sha256)
    block = file_block(upload.file_hashes[0], upload.terms[0], upload.checks[0], sha, count=5)
    with pytest.raises(XetError, match="Malformed shard"):
        parse_upload(shard([block], []))
    block = two + struct.pack("<IIII", 0, 1 << 20, 100, 108)
    with pytest.raises(XetError, match="Malformed shard"):
        parse_upload(shard([], [block]))


@pytest.mark.parametrize(
    "footer_size, extra, accepted",
    [(0, 0, True), (0, 1, False), (0, 200, False), (200, 200, True), (200, 201, True)]
    + [(200, 0, False), (200, 199, False), (200, 1, False)],
)
def test_parse_upload_takes_nothing_but_its_footer_after_the_xorbs(
    upload, footer_size, extra, accepted
):
    data = upload.bytes(footer_size=footer_size) + random_bytes(extra, seed=50)
    if accepted:
        assert len(parse_upload(data)[1]) == 2
    else:
        with pytest.raises(XetError, match="is not its footer"):
            parse_upload(data)


def chunk_table_of(data, at, listed):
    count = sum(len(chunks) for _raw, chunks in listed)
    return [struct.unpack("<QII", data[at + 16 * i : at + 16 * i + 16]) for i in range(count)]


def test_dedupe_answer(upload):
    key = random_bytes(32, seed=60)
    listed = list(zip(upload.xorb_hashes, upload.xorbs))
    before = int(time.time())
    data = dedupe_answer(listed, key, 3600)
    after = int(time.time())
    assert data[:48] == shard_header(footer_size=200)

    files, xorbs = parse_upload(data)
    assert files == []
    assert [xorb.hash for xorb in xorbs] == upload.xorb_hashes
    for xorb, chunks in zip(xorbs, upload.xorbs):
        keyed = [(blake3.blake3(raw, key=key).digest(), size) for raw, size in chunks]
        assert list(xorb.chunks) == keyed
        assert all(mine != theirs for (mine, _s), (theirs, _t) in zip(keyed, chunks))

    # the xorb listings, as stored uncompressed: offsets of each chunk's header
    at = 96
    for raw, chunks in listed:
        total = sum(size for _hash, size in chunks)
        assert data[at : at + 48] == raw + struct.pack(
            "<IIII", 0, len(chunks), total, total + 8 * len(chunks)
        )
        at += 48
        start = 0
        for _hash, size in chunks:
            assert struct.unpack("<IIQ", data[at + 32 : at + 48]) == (start, size, 0)
            start, at = start + 8 + size, at + 48
    assert data[at : at + 48] == BOOKEND
    tables = at + 48  # xet-core's lookup tables (xorbs, then keyed chunks), sorted by key
    xorb_table = [
        struct.unpack("<QI", data[tables + 12 * i : tables + 12 * i + 12])
        for i in range(len(listed))
    ]
    # a xorb is named by where its header is in the listing, counted in 48-byte entries
    # (xet-core seeks there: xorb_info_offset + 48 * index)
    headers_at, position = [], 0
    for _raw, chunks in listed:
        headers_at.append(position)
        position += 1 + len(chunks)
    assert xorb_table == sorted(
        (int.from_bytes(raw[:8], "little"), headers_at[i]) for i, (raw, _c) in enumerate(listed)
    )
    for _key, header, _chunk in chunk_table_of(data, tables + 12 * len(listed), listed):
        assert data[96 + 48 * header : 96 + 48 * header + 32] in {raw for raw, _c in listed}
    chunks_at = tables + 12 * len(listed)
    count = sum(len(chunks) for _raw, chunks in listed)
    chunk_table = [
        struct.unpack("<QII", data[chunks_at + 16 * i : chunks_at + 16 * i + 16])
        for i in range(count)
    ]
    expected = sorted(
        (int.from_bytes(blake3.blake3(raw, key=key).digest()[:8], "little"), headers_at[x], c)
        for x, (_xorb, chunks) in enumerate(listed)
        for c, (raw, _size) in enumerate(chunks)
    )
    assert chunk_table == expected
    assert len(data) == chunks_at + 16 * count + 200

    footer = data[-200:]
    assert struct.unpack("<QQQ", footer[:24]) == (1, 48, 96)
    assert struct.unpack("<6Q", footer[24:72]) == (tables, 0, tables, len(listed), chunks_at, count)
    assert footer[72:104] == key
    created, expiry = struct.unpack("<QQ", footer[104:120])
    assert before <= created <= after and expiry == created + 3600
    assert footer[120:168] == bytes(48)
    total = sum(size for _raw, chunks in listed for _h, size in chunks)
    assert struct.unpack("<3Q", footer[168:192]) == (total + 8 * count, total, total)
    assert struct.unpack("<Q", footer[192:]) == (len(data) - 200,)


def test_dedupe_answer_of_nothing():
    key = random_bytes(32, seed=61)
    data = dedupe_answer([], key, 60)
    assert parse_upload(data) == ([], [])
    assert len(data) == 3 * 48 + 200
    assert data[-200 + 72 : -200 + 104] == key
    assert struct.unpack("<Q", data[-8:]) == (3 * 48,)
