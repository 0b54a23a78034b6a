"""REST helpers for the tests: unique names, what reached the fake Hub, raw paths, PulpApi."""

import http.client
import time
import uuid
from urllib.parse import urlsplit

from .stacks import ADMIN, PLUGIN_API


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def upstream_calls(hub):
    """Every request a fake Hub and its CDN received since the last `reset_log()`."""
    return list(hub.requests) + list(hub.cdn_requests)


def raw_request(url, method="GET"):
    """Send the path exactly as written (no client-side normalisation of `..` or `%2e`).

    Returns (status, headers, body).
    """
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, parts.path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class PulpApi:
    """A small REST client for a test stack that deletes what it created."""

    def __init__(self, base):
        import requests

        self.base = base
        self.session = requests.Session()
        self.session.auth = ADMIN
        self.created = []

    def url(self, path):
        return path if path.startswith("http") else self.base + path

    def request(self, method, path, **kwargs):
        response = self.session.request(method, self.url(path), timeout=60, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def ended_task(self, href, timeout=60):
        """The task once it has ended, whatever the outcome."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            task = self.get(href)
            if task["state"] in ("completed", "failed", "canceled"):
                return task
            time.sleep(0.2)
        raise AssertionError(f"task {href} did not finish in {timeout}s")

    def wait_task(self, href, timeout=60):
        """The task once it has completed; fails when it failed or was canceled."""
        task = self.ended_task(href, timeout)
        if task["state"] != "completed":
            raise AssertionError(f"task {href} {task['state']}: {task.get('error')}")
        return task

    def wait_task_group(self, href, last_task, timeout=180):
        """Wait until `last_task` (a task name's last part) of a task group has ended.

        pulpcore 3.123 never marks replication or import groups "all tasks dispatched", so the
        group is over once its last task is there and nothing waits or runs. A failed or
        canceled task fails at once, with its error.
        """
        deadline = time.time() + timeout
        while time.time() < deadline:
            group = self.get(href)
            failed = [
                (task["name"], self.get(task["pulp_href"]).get("error"))
                for task in group["tasks"]
                if task["state"] in ("failed", "canceled")
            ]
            assert not failed, failed
            names = {task["name"].rsplit(".", 1)[-1] for task in group["tasks"]}
            if last_task in names and not (group["waiting"] or group["running"]):
                return group
            time.sleep(0.3)
        raise AssertionError(f"task group {href} did not finish in {timeout}s")

    def wait_for_units(self, count, timeout=30, **filters):
        """Wait until `count` files match `filters`: a download is stored after its client
        has every byte, so a test that looks right away can be too early."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            units = self.list("content", **filters)
            if len(units) >= count:
                return units
            time.sleep(0.2)
        raise AssertionError(f"{count} files matching {filters} were not stored in {timeout}s")

    def wait_for_content(self, repository_href, count, timeout=30):
        """Wait until the latest version holds `count` files; return (repository, version)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            repository = self.get(repository_href)
            version = self.get(repository["latest_version_href"])
            present = version["content_summary"]["present"].get("hugging_face.hugging-face")
            if present and present["count"] >= count:
                return repository, version
            time.sleep(0.3)
        raise AssertionError(f"repository did not reach {count} files in {timeout}s")

    def create(self, kind, **body):
        result = self.request("POST", PLUGIN_API.format(kind), json=body)
        if "task" in result:
            task = self.wait_task(result["task"])
            result = self.get(task["created_resources"][0])
        self.created.append(result["pulp_href"])
        return result

    def list(self, kind, **params):
        return self.get(PLUGIN_API.format(kind), **params)["results"]

    def cleanup(self):
        import requests

        for href in reversed(self.created):
            try:
                result = self.session.delete(self.url(href), timeout=60)
                if result.status_code == 202:
                    self.wait_task(result.json()["task"])
            except (requests.RequestException, AssertionError):
                pass
        self.created.clear()
