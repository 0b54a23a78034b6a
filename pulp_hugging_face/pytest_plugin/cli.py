"""The real `pulp` command against a test stack."""

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliResult:
    args: tuple
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class PulpCli:
    """The real `pulp` command against a test stack: the stack's own `cli.toml` (written by
    devstack.py) and API-document cache, and no user config."""

    def __init__(self, stack):
        self.stack = stack
        self.env = dict(os.environ)
        self.env.update(
            XDG_CACHE_HOME=str(stack.state_dir / "cache"),
            XDG_CONFIG_HOME=str(stack.state_dir / "cli-home"),
            COLUMNS="200",
        )

    def __call__(self, *args, input=None, timeout=180):
        command = [str(Path(sys.executable).parent / "pulp"), "--config"]
        command += [str(self.stack.state_dir / "cli.toml"), *map(str, args)]
        done = subprocess.run(
            command, env=self.env, input=input, capture_output=True, text=True, timeout=timeout
        )
        return CliResult(tuple(args), done.returncode, done.stdout, done.stderr)

    def ok(self, *args, **kwargs):
        """Run; it must succeed."""
        result = self(*args, **kwargs)
        assert (
            result.returncode == 0
        ), f"pulp {' '.join(map(str, args))}: {result.stderr}{result.stdout}"
        return result

    def fails(self, *args, **kwargs):
        """Run; it must fail with a message on stderr and never a traceback."""
        result = self(*args, **kwargs)
        assert result.returncode != 0, f"pulp {' '.join(map(str, args))} succeeded: {result.stdout}"
        assert "Error" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        return result

    @staticmethod
    def hf_args(line, *args):
        """`hugging-face`, then `line` split as a shell would (shlex), then `args` verbatim."""
        return ["hugging-face", *shlex.split(line), *map(str, args)]

    def hf(self, line, *args, **kwargs):
        """`pulp hugging-face <line> <args>`, e.g. `hf(f"remote show --name {name}")`; put
        values with spaces, quotes or JSON (and Paths) in `args`. Like `ok`: it must succeed."""
        return self.ok(*self.hf_args(line, *args), **kwargs)

    def hf_fails(self, line, *args, **kwargs):
        """Like `hf`, but like `fails`: it must fail with an error and no traceback."""
        return self.fails(*self.hf_args(line, *args), **kwargs)
