"""The content app's heartbeat, patient with a database restart.

pulpcore-content writes a heartbeat every CONTENT_APP_TTL / 4 seconds and exits the process
(with gunicorn's boot-error code, which stops the whole content app) when one write and its
retry fail. A PostgreSQL restart that happens to meet a heartbeat then takes every content
process down. This heartbeat retries every second instead, and gives up only when the app would
be missing from the status for longer than the TTL allows.
"""

import asyncio
import logging
import os
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.utils import DatabaseError, IntegrityError, InterfaceError
from gunicorn.arbiter import Arbiter

from .pulpcore_internals import content_app_status, replace_content_heartbeat, reset_db_connection

log = logging.getLogger(__name__)

RETRY_SECONDS = 1


def install():
    """Use this heartbeat for pulpcore-content's own (looked up by name when the app starts)."""
    if not replace_content_heartbeat(heartbeat):  # another pulpcore: leave it alone
        log.warning("pulpcore-content's heartbeat not found; keeping its own.")


async def heartbeat():
    AppStatus, name, versions = content_app_status()
    interval = settings.CONTENT_APP_TTL // 4
    try:
        status = await AppStatus.objects.acreate(name=name, app_type="content", versions=versions)
    except IntegrityError:
        log.error(f"A content app with name {name} already exists in the database.")
        os._exit(Arbiter.WORKER_BOOT_ERROR)
    except (InterfaceError, DatabaseError) as exc:
        log.error(f"Content App '{name}' failed to register with the database: {exc}")
        os._exit(Arbiter.WORKER_BOOT_ERROR)
    try:
        while True:
            await asyncio.sleep(interval)
            await _write(status, give_up_after=settings.CONTENT_APP_TTL - interval)
    finally:
        await status.adelete()


async def _write(status, give_up_after):
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            await status.asave_heartbeat()
            return
        except (InterfaceError, DatabaseError) as exc:
            if time.monotonic() > deadline:
                log.error(f"Content App '{status.name}' failed to write a heartbeat: {exc}")
                os._exit(Arbiter.WORKER_BOOT_ERROR)
            await sync_to_async(reset_db_connection)()
            await asyncio.sleep(RETRY_SECONDS)
