"""One upstream download per file, however many clients ask for it at once.

The first request for an uncached file takes an exclusive `flock` on a lock file named after
(remote, commit-pinned path) in the working directory, downloads into a part file and publishes
its name in the lock file. Requests arriving meanwhile, in this process or in another
content-app process on the host, fail to take the lock and tail the part file instead. The
kernel drops the lock when the leader finishes or dies, which is how followers learn it is over.
"""

import fcntl
import hashlib
import os
import time
import uuid
from pathlib import Path

from django.conf import settings


class InflightLock:
    """The lock and part file of one (remote, file) download."""

    def __init__(self, remote_pk, artifact_path):
        self.digest = hashlib.sha256(f"{remote_pk}:{artifact_path}".encode()).hexdigest()
        self.directory = inflight_directory()
        self.lock_path = self.directory / f"{self.digest}.lock"
        self._fd = None

    def try_lead(self):
        """Take the lock if nobody holds it; True when this request is the leader. `fresh` then
        tells whether no request on this host has led this download before."""
        self._fd, self.fresh = _try_flock(self.lock_path)
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
        return _held(self.lock_path)

    def published_part(self):
        """The leader's part file, once it has named one."""
        try:
            name = self.lock_path.read_text()
        except FileNotFoundError:
            return None
        return name if name.endswith(".part") else None


def inflight_directory():
    directory = Path(settings.WORKING_DIRECTORY) / "hf-inflight"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _try_flock(path):
    """(An open descriptor holding the lock on `path`, or None when someone else holds it;
    whether this call created the lock file)."""
    try:
        fd, created = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600), True
    except FileExistsError:
        fd, created = os.open(path, os.O_CREAT | os.O_RDWR, 0o600), False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None, False
    return fd, created


def _held(lock_path):
    """Whether a request holds the lock at `lock_path` (a missing lock file is nobody's)."""
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def prune_inflight(max_age=None):
    """Remove lock files idle and part files untouched for `HF_INFLIGHT_RETENTION` seconds.

    A lock someone holds, and the part file its leader still writes, are never removed. A
    request that opened a lock file just before it is removed may lead a second download of
    the same file; storing tolerates that, so the cost is one duplicate download.
    Returns the number of files removed.
    """
    max_age = settings.HF_INFLIGHT_RETENTION if max_age is None else max_age
    cutoff = time.time() - max_age
    removed = 0
    for path in inflight_directory().iterdir():
        try:
            owner = path.with_name(path.name.split(".", 1)[0] + ".lock")
            if path.stat().st_mtime < cutoff and not _held(owner):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
