"""One content-app process's remembered answers, and how a change notification trims them."""

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Callable


class Lru:
    """A bounded mapping that forgets the least recently used entries; `size` bounds the sum
    of the entries' `weight` (1 each by default)."""

    def __init__(self, size, on_evict=None, weight=None):
        self.size = size
        self.on_evict = on_evict
        self.weight = weight or (lambda value: 1)
        self.total = 0
        self.data = OrderedDict()

    def get(self, key):
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def put(self, key, value):
        self.pop(key)
        self.data[key] = value
        self.total += self.weight(value)
        while self.total > self.size:
            self.evicted(*self.data.popitem(last=False))

    def pop(self, key):
        if key in self.data:
            self.evicted(key, self.data.pop(key))

    def pop_where(self, matches):
        for key in [k for k, v in self.data.items() if matches(k, v)]:
            self.pop(key)

    def evicted(self, key, value):
        self.total -= self.weight(value)
        if self.on_evict:
            self.on_evict(key, value)


SMALL_FILE = 256 * 1024  # stored files up to this size are kept in memory once read
SMALL_FILES_BYTES = 64 * 1024 * 1024  # per process

# Which distribution field links it to the object a notification names.
DISTRIBUTION_FIELDS = {
    "distribution": "pk",
    "remote": "remote_id",
    "repository": "repository_id",
    "guard": "content_guard_id",
}


# How a change notification `kind:pk` drops a fact's entries. Each rule gets the memory, the
# fact's Lru, the kind, the pk, and the distributions already dropped (`stale`, filled by the
# distributions' rule, which runs first).
def _served_by_changed(memory, lru, kind, pk, stale):
    field = DISTRIBUTION_FIELDS[kind]

    def served_by(key, found):
        if str(getattr(found[0], field)) == pk or (
            kind == "repository" and found[0].repository_version_id
        ):
            stale.add(found[0].pk)
            return True
        return False

    lru.pop_where(served_by)


def _of_stale_distribution(memory, lru, kind, pk, stale):
    if stale:
        lru.pop_where(lambda key, _: key[0] in stale)


def _of_remote(memory, lru, kind, pk, stale):
    lru.pop_where(lambda key, _: str(key[0]) == pk)


def _of_content(memory, lru, kind, pk, stale):
    for key in list(memory.files_of_content.get(pk, ())):
        lru.pop(key)


@dataclass(frozen=True)
class Fact:
    """One kind of remembered answer: where it lives, how many (or how much) of it, how long it
    holds and which changes drop which entries (a domain change, or a kind this version does not
    know, drops everything). Adding a fact is adding a row to FACTS."""

    name: str
    size: int
    holds: str  # the freshness rule, for the reader
    drops: dict = field(default_factory=dict)  # notification kind -> rule
    weight: Callable | None = None


ON_DISTRIBUTION = {kind: _of_stale_distribution for kind in DISTRIBUTION_FIELDS}
FACTS = (  # the distributions first: their rule says which distributions are stale
    Fact(
        "distributions",  # (domain pk, base path) -> (distribution, remote)
        1024,
        "until a change names the distribution, its remote, repository or content guard",
        {kind: _served_by_changed for kind in DISTRIBUTION_FIELDS},
    ),
    Fact(
        "files",  # (distribution pk, artifact path) -> stored_files.StoredFile
        200_000,
        "until its content is deleted or its distribution changes",
        {**ON_DISTRIBUTION, "content": _of_content},
    ),
    Fact(
        "loaded_commits",  # (distribution pk, repo, commit) -> True: its stored files in `files`
        10_000,
        "until its distribution (or what it serves) changes",
        ON_DISTRIBUTION,
    ),
    Fact(
        "pinned_refs",  # (distribution pk, repo, ref) -> commit, "" if none
        100_000,
        "until its distribution (or what it serves) changes",
        ON_DISTRIBUTION,
    ),
    Fact(
        "hosted_repos",  # (distribution pk, repo) -> whether its version holds it as published
        100_000,
        "until its distribution (or what it serves) changes",
        ON_DISTRIBUTION,
    ),
    Fact(
        "commits",  # (remote pk, revision key) -> (commit, learned at)
        100_000,
        "the remote's metadata_ttl (checked when read), or until the remote changes",
        {"remote": _of_remote},
    ),
    Fact(
        "file_infos",  # (remote pk, commit-pinned path) -> upstream FileInfo
        100_000,
        "for good (a commit's file never changes), until the remote changes",
        {"remote": _of_remote},
    ),
    Fact("domains", 1024, "until a domain changes"),  # name -> Domain
    Fact(
        "small_files",  # stored file path -> its bytes
        SMALL_FILES_BYTES,
        "for good: an artifact's path names its bytes",
        weight=len,
    ),
)
KINDS = frozenset(kind for fact in FACTS for kind in fact.drops)


class Memory:
    """One process's remembered answers (FACTS, one Lru each); used only while `listening`."""

    def __init__(self):
        self.listening = False
        self.generation = 0  # counts what made this memory forget (see `cache.generation`)
        self.clear()

    def clear(self):
        self.generation += 1
        for fact in FACTS:
            on_evict = self._unindex if fact.name == "files" else None
            setattr(self, fact.name, Lru(fact.size, on_evict, fact.weight))
        self.files_of_content = defaultdict(set)  # content pk (str) -> keys in `files`

    def recall(self, name, key):
        """The remembered entry of fact `name`, if listening."""
        return getattr(self, name).get(key) if self.listening else None

    def remember(self, name, key, value):
        """Remember an entry of fact `name`, if listening."""
        if self.listening:
            getattr(self, name).put(key, value)

    def _unindex(self, key, cached):
        keys = self.files_of_content.get(cached.content_pk)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.files_of_content[cached.content_pk]

    def forget(self, payload):
        """Drop what a change notification (`kind:pk`) makes out of date."""
        kind, _, pk = payload.partition(":")
        self.generation += 1
        if kind not in KINDS:
            self.clear()  # a domain, or a notification this version does not know
            return
        stale = set()
        for fact in FACTS:
            if rule := fact.drops.get(kind):
                rule(self, getattr(self, fact.name), kind, pk, stale)


memory = Memory()
