"""One content-app process's remembered answers, and how a change notification trims them."""

from collections import OrderedDict, defaultdict


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


class Memory:
    """One process's remembered answers; used only while `listening`."""

    def __init__(self):
        self.listening = False
        self.clear()

    def clear(self):
        self.domains = {}  # name -> Domain
        self.small_files = Lru(SMALL_FILES_BYTES, weight=len)  # stored file path -> its bytes
        self.distributions = Lru(1024)  # (domain pk, base path) -> (distribution, remote)
        self.files = Lru(200_000, self._unindex)  # (distribution pk, artifact path) -> CachedFile
        self.files_of_content = defaultdict(set)  # content pk (str) -> keys in `files`
        self.commits = Lru(100_000)  # (remote pk, revision key) -> (commit, learned at)
        self.file_infos = Lru(100_000)  # (remote pk, commit-pinned path) -> upstream FileInfo
        self.pinned_refs = Lru(100_000)  # (distribution pk, repo, ref) -> commit, "" if none

    def _unindex(self, key, cached):
        keys = self.files_of_content.get(cached.content_pk)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.files_of_content[cached.content_pk]

    def forget(self, payload):
        """Drop what a change notification (`kind:pk`) makes out of date."""
        kind, _, pk = payload.partition(":")
        if kind == "content":
            for key in list(self.files_of_content.get(pk, ())):
                self.files.pop(key)
            return
        if kind not in DISTRIBUTION_FIELDS:
            self.clear()  # a domain, or a notification this version does not know
            return
        field = DISTRIBUTION_FIELDS[kind]
        stale = set()

        def served_by_changed(key, found):
            if str(getattr(found[0], field)) == pk or (
                kind == "repository" and found[0].repository_version_id
            ):
                stale.add(found[0].pk)
                return True
            return False

        self.distributions.pop_where(served_by_changed)
        if kind == "remote":
            self.commits.pop_where(lambda key, _: str(key[0]) == pk)
            self.file_infos.pop_where(lambda key, _: str(key[0]) == pk)
        if stale:
            self.files.pop_where(lambda key, _: key[0] in stale)
            self.pinned_refs.pop_where(lambda key, _: key[0] in stale)


# Which distribution field links it to the object a notification names.
DISTRIBUTION_FIELDS = {
    "distribution": "pk",
    "remote": "remote_id",
    "repository": "repository_id",
    "guard": "content_guard_id",
}

memory = Memory()
