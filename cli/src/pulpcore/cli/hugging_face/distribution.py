"""`pulp hugging-face distribution`: where clients point HF_ENDPOINT."""

import typing as t

import click
from pulp_cli.generic import (
    PulpCLIContext,
    common_distribution_create_options,
    content_guard_option,
    destroy_command,
    distribution_filter_options,
    distribution_lookup_option,
    href_option,
    label_command,
    list_command,
    name_option,
    pass_entity_context,
    pass_pulp_context,
    pulp_command,
    pulp_group,
    pulp_labels_option,
    role_command,
    show_command,
    type_option,
    update_command,
)

from pulp_glue.common.context import PulpEntityContext
from pulp_glue.hugging_face.context import PulpHuggingFaceDistributionContext
from pulpcore.cli.hugging_face import options

repository_option = options.repository_option(
    "Repository whose latest version (or --version) is served; '' unsets it."
)
remote_option = options.remote_option(
    "Remote for pull-through: what the repository does not pin is fetched through it."
)


@pulp_group()
@type_option(choices={"hugging-face": PulpHuggingFaceDistributionContext})
def distribution() -> None:
    """Distributions: each base_url is an HF_ENDPOINT."""


lookup_options = [href_option, name_option, distribution_lookup_option]
nested_lookup_options = [distribution_lookup_option]
update_options = [
    repository_option,
    click.option("--version", type=int, help="Serve this version of --repository, frozen."),
    remote_option,
    content_guard_option,
    pulp_labels_option,
]


def endpoint(distribution: dict[str, t.Any]) -> str:
    """The line to paste into a shell: clients use the base_url without its trailing slash."""
    return f"export HF_ENDPOINT={distribution['base_url'].rstrip('/')}"


@pulp_command(name="create")
@pass_entity_context
@pass_pulp_context
def create(pulp_ctx: PulpCLIContext, entity_ctx: PulpEntityContext, /, **body: t.Any) -> None:
    """Create a {entity}, then say which HF_ENDPOINT serves it (on stderr)."""
    result = entity_ctx.create(body=body)
    if "created_resources" in result:  # a task: read the new distribution
        entity_ctx.pulp_href = result["created_resources"][0]
        result = entity_ctx.entity
    pulp_ctx.output_result(result)
    click.echo(endpoint(result), err=True)


for option in common_distribution_create_options + update_options:
    create = option(create)

distribution.add_command(list_command(decorators=distribution_filter_options))
distribution.add_command(show_command(decorators=lookup_options))
distribution.add_command(create)
distribution.add_command(
    update_command(decorators=lookup_options + update_options + [click.option("--base-path")])
)
distribution.add_command(destroy_command(decorators=lookup_options))
distribution.add_command(label_command(decorators=nested_lookup_options))
distribution.add_command(role_command(decorators=lookup_options))


@distribution.command()
@href_option
@name_option
@distribution_lookup_option
@pass_entity_context
@pass_pulp_context
def stats(pulp_ctx: PulpCLIContext, entity_ctx: PulpEntityContext, /) -> None:
    """What the {entity} served: requests, files from storage and from upstream, bytes sent and
    fetched upstream, evictions (written by the content apps every few seconds)."""
    result = entity_ctx.call("stats", parameters={entity_ctx.HREF: entity_ctx.pulp_href})
    pulp_ctx.output_result(result)
