"""`pulp hugging-face import`: run a Pulp import (pulp-cli can create importers, not run them)."""

import time
import typing as t

import click
from pulp_cli.generic import PulpCLIContext, pass_pulp_context, pulp_command

from pulp_glue.common.exceptions import PulpException, PulpNoWait
from pulp_glue.core.context import PulpImporterContext


def wait_for_import(pulp_ctx: PulpCLIContext, group: dict[str, t.Any]) -> list[str]:
    """Wait until the import's task group is over; the repository versions it created.

    pulpcore does not mark import groups "all tasks dispatched": the group is over when its
    first task (which dispatches the others) and every task it dispatched have ended.
    """
    if pulp_ctx.background_tasks:
        raise PulpNoWait("Not waiting for the import because --background was specified.")
    href = group["pulp_href"]
    while group["tasks"] == [] or group["waiting"] + group["running"] + group["canceling"]:
        time.sleep(0.5)
        group = pulp_ctx.api.call("task_groups_read", parameters={"task_group_href": href})
    errors = [
        pulp_ctx.api.call("tasks_read", parameters={"task_href": task["pulp_href"]})["error"]
        for task in group["tasks"]
        if task["state"] in ("failed", "canceled")
    ]
    if errors:
        reasons = "; ".join((e or {}).get("description", "canceled") for e in errors)
        raise PulpException(f"Import {href} failed: {reasons}")
    created = []
    for task in group["tasks"]:
        task = pulp_ctx.api.call("tasks_read", parameters={"task_href": task["pulp_href"]})
        created += [r for r in task["created_resources"] if r and "/versions/" in r]
    return sorted(created)


@pulp_command(name="import")
@click.option("--importer", required=True, help="Name of a Pulp importer (`pulp importer pulp`).")
@click.option("--toc", help="The export's -toc.json, as a path on the Pulp server.")
@click.option("--path", help="The export's .tar file, as a path on the Pulp server.")
@click.option(
    "--create-repositories",
    is_flag=True,
    help="Create the repositories the export names instead of mapping them.",
)
@pass_pulp_context
def import_export(
    pulp_ctx: PulpCLIContext,
    /,
    importer: str,
    toc: str | None,
    path: str | None,
    create_repositories: bool,
) -> None:
    """Import a Pulp export (`pulp export pulp run`); prints the repository versions it made."""
    if (toc is None) == (path is None):
        raise click.UsageError("Give --toc or --path (one of them).")
    importer_ctx = PulpImporterContext(pulp_ctx, entity={"name": importer})
    body: dict[str, str | bool] = {"toc": toc} if toc else {"path": str(path)}
    if create_repositories:
        body["create_repositories"] = True
    group = pulp_ctx.call(
        "importers_core_pulp_imports_create",
        non_blocking=True,
        parameters={PulpImporterContext.HREF: importer_ctx.pulp_href},
        body=body,
    )
    pulp_ctx.output_result(wait_for_import(pulp_ctx, group))
