"""`pulp hugging-face token`: Hugging Face tokens (HF_TOKEN) for publishing and guarded reads."""

import typing as t

import click
from pulp_cli.generic import (
    PulpCLIContext,
    destroy_command,
    href_option,
    list_command,
    pass_entity_context,
    pass_pulp_context,
    pulp_group,
    show_command,
)

from pulp_glue.common.context import PulpEntityContext
from pulp_glue.hugging_face.context import PulpHuggingFaceTokenContext


@pulp_group()
@pass_pulp_context
@click.pass_context
def token(ctx: click.Context, pulp_ctx: PulpCLIContext, /) -> None:
    """Hugging Face tokens Pulp issues: HF_TOKEN for `hf upload` and guarded reads."""
    ctx.obj = PulpHuggingFaceTokenContext(pulp_ctx)


@token.command()
@click.option("--name", required=True, help="What the token is for, e.g. laptop.")
@click.option(
    "--scope",
    type=click.Choice(["read", "write"]),
    default="read",
    show_default=True,
    help="'write' to publish.",
)
@click.option("--expires-at", help="When it stops working (ISO 8601); never by default.")
@pass_entity_context
@pass_pulp_context
def create(
    pulp_ctx: PulpCLIContext,
    entity_ctx: PulpEntityContext,
    /,
    name: str,
    scope: str,
    expires_at: t.Optional[str],
) -> None:
    """Create a token of yours; its secret (`token`) is shown this once: keep it."""
    body: dict[str, t.Any] = {"name": name, "scope": scope}
    if expires_at:
        body["expires_at"] = expires_at
    pulp_ctx.output_result(entity_ctx.create(body=body))


token.add_command(list_command())
token.add_command(show_command(decorators=[href_option]))
token.add_command(destroy_command(decorators=[href_option]))
