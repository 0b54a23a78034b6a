"""`pulp hugging-face content`: stored files, pinned refs and commit infos, with Hub filters."""

import typing as t

import click
from pulp_cli.generic import (
    content_filter_options,
    href_option,
    list_command,
    pulp_group,
    pulp_option,
    show_command,
    type_option,
)

from pulp_glue.common.context import PulpContentContext
from pulp_glue.hugging_face.context import (
    PulpHuggingFaceCommitContext,
    PulpHuggingFaceContentContext,
    PulpHuggingFaceRefContext,
)

CONTENT_TYPES: dict[str, type[PulpContentContext]] = {
    "file": PulpHuggingFaceContentContext,
    "ref": PulpHuggingFaceRefContext,
    "commit": PulpHuggingFaceCommitContext,
}
REPO_TYPES = ("model", "dataset", "space")


def content_filters() -> list[t.Callable[[t.Any], t.Any]]:
    """Filters by what the Hub calls things; --path only for files, --ref only for refs."""
    return [
        click.option("--repo-id", help="Hub repo id, e.g. org/model."),
        click.option("--repo-type", type=click.Choice(REPO_TYPES)),
        click.option("--commit", help="40-hex commit id."),
        pulp_option(
            "--path",
            "path_in_repo",
            help="The file's path inside the Hub repo.",
            allowed_with_contexts=(PulpHuggingFaceContentContext,),
        ),
        pulp_option(
            "--ref",
            "name",
            help="Branch, tag or refs/pr/N name.",
            allowed_with_contexts=(PulpHuggingFaceRefContext,),
        ),
    ]


@pulp_group()
@type_option(choices=CONTENT_TYPES)
def content() -> None:
    """Hub files stored by Pulp (--type file), and the refs and commits sync pinned."""


content.add_command(list_command(decorators=content_filters() + content_filter_options))
content.add_command(show_command(decorators=[href_option]))
