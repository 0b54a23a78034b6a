"""What the Xet protocol refuses, and that a refusal keeps nothing: tokens only for publishers,
CAS calls only with the right Xet token, and every lie in a xorb or shard a 400."""

import hashlib
import os
import struct
import time
from urllib.parse import urlsplit

import lz4.frame
import pytest
import requests

from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.pytest_plugin import unique
from pulp_hugging_face.xet_shard import BOOKEND, TAG

from .publishing import issue_token, part_files_left, send_half_and_hang_up
from .test_publishing import api_call, ndjson, stored_artifacts


def xorb_of(chunks, scheme=0):
    if scheme == 0:
        return b"".join(xet.chunk_header(len(c)) + c for c in chunks)
    packed = [lz4.frame.compress(c) for c in chunks]
    return b"".join(
        b"\x00" + len(p).to_bytes(3, "little") + b"\x01" + len(c).to_bytes(3, "little") + p
        for p, c in zip(packed, chunks)
    )


def entries(chunks):
    return [(xet.chunk_hash(c), len(c)) for c in chunks]


def shard_of(files, xorbs):
    """files: (file hash, [(xorb, size, start, end, verification)], sha256 hex or None)."""
    out = [TAG + struct.pack("<QQ", 2, 0)]
    for file_hash, terms, sha256 in files:
        flags = 1 << 31 | (1 << 30 if sha256 else 0)
        out.append(file_hash + struct.pack("<IIQ", flags, len(terms), 0))
        out += [x + struct.pack("<IIII", 0, size, s, e) for x, size, s, e, _v in terms]
        out += [v + bytes(16) for *_t, v in terms]
        if sha256:
            out.append(xet.parse_hash(sha256) + bytes(16))
    out.append(BOOKEND)
    for xorb, chunk_entries in xorbs:
        size = sum(s for _h, s in chunk_entries)
        out.append(xorb + struct.pack("<IIII", 0, len(chunk_entries), size, size))
        out += [h + struct.pack("<IIQ", 0, s, 0) for h, s in chunk_entries]
    out.append(BOOKEND)
    return b"".join(out)


def whole_file(xorb, chunks, sha256=None):
    """A shard entry for a file made of all of `chunks`, one term."""
    found = entries(chunks)
    check = xet.verification_hash([h for h, _s in found])
    size = sum(len(c) for c in chunks)
    sha256 = sha256 or hashlib.sha256(b"".join(chunks)).hexdigest()
    return xet.file_hash(found), [(xorb, size, 0, len(chunks), check)], sha256


class Cas:
    """Raw CAS calls with a Xet token got the way hf_xet gets it."""

    def __init__(self, hosted, repo_id, scope="write"):
        answer = api_call(hosted, "GET", f"api/models/{repo_id}/xet-{scope}-token/main")
        assert answer.status_code == 200, answer.text
        self.url, self.token = answer.json()["casUrl"], answer.json()["accessToken"]

    def call(self, method, path, token=..., headers=(), **kwargs):
        token = self.token if token is ... else token
        headers = {**dict(headers), **({"Authorization": f"Bearer {token}"} if token else {})}
        return requests.request(method, f"{self.url}/{path}", headers=headers, timeout=60, **kwargs)

    def xorb(self, data, name, **kwargs):
        return self.call("POST", f"v1/xorbs/default/{xet.hash_hex(name)}", data=data, **kwargs)

    def has(self, name):
        return self.call("HEAD", f"v1/xorbs/default/{xet.hash_hex(name)}").status_code == 200


@pytest.fixture
def repo_id(hosted):
    name = unique("m")
    created = api_call(hosted, "POST", "api/repos/create", json={"name": name, "organization": "t"})
    assert created.status_code == 200, created.text
    return f"t/{name}"


def test_xet_tokens_go_to_publishers_with_a_cas_on_the_same_origin(
    hosted, pulp_api, pulp_user, repo_id
):
    path = f"api/models/{repo_id}/xet-write-token/main"
    assert api_call(hosted, "GET", path, token=None).status_code == 401
    assert api_call(hosted, "GET", path, token="hf_" + "x" * 40).status_code == 401
    reader = issue_token(pulp_api, hosted.user, scope="read")["token"]
    assert api_call(hosted, "GET", path, token=reader).status_code == 403
    stranger = issue_token(pulp_api, pulp_user())["token"]
    assert api_call(hosted, "GET", path, token=stranger).status_code == 403
    missing = api_call(hosted, "GET", f"api/models/t/{unique('none')}/xet-write-token/main")
    assert (missing.status_code, missing.headers.get("X-Error-Code")) == (404, "RepoNotFound")
    answer = api_call(hosted, "GET", path)
    body = answer.json()
    assert body["casUrl"] == f"{hosted.endpoint}/xet-cas" == answer.headers["X-Xet-Cas-Url"]
    assert body["exp"] > time.time() and body["accessToken"].startswith("xet_")
    read = api_call(hosted, "GET", f"api/models/{repo_id}/xet-read-token/main", token=None)
    assert read.status_code == 200 and read.json()["casUrl"] == body["casUrl"]
    host = urlsplit(hosted.endpoint)
    other_name = requests.get(  # another host name for the same Pulp: its CAS URL follows
        f"{hosted.endpoint}/{path}",
        headers={"Authorization": f"Bearer {hosted.token}", "Host": f"pulp.example:{host.port}"},
        timeout=30,
    )
    assert other_name.json()["casUrl"].startswith(f"http://pulp.example:{host.port}/")


