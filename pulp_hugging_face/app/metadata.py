"""Upstream metadata through the cache: revision -> commit, and metadata API answers.

A fresh remembered answer is used as is; otherwise upstream is asked, and when it cannot be
reached (or answers 5xx/429) the last remembered answer is served stale rather than failing.
"""

import json
import logging

from pulp_hugging_face import hub

from . import cache, upstream

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


async def remember_revision(remote, repo, revision, commit):
    """Record that `revision` of `repo` pointed at `commit` just now."""
    if hub.is_commit(commit) and not hub.is_commit(revision):
        await cache.remember_commit(remote, revision_key(repo, revision), commit)


async def resolve_revision(remote, resolve_path):
    """The commit a file's revision points at, and the upstream FileInfo when upstream was asked.

    Returns `(commit, info_or_None)`.
    """
    if hub.is_commit(resolve_path.revision):
        return resolve_path.revision, None
    known = await cache.remembered_commit(
        remote, revision_key(resolve_path.repo, resolve_path.revision)
    )
    if known and known[1]:
        return known[0], None
    try:
        info = await upstream.file_info(remote, resolve_path)
    except upstream.UpstreamError as exc:
        if known and exc.status in STALE_OK_STATUSES:
            log.info("Upstream unavailable (%s); using the last known commit.", exc.status)
            return known[0], None
        if exc.headers.get("X-Error-Code") == "EntryNotFound":
            commit = exc.headers.get("X-Repo-Commit")
            await remember_revision(remote, resolve_path.repo, resolve_path.revision, commit)
        raise
    await remember_revision(remote, resolve_path.repo, resolve_path.revision, info.commit)
    return info.commit, info


def _stored_answer(row):
    return upstream.ApiAnswer(row.status, row.headers, bytes(row.body))


async def api_answer(remote, method, api_path, query, form):
    """A metadata API answer, remembered when fresh enough, else from upstream."""
    key = api_key(method, api_path, query, form)
    row = await cache.remembered_row(remote, key)
    if row and cache.row_is_fresh(row, remote):
        return _stored_answer(row)
    try:
        answer = await upstream.api(remote, method, api_path, query, form)
    except upstream.UpstreamError as exc:
        if row and exc.status in STALE_OK_STATUSES:
            log.info("Upstream unavailable (%s); serving a stale API answer.", exc.status)
            return _stored_answer(row)
        raise
    if 200 <= answer.status < 300:
        await cache.remember_row(
            remote,
            key,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            immutable=api_path.revision is not None and hub.is_commit(api_path.revision),
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
