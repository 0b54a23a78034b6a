"""The single-flight lock and part files of a download: who leads, and pruning what is idle."""

import os
import time

from pulp_hugging_face.app.inflight import InflightLock, prune_inflight

COMMIT = "c" * 40


def test_idle_inflight_files_are_pruned(settings, tmp_path):
    settings.WORKING_DIRECTORY = str(tmp_path)
    busy, idle, fresh = (InflightLock("r", f"org/m/resolve/{COMMIT}/{n}") for n in "abc")
    assert busy.try_lead()
    busy_part = busy.new_part_path()
    open(busy_part, "w").close()
    idle_part = idle.lock_path.with_name(f"{idle.digest}.dead.part")
    for path in (idle.lock_path, idle_part, fresh.lock_path):
        path.touch()
    hour_ago = time.time() - 3600
    for path in (busy.lock_path, busy_part, idle.lock_path, idle_part):
        os.utime(path, (hour_ago, hour_ago))
    try:
        assert prune_inflight(max_age=600) == 2
    finally:
        busy.release()
    assert not idle.lock_path.exists() and not idle_part.exists()
    assert busy.lock_path.exists() and os.path.exists(busy_part) and fresh.lock_path.exists()


def test_a_lock_is_fresh_only_for_the_first_leader_on_the_host(settings, tmp_path):
    settings.WORKING_DIRECTORY = str(tmp_path)
    first, second, third = (InflightLock("r", f"org/m/resolve/{COMMIT}/f") for _ in range(3))
    assert first.try_lead() and first.fresh
    assert not second.try_lead()  # a follower while the first leads
    first.release()
    assert third.try_lead() and not third.fresh  # someone led before: look for the stored file
    third.release()
