"""Stored files this process has open while it sends them: a crowd of clients asking for the
same file shares one descriptor instead of opening, checking and closing it per request (each an
executor hop). A descriptor is closed as soon as its last request is done, so a file removed
from storage never stays held here; one removed while open is noticed (no links left) and
reopened by the next request, which then finds whatever is at its path."""

import asyncio
import os


class OpenFile:
    """A read-only descriptor shared by the requests sending one file (`sendfile` takes an
    explicit offset, so they never move each other's position)."""

    mode = "rb"  # what asyncio's sendfile checks

    def __init__(self, path, fd):
        self.path = path
        self.fd = fd
        self.users = 0

    def fileno(self):
        return self.fd

    def seek(self, offset, whence=0):
        """asyncio moves a file's position after sendfile: nobody here reads it."""
        return offset


_open = {}  # path -> OpenFile in use


async def acquire(path):
    """The open file at `path`, shared; `release` it when done. Raises OSError (as `open`)."""
    opened = _open.get(path)
    if opened is not None and os.fstat(opened.fd).st_nlink == 0:
        del _open[path]  # removed behind our back: its users finish with it, new ones reopen
        opened = None
    if opened is None:
        fd = await asyncio.get_running_loop().run_in_executor(
            None, os.open, path, os.O_RDONLY | os.O_CLOEXEC
        )
        opened = _open.get(path)
        if opened is None:
            opened = _open[path] = OpenFile(path, fd)
        else:  # another request opened it meanwhile
            os.close(fd)
    opened.users += 1
    return opened


def release(opened):
    opened.users -= 1
    if opened.users == 0:
        if _open.get(opened.path) is opened:
            del _open[opened.path]
        os.close(opened.fd)


def in_use():
    """How many files are open here (for tests)."""
    return len(_open)
