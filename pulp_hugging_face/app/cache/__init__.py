"""What the content app remembers: distributions, stored files, revisions and API answers.

In memory, per content-app process, so a warm request needs no database query: the facts of
`memory.FACTS` (domains, small files' bytes, distributions, stored files and which commits' were
loaded at once, pinned refs, commits of revisions, what upstream said of files), each declared
once with its bound, how long it holds and which changes drop which of its entries.
In the database (`HuggingFaceRememberedAnswer`, shared by every process and restart): revisions and
metadata API answers, trusted for the remote's `metadata_ttl` (commit-addressed ones for good)
and kept as stale fallbacks while upstream is down, until `HF_METADATA_RETENTION` prunes them.

Whoever saves or deletes what this memory depends on sends a PostgreSQL NOTIFY naming it
(`distribution:<pk>`, `remote:<pk>`, `repository:<pk>`, `guard:<pk>`, `domain:<pk>`,
`content:<pk>`) after commit; content apps LISTEN and drop only the entries concerned. While a
process is not listening it uses none of its memory, so a missed change is never served stale.
"""

import asyncio
import os
import time
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from ..models import HuggingFaceRememberedAnswer
from .changes import connect_signals, listen_also, listen_forever  # noqa: F401
from .memory import SMALL_FILE, memory

_lookups = {}  # key -> the lookup in progress


async def looked_up_once(key, load):
    """`await load()`, shared by every request of this process that asks for `key` meanwhile: a
    crowd of clients asking for what a change just made us forget costs one lookup, not one each.
    A request that goes away does not cancel the others' lookup."""
    shared = _lookups.get(key)
    if shared is None:
        shared = _lookups[key] = asyncio.ensure_future(load())
        shared.add_done_callback(lambda done: _lookup_done(key, done))
    return await asyncio.shield(shared)


def _lookup_done(key, done):
    _lookups.pop(key, None)
    if not done.cancelled():
        done.exception()  # retrieved, even when every request that wanted it went away


def domain(name):
    """The Domain of this name, if remembered."""
    return memory.recall("domains", name)


def remember_domain(found):
    memory.remember("domains", found.name, found)


def small_file(path):
    """The bytes of a small stored file (content-addressed, so never out of date), if kept."""
    return memory.recall("small_files", path)


def remember_small_file(path, body):
    if len(body) <= SMALL_FILE:
        memory.remember("small_files", path, body)


def distribution(domain_pk, base_paths):
    """The (distribution, remote) remembered for the first of `base_paths` that has one."""
    if memory.listening:
        for base_path in base_paths:
            found = memory.distributions.get((domain_pk, base_path))
            if found is not None:
                return found
    return None


def remember_distribution(distro, remote):
    memory.remember("distributions", (distro.pulp_domain_id, distro.base_path), (distro, remote))


def stored_file(distro, pinned, reading=True):
    """The remembered StoredFile of a commit-pinned path, while its file still exists: checked
    only when it is to be `read` and its bytes are not in memory (a HEAD needs no file)."""
    if not memory.listening:
        return None
    key = (distro.pk, pinned.artifact_path())
    cached = memory.files.get(key)
    path = cached and cached.file_path
    if reading and path and memory.small_files.get(path) is None and not os.path.exists(path):
        memory.files.pop(key)  # reclaimed or cleaned up behind our back
        return None
    return cached


def generation():
    """A number that changes whenever a change makes this memory forget: what was looked up
    since an earlier generation may already be out of date, and is not remembered."""
    return memory.generation


def remember_stored_file(distro, pinned, cached, since=None):
    if memory.listening and since in (None, memory.generation):
        key = (distro.pk, pinned.artifact_path())
        memory.files.put(key, cached)
        memory.files_of_content[cached.content_pk].add(key)


def remembering():
    """Whether this process remembers now (it listens for changes): what is loaded stays."""
    return memory.listening


def commit_loaded(distro, repo, commit):
    """Whether the stored files of `repo` at `commit` were all looked up at once (files_at_commit)
    and remembered since this distribution last changed."""
    return bool(memory.recall("loaded_commits", (distro.pk, repo, commit)))


def remember_commit_loaded(distro, repo, commit, since=None):
    if since in (None, memory.generation):
        memory.remember("loaded_commits", (distro.pk, repo, commit), True)


def pinned_ref(distro, repo, name):
    """The remembered commit of a ref in the distribution's version ("" when it pins none)."""
    return memory.recall("pinned_refs", (distro.pk, repo, name))


def remember_pinned_ref(distro, repo, name, commit):
    memory.remember("pinned_refs", (distro.pk, repo, name), commit or "")


def hosted_repo(distro, repo):
    """Whether the distribution's version holds `repo` as published there (None: not known)."""
    return memory.recall("hosted_repos", (distro.pk, repo))


def remember_hosted_repo(distro, repo, hosted, since=None):
    if since in (None, memory.generation):
        memory.remember("hosted_repos", (distro.pk, repo), hosted)


def file_info(remote, pinned):
    """What the remote's upstream said of a commit-pinned file (blob and size: never change)."""
    return memory.recall("file_infos", (remote.pk, pinned.artifact_path()))


def remember_file_info(remote, pinned, info):
    memory.remember("file_infos", (remote.pk, pinned.artifact_path()), info)


def is_fresh(learned_at, remote, immutable=False):
    """The one TTL rule: trusted for the remote's `metadata_ttl`, commit-addressed for good."""
    return immutable or time.time() - learned_at < remote.metadata_ttl


async def remembered_commit(remote, key):
    """(commit, fresh) last learned for a revision key, or None if never learned."""
    hit = memory.recall("commits", (remote.pk, key))
    if hit and is_fresh(hit[1], remote):
        return hit[0], True
    row = await remembered_row(remote, key)
    if row is None or row.commit is None:
        return None
    fresh = row_is_fresh(row, remote)
    if fresh:
        memory.remember("commits", (remote.pk, key), (row.commit, row.fetched_at.timestamp()))
    return row.commit, fresh


async def remember_commit(remote, key, commit):
    memory.remember("commits", (remote.pk, key), (commit, time.time()))
    await remember_row(remote, key, commit=commit)


async def remembered_row(remote, key):
    """The remembered HuggingFaceRememberedAnswer row of `key` (any age), or None."""
    return await HuggingFaceRememberedAnswer.objects.filter(remote=remote, key=key).afirst()


def row_is_fresh(row, remote):
    return is_fresh(row.fetched_at.timestamp(), remote, row.immutable)


async def remember_row(remote, key, **fields):
    await sync_to_async(HuggingFaceRememberedAnswer.objects.update_or_create)(
        remote=remote, key=key, defaults={**fields, "fetched_at": timezone.now()}
    )


def prune_remembered():
    """Delete remembered answers older than `HF_METADATA_RETENTION` seconds; return the count."""
    cutoff = timezone.now() - timedelta(seconds=settings.HF_METADATA_RETENTION)
    return HuggingFaceRememberedAnswer.objects.filter(fetched_at__lt=cutoff).delete()[0]
