"""pulpcore's private names, in one place: what the plugin reaches for past `pulpcore.plugin`.

Written against pulpcore 3.123, and imported lazily (any module may use this one). `CONTRACT`
lists every name used here; a unit test checks that the installed pulpcore still has each one
and names its version when one is gone. Where pulpcore offers a public way to do the job, use
that instead of adding a name here.
"""

import importlib

WRITTEN_FOR = "3.123"

# (module, attribute path): everything below reaches for these.
CONTRACT = (
    ("pulpcore.plugin.download", "DownloaderFactory._make_aiohttp_session_from_remote"),
    ("pulpcore.plugin.stages", "RemoteArtifactSaver._handle_remote_artifacts"),
    ("pulpcore.content", "_heartbeat"),
    ("pulpcore.content.authentication", "authenticate"),
    ("pulpcore.content.handler", "Handler._base_paths"),
    ("pulpcore.content.handler", "Handler._match_distribution"),
    ("pulpcore.content.handler", "Handler._permit"),
    ("pulpcore.content.handler", "Handler._reset_db_connection"),
    ("pulpcore.app.apps", "pulp_plugin_configs"),
    ("pulpcore.app.models", "AppStatus"),
    ("pulpcore.app.util", "get_worker_name"),
)


def missing():
    """The `CONTRACT` names the installed pulpcore does not have."""
    gone = []
    for module, path in CONTRACT:
        found = importlib.import_module(module)
        for part in path.split("."):
            found = getattr(found, part, None)
        if found is None:
            gone.append(f"{module}.{path}")
    return gone


# -- upstream sessions ---------------------------------------------------------------------------
def remote_session(remote):
    """An aiohttp session built from a remote as pulpcore builds its downloaders' (TLS, client
    certificate, headers). Only the session of a downloader factory: a whole factory registers
    an atexit hook per instance and its downloaders spool to files, where the plugin streams."""
    from pulpcore.plugin.download import DownloaderFactory

    factory = DownloaderFactory.__new__(DownloaderFactory)
    factory._remote = remote
    return factory._make_aiohttp_session_from_remote()


# -- sync ----------------------------------------------------------------------------------------
def is_unsaved(instance):
    """Whether a model instance was never saved (Django's `_state.adding`)."""
    return instance._state.adding


async def save_remote_artifacts(saver, batch):
    """pulpcore's RemoteArtifactSaver on one batch of DeclarativeContent."""
    await saver._handle_remote_artifacts(batch)


# -- the content app -----------------------------------------------------------------------------
def replace_content_heartbeat(heartbeat):
    """Use `heartbeat` for pulpcore-content's own (looked up by name when the app starts);
    False when this pulpcore has none of that name."""
    import pulpcore.content

    if not hasattr(pulpcore.content, "_heartbeat"):
        return False
    pulpcore.content._heartbeat = heartbeat
    return True


def content_authentication():
    """pulpcore-content's authentication middleware (also callable with a no-op handler)."""
    from pulpcore.content import authentication

    return authentication.authenticate


def base_paths(path):
    """pulpcore's candidate distribution base paths of a path, longest first."""
    from pulpcore.content.handler import Handler

    return Handler._base_paths(path)


def match_distribution(handler, path):
    """The distribution of `handler.distribution_model` serving `path` (PathNotResolved else)."""
    return handler._match_distribution(path)


def permit(handler, request, distribution):
    """pulpcore's content guard check of a request (raises HTTPForbidden)."""
    return handler._permit(request, distribution)


def reset_db_connection():
    """Drop a broken database connection, as pulpcore-content does after an error."""
    from pulpcore.content.handler import Handler

    Handler._reset_db_connection()


def content_app_status():
    """(AppStatus, the process's worker name, the plugins' versions) for a heartbeat."""
    from pulpcore.app.apps import pulp_plugin_configs
    from pulpcore.app.models import AppStatus
    from pulpcore.app.util import get_worker_name

    versions = {app.label: app.version for app in pulp_plugin_configs()}
    return AppStatus, get_worker_name(), versions