def test_cas_calls_need_the_right_xet_token(hosted, repo_id, hf_distribution):
    chunks = [os.urandom(1000)]
    name = xet.merkle_root(entries(chunks))
    writer, reader = Cas(hosted, repo_id), Cas(hosted, repo_id, "read")
    assert writer.xorb(xorb_of(chunks), name, token=None).status_code == 401
    assert writer.xorb(xorb_of(chunks), name, token=hosted.token).status_code == 401  # a Pulp one
    forged = writer.token[:-4] + "0000"
    assert writer.xorb(xorb_of(chunks), name, token=forged).status_code == 401
    assert reader.xorb(xorb_of(chunks), name).status_code == 403
    asked = f"v1/chunks/default/{xet.hash_hex(xet.chunk_hash(chunks[0]))}"  # dedupe: uploads only
    assert reader.call("GET", asked).status_code == 403
    assert writer.call("GET", asked).status_code == 404  # not held: asked with the right scope
    other = hf_distribution()["endpoint"]  # another distribution's CAS
    answer = requests.post(
        f"{other}/xet-cas/v1/xorbs/default/{xet.hash_hex(name)}",
        headers={"Authorization": f"Bearer {writer.token}"},
        data=xorb_of(chunks),
        timeout=30,
    )
    assert answer.status_code == 401
    assert not writer.has(name)
    assert writer.call("GET", "v1/nothing-here").status_code == 404


def test_lying_xorbs_are_refused_and_leave_nothing(hosted, repo_id):
    cas = Cas(hosted, repo_id)
    chunks = [os.urandom(20_000), os.urandom(30_000)]
    name = xet.merkle_root(entries(chunks))
    good = xorb_of(chunks)
    other = xet.merkle_root(entries([os.urandom(10)]))
    lies = {
        "another hash": (good, other),
        "cut inside a chunk": (good[:-100], name),
        "bad compression": (xorb_of(chunks, 1)[:20] + b"\x00" * 50, name),
        "a chunk over 128 KiB": (
            b"\x00"
            + (200_000).to_bytes(3, "little")
            + b"\x00"
            + (200_000).to_bytes(3, "little")
            + bytes(200_000),
            name,
        ),
        "reordered chunks": (xorb_of(chunks[::-1]), name),
    }
    for what, (data, claimed) in lies.items():
        answer = cas.xorb(data, claimed)
        assert answer.status_code == 400, (what, answer.status_code, answer.text)
        assert not cas.has(claimed), what
    too_big = cas.xorb(b"\x00" * (66 << 20), name)
    assert too_big.status_code == 400 and not cas.has(name)
    assert cas.xorb(xorb_of(chunks, 1), name).json() == {"was_inserted": True}  # LZ4 too
    assert cas.xorb(good, name).json() == {"was_inserted": False}
    assert cas.has(name)


def test_lying_shards_are_refused_and_keep_nothing(hosted, repo_id, pulp_api):
    cas = Cas(hosted, repo_id)
    chunks = [os.urandom(40_000), os.urandom(50_000)]
    name = xet.merkle_root(entries(chunks))
    assert cas.xorb(xorb_of(chunks), name).status_code == 200
    real = hashlib.sha256(b"".join(chunks)).hexdigest()
    file_hash, terms, sha256 = whole_file(name, chunks)
    unknown = xet.merkle_root(entries([os.urandom(99)]))
    (t,) = terms
    lies = {
        "a xorb never uploaded": ([(file_hash, [(unknown, *t[1:])], sha256)], []),
        "a wrong verification hash": ([(file_hash, [(*t[:4], bytes(32))], sha256)], []),
        "a wrong size": ([(file_hash, [(t[0], t[1] + 1, *t[2:])], sha256)], []),
        "chunks past the xorb's end": ([(file_hash, [(t[0], t[1], 0, 3, t[4])], sha256)], []),
        "a wrong file hash": ([(bytes(32), terms, sha256)], []),
        "a wrong sha256": ([(file_hash, terms, "ab" * 32)], []),
        "no sha256": ([(file_hash, terms, None)], []),
        "a xorb listed with other chunks": ([], [(name, entries(chunks[:1]))]),
    }
    for version in ("v1", "v2"):
        for what, (files, xorbs) in lies.items():
            answer = cas.call("POST", f"{version}/shards", data=shard_of(files, xorbs))
            if version == "v1":
                assert answer.status_code == 400, (what, answer.text)
            else:  # the status is sent before the check: the last line says how it ended
                last = answer.text.splitlines()[-1]
                assert last.startswith('{"type": "error"'), (what, answer.text)
            assert stored_artifacts(pulp_api, real) == 0, what
            assert stored_artifacts(pulp_api, "ab" * 32) == 0, what
    assert cas.call("POST", "v1/shards", data=b"not a shard").status_code == 400
    good = cas.call("POST", "v1/shards", data=shard_of([whole_file(name, chunks)], []))
    assert good.status_code == 200, good.text
    assert stored_artifacts(pulp_api, real) == 1
    assert cas.call("HEAD", f"v1/files/{xet.hash_hex(file_hash)}").status_code == 404  # no commit
    commit(hosted, repo_id, "w.bin", real, sum(len(c) for c in chunks))
    assert cas.call("HEAD", f"v1/files/{xet.hash_hex(file_hash)}").headers["Content-Length"] == str(
        sum(len(c) for c in chunks)
    )


