"""Options naming a Hugging Face remote or repository (by name or href), and cache limits."""

import typing as t

import click
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


SIZE_UNITS = {"": 1, "B": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
SIZE_UNITS.update({f"{u}I": 1024 ** "BKMGT".index(u) for u in "KMGT"})
DURATION_UNITS = {"": 1, "S": 1, "M": 60, "H": 3600, "D": 86400, "W": 7 * 86400}


def _amount(value: str, units: dict[str, int], what: str) -> int | str:
    """'none' or '' (unbounded: sent as null) or a number with one of `units`: 10G, 512MiB,
    30d, 3600."""
    text = value.strip().upper()
    if text in ("NONE", "NULL", ""):
        return ""
    text = text.removesuffix("B") if units is SIZE_UNITS else text
    digits = text.rstrip("".join(sorted({c for u in units for c in u})))
    unit = text[len(digits) :]
    if not digits or unit not in units:
        raise click.BadParameter(f"{value!r} is not {what} (e.g. {EXAMPLES[what]}) or 'none'.")
    try:
        number = float(digits)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not {what} (e.g. {EXAMPLES[what]}) or 'none'.")
    if number < 0:
        raise click.BadParameter(f"{value!r} is negative.")
    return int(number * units[unit])


EXAMPLES = {"a size": "50GiB, 500M, 1073741824", "a duration": "30d, 12h, 90m, 3600"}


def size(value: t.Any) -> int | str:
    return value if isinstance(value, int) else _amount(str(value), SIZE_UNITS, "a size")


def duration(value: t.Any) -> int | str:
    return value if isinstance(value, int) else _amount(str(value), DURATION_UNITS, "a duration")


cache_max_bytes_option = click.option(
    "--cache-max-bytes",
    type=size,
    help="Bytes of pulled-through files to keep, least recently served evicted first "
    "(50GiB, 500M, ...); 'none' or '': unbounded.",
)
cache_max_idle_option = click.option(
    "--cache-max-idle",
    type=duration,
    help="Evict pulled-through files not served for this long (30d, 12h, seconds); 'none' or "
    "'': never.",
)
