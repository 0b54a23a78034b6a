"""The Hub's metadata API for a distribution: what its version pins first, then its remote
(through remembered.py), and, for `paths-info` with upstream down, the files it holds."""

from aiohttp import web
from asgiref.sync import sync_to_async
from multidict import MultiDict

from pulp_hugging_face import hub

from . import pinned, remembered, resolver, upstream
from .responses import hub_error
from .stored_files import held_files, served_version

# Query flags the Hub reads as booleans, whichever way a client spells them ("True", "true").
FLAGS = frozenset({"recursive", "expand"})
# Array parameters the Hub also reads with brackets (`expand[]=likes`, huggingface.js' repoExists).
ARRAYS = {"expand[]": "expand"}


def canonical_query(query):
    """The query in one spelling: one remembered answer for every client's."""
    return MultiDict(
        (
            ARRAYS.get(key, key),
            value.lower() if key in FLAGS and value.lower() in ("true", "false") else value,
        )
        for key, value in query.items()
    )


async def serve(request, distro, remote, api_path, endpoint):
    if request.method == "POST" and api_path.endpoint != "paths-info":
        return hub_error(405, "Only paths-info accepts POST.")
    if request.method != "POST" and api_path.endpoint == "paths-info":
        return hub_error(405, "paths-info needs POST.")
    data = None
    if request.method == "POST":
        try:
            data = hub.parse_paths_info(request.content_type, await request.read())
        except hub.HubPathError as exc:
            return hub_error(400, str(exc))
    query = canonical_query(request.query)
    endpoint_url = f"{request.scheme}://{request.host}{endpoint}"
    if distro.repository_id or distro.repository_version_id:
        alone = remote is None or await resolver.hosted(distro, api_path.repo)
        try:
            answer = await sync_to_async(_pinned_answer)(
                distro, api_path, query, data, endpoint_url, explain=alone
            )
            return web.Response(body=answer.body, headers=answer.headers)
        except pinned.NotPinned as exc:
            if alone:
                headers = {"X-Repo-Commit": exc.commit} if exc.commit else None
                return hub_error(exc.status, exc.message, headers, exc.code)
    if remote is None:
        return hub_error(404, "This distribution serves neither a remote nor a repository.")
    try:
        answer = await remembered.api_answer(
            remote, "POST" if data is not None else "GET", api_path, query, data
        )
    except upstream.UpstreamError as exc:
        held = data and await _held_paths_info(distro, remote, api_path, data, exc)
        if not held:
            raise
        return web.json_response(held)
    headers = dict(answer.headers)
    if "Link" in headers:  # pagination links must lead back here, not upstream
        headers["Link"] = headers["Link"].replace(remote.hub_url, endpoint_url)
    return web.Response(status=answer.status, body=answer.body, headers=headers)


def _pinned_answer(distro, api_path, query, form, endpoint_url, explain):
    """The served version's answer; NotPinned (precise only if `explain`) when it has none."""
    version = served_version(distro)
    if version is None:
        raise pinned.NotPinned(404, None, "This distribution serves no repository version.")
    try:
        return pinned.api_answer(version, api_path, query, form, endpoint_url)
    except pinned.NotPinned as exc:
        if explain and exc.code == "RevisionNotFound":
            raise pinned.missing(version, api_path.repo, api_path.revision or hub.DEFAULT_BRANCH)
        raise


async def _held_paths_info(distro, remote, api_path, wanted, exc):
    """With upstream down, `paths-info` at a known commit from the files this distribution
    holds (never asked that way before: huggingface.js asks one path at a time, with `expand`,
    which the Hub alone can answer; the entries have no `lastCommit`)."""
    if exc.status not in remembered.STALE_OK_STATUSES:
        return None
    commit = await remembered.known_commit(remote, api_path.repo, api_path.revision)
    if commit is None:
        return None
    files = await sync_to_async(held_files)(distro, api_path.repo, commit, wanted.paths)
    return [pinned.file_entry(*held) for held in files] or None
