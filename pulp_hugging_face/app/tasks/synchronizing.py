"""Sync: pin what a remote's `includes` name into one new repository version.

Every entry is resolved first (ref -> commit, repo info, the whole file listing at that commit,
every page) and filtered with huggingface_hub's own allow/ignore pattern helper, so an unknown
repo, ref or a gated repo fails the task before anything is downloaded. Then pulpcore's
declarative pipeline stores what the remote's `policy` says: `immediate` downloads and verifies
every file, `on_demand` and `streamed` record where to fetch it. One new version at most; none
when nothing changed.
"""

import asyncio
import json
import re
from dataclasses import dataclass
from gettext import gettext as _
from urllib.parse import quote

import aiohttp
from huggingface_hub.utils import filter_repo_objects

from pulpcore.plugin.exceptions import SyncError
from pulpcore.plugin.models import Artifact, ProgressReport, Remote
from pulpcore.plugin.stages import DeclarativeArtifact, DeclarativeContent, Stage
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub, includes

from ..models import (
    HuggingFaceCommit,
    HuggingFaceContent,
    HuggingFaceRef,
    HuggingFaceRemote,
    HuggingFaceRepository,
)
from ..upstream import error_message, strip_xet
from .stages import HubDeclarativeVersion

NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
MAX_TREE_PAGES = 100_000


def synchronize(remote_pk, repository_pk, mirror):
    """Create a repository version holding exactly what the remote's `includes` pin."""
    remote = HuggingFaceRemote.objects.get(pk=remote_pk)
    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    try:
        entries = includes.parse(remote.includes)
    except includes.IncludesError as exc:
        raise SyncError(str(exc))
    if not entries and not mirror:
        raise SyncError(_("The remote's `includes` name nothing to sync."))
    first_stage = HubFirstStage(remote, entries)
    HubDeclarativeVersion(first_stage, repository, mirror=mirror).create()


@dataclass
class Pinned:
    """One entry resolved: its commit, the repo info at that commit and the chosen files."""

    entry: includes.SyncEntry
    commit: str
    info: dict
    files: list


