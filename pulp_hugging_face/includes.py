"""What a remote's `includes` pins, in facehugger's vocabulary and with facehugger's parsers.

`includes` is a list of facehugger.yaml entries (`{repo, repo_type, ref, include, exclude}`),
or the text of a whole facehugger.yaml manifest, or a facehugger.lock (its text or its JSON
list; `hf cache ls --revisions --format json` writes the same shape). One file drives the client
and the server. A lock pins exact commits: each of its refs is pinned at the locked commit, and
all files of that commit are taken (a lock names no globs).
"""

from dataclasses import dataclass

from facehugger import lock, manifest
from facehugger.manifest import FacehuggerError

from pulp_hugging_face import hub

SYNCED_TYPES = ("model", "dataset", "space")


class IncludesError(ValueError):
    """The includes are not a valid list of entries, manifest or lock (the message says where)."""


@dataclass(frozen=True)
class SyncEntry:
    """One repo at one ref (or commit) to pin, and the globs choosing its files."""

    repo_type: str
    repo_id: str
    ref: str
    commit: str | None = None  # known in advance when it comes from a lock
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def repo(self):
        return hub.Repo(self.repo_type, self.repo_id)

    def __str__(self):
        prefix = "" if self.repo_type == "model" else f"{self.repo_type}:"
        return f"{prefix}{self.repo_id}@{self.ref}"


def _is_lock(value):
    return bool(value) and all(
        isinstance(item, dict) and "repo_id" in item and "revision" in item for item in value
    )


def _from_manifest(entries):
    return [
        SyncEntry(e.repo_type, e.repo, e.ref, None, tuple(e.include), tuple(e.exclude))
        for e in entries
    ]


def _from_lock(locked):
    entries = []
    for item in locked:
        for ref in item.refs or (item.revision,):
            entries.append(SyncEntry(item.repo_type, item.repo_id, ref, item.revision))
    return entries


def _checked(entries, source):
    for n, entry in enumerate(entries, start=1):
        where = f"{source}: entry {n} ({entry})"
        if entry.repo_type not in SYNCED_TYPES:
            raise IncludesError(f"{where}: repo_type must be one of {', '.join(SYNCED_TYPES)}")
        try:
            hub.validate_repo_id(entry.repo_id)
            hub.validate_revision(entry.ref)  # control bytes included
        except hub.HubPathError as exc:
            raise IncludesError(f"{where}: {exc}") from None
    return entries


def parse(value, source="includes"):
    """The SyncEntry list a remote's `includes` stands for; IncludesError when it is invalid."""
    try:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return []
            if text.startswith("["):  # a lock is JSON; a manifest is YAML with `models:`
                return _checked(_from_lock(lock.parse(text, source)), source)
            return _checked(_from_manifest(manifest.parse(text, source)), source)
        if isinstance(value, list):
            if _is_lock(value):
                return _checked(_from_lock(lock.items(value, source)), source)
            entries = [manifest.entry(raw, f"{source}[{n}]") for n, raw in enumerate(value, 1)]
            return _checked(_from_manifest(entries), source)
    except FacehuggerError as exc:
        raise IncludesError(str(exc)) from None
    raise IncludesError(
        f"{source}: expected a list of entries, or the text of a facehugger.yaml or facehugger.lock"
    )
