"""Tell content-app processes when what they remember in memory may be out of date.

Any process that saves or deletes a Hugging Face distribution, remote or repository, a
repository version, a domain, a content guard or Hugging Face content sends a PostgreSQL
`NOTIFY` after commit. Content-app processes `LISTEN`; every notification clears their in-memory
caches. While a process is not listening (starting, or its listening connection broke) it does
not use those caches at all, so a missed notification can never serve stale configuration.
"""

import asyncio
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

log = logging.getLogger(__name__)

CHANNEL = "pulp_hugging_face_changes"
_listeners = []  # callables run on every change


class State:
    """Whether this process currently hears every change."""

    listening = False


def on_change(callback):
    """Run `callback()` whenever a change is heard (and when listening (re)starts)."""
    _listeners.append(callback)


def _changed():
    for callback in _listeners:
        callback()


def _send_notify():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    except Exception:  # never break the save that triggered it
        log.exception("Could not notify content apps of a change")


def _notify_after_commit(sender, **kwargs):
    transaction.on_commit(_send_notify)


def connect_signals():
    """Hook the models whose changes content apps must hear about (from AppConfig.ready)."""
    from pulpcore.plugin.models import ContentGuard, Domain, RepositoryVersion

    from .models import (
        HuggingFaceContent,
        HuggingFaceDistribution,
        HuggingFaceRemote,
        HuggingFaceRepository,
    )

    for model in (
        HuggingFaceDistribution,
        HuggingFaceRemote,
        HuggingFaceRepository,
        HuggingFaceContent,
        RepositoryVersion,
        Domain,
        ContentGuard,
    ):
        for signal in (post_save, post_delete):
            signal.connect(
                _notify_after_commit, sender=model, dispatch_uid=f"hf-notify-{model.__name__}"
            )


def _conninfo():
    db = settings.DATABASES["default"]
    return {
        "dbname": db["NAME"],
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        **(db.get("OPTIONS") or {}),
    }


async def listen_forever():
    """LISTEN for changes, reconnecting with back-off; caches are off while not listening."""
    import psycopg

    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                autocommit=True, **_conninfo()
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                State.listening = True
                _changed()
                delay = 0.5
                async for _ in conn.notifies():
                    _changed()
        except asyncio.CancelledError:
            State.listening = False
            raise
        except Exception as exc:
            log.warning("Change listener lost its connection (%s); retrying.", exc)
        State.listening = False
        _changed()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


async def start_listener(app):
    app["hf_change_listener"] = asyncio.ensure_future(listen_forever())


async def stop_listener(app):
    task = app.get("hf_change_listener")
    if task:
        task.cancel()
