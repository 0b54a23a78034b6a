"""A publishing call lands as one new repository version, in a pulpcore task holding the
repository: whole or not at all, one after the other with the repository's syncs and
pull-through adds. The content app dispatches it and waits for its outcome."""

import asyncio
import json
import time

from asgiref.sync import sync_to_async

from pulpcore.plugin.models import Content, CreatedResource, Task
from pulpcore.plugin.tasking import adispatch

from pulp_hugging_face import hub
from pulp_hugging_face.upload_protocol import UploadError

from ..models import HuggingFaceRepository
from ..repository_adds import wake_workers
from . import changes, history

LANDING_WAIT = 600  # seconds a client waits for its change to land (behind a long sync)
WAKE_AFTER = 5.0


class Refused(Exception):
    """An UploadError raised in the task: its description carries status, code and message."""

    def __init__(self, error):
        super().__init__(
            json.dumps({"status": error.status, "code": error.code, "message": error.message})
        )


def land(repository_pk, kind, repo_type, repo_id, author, change):
    """The task: apply one change (changes.KINDS[kind]) to the repo in a new version."""
    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    repo = hub.Repo(repo_type, repo_id)
    try:
        with repository.new_version() as version:
            state = history.state(version, repo)
            done = changes.KINDS[kind](version, state, changes.Author(**author), change)
            for removed in done.remove:
                version.remove_content(removed)
            if done.add:
                version.add_content(Content.objects.filter(pk__in=done.add))
            if done.commit is not None:
                CreatedResource.objects.create(content_object=done.commit)
    except UploadError as error:
        raise Refused(error) from None


async def run(publisher, kind, repo, change):
    """Land a change and wait for it: the landed commit unit (or None), else the UploadError
    the task refused it with."""
    task = await adispatch(
        land,
        exclusive_resources=[publisher.repository],
        kwargs={
            "repository_pk": str(publisher.repository.pk),
            "kind": kind,
            "repo_type": repo.repo_type,
            "repo_id": repo.repo_id,
            "author": {"username": publisher.user.username, "email": publisher.email},
            "change": change,
        },
    )
    task = await _finished(task)
    if task.state == "completed":
        return await sync_to_async(_landed_commit)(task)
    description = (task.error or {}).get("description", "")
    try:
        refused = json.loads(description)
        status, code, message = refused["status"], refused["code"], refused["message"]
    except (ValueError, TypeError, KeyError):
        raise UploadError(f"Publishing failed ({task.state}): {description}", 500)
    raise UploadError(message, status, code)


async def _finished(task):
    started, pause, woken = time.monotonic(), 0.02, False
    while task.state not in ("completed", "failed", "canceled"):
        waited = time.monotonic() - started
        if waited > LANDING_WAIT:
            raise UploadError("The change did not land in time; it may land later.", 504)
        if not woken and waited > WAKE_AFTER and task.unblocked_at is None:
            await sync_to_async(wake_workers)()
            woken = True
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.5)
        task = await Task.objects.aget(pk=task.pk)
    return task


def _landed_commit(task):
    for created in CreatedResource.objects.filter(task=task):
        if getattr(created.content_object, "git", None) is not None:
            return created.content_object
    return None
