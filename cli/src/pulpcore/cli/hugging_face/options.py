"""Options naming a Hugging Face remote or repository (by name or href)."""

import typing as t

from pulp_cli.generic import resource_option

from pulp_glue.common.context import PulpEntityContext
from pulp_glue.hugging_face.context import (
    PulpHuggingFaceRemoteContext,
    PulpHuggingFaceRepositoryContext,
)


def _entity_option(
    flag: str, context: type[PulpEntityContext], help: str
) -> t.Callable[[t.Any], t.Any]:
    return resource_option(
        flag,
        default_plugin="hugging_face",
        default_type="hugging-face",
        context_table={"hugging_face:hugging-face": context},
        href_pattern=context.HREF_PATTERN,
        help=help,
    )


def remote_option(help: str) -> t.Callable[[t.Any], t.Any]:
    """`--remote NAME|HREF`."""
    return _entity_option("--remote", PulpHuggingFaceRemoteContext, help)


def repository_option(help: str) -> t.Callable[[t.Any], t.Any]:
    """`--repository NAME|HREF`."""
    return _entity_option("--repository", PulpHuggingFaceRepositoryContext, help)
