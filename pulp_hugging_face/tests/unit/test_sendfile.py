"""Stored files sent with sendfile from a descriptor shared by the requests for the same file."""

import asyncio
import os

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from pulp_hugging_face.app import responses
from pulp_hugging_face.app.cache import open_files

# Ends in the middle of a chunk of the fallback's reads.
BODY = os.urandom(2 * responses.CHUNK_SIZE + 12345)


def closed(fd):
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


@pytest.fixture
def stored(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(BODY)
    return path


def test_a_crowd_sending_one_file_shares_one_descriptor_closed_after_the_last(stored):
    async def crowd():
        opened = await asyncio.gather(*(open_files.acquire(str(stored)) for _ in range(16)))
        assert len({id(o) for o in opened}) == 1 and open_files.in_use() == 1
        for one in opened[:-1]:
            open_files.release(one)
        assert not closed(opened[0].fd)
        open_files.release(opened[-1])
        return opened[0].fd

    fd = asyncio.run(crowd())
    assert closed(fd) and open_files.in_use() == 0


def test_a_file_removed_while_open_is_reopened_for_the_next_request(stored):
    async def replaced():
        first = await open_files.acquire(str(stored))
        stored.unlink()
        stored.write_bytes(b"new bytes")
        second = await open_files.acquire(str(stored))
        assert second is not first
        assert os.pread(first.fd, 5, 0) == BODY[:5]  # the first request finishes what it sends
        assert os.pread(second.fd, 9, 0) == b"new bytes"
        open_files.release(first)
        open_files.release(second)
        return first.fd, second.fd

    assert all(map(closed, asyncio.run(replaced())))
    assert open_files.in_use() == 0


def test_a_missing_file_is_an_error_and_leaves_nothing_open(tmp_path):
    with pytest.raises(FileNotFoundError):
        asyncio.run(open_files.acquire(str(tmp_path / "gone")))
    assert open_files.in_use() == 0


async def fetch_all(path, clients, size=len(BODY)):
    """(status, headers, body) of `clients` concurrent GETs of a SendfileResponse of `path`."""

    async def send(request):
        return responses.SendfileResponse(str(path), size, {"ETag": '"abc"'})

    app = web.Application()
    app.router.add_get("/f", send)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:

        async def one():
            async with session.get(server.make_url("/f")) as answer:
                return answer.status, answer.headers, await answer.read()

        return await asyncio.gather(*(one() for _ in range(clients)))


def test_every_client_gets_the_whole_file_with_its_headers(stored):
    answers = asyncio.run(fetch_all(stored, 32))
    for status, headers, body in answers:
        assert status == 200 and headers["ETag"] == '"abc"'
        assert int(headers["Content-Length"]) == len(BODY)
        assert body == BODY
    assert open_files.in_use() == 0


def test_a_file_removed_before_it_is_sent_is_a_404(tmp_path):
    [(status, _, body)] = asyncio.run(fetch_all(tmp_path / "gone", 1))
    assert status == 404 and body == b""


def test_without_native_sendfile_the_file_is_read_and_written(stored, monkeypatch):
    """asyncio refuses sendfile on some transports (TLS): the file is then read and written."""
    calls = []

    async def refusing(self, transport, file, offset, count, **kwargs):
        calls.append((offset, count, kwargs))
        raise asyncio.SendfileNotAvailableError("no native sendfile")

    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", refusing)
    [(status, _, body)] = asyncio.run(fetch_all(stored, 1))
    assert status == 200 and body == BODY
    assert calls == [(0, len(BODY), {"fallback": False})]
