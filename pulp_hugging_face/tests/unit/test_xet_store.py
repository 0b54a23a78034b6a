"""What Xet keeps beside the artifacts, on the real PostgreSQL: where a xorb's chunks are read
from (files, else its staged bytes), what a shard lands (an artifact checked against its
sha256, spans into it), and pruning staged bytes nobody placed."""

import hashlib
import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from pulpcore.plugin.models import Artifact

from pulp_hugging_face import xet_format as xet
from pulp_hugging_face.app.xet import reading, shards
from pulp_hugging_face.app.xet_index import XetFile, XetSpan, XetXorb, packed
from pulp_hugging_face.xet_format import XetError
from pulp_hugging_face.xet_shard import FileInfo, Term

pytestmark = pytest.mark.django_db


def staged_xorb(chunks, age=timedelta(0)):
    entries = [(xet.chunk_hash(c), len(c)) for c in chunks]
    name = xet.hash_hex(xet.merkle_root(entries))
    staged = default_storage.save(f"{reading.STAGED}{name}", ContentFile(b"".join(chunks)))
    xorb = XetXorb.objects.create(
        hash=name, chunks=packed(entries), size=sum(map(len, chunks)), staged=staged
    )
    XetXorb.objects.filter(pk=xorb.pk).update(created=timezone.now() - age)
    return XetXorb.objects.get(pk=xorb.pk), entries


def shard_file(xorb, entries, sha256=None, start=0, end=None):
    end = len(entries) if end is None else end
    part = entries[start:end]
    term = Term(
        xet.parse_hash(xorb.hash),
        sum(s for _h, s in part),
        start,
        end,
        xet.verification_hash([h for h, _s in part]),
    )
    return FileInfo(xet.file_hash(part), (term,), sha256)


def artifact_of(folder, data):
    path = folder / os.urandom(4).hex()
    path.write_bytes(data)
    artifact = Artifact.init_and_validate(str(path))
    artifact.save()
    return artifact


def test_a_landed_file_is_an_artifact_and_its_chunks_then_live_in_it():
    chunks = [os.urandom(5000), os.urandom(7000), os.urandom(3000)]
    xorb, entries = staged_xorb(chunks)
    sha256 = hashlib.sha256(b"".join(chunks)).hexdigest()
    info = shard_file(xorb, entries, sha256)
    assert shards._land([info], []) is True
    artifact = Artifact.objects.get(sha256=sha256)
    assert artifact.file.read() == b"".join(chunks)
    assert XetFile.objects.get(hash=xet.hash_hex(info.hash)).artifact == artifact
    xorb.refresh_from_db()
    assert xorb.staged is None and not default_storage.exists(f"{reading.STAGED}{xorb.hash}")
    placed = reading.Placed(xorb)
    assert placed.covered() and b"".join(placed.read(1, 3)) == b"".join(chunks[1:])
    assert shards._land([info], []) is False  # known: nothing to do


def test_a_file_is_kept_only_when_its_bytes_have_the_sha256_it_names():
    chunks = [os.urandom(4000), os.urandom(4000)]
    xorb, entries = staged_xorb(chunks)
    lie = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(XetError, match="do not have the sha256"):
        shards._land([shard_file(xorb, entries, lie)], [])
    assert not Artifact.objects.filter(sha256=lie).exists()
    assert not XetFile.objects.exists() and not XetSpan.objects.filter(xorb=xorb).exists()
    xorb.refresh_from_db()
    assert xorb.staged  # still staged: a later, honest shard may place it


def test_a_stored_file_stands_for_chunks_only_when_they_are_its_bytes(tmp_path):
    chunks = [os.urandom(6000)]
    stored = artifact_of(tmp_path, b"".join(chunks))
    other = [os.urandom(6000)]
    xorb, entries = staged_xorb(other)
    with pytest.raises(XetError, match="are not the bytes of the stored"):
        shards._land([shard_file(xorb, entries, stored.sha256)], [])
    mine, mine_entries = staged_xorb(chunks)
    assert shards._land([shard_file(mine, mine_entries, stored.sha256)], []) is True
    assert XetSpan.objects.get(xorb=mine).artifact == stored  # no second copy


