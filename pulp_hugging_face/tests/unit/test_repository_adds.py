"""Pull-through adds: a file served again and again while its add is on its way."""

import asyncio
from types import SimpleNamespace

from pulp_hugging_face.app import repository_adds


class PullThroughRepository:
    PULL_THROUGH_SUPPORTED = True
    pk = "repository-1"


def serve_repeatedly(monkeypatch, times, recent_seconds):
    """Ask `times` times to add one file; (how often the repository was looked up, pending)."""
    adds = repository_adds.RepositoryAdds(window=3600)
    monkeypatch.setattr(repository_adds, "pending", adds)
    monkeypatch.setattr(repository_adds, "RECENT_SECONDS", recent_seconds, raising=False)
    lookups = []

    async def acast():
        lookups.append(1)  # a database query in the content app
        return PullThroughRepository()

    distro = SimpleNamespace(
        repository_id=PullThroughRepository.pk, repository=SimpleNamespace(acast=acast)
    )

    async def serve():
        for _ in range(times):
            await repository_adds.add_to_repository(distro, SimpleNamespace(content_id="c1"))
        for timer in adds._timers.values():
            timer.cancel()

    asyncio.run(serve())
    return len(lookups), adds._pending[PullThroughRepository.pk][1]


def test_a_file_served_again_is_queued_once(monkeypatch):
    lookups, pending = serve_repeatedly(monkeypatch, 50, recent_seconds=60)
    assert lookups == 1
    assert pending == {"c1"}


def test_a_file_served_again_later_is_asked_for_again(monkeypatch):
    lookups, pending = serve_repeatedly(monkeypatch, 3, recent_seconds=0)
    assert lookups == 3
    assert pending == {"c1"}
