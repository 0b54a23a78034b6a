"""`pulp hugging-face remote`: upstream Hubs, their token and what `sync` pins."""

import contextlib
import io
import typing as t

import click
from pulp_cli.generic import (
    PulpCLIContext,
    common_remote_update_options,
    destroy_command,
    href_option,
    label_command,
    list_command,
    load_json_callback,
    name_option,
    pass_entity_context,
    pass_pulp_context,
    pulp_command,
    pulp_group,
    pulp_option,
    remote_filter_options,
    remote_header_callback,
    remote_lookup_option,
    role_command,
    show_command,
    type_option,
)

from pulp_glue.common.context import PulpEntityContext
from pulp_glue.hugging_face.context import PulpHuggingFaceRemoteContext


@pulp_group()
@type_option(choices={"hugging-face": PulpHuggingFaceRemoteContext})
def remote() -> None:
    """Upstream Hubs (huggingface.co or another Pulp's distribution)."""


def _read_text(ctx: click.Context, param: click.Parameter, value: t.IO[str] | None) -> str | None:
    return None if value is None else value.read()


def _token_file(ctx: click.Context, param: click.Parameter, value: t.IO[str] | None) -> str | None:
    if value is None:
        return None
    token = value.read().strip()
    if not token:
        raise click.BadParameter("the file is empty", ctx=ctx, param=param)
    return token


def _quiet_headers(
    ctx: click.Context, param: click.Parameter, value: t.Iterable[str]
) -> list[dict[str, str]] | None:
    """pulp-cli's header callback, without its echo of every header (secrets too) to stderr."""
    with contextlib.redirect_stderr(io.StringIO()):
        return remote_header_callback(ctx, param, value)


def _option_name(option: t.Callable[[t.Any], t.Any]) -> str | None:
    params: list[click.Parameter] = option(lambda: None).__click_params__
    return params[0].name


lookup_options = [href_option, name_option, remote_lookup_option]
nested_lookup_options = [remote_lookup_option]
common_options = [o for o in common_remote_update_options if _option_name(o) != "headers"]
hugging_face_options = [
    click.option(
        "--header",
        "headers",
        multiple=True,
        callback=_quiet_headers,
        help="An extra header sent upstream, as 'Name:value' (repeat it; '' clears them).",
    ),
    click.option(
        "--token",
        help="Hugging Face access token sent to the Hub as a Bearer token; never shown back. "
        "'' removes it.",
    ),
    click.option(
        "--token-file",
        type=click.File("r"),
        callback=_token_file,
        help="Read the token from a file ('-' for stdin) instead of the command line.",
    ),
    pulp_option(
        "--metadata-ttl",
        type=click.IntRange(min=0),
        help="Seconds a branch or tag to "
        "commit answer (and an API listing) is trusted before upstream is asked again.",
    ),
    click.option(
        "--policy", type=click.Choice(["immediate", "on_demand", "streamed"], case_sensitive=False)
    ),
    click.option(
        "--includes",
        callback=load_json_callback,
        help="What `sync` pins, as JSON (or @file): a list of facehugger.yaml entries "
        '({"repo": "org/model", "ref": "main", "include": ["*.json"]}), or a lock\'s list.',
    ),
    click.option(
        "--manifest",
        type=click.File("r"),
        callback=_read_text,
        help="What `sync` pins, from a facehugger.yaml manifest.",
    ),
    click.option(
        "--lock",
        type=click.File("r"),
        callback=_read_text,
        help="What `sync` pins, from a facehugger.lock: exactly its commits.",
    ),
]


def remote_body(options: dict[str, t.Any]) -> dict[str, t.Any]:
    """The REST body of create/update: the token as `hf_token`, one source of `includes`."""
    token, token_file = options.pop("token"), options.pop("token_file")
    if token is not None and token_file is not None:
        raise click.UsageError("Give --token or --token-file, not both.")
    options["hf_token"] = token_file if token is None else token
    sources = {name: options.pop(name) for name in ("includes", "manifest", "lock")}
    given = [name for name, value in sources.items() if value is not None]
    if len(given) > 1:
        named = " and ".join(f"--{name}" for name in given)
        raise click.UsageError(f"Give one of --includes, --manifest, --lock, not {named}.")
    if given:
        options["includes"] = sources[given[0]]
    return options


@pulp_command(name="create")
@click.option("--name", required=True)
@pass_entity_context
@pass_pulp_context
def create(pulp_ctx: PulpCLIContext, entity_ctx: PulpEntityContext, /, **options: t.Any) -> None:
    """Create a {entity}; --url defaults to https://huggingface.co."""
    result = entity_ctx.create(body=remote_body(options))
    pulp_ctx.output_result(result)


@pulp_command(name="update")
@pass_entity_context
def update(entity_ctx: PulpEntityContext, /, **options: t.Any) -> None:
    """Update a {entity}."""
    entity_ctx.update(body=remote_body(options))


for option in common_options + hugging_face_options:
    create = option(create)
    update = option(update)
for option in lookup_options:
    update = option(update)

remote.add_command(list_command(decorators=remote_filter_options))
remote.add_command(show_command(decorators=lookup_options))
remote.add_command(create)
remote.add_command(update)
remote.add_command(destroy_command(decorators=lookup_options))
remote.add_command(label_command(decorators=nested_lookup_options))
remote.add_command(role_command(decorators=lookup_options))
