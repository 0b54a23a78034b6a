"""Change notifications: savers NOTIFY what changed, content apps LISTEN and forget it."""

import asyncio
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from .memory import memory

log = logging.getLogger(__name__)

CHANNEL = "pulp_hugging_face_changes"


def _send(payload):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])
    except Exception:  # never break the save that triggered it
        log.exception("Could not notify content apps of a change")


def content_changed(pk):
    """Tell content apps a file's facts changed (when the transaction commits): they forget it."""
    transaction.on_commit(lambda: _send(f"content:{pk}"))


ONE_BY_ONE = 1000  # more files than this at once: content apps forget every stored file


def stored_files_dropped(pks):
    """Tell content apps these files lost their bytes (an eviction): each one named, or, for
    many, every stored file forgotten at once."""
    if len(pks) > ONE_BY_ONE:
        transaction.on_commit(lambda: _send("evicted:"))
    else:
        for pk in pks:
            content_changed(pk)


def _notifier(payload_of):
    def notify(sender, instance, **kwargs):
        payload = payload_of(instance)
        transaction.on_commit(lambda: _send(payload))

    return notify


def watched():
    """(model, signals, the payload of an instance) of every change content apps hear about."""
    from pulpcore.plugin.models import ContentGuard, Domain, RepositoryVersion

    from ..models import (
        HuggingFaceContent,
        HuggingFaceDistribution,
        HuggingFaceRemote,
        HuggingFaceRepository,
    )

    return [
        (HuggingFaceDistribution, (post_save, post_delete), lambda i: f"distribution:{i.pk}"),
        (HuggingFaceRemote, (post_save, post_delete), lambda i: f"remote:{i.pk}"),
        (HuggingFaceRepository, (post_save, post_delete), lambda i: f"repository:{i.pk}"),
        (RepositoryVersion, (post_save, post_delete), lambda i: f"repository:{i.repository_id}"),
        (ContentGuard, (post_save, post_delete), lambda i: f"guard:{i.pk}"),
        (Domain, (post_save, post_delete), lambda i: f"domain:{i.pk}"),
        # A new file changes nothing remembered; a deleted one must not be served from memory.
        (HuggingFaceContent, (post_delete,), lambda i: f"content:{i.pk}"),
    ]


def connect_signals():
    """Hook the models whose changes content apps must hear about (from AppConfig.ready)."""
    for model, signals, payload_of in watched():
        for signal in signals:
            signal.connect(
                _notifier(payload_of),
                sender=model,
                weak=False,
                dispatch_uid=f"hf-notify-{signal is post_save}-{model.__name__}",
            )


def conninfo():
    db = settings.DATABASES["default"]
    return {
        "dbname": db["NAME"],
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        **(db.get("OPTIONS") or {}),
    }


LISTENERS = {}  # other channels this connection listens on -> callback(payload)


def listen_also(channel, callback):
    """Have `callback(payload)` called (on the event loop) for every NOTIFY on `channel`."""
    LISTENERS[channel] = callback


async def listen_forever():
    """LISTEN for changes, reconnecting with back-off; memory is off while not listening."""
    import psycopg

    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(autocommit=True, **conninfo()) as conn:
                for channel in (CHANNEL, *LISTENERS):
                    await conn.execute(f"LISTEN {channel}")
                memory.listening = True
                memory.clear()
                delay = 0.5
                async for notification in conn.notifies():
                    if notification.channel == CHANNEL:
                        memory.forget(notification.payload)
                    else:
                        LISTENERS[notification.channel](notification.payload)
        except asyncio.CancelledError:
            memory.listening = False
            raise
        except Exception as exc:
            log.warning("Change listener lost its connection (%s); retrying.", exc)
        memory.listening = False
        memory.clear()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)
