"""Room on disk: a full disk (or quota) becomes `StorageFull`, a clear 507 for the client."""

import errno
import os
from contextlib import contextmanager

from django.core.files.storage import FileSystemStorage, default_storage


class StorageFull(Exception):
    """No room left to store a file (answered 507); stored files keep serving."""

    status = 507
    headers = {}

    def __init__(self, message):
        super().__init__(message)
        self.message = message


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def full_disk_as_error():
    """Turn a full disk (or quota) into `StorageFull`."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in FULL_ERRNOS:
            raise
        raise StorageFull(f"Pulp's storage is full ({exc.strerror}).") from exc


def ensure_room(part_directory, size):
    """Raise `StorageFull` unless the part file and, on a file system, its stored copy fit."""
    places = {"working directory": part_directory}
    if isinstance(default_storage, FileSystemStorage):
        places["media storage"] = default_storage.location
    for place, directory in places.items():
        stat = os.statvfs(directory)
        free = stat.f_bavail * stat.f_frsize
        if free < size:
            raise StorageFull(
                f"Pulp has no room to store this file: {free} bytes free in its {place}, "
                f"the file has {size}. Files already stored are still served."
            )
