"""Faults on the live stacks: a content app killed in the middle of a download, every worker
down, a full disk. What was promised holds: no wrong or half file is served or stored, nothing
is lost."""

import errno
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from hf_fake_hub import HubFile
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

from pulp_hugging_face.pytest_plugin import unique

from .test_two_hosts import on


def children(pid):
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in found.split()]


def service_pid(stack, key):
    return int((stack.state_dir / "run" / f"{key}.pid").read_text())


def wait_until(check, timeout=60, what="the stack", ignore=(requests.RequestException,)):
    """Wait until `check()` is true; `ignore`d errors count as not yet."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except ignore:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} did not recover in {timeout}s")


def test_a_content_app_killed_mid_download_leaves_nothing_half_done(
    pulp_api, pulp_stack, pulp_second_host, hf_distribution, fake_hub
):
    """SIGKILL every content-app process of a host while it leads a cold download: its client
    sees a failed download, nothing is stored, and no lock of the dead leader (file or
    PostgreSQL) keeps the next request from leading a new download."""
    repo_id = f"org/{unique('killed')}"
    data = os.urandom(24 * 1024 * 1024)
    commit = fake_hub.add_repo(repo_id).commit({"big.bin": HubFile(data, lfs=True)})
    url = on(
        pulp_second_host,
        f"{hf_distribution()['endpoint']}/{repo_id}/resolve/{commit}/big.bin",
        pulp_stack,
    )
    master = service_pid(pulp_second_host, "content")
    workers = children(master)
    assert workers
    fake_hub.cdn_rate = 8e6  # three seconds of download
    try:
        response = requests.get(url, stream=True, timeout=30)
        received = response.raw.read(1 << 20)
        assert received  # under way
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        try:
            received += response.raw.read()
        except Exception:  # the connection died: what the client must see
            pass
        assert len(received) < len(data)
    finally:
        fake_hub.cdn_rate = None
    assert pulp_api.list("content", repo_id=repo_id) == []
    wait_until(lambda: set(children(master)) - set(workers), what="the content app")
    wait_until(lambda: requests.head(url, timeout=10).status_code == 200, what="the content app")
    fake_hub.reset_log()
    assert requests.get(url, timeout=60).content == data
    assert len(fake_hub.body_fetches("big.bin")) == 1
    assert len(pulp_api.wait_for_units(1, repo_id=repo_id)) == 1


@pytest.fixture
def workers(pulp_stack, pulp_second_host):
    """`stop()` every pulpcore-worker of both hosts, `start()` them (devstack run); started
    again after the test in any case."""
    stacks = [pulp_stack["stack"], pulp_second_host]

    class Workers:
        def stop(self):
            for stack in stacks:
                for pid_file in (stack.state_dir / "run").glob("worker*.pid"):
                    pid = int(pid_file.read_text())
                    try:
                        os.killpg(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        continue
                    wait_until(lambda: not _alive(pid), timeout=30, what="a stopping worker")

        def start(self):
            for stack in stacks:
                stack.devstack("run")

    yield Workers()
    Workers().start()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_pull_through_serves_with_the_workers_down_and_adds_once_they_are_back(
    pulp_api, hf_distribution, fake_hub, repo, workers
):
    made = hf_distribution()
    workers.stop()
    commit = repo.refs["main"]
    url = f"{made['endpoint']}/{repo.repo_id}/resolve/{commit}/weights.bin"
    assert requests.get(url, timeout=30).content == repo.commits[commit]["weights.bin"].data
    assert len(pulp_api.wait_for_units(1, repo_id=repo.repo_id)) == 1  # stored by the content app
    time.sleep(2)
    repository = pulp_api.get(made["repository"]["pulp_href"])
    assert repository["latest_version_href"].endswith("/versions/0/")  # no worker to add it
    workers.start()
    print(
        "TASKS",
        [
            (t["name"], t["state"], t["pulp_created"])
            for t in pulp_api.get("/pulp/api/v3/tasks/", limit=5)["results"]
        ],
    )
    print("REPO", pulp_api.get(made["repository"]["pulp_href"]))
    # Within seconds, not at the workers' next clean-up (100 to 1,000 heartbeats away).
    _, version = pulp_api.wait_for_content(made["repository"]["pulp_href"], 1, timeout=30)
    assert version["number"] >= 1


@contextmanager
def small_disk(folder, size):
    """A tmpfs of `size` mounted over `folder` (a full disk on demand), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]
    mounted = subprocess.run(mount, capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"no tmpfs can be mounted here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder):
    """Take every byte left on the file system of `folder`."""
    with open(folder / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * (1 << 16))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def test_a_full_disk_gives_a_clear_507_and_stored_files_keep_serving(
    pulp_api, pulp_stack, hf_distribution, fake_hub, tmp_path
):
    """With 2 MiB left where downloads are written: a larger file is refused before a byte is
    sent, with a message the client shows; a disk filling up under a download fails that
    download and keeps nothing of it; stored files are served all along."""
    repo_id = f"org/{unique('full')}"
    files = {
        "stored.bin": HubFile(os.urandom(300_000), lfs=True),
        "big.bin": HubFile(os.urandom(3 << 20), lfs=True),
        "mid.bin": HubFile(os.urandom(1536 << 10), lfs=True),
    }
    commit = fake_hub.add_repo(repo_id).commit(files)
    endpoint = hf_distribution()["endpoint"]

    def url(name):
        return f"{endpoint}/{repo_id}/resolve/{commit}/{name}"

    def download(name):
        path = hf_hub_download(
            repo_id, name, revision=commit, endpoint=endpoint, cache_dir=tmp_path / name
        )
        return Path(path).read_bytes()

    assert download("stored.bin") == files["stored.bin"].data
    pulp_api.wait_for_units(1, repo_id=repo_id)
    parts = Path(pulp_stack["stack"].setting("WORKING_DIRECTORY")) / "hf-inflight"
    with small_disk(parts, "2m"):
        with pytest.raises(HfHubHTTPError) as refused:
            download("big.bin")
        assert refused.value.response.status_code == 507
        assert "no room to store this file" in str(refused.value)
        assert requests.get(url("stored.bin"), timeout=30).content == files["stored.bin"].data

        fake_hub.cdn_rate = 1e6  # the disk fills up while the download is on its way
        try:
            response = requests.get(url("mid.bin"), stream=True, timeout=30)
            assert response.status_code == 200
            fill(parts)
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                response.content
        finally:
            fake_hub.cdn_rate = None
        assert not list(parts.glob("*.part"))
        assert download("stored.bin") == files["stored.bin"].data
    assert [c["path_in_repo"] for c in pulp_api.list("content", repo_id=repo_id)] == ["stored.bin"]
    for name in ("mid.bin", "big.bin"):  # room again: stored as usual
        assert download(name) == files[name].data
    pulp_api.wait_for_units(3, repo_id=repo_id)
