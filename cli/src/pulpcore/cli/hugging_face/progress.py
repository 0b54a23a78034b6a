"""Wait for a task while showing its progress reports on stderr."""

import datetime
import sys
import time
import typing as t

import click
from pulp_cli.generic import PulpCLIContext

from pulp_glue.common.context import EntityDefinition
from pulp_glue.common.exceptions import PulpNoWait
from pulp_glue.hugging_face.glue_internals import raise_if_failed

UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def amount(value: int | None, code: str) -> str:
    """A report's count: bytes in binary units when the code says bytes, else the number."""
    if value is None:
        return "?"
    if not code.endswith("bytes"):
        return str(value)
    size = float(value)
    for unit in UNITS:
        if size < 1024 or unit == UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def report_line(report: dict[str, t.Any]) -> str:
    """`<message>: <done>[ of <total>]` for one progress report."""
    code = report.get("code") or ""
    line = f"{report['message']}: {amount(report.get('done'), code)}"
    if report.get("total"):
        line += f" of {amount(report['total'], code)}"
    return line


class ProgressPrinter:
    """Prints each report when it changes. On a terminal, a report that changes again rewrites
    its own line while no other report printed since; off a terminal, a new line at most every
    `interval` seconds per report (and always its last state)."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.tty = sys.stderr.isatty()
        self.shown: dict[str, tuple[str, float]] = {}
        self.open_line: str | None = None  # the report whose line the cursor ends

    def update(self, reports: list[dict[str, t.Any]], final: bool = False) -> None:
        now = time.monotonic()
        for report in reports:
            key = report.get("code") or report["message"]
            line = report_line(report)
            last, when = self.shown.get(key, ("", float("-inf")))
            if line == last or not (final or self.tty or now - when >= self.interval):
                continue
            self.shown[key] = (line, now)
            if not self.tty:
                click.echo(line, err=True)
            elif self.open_line == key:
                click.echo(f"\r\033[K{line}", nl=False, err=True, color=True)
            else:
                click.echo(("\n" if self.open_line else "") + line, nl=False, err=True)
                self.open_line = key
        if final and self.open_line:
            click.echo("", err=True)
            self.open_line = None


def wait_with_progress(pulp_ctx: PulpCLIContext, task: EntityDefinition) -> EntityDefinition:
    """Poll the task until it ends, printing its progress; raise as pulp-glue does on failure."""
    if pulp_ctx.background_tasks:
        raise PulpNoWait("Not waiting for task because --background was specified.")
    deadline = datetime.datetime.now() + pulp_ctx.timeout if pulp_ctx.timeout else None
    printer = ProgressPrinter()
    try:
        while task["state"] in ("waiting", "running", "canceling"):
            if deadline and datetime.datetime.now() > deadline:
                raise PulpNoWait(f"Waiting for task {task['pulp_href']} timed out.")
            printer.update(task.get("progress_reports") or [])
            time.sleep(0.5)
            task = pulp_ctx.api.call("tasks_read", parameters={"task_href": task["pulp_href"]})
    except KeyboardInterrupt:
        raise PulpNoWait(f"Task {task['pulp_href']} sent to background.")
    printer.update(task.get("progress_reports") or [], final=True)
    raise_if_failed(pulp_ctx, task)
    return task
