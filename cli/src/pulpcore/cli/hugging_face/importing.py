"""`pulp hugging-face import`: run a Pulp import (pulp-cli can create importers, not run them)."""

import click
from pulp_cli.generic import PulpCLIContext, pass_pulp_context, pulp_command

from pulp_glue.core.context import PulpImporterContext


@pulp_command(name="import")
@click.option("--importer", required=True, help="Name of a Pulp importer (`pulp importer pulp`).")
@click.option("--toc", help="The export's -toc.json, as a path on the Pulp server.")
@click.option("--path", help="The export's .tar.gz, as a path on the Pulp server.")
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
    """Import a Pulp export (`pulp export pulp run`) and wait for every repository's version."""
    if (toc is None) == (path is None):
        raise click.UsageError("Give --toc or --path (one of them).")
    importer_ctx = PulpImporterContext(pulp_ctx, entity={"name": importer})
    body: dict[str, str | bool] = {"toc": toc} if toc else {"path": str(path)}
    if create_repositories:
        body["create_repositories"] = True
    result = pulp_ctx.call(
        "importers_core_pulp_imports_create",
        parameters={PulpImporterContext.HREF: importer_ctx.pulp_href},
        body=body,
    )
    pulp_ctx.output_result(result)