def test_staged_bytes_nobody_placed_are_pruned_after_a_while(settings, tmp_path):
    settings.HF_XET_STAGED_RETENTION = 3600
    young, _ = staged_xorb([os.urandom(100)])
    unused, _ = staged_xorb([os.urandom(100)], age=timedelta(hours=2))
    half, _entries = staged_xorb([os.urandom(3000), os.urandom(3000)], age=timedelta(hours=2))
    artifact = artifact_of(tmp_path, b"y" * 3000)
    XetSpan.objects.create(xorb=half, start=0, end=1, artifact=artifact, offset=0)
    assert reading.prune_staged() == 2
    assert XetXorb.objects.filter(pk=young.pk, staged__isnull=False).exists()
    assert not XetXorb.objects.filter(pk=unused.pk).exists()
    assert not default_storage.exists(unused.staged)
    half.refresh_from_db()
    assert half.staged is None  # its spans stay: files still read their chunks from them
    placed = reading.Placed(half)
    assert placed.holds(0, 1) and not placed.holds(1, 2)
    with pytest.raises(XetError, match="no longer held"):
        list(placed.read(0, 2))


def test_with_xet_turned_off_its_endpoints_are_404_and_files_carry_no_xet_hash(settings):
    from aiohttp.test_utils import make_mocked_request
    from asgiref.sync import async_to_sync

    from pulp_hugging_face import hub
    from pulp_hugging_face.app import resolver, xet

    settings.HF_XET = False
    request = make_mocked_request("GET", "/pulp/content/x/xet-cas/v1/xorbs/default/" + "ab" * 32)
    path = hub.XetPath("v1", "xorbs", "ab" * 32)
    answer = async_to_sync(xet.serve)(request, None, path, "/pulp/content/x")
    assert answer.status == 404 and "HF_HUB_DISABLE_XET=1" in answer.text

    class Stored:
        xet_hash, commit = "cd" * 32, "a" * 40

    request[resolver.ENDPOINT] = "/pulp/content/x"
    file_path = hub.parse_url_path("org/m/resolve/main/w.bin")
    assert resolver._xet(request, Stored, file_path) is None
    settings.HF_XET = True
    headers = resolver._xet(request, Stored, file_path)
    assert headers["X-Xet-Hash"] == Stored.xet_hash
    auth, plan = headers["Link"].split(", ")
    assert auth.endswith(f'/api/models/org/m/xet-read-token/{Stored.commit}>; rel="xet-auth"')
    assert plan == (
        f"<http://{request.host}/pulp/content/x/xet-cas/v1/reconstructions/{Stored.xet_hash}>;"
        ' rel="xet-reconstruction-info"'
    )


def test_a_xorb_whose_bytes_went_is_taken_again(tmp_path):
    from pulp_hugging_face.app.xet import xorbs

    chunks = [os.urandom(2000), os.urandom(2000)]
    xorb, _entries = staged_xorb(chunks)
    assert xorbs._known(xorb.hash) == xorb
    default_storage.delete(xorb.staged)
    XetXorb.objects.filter(pk=xorb.pk).update(staged=None)  # pruned, or its file went
    assert xorbs._known(xorb.hash) is None  # so an upload of it is kept again
    part = tmp_path / "part"
    part.write_bytes(b"".join(chunks))
    assert xorbs._keep(xorb.hash, xorb.entries(), str(part)) is True
    xorb.refresh_from_db()
    assert b"".join(reading.Placed(xorb).read(0, 2)) == b"".join(chunks)


@pytest.mark.parametrize("token", ["xet_\u00e9.\u00e9", "xet_abc.def", "hf_abc", ""])
def test_bad_xet_tokens_are_a_401(token):
    from aiohttp.test_utils import make_mocked_request

    from pulp_hugging_face.app.xet import access

    request = make_mocked_request("GET", "/x", headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(XetError) as refused:
        access.claims(request, None, "read")
    assert refused.value.status == 401
