"""One upstream download per file, however many clients ask for it at once.

The first request for an uncached file takes an exclusive `flock` on a lock file named after
(remote, commit-pinned path) in the shared working directory, downloads into a part file and
publishes that file's name in the lock file. Requests arriving meanwhile, in this process or in
another content-app process on the host, fail to take the lock and tail the part file instead.
The kernel drops the lock when the leader finishes or dies, which is how followers learn it is
over.
"""

import fcntl
import hashlib
import os
import uuid
from pathlib import Path

from django.conf import settings


class InflightLock:
    """The lock and part file of one (remote, file) download."""

    def __init__(self, remote_pk, relative_path):
        digest = hashlib.sha256(f"{remote_pk}:{relative_path}".encode()).hexdigest()
        self.directory = Path(settings.WORKING_DIRECTORY) / "hf-inflight"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock_path = self.directory / f"{digest}.lock"
        self.digest = digest
        self._fd = None

    def _try_lock(self):
        """An open descriptor holding the lock, or None when someone else holds it."""
        fd = os.open(self.lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def try_lead(self):
        """Take the lock if nobody holds it; True when this request is the leader."""
        self._fd = self._try_lock()
        return self._fd is not None

    def new_part_path(self):
        """A fresh part file name for the leader, published to followers."""
        path = str(self.directory / f"{self.digest}.{uuid.uuid4().hex}.part")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, path.encode(), 0)
        return path

    def release(self):
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    def leader_active(self):
        """Whether some request still holds the lock."""
        fd = self._try_lock()
        if fd is None:
            return True
        os.close(fd)  # closing drops the lock we just took
        return False

    def published_part(self):
        """The leader's part file, once it has named one."""
        try:
            name = self.lock_path.read_text()
        except FileNotFoundError:
            return None
        return name if name.endswith(".part") else None
