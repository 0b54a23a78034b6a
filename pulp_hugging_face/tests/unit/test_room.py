import errno
import os

import pytest

from pulp_hugging_face.app.room import StorageFull, ensure_room, full_disk_as_error


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_or_quota_is_storage_full(code):
    with pytest.raises(StorageFull) as full:
        with full_disk_as_error():
            raise OSError(code, os.strerror(code))
    assert full.value.status == 507
    assert os.strerror(code) in full.value.message


def test_other_os_errors_pass_through():
    with pytest.raises(PermissionError):
        with full_disk_as_error():
            raise PermissionError(errno.EACCES, "Permission denied")


def test_room_is_the_free_space_of_the_part_folder(tmp_path):
    stat = os.statvfs(tmp_path)
    free = stat.f_bavail * stat.f_frsize
    ensure_room(tmp_path, 1)
    with pytest.raises(StorageFull) as full:
        ensure_room(tmp_path, free * 2)
    assert "working directory" in full.value.message
    assert str(tmp_path) not in full.value.message  # no server path reaches a client
