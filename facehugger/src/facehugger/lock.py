"""`facehugger.lock`: the exact commits, in the JSON shape of `hf cache ls --revisions`.

`hf cache ls --revisions --format json > facehugger.lock` makes a valid lock: only `repo_id`,
`repo_type`, `revision` and `refs` carry meaning, every other key is ignored on reading. What
facehugger writes holds just those keys (and `id`), sorted, so it is byte-identical for the
same inputs and free of machine paths.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .manifest import Entry, FacehuggerError

COMMIT_RE = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Locked:
    """One repo at one commit, and the refs that pointed at it."""

    repo_id: str
    repo_type: str
    revision: str
    refs: tuple[str, ...] = ()

    def matches(self, entry: Entry) -> bool:
        """Whether this locks the manifest entry's repo at its ref."""
        if (self.repo_id, self.repo_type) != (entry.repo, entry.repo_type):
            return False
        return entry.ref in self.refs or entry.ref == self.revision


def is_commit(ref: str) -> bool:
    return bool(COMMIT_RE.fullmatch(ref))


def read(path: Path) -> list[Locked]:
    """Read a lock written by facehugger or by `hf cache ls --revisions --format json`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FacehuggerError(f"{path}: no lock file (run facehugger without --frozen)") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> list[Locked]:
    """Check a lock's text (facehugger's, or `hf cache ls --revisions --format json`)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FacehuggerError(f"{source}: not valid JSON ({exc})") from None
    return items(data, source)


def items(data: object, source: str) -> list[Locked]:
    """Check a lock's parsed JSON: a list of {repo_id, repo_type, revision, refs}."""
    if not isinstance(data, list):
        raise FacehuggerError(f"{source}: expected a JSON list")
    locked = []
    for n, item in enumerate(data, start=1):
        try:
            repo_id, repo_type, revision = item["repo_id"], item["repo_type"], item["revision"]
            refs = tuple(item.get("refs") or ())
        except (KeyError, TypeError):
            raise FacehuggerError(
                f"{source}: entry {n} lacks repo_id, repo_type or revision"
            ) from None
        if not is_commit(str(revision)):
            raise FacehuggerError(f"{source}: entry {n}: revision must be a 40-hex commit")
        locked.append(Locked(str(repo_id), str(repo_type), str(revision), refs))
    return locked


def build(pairs: list[tuple[Entry, str]]) -> list[Locked]:
    """Lock entries for (manifest entry, commit) pairs, merging refs that share a commit."""
    refs: dict[tuple[str, str, str], set[str]] = {}
    for entry, commit in pairs:
        names = refs.setdefault((entry.repo_type, entry.repo, commit), set())
        if not is_commit(entry.ref):
            names.add(entry.ref)
    return [
        Locked(repo_id, repo_type, commit, tuple(sorted(names)))
        for (repo_type, repo_id, commit), names in sorted(refs.items())
    ]


def render(locked: list[Locked]) -> str:
    """The lock file's text: deterministic JSON."""
    items = [
        {
            "id": f"{item.repo_type}/{item.repo_id}",
            "repo_id": item.repo_id,
            "repo_type": item.repo_type,
            "revision": item.revision,
            "refs": list(item.refs),
        }
        for item in locked
    ]
    return json.dumps(items, indent=2, sort_keys=True) + "\n"


def find(locked: list[Locked], entry: Entry) -> Locked | None:
    """The lock entry for a manifest entry, if any."""
    return next((item for item in locked if item.matches(entry)), None)
