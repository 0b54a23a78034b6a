"""The Hub clients the functional tests drive, each as its users install it: huggingface_hub
2.x (the test environment's own), huggingface_hub 0.36 with hf_transfer (a side environment
made with uv) and huggingface.js (`@huggingface/hub` from npm, run by node). The tests install
the side clients themselves, under the test stack's state folder, once per version.

Each client runs clients/hub_py.py or clients/hub_js.mjs in its own process with the same
operations (snapshot, download, info, exists, head, read, paths, tree) and answers in one shape.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent / "clients"
HFJS = "@huggingface/hub@2.17.5"
LEGACY = ("huggingface_hub==0.36.2", "hf_transfer==0.1.9")
NAMES = ("huggingface_hub", "huggingface_hub-0.36", "huggingface.js")


class ClientError(Exception):
    """An operation failed in the client: `status` (HTTP, if any) and `kind` (Python class)."""

    def __init__(self, result):
        super().__init__(result["error"])
        self.status, self.kind = result.get("status"), result.get("kind")


@dataclass
class HubClient:
    name: str
    argv: list
    env: dict = field(default_factory=dict)

    @property
    def is_js(self):
        return self.name == "huggingface.js"

    def run(self, endpoint, ops, token=None, timeout=600):
        """Every result ({"value"} or {"error", "status"}) of `ops`, in order."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
        env.update(HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1", **self.env)
        request = json.dumps({"endpoint": endpoint, "token": token, "ops": ops}, default=str)
        done = subprocess.run(
            self.argv, input=request, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"{self.name}: {done.stderr[-3000:]}"
        return json.loads(done.stdout)

    def __call__(self, endpoint, op, token=None, **fields):
        """One operation's value; a failure raises ClientError."""
        (result,) = self.run(endpoint, [{"op": op, **fields}], token)
        if "error" in result:
            raise ClientError(result)
        return result["value"]


def _run(command):
    """Run an install step; a failure says what the installer said."""
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"[-3000:]


def install_js(folder):
    """`@huggingface/hub` from npm into `folder` (kept while its version is the pinned one)."""
    package = folder / "node_modules" / "@huggingface" / "hub" / "package.json"
    version = HFJS.rsplit("@", 1)[1]
    if not package.exists() or json.loads(package.read_text())["version"] != version:
        folder.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "install", "--prefix", str(folder), "--no-save", "--no-package-lock"]
        _run(npm + ["--no-audit", "--no-fund", HFJS])
    shutil.copy(HERE / "hub_js.mjs", folder / "hub_js.mjs")  # node finds packages beside it
    return HubClient("huggingface.js", ["node", str(folder / "hub_js.mjs")])


def install_legacy(folder):
    """huggingface_hub 0.36 with hf_transfer in a uv environment at `folder`."""
    python = folder / "bin" / "python"
    probe = "import huggingface_hub, hf_transfer; print(huggingface_hub.__version__)"
    wanted = LEGACY[0].split("==")[1]
    found = python.exists() and subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True
    )
    if not found or found.returncode != 0 or found.stdout.strip() != wanted:
        uv = str(Path(sys.executable).parent / "uv")
        _run([uv, "venv", "-q", "--python", sys.executable, str(folder)])
        _run([uv, "pip", "install", "-q", "--python", str(python), *LEGACY])
    env = {"HF_HUB_ENABLE_HF_TRANSFER": "1"}
    return HubClient("huggingface_hub-0.36", [str(python), str(HERE / "hub_py.py")], env)


def install_all(folder):
    """The three clients by name, the side ones installed under `folder` if needed."""
    current = HubClient("huggingface_hub", [sys.executable, str(HERE / "hub_py.py")])
    clients = [current, install_legacy(folder / "hf-0.36"), install_js(folder / "hfjs")]
    return {client.name: client for client in clients}
