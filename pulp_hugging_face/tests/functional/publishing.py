"""Helpers of the publishing tests: Pulp users and their tokens, and the stock clients run in
their own process against a distribution, as users run them (`HF_ENDPOINT`, `HF_TOKEN`)."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests

from pulp_hugging_face.pytest_plugin import unique

TOKENS = "/pulp/api/v3/hugging_face/tokens/"
BIN = os.path.dirname(sys.executable)


def make_user(pulp_api, role=None, on=None):
    name, password = unique("user"), uuid.uuid4().hex
    user = pulp_api.request(
        "POST", "/pulp/api/v3/users/", json={"username": name, "password": password}
    )
    pulp_api.created.append(user["pulp_href"])
    if role:
        body = {"role": role, "content_object": on}
        pulp_api.request("POST", f"{user['pulp_href']}roles/", json=body)
    return name, password


def issue_token(pulp_api, user, scope="write", **fields):
    """A token `user` (name, password) creates for themselves: the REST answer."""
    answer = requests.post(
        pulp_api.url(TOKENS),
        json={"name": unique("token"), "scope": scope, **fields},
        auth=user,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def client_env(endpoint, token, home, xet=False):
    """A client's environment; with `xet`, hf_xet as installed (nothing disabled)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(home),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        PATH=BIN + os.pathsep + env.get("PATH", ""),
    )
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"  # LFS uploads (test_xet_publishing.py: Xet ones)
    if token:
        env["HF_TOKEN"] = token
    return env


def run_python(code, env, timeout=600, python=sys.executable):
    """Run `code` in a fresh interpreter; it prints its result as JSON on its last line."""
    done = subprocess.run(
        [python, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_hf(args, env, timeout=600):
    """The `hf` CLI: (exit code, stdout + stderr)."""
    done = subprocess.run(
        [os.path.join(BIN, "hf"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stdout + done.stderr


# Prints the status (and Hub error code) of what a snippet's call raised.
CATCH = """
import json
from huggingface_hub.errors import HfHubHTTPError
def status_of(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except HfHubHTTPError as exc:
        response = exc.response
        return [response.status_code, response.headers.get("X-Error-Code"), str(exc)[:300]]
    return [200, None, ""]
"""


class Hosted:
    """A distribution with a repository to publish to, and a write token of its owner."""

    def __init__(self, pulp_api, served, user, folder):
        self.api, self.served, self.user, self.folder = pulp_api, served, user, folder
        self.endpoint = served["endpoint"]
        self.repository = served["repository"]
        self.token = issue_token(pulp_api, user)["token"]
        self.homes = 0

    def env(self, token=..., home=None, xet=False):
        self.homes += 1
        return client_env(
            self.endpoint,
            self.token if token is ... else token,
            home or self.folder / f"hf-home-{self.homes}",
            xet,
        )

    def run(self, code, token=..., python=sys.executable, xet=False, **env):
        """Run a snippet of client code (with `status_of`) as a user of this distribution."""
        environment = {**self.env(token, xet=xet), **env}
        return run_python(CATCH + textwrap.dedent(code), environment, python=python)

    def latest_version(self):
        return self.api.get(self.repository["pulp_href"])["latest_version_href"]


def send_half_and_hang_up(url, method, data, headers=()):
    """Start a `method` of `data` to `url`, send half of it, and close the connection."""
    parts = urlsplit(url)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    with socket.create_connection((parts.hostname, parts.port)) as cut:
        cut.sendall(
            f"{method} {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
            f"Content-Length: {len(data)}\r\n\r\n".encode() + data[: len(data) // 2]
        )


def part_files_left(pulp_stack):
    """Whether upload part files are left in the content app's working directory (after
    waiting up to 5 s for the server to drop them)."""
    uploads = Path(pulp_stack["stack"].setting("WORKING_DIRECTORY")) / "hf-uploads"
    for _ in range(50):
        if not list(uploads.glob("*.part")):
            return False
        time.sleep(0.1)
    return True
