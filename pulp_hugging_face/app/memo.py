"""In-memory answers of one content-app process, so a warm request needs no database query.

Everything here is dropped on every change notification (see invalidation.py) and is not used
at all while the process is not listening for them.
"""

import time
from collections import OrderedDict

from .invalidation import State, on_change


class Lru:
    """A bounded mapping that forgets the least recently used entries."""

    def __init__(self, size):
        self.size = size
        self._data = OrderedDict()

    def get(self, key):
        if not State.listening:
            return None
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key, value):
        if not State.listening:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def pop(self, key):
        self._data.pop(key, None)

    def clear(self):
        self._data.clear()


# (domain pk, base path) -> (distribution, its cast remote or None)
distributions = Lru(1024)
# (distribution pk, commit-pinned relative path) -> CachedFile
cached_files = Lru(200_000)
# (remote pk, revision key) -> (commit, monotonic time it was learned)
revisions = Lru(100_000)

for _cache in (distributions, cached_files, revisions):
    on_change(_cache.clear)


def fresh_revision(remote, key):
    """A commit this process learned for `key` less than `metadata_ttl` ago."""
    hit = revisions.get((remote.pk, key))
    if hit and time.monotonic() - hit[1] < remote.metadata_ttl:
        return hit[0]
    return None


def learn_revision(remote, key, commit, age=0.0):
    """Remember that `key` pointed at `commit` `age` seconds ago."""
    revisions.put((remote.pk, key), (commit, time.monotonic() - age))