def test_a_xorb_upload_cut_off_mid_way_leaves_nothing(hosted, repo_id, pulp_stack):
    cas = Cas(hosted, repo_id)
    chunks = [os.urandom(100_000) for _ in range(20)]
    name = xet.merkle_root(entries(chunks))
    data = xorb_of(chunks)
    url = f"{cas.url}/v1/xorbs/default/{xet.hash_hex(name)}"
    send_half_and_hang_up(url, "POST", data, [("Authorization", f"Bearer {cas.token}")])
    assert not part_files_left(pulp_stack)
    assert not cas.has(name)
    assert cas.xorb(data, name).json() == {"was_inserted": True}


def fetched(plan):
    """The bytes a reconstruction plan stands for, fetched as hf_xet does (url_range)."""
    chunks = {}
    for xorb, entries in plan["fetch_info"].items():
        for entry in entries:
            span = entry["url_range"]
            answer = requests.get(
                entry["url"], headers={"Range": f"bytes={span['start']}-{span['end']}"}, timeout=30
            )
            assert answer.status_code == 206, answer.text
            data, index = answer.content, entry["range"]["start"]
            while data:
                size = int.from_bytes(data[5:8], "little")
                chunks[(xorb, index)] = data[8 : 8 + size]
                data, index = data[8 + size :], index + 1
    out = b"".join(
        chunks[(term["hash"], i)]
        for term in plan["terms"]
        for i in range(term["range"]["start"], term["range"]["end"])
    )
    return out[plan["offset_into_first_range"] :]


def commit(hosted, repo_id, path, sha256, size):
    """Commit an object stored already as an LFS file of the repo."""
    lines = ndjson(
        ("header", {"summary": "add", "description": ""}),
        ("lfsFile", {"path": path, "algo": "sha256", "oid": sha256, "size": size}),
    )
    answer = api_call(hosted, "POST", f"api/models/{repo_id}/commit/main", data=lines.encode())
    assert answer.status_code == 200, answer.text


def test_reconstructions_take_ranges_and_fetch_urls_are_signed(hosted, repo_id, hf_distribution):
    cas = Cas(hosted, repo_id)
    chunks = [os.urandom(30_000) for _ in range(6)]
    name = xet.merkle_root(entries(chunks))
    assert cas.xorb(xorb_of(chunks, 1), name).status_code == 200
    file_hash = whole_file(name, chunks)[0]
    assert cas.call("POST", "v1/shards", data=shard_of([whole_file(name, chunks)], [])).ok
    data, path = b"".join(chunks), f"v1/reconstructions/{xet.hash_hex(file_hash)}"
    assert cas.call("GET", path).status_code == 404  # not committed: not served here yet
    commit(hosted, repo_id, "w.bin", hashlib.sha256(data).hexdigest(), len(data))
    other = hf_distribution()["endpoint"]  # another distribution, the same domain: not its file
    token = requests.get(f"{other}/api/models/{repo_id}/xet-read-token/main", timeout=30).json()
    foreign = requests.get(
        f"{token['casUrl']}/{path}",
        headers={"Authorization": f"Bearer {token['accessToken']}"},
        timeout=30,
    )
    assert foreign.status_code == 404
    assert fetched(cas.call("GET", path).json()) == data
    for first, last in ((0, 0), (29_999, 30_000), (45_000, 100_000), (170_000, 10**9)):
        plan = cas.call("GET", path, headers={"Range": f"bytes={first}-{last}"}).json()
        assert fetched(plan)[: last - first + 1] == data[first : last + 1], (first, last)
        assert len(plan["terms"][0]) == 3 and plan["terms"][0]["unpacked_length"] <= len(data)
    assert cas.call("GET", path, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    assert cas.call("GET", path, headers={"Range": "bytes=x-1"}).status_code == 400
    assert cas.call("GET", path, token=None).status_code == 401
    assert cas.call("GET", f"v1/reconstructions/{'0' * 64}").status_code == 404
    assert cas.call("GET", f"v2/reconstructions/{xet.hash_hex(file_hash)}").status_code == 404
    url = cas.call("GET", path).json()["fetch_info"][xet.hash_hex(name)][0]["url"]
    assert requests.get(url.replace("chunks=0-", "chunks=1-"), timeout=30).status_code == 403
    assert requests.get(url.replace("signature=", "signature=0"), timeout=30).status_code == 403
