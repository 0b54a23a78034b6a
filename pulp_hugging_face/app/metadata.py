"""Remembered upstream metadata: revision -> commit, and metadata API answers.

Commit-addressed answers are kept for good; branch- and tag-addressed ones are trusted for the
remote's `metadata_ttl` and, when upstream cannot be reached (or answers 5xx/429), served stale
rather than failing. Entries live in the database, per remote, so every content-app process
and a restart share them.
"""

import json
import logging
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.utils import timezone

from pulp_hugging_face import hub

from . import memo, upstream
from .models import HuggingFaceMetadata

log = logging.getLogger(__name__)

# Upstream trouble that makes a stale answer better than an error.
STALE_OK_STATUSES = frozenset({429, 500, 502, 503, 504})


def revision_key(repo, revision):
    return f"revision:{repo.repo_type}:{repo.repo_id}:{revision}"


def api_key(method, api_path, query, form):
    parts = sorted((k, v) for k, v in query.items()) if query else []
    key = f"api:{method}:{api_path.url()}?{json.dumps(parts)}"
    if form:
        key += "|" + json.dumps(sorted((k, v) for k, v in form.items()))
    return key


def _get(remote, key):
    return HuggingFaceMetadata.objects.filter(remote=remote, key=key).first()


def _put(remote, key, **fields):
    HuggingFaceMetadata.objects.update_or_create(
        remote=remote, key=key, defaults={**fields, "fetched_at": timezone.now()}
    )


def _fresh(entry, remote):
    return entry.immutable or timezone.now() - entry.fetched_at < timedelta(
        seconds=remote.metadata_ttl
    )


async def remember_revision(remote, repo, revision, commit):
    """Record that `revision` of `repo` pointed at `commit` just now."""
    if hub.is_commit(commit) and not hub.is_commit(revision):
        key = revision_key(repo, revision)
        memo.learn_revision(remote, key, commit)
        await sync_to_async(_put)(remote, key, commit=commit)


async def resolve_revision(remote, resolve_path):
    """The commit a file's revision points at, and the upstream FileInfo when upstream was asked.

    Returns `(commit, info_or_None)`.
    """
    if hub.is_commit(resolve_path.revision):
        return resolve_path.revision, None
    key = revision_key(resolve_path.repo, resolve_path.revision)
    commit = memo.fresh_revision(remote, key)
    if commit:
        return commit, None
    entry = await sync_to_async(_get)(remote, key)
    if entry and _fresh(entry, remote):
        age = (timezone.now() - entry.fetched_at).total_seconds()
        memo.learn_revision(remote, key, entry.commit, age)
        return entry.commit, None
    try:
        info = await upstream.file_info(remote, resolve_path)
    except upstream.UpstreamError as exc:
        if entry and exc.status in STALE_OK_STATUSES:
            log.info("Upstream unavailable (%s); using the last known commit.", exc.status)
            return entry.commit, None
        if exc.headers.get("X-Repo-Commit") and exc.headers.get("X-Error-Code") == "EntryNotFound":
            await remember_revision(
                remote, resolve_path.repo, resolve_path.revision, exc.headers["X-Repo-Commit"]
            )
        raise
    await remember_revision(remote, resolve_path.repo, resolve_path.revision, info.commit)
    return info.commit, info


def _stored_answer(entry):
    return upstream.ApiAnswer(entry.status, entry.headers, bytes(entry.body))


async def api_answer(remote, method, api_path, query, form):
    """A metadata API answer, from the database when fresh enough, else from upstream."""
    key = api_key(method, api_path, query, form)
    entry = await sync_to_async(_get)(remote, key)
    if entry and _fresh(entry, remote):
        return _stored_answer(entry)
    try:
        answer = await upstream.api(remote, method, api_path, query, form)
    except upstream.UpstreamError as exc:
        if entry and exc.status in STALE_OK_STATUSES:
            log.info("Upstream unavailable (%s); serving a stale API answer.", exc.status)
            return _stored_answer(entry)
        raise
    if 200 <= answer.status < 300:
        immutable = api_path.revision is not None and hub.is_commit(api_path.revision)
        await sync_to_async(_put)(
            remote,
            key,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            immutable=immutable,
        )
        await _remember_api_revision(remote, api_path, answer)
    return answer


async def _remember_api_revision(remote, api_path, answer):
    """A repo info answer names the commit its revision points at: keep that too."""
    if api_path.endpoint not in (None, "revision"):
        return
    try:
        sha = json.loads(answer.body).get("sha")
    except (ValueError, AttributeError):
        return
    await remember_revision(remote, api_path.repo, api_path.revision or "main", sha)
