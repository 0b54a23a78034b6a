"""`pulp hugging-face repository`: pinned versions, sync with progress, versions, content."""

import typing as t

import click
from pulp_cli.generic import (
    PulpCLIContext,
    create_command,
    destroy_command,
    href_option,
    label_command,
    label_select_option,
    list_command,
    name_filter_options,
    name_option,
    pass_pulp_context,
    pass_repository_context,
    pulp_group,
    pulp_labels_option,
    repository_content_command,
    repository_href_option,
    repository_lookup_option,
    retained_versions_option,
    role_command,
    show_command,
    type_option,
    update_command,
    version_command,
)
from pulpcore.cli.core.generic import task_command

from pulp_glue.common.context import EntityFieldDefinition, PulpRepositoryContext
from pulp_glue.hugging_face.context import PulpHuggingFaceRepositoryContext
from pulpcore.cli.hugging_face import options
from pulpcore.cli.hugging_face.content import CONTENT_TYPES, content_filters
from pulpcore.cli.hugging_face.progress import amount, wait_with_progress

remote_option = options.remote_option(
    "The repository's default remote for sync (by name or href); '' unsets it."
)
sync_remote_option = options.remote_option(
    "Remote to sync from (by name or href); default: the repository's own remote."
)


@pulp_group()
@type_option(choices={"hugging-face": PulpHuggingFaceRepositoryContext})
def repository() -> None:
    """Repositories of pinned Hub files, refs and commits."""


lookup_options = [href_option, name_option, repository_lookup_option]
nested_lookup_options = [repository_href_option, repository_lookup_option]
update_options = [
    click.option("--description"),
    remote_option,
    retained_versions_option,
    options.cache_max_bytes_option,
    options.cache_max_idle_option,
    pulp_labels_option,
]
create_options = update_options + [click.option("--name", required=True)]

repository.add_command(list_command(decorators=name_filter_options + [label_select_option]))
repository.add_command(show_command(decorators=lookup_options))
repository.add_command(create_command(decorators=create_options))
repository.add_command(update_command(decorators=lookup_options + update_options))
repository.add_command(destroy_command(decorators=lookup_options))
repository.add_command(task_command(decorators=nested_lookup_options))
repository.add_command(version_command(decorators=nested_lookup_options))
repository.add_command(label_command(decorators=nested_lookup_options))
repository.add_command(role_command(decorators=lookup_options))
repository.add_command(
    repository_content_command(
        contexts=CONTENT_TYPES,
        list_decorators=content_filters(),
        add_decorators=[href_option],
        remove_decorators=[href_option],
    )
)


def sync_outcome(repository: dict[str, t.Any], task: dict[str, t.Any]) -> str:
    """One line: the version the sync created, or that nothing changed."""
    name = repository["name"]
    created = [href for href in task.get("created_resources") or [] if "/versions/" in href]
    if created:
        number = created[0].rstrip("/").rpartition("/")[2]
        return f"Synced '{name}': created version {number}."
    latest = repository["latest_version_href"].rstrip("/").rpartition("/")[2]
    return f"Synced '{name}': nothing changed upstream, version {latest} stays the latest."


@repository.command()
@name_option
@href_option
@repository_lookup_option
@sync_remote_option
@click.option(
    "--mirror/--no-mirror",
    default=None,
    help="Mirror: the new version holds exactly what the remote's includes name now.",
)
@pass_repository_context
@pass_pulp_context
def sync(
    pulp_ctx: PulpCLIContext,
    repository_ctx: PulpRepositoryContext,
    /,
    remote: EntityFieldDefinition,
    mirror: bool | None,
) -> None:
    """Pin what the remote's includes name into a new repository version, showing progress.

    Without --remote the repository's own remote is used.
    """
    body: dict[str, t.Any] = {}
    if mirror is not None:
        body["mirror"] = mirror
    if remote:
        body["remote"] = remote
    elif repository_ctx.entity["remote"] is None:
        raise click.ClickException(
            f"Repository '{repository_ctx.entity['name']}' has no remote: give --remote."
        )
    task = repository_ctx.call(
        "sync",
        non_blocking=True,
        parameters={repository_ctx.HREF: repository_ctx.pulp_href},
        body=body,
    )
    task = wait_with_progress(pulp_ctx, task)
    click.echo(sync_outcome(repository_ctx.show(repository_ctx.pulp_href), task), err=True)


@repository.command()
@name_option
@href_option
@repository_lookup_option
@pass_repository_context
@pass_pulp_context
def evict(pulp_ctx: PulpCLIContext, repository_ctx: PulpRepositoryContext, /) -> None:
    """Evict the pulled-through files beyond --cache-max-bytes (least recently served first) or
    idle beyond --cache-max-idle, showing progress."""
    task = repository_ctx.call(
        "evict", non_blocking=True, parameters={repository_ctx.HREF: repository_ctx.pulp_href}
    )
    task = wait_with_progress(pulp_ctx, task)
    reports = {r["code"]: r for r in task.get("progress_reports") or []}
    files = reports.get("evict.files", {}).get("done") or 0
    size = reports.get("evict.bytes", {}).get("done") or 0
    name = repository_ctx.entity["name"]
    click.echo(f"Evicted {files} files ({amount(size, 'bytes')}) from '{name}'.", err=True)
