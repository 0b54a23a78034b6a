"""What upstream said, remembered: revision -> commit, metadata API answers and repo info.

A fresh remembered answer is used as is; otherwise upstream is asked, and when it cannot be
reached (or answers 5xx/429) the last remembered answer is served stale rather than failing.
Answers at a commit never change: a branch or tag whose commit is known asks at that commit, and
repo info is kept per commit as one record that answers every `expand` selection it covers
(repo_info.py), however the client spelled the revision.
"""

import json
import logging
from dataclasses import replace

from pulp_hugging_face import hub, repo_info

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
        key += "|" + json.dumps(form.form())
    return key


def info_key(repo, commit):
    return f"info:{repo.repo_type}:{repo.repo_id}:{commit}"


async def _revision_commit(remote, repo, revision):
    """(commit, fresh) of a revision: a commit is itself, for good; a branch or tag the commit
    last learned for it (fresh within the remote's metadata_ttl); None if never learned."""
    if hub.is_commit(revision):
        return revision, True
    return await cache.remembered_commit(remote, revision_key(repo, revision))


async def known_commit(remote, repo, revision):
    """The commit `revision` is a name of, or last pointed at (however long ago), or None."""
    known = await _revision_commit(remote, repo, revision)
    return known and known[0]


async def remember_revision(remote, repo, revision, commit):
    """Record that `revision` of `repo` pointed at `commit` just now."""
    if hub.is_commit(commit) and not hub.is_commit(revision):
        await cache.remember_commit(remote, revision_key(repo, revision), commit)


async def resolve_revision(remote, resolve_path):
    """The commit a file's revision points at, and the upstream FileInfo when upstream was asked.

    Returns `(commit, info_or_None)`.
    """
    known = await _revision_commit(remote, resolve_path.repo, resolve_path.revision)
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
    """A metadata API answer, remembered when fresh enough, else from upstream. `form` is the
    hub.PathsInfoQuery of a paths-info POST."""
    if method == "GET" and api_path.endpoint in (None, "revision"):
        try:
            wanted = repo_info.selection(query)
        except repo_info.NotASelection:  # e.g. `blobs=true`: remembered as asked
            pass
        else:
            return _json_answer(await _repo_info(remote, api_path, wanted))
    if api_path.endpoint in ("tree", "paths-info"):
        api_path = await _at_known_commit(remote, api_path)
    key = api_key(method, api_path, query, form)
    row = await cache.remembered_row(remote, key)
    if row and cache.row_is_fresh(row, remote):
        return _stored_answer(row)
    try:
        answer = await upstream.api(remote, method, api_path, query, form and form.form())
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
    await remember_revision(remote, api_path.repo, api_path.revision or hub.DEFAULT_BRANCH, sha)


async def _at_known_commit(remote, api_path):
    """The same call at the commit a branch or tag is trusted to point at now, if known: one
    remembered answer for every spelling of that revision, kept for good."""
    known = await _revision_commit(remote, api_path.repo, api_path.revision)
    return replace(api_path, revision=known[0]) if known and known[1] else api_path


def _json_answer(value):
    body = json.dumps(value).encode()
    return upstream.ApiAnswer(200, {"Content-Type": "application/json"}, body)


async def _repo_info(remote, api_path, wanted):
    """Repo info for the `wanted` selection (None: the default answer), from what is known of
    the commit the revision points at, asking upstream only for what is not known."""
    repo, revision = api_path.repo, api_path.revision or hub.DEFAULT_BRANCH
    commit = stale = None
    if known := await _revision_commit(remote, repo, revision):
        commit, stale = (known[0], None) if known[1] else (None, known[0])
    elif revision == "HEAD":  # never asked: the default branch's commit, if upstream is down
        known = await _revision_commit(remote, repo, hub.DEFAULT_BRANCH)
        stale = known and known[0]
    record = await _record(remote, repo, commit) if commit else None
    if record is not None and record.covers(wanted):
        return record.answer(wanted)
    try:
        return (await _learn(remote, api_path, commit, record, wanted)).answer(wanted)
    except upstream.UpstreamError as exc:
        record = record or (await _record(remote, repo, stale) if stale else None)
        usable = record is not None and (record.covers(wanted) or record.default is not None)
        if usable and exc.status in STALE_OK_STATUSES:
            log.info("Upstream unavailable (%s); serving the repo info known.", exc.status)
            return record.answer(wanted)
        raise


async def _record(remote, repo, commit):
    row = await cache.remembered_row(remote, info_key(repo, commit))
    try:
        return repo_info.Record.from_json(json.loads(bytes(row.body))) if row else None
    except (ValueError, AttributeError):
        return None


async def _learn(remote, api_path, commit, record, wanted):
    """Ask upstream what the record lacks for `wanted`: the default answer (which also says the
    commit), then `expand=` for the fields it did not have; remember the record by commit."""
    record = record or repo_info.Record()
    at_commit = replace(api_path, endpoint="revision", revision=commit) if commit else api_path
    if record.default is None:
        answer = await _ask_info(remote, at_commit, None)
        record.learn(answer, None)
        sha = answer.get("sha")
        if not hub.is_commit(sha if isinstance(sha, str) else None):
            return record  # not addressed by a commit: answered, not remembered
        if commit is None:  # known by another spelling, maybe: one record per commit
            revision = api_path.revision or hub.DEFAULT_BRANCH
            await remember_revision(remote, api_path.repo, revision, sha)
            commit, at_commit = sha, replace(api_path, endpoint="revision", revision=sha)
            known = await _record(remote, api_path.repo, sha)
            record = known.learn(answer, None) if known else record
    if wanted is not None and (missing := record.missing(wanted)):
        record.learn(await _ask_info(remote, at_commit, missing), missing)
    body = json.dumps(record.to_json()).encode()
    await cache.remember_row(remote, info_key(api_path.repo, commit), body=body, immutable=True)
    return record


async def _ask_info(remote, api_path, wanted):
    query = [("expand", key) for key in wanted] if wanted else None
    answer = await upstream.api(remote, "GET", api_path, query)
    try:
        value = json.loads(answer.body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise upstream.UpstreamError(502, "The upstream Hub answered repo info with no object.")
    return value
