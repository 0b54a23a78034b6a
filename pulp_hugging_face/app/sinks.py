"""Where a download's bytes go besides the client. Every sink verifies them (storage.ArtifactSink:
size and ETag, the last chunk held back until they match); one also keeps them.

With the file's info known before upstream is asked, `reserve` refuses what cannot fit. Once the
source answered, `open` gives the ArtifactSink to write to (a part file is named only then: a
request arriving meanwhile must not follow a download upstream may still refuse), and when the
bytes checked out `keep` does what the sink is for. `stores` says whether the bytes are worth
moving after the client went away.
"""

import asyncio
import logging

from asgiref.sync import sync_to_async

from .repository_adds import add_to_repository
from .room import StorageFull, ensure_room
from .storage import ArtifactSink, StoredUnderOtherEtag, save_pulled_file
from .xet_indexing import index_later

log = logging.getLogger(__name__)

PEER_STORE_WAIT = 30  # seconds a host that followed another waits for that host to store


class VerifyOnly:
    """Bytes checked and passed on, not kept: streamed remotes, unknown sizes, a leader gone."""

    stores = False

    async def reserve(self, info):
        pass

    async def open(self, info):
        return ArtifactSink(info.etag, info.size)

    async def keep(self, checked):
        pass


class StoreHere:
    """Bytes written to the lock's part file (which followers on this host tail), then stored as
    pulpcore content and queued into the distribution's repository. A file of unknown size
    cannot be verified: it is passed on, not stored."""

    stores = True

    def __init__(self, lock, distro, remote, path):
        self.lock, self.distro, self.remote, self.path = lock, distro, remote, path
        self.info = self.reserved = None

    async def reserve(self, info):
        """Refuse (StorageFull) a file that cannot fit, before upstream is asked for it."""
        if info.size is not None:
            await _ensure_room(self.lock, info.size)
            self.reserved = info.size

    async def open(self, info):
        self.info = info
        if info.size is None:
            self.stores = False
            return ArtifactSink(info.etag, None)
        if self.reserved != info.size:
            await _ensure_room(self.lock, info.size)
        return ArtifactSink(info.etag, info.size, self.lock.new_part_path())

    async def keep(self, checked):
        if self.stores:
            await asyncio.shield(self._store(checked))

    async def _store(self, checked):
        try:
            await asyncio.get_running_loop().run_in_executor(None, checked.complete_digests)
            ca = await sync_to_async(save_pulled_file)(self.remote, self.path, self.info, checked)
        except (StoredUnderOtherEtag, StorageFull) as exc:  # the client got verified bytes
            log.warning("Not stored: %s", exc)
            return
        finally:  # object storage uploaded a copy of the part file; a file system moved it
            checked.discard()
        await add_to_repository(self.distro, ca)
        index_later(ca, self.info.etag, self.info.size)


class StoredByPeer(StoreHere):
    """Bytes streamed from the host leading the download: written to the part file for this
    host's followers, and kept by that host; `keep` waits (a while) until it has stored them."""

    def __init__(self, lock, distro, path, stored_now):
        super().__init__(lock, distro, None, path)
        self.stored_now = stored_now

    async def keep(self, checked):
        try:  # followers on this host read the part file meanwhile
            for _ in range(int(PEER_STORE_WAIT / 0.1)):
                if await self.stored_now(self.distro, self.path) is not None:
                    return
                await asyncio.sleep(0.1)
            log.warning("The leading host did not store %s in time.", self.path.artifact_path())
        finally:
            checked.discard()


async def _ensure_room(lock, size):
    await asyncio.get_running_loop().run_in_executor(None, ensure_room, lock.directory, size)