class HubFirstStage(Stage):
    """Resolve and list every entry, then emit files, commit infos and refs."""

    def __init__(self, remote, entries):
        super().__init__()
        self.remote = remote
        self.entries = entries
        self.bytes_to_download = 0

    async def run(self):
        async with (
            ProgressReport(
                message="Resolving repos", code="sync.resolving.repos", total=len(self.entries)
            ) as repos,
            ProgressReport(message="Listing files", code="sync.listing.files") as files,
        ):
            pinned = []
            for entry in self.entries:
                pinned.append(await self._pin(entry))
                await repos.aincrement()
                await files.aincrease_by(len(pinned[-1].files))
        immediate = self.remote.policy == Remote.IMMEDIATE
        if immediate:
            self.bytes_to_download = sum(f["size"] for p in pinned for f in p.files)
        emitted = set()
        for item in pinned:
            await self._emit(item, emitted, deferred=not immediate)

    async def _pin(self, entry):
        revision = entry.commit or entry.ref
        path = f"{entry.repo.api_path}/revision/{quote(revision, safe='')}"
        info, _headers = await self._get_json(entry, path)
        commit = info.get("sha") if isinstance(info, dict) else None
        if not hub.is_commit(commit):
            raise SyncError(_("{}: the Hub's answer names no commit.").format(entry))
        if entry.commit and commit != entry.commit:
            raise SyncError(_("{}: the Hub answered for commit {}.").format(entry, commit))
        listing = await self._tree(entry, commit)
        chosen = filter_repo_objects(
            listing,
            allow_patterns=list(entry.include) or None,
            ignore_patterns=list(entry.exclude) or None,
            key=lambda item: item["path"],
        )
        info = strip_xet({k: v for k, v in info.items() if k != "siblings"})
        return Pinned(entry, commit, info, list(chosen))

    async def _tree(self, entry, commit):
        """Every file at `commit`, following the listing's `Link: rel="next"` pages."""
        url = f"{self.remote.hub_url}/{entry.repo.api_path}/tree/{commit}?recursive=true"
        files = []
        for _page in range(MAX_TREE_PAGES):
            page, headers = await self._get_json(entry, url, absolute=True)
            if not isinstance(page, list):
                raise SyncError(_("{}: the Hub's file listing is not a list.").format(entry))
            files.extend(_checked_file(entry, item) for item in page if _is_file(item))
            match = NEXT_LINK.search(headers.get("Link", ""))
            if not match:
                return files
            url = match.group(1)
        raise SyncError(_("{}: the Hub's file listing does not end.").format(entry))

    async def _get_json(self, entry, path, absolute=False):
        url = path if absolute else f"{self.remote.hub_url}/{path}"
        try:
            result = await self.remote.get_downloader(url=url).run()
            with open(result.path, "rb") as handle:
                return json.load(handle), result.headers or {}
        except aiohttp.ClientResponseError as exc:
            message = error_message(exc.headers or {}, exc.message)
            raise SyncError(_("{}: the Hub answered {}: {}").format(entry, exc.status, message))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise SyncError(
                _("{}: the Hub at {} cannot be reached: {}").format(entry, self.remote.url, exc)
            )
        except ValueError:
            raise SyncError(_("{}: the Hub's answer is not JSON.").format(entry))

    async def _emit(self, pinned, emitted, deferred):
        entry, commit = pinned.entry, pinned.commit
        stored = await _stored_artifacts(entry.repo, commit, [f["path"] for f in pinned.files])
        for item in pinned.files:
            key = (entry.repo, commit, item["path"])
            if key in emitted:
                continue
            emitted.add(key)
            lfs = item.get("lfs")
            etag = lfs["oid"] if lfs else item["oid"]
            artifact_path = hub.ResolvePath(entry.repo, commit, item["path"]).artifact_path()
            artifact = stored.get(item["path"]) or Artifact(
                size=item["size"], sha256=etag if lfs else None
            )
            download = DeclarativeArtifact(
                artifact=artifact,
                url=self.remote.get_remote_artifact_url(artifact_path),
                relative_path=artifact_path,
                remote=self.remote,
                deferred_download=deferred,
                extra_data=None if lfs else {"git_sha1": etag},
            )
            content = HuggingFaceContent(
                repo_type=entry.repo_type,
                repo_id=entry.repo_id,
                commit=commit,
                path_in_repo=item["path"],
                etag=etag,
                size=item["size"],
            )
            await self.put(DeclarativeContent(content=content, d_artifacts=[download]))
        if (entry.repo, commit) not in emitted:
            emitted.add((entry.repo, commit))
            info = HuggingFaceCommit(
                repo_type=entry.repo_type, repo_id=entry.repo_id, commit=commit, info=pinned.info
            )
            await self.put(DeclarativeContent(content=info))
        if not hub.is_commit(entry.ref) and (entry.repo, entry.ref) not in emitted:
            emitted.add((entry.repo, entry.ref))
            ref = HuggingFaceRef(
                repo_type=entry.repo_type, repo_id=entry.repo_id, name=entry.ref, commit=commit
            )
            await self.put(DeclarativeContent(content=ref))


def _is_file(item):
    return isinstance(item, dict) and item.get("type") == "file"


def _checked_file(entry, item):
    """A listing entry, refused when it could not name a file safely."""
    try:
        hub.validate_path_in_repo(item["path"])
        lfs = item.get("lfs")
        etag = lfs["oid"] if lfs else item["oid"]
        valid = isinstance(item["size"], int) and item["size"] >= 0
        valid = valid and re.fullmatch(r"[0-9a-f]{64}" if lfs else r"[0-9a-f]{40}", etag)
    except (KeyError, TypeError, hub.HubPathError):
        valid = False
    if not valid:
        raise SyncError(_("{}: the Hub listed an invalid file: {!r}").format(entry, item)[:1000])
    return item


async def _stored_artifacts(repo, commit, paths):
    """{path: Artifact} of the files already stored, so a re-sync downloads nothing again."""
    rows = [
        row
        async for row in HuggingFaceContent.objects.filter(
            _pulp_domain_id=get_domain_pk(),
            repo_type=repo.repo_type,
            repo_id=repo.repo_id,
            commit=commit,
            path_in_repo__in=paths,
            contentartifact__artifact__isnull=False,
        ).values_list("path_in_repo", "contentartifact__artifact")
    ]
    artifacts = {a.pk: a async for a in Artifact.objects.filter(pk__in=[a for _p, a in rows])}
    return {path: artifacts[pk] for path, pk in rows}
