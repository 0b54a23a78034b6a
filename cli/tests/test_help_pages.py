"""Every `pulp hugging-face ... --help` renders without a server (and never touches the API)."""

import typing as t

import click
import pytest
from click.testing import CliRunner
from pulp_cli import load_plugins, main

load_plugins()


def command_paths(command: click.Command, args: list[str]) -> t.Iterator[list[str]]:
    """Every sub-command path under `command`, and each `--type` choice of a group."""
    yield args
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from command_paths(sub, args + [name])
        type_params = [p for p in command.params if "--type" in getattr(p, "opts", [])]
        for param in type_params:
            assert isinstance(param.type, click.Choice)
            for choice in param.type.choices:
                for name, sub in command.commands.items():
                    yield from command_paths(sub, args + ["--type", str(choice), name])


PATHS = list(command_paths(main.commands["hugging-face"], ["hugging-face"]))


@pytest.fixture
def no_api(monkeypatch: pytest.MonkeyPatch) -> None:
    @property  # type: ignore[misc]
    def api(self: t.Any) -> None:
        pytest.fail("A help page asked the server.", pytrace=False)

    monkeypatch.setattr("pulp_glue.common.context.PulpContext.api", api)


def test_the_tree_has_every_command() -> None:
    names = {" ".join(path) for path in PATHS}
    for expected in (
        "remote create",
        "remote update",
        "remote role add",
        "repository sync",
        "repository version destroy",
        "repository content --type ref list",
        "distribution create",
        "content --type commit list",
        "import",
        "token create",
        "token destroy",
    ):
        assert f"hugging-face {expected}" in names


@pytest.mark.parametrize("args", PATHS, ids=" ".join)
def test_help_page_renders_without_a_server(no_api: None, args: list[str]) -> None:
    result = CliRunner().invoke(main, args + ["--help"], catch_exceptions=False)
    if result.exit_code == 2:  # an option or command not offered for this --type
        assert "not available in this context" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Usage:")
