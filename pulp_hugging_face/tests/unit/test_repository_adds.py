"""Pull-through adds: a file served again and again while its add is on its way."""

import asyncio
from types import SimpleNamespace

from pulp_hugging_face.app import repository_adds


class PullThroughRepository:
    PULL_THROUGH_SUPPORTED = True
    pk = "repository-1"


def distribution(**fields):
    return SimpleNamespace(
        **{
            "repository_id": PullThroughRepository.pk,
            "repository_version_id": None,
            "remote_id": None,
            "cache_repository_id": None,
            **fields,
        }
    )


def serve_repeatedly(monkeypatch, times, recent_seconds, distro=None):
    """Ask `times` times to add one file; (how often the repository was looked up, pending)."""
    adds = repository_adds.RepositoryAdds(window=3600)
    monkeypatch.setattr(repository_adds, "pending", adds)
    monkeypatch.setattr(repository_adds, "RECENT_SECONDS", recent_seconds, raising=False)
    lookups = []

    async def repository_of(pk):
        lookups.append(pk)  # a database query in the content app
        return PullThroughRepository()

    monkeypatch.setattr(repository_adds, "repository_of", repository_of)
    distro = distro or distribution()

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


def test_a_remote_only_distribution_adds_to_the_repository_pulp_keeps_for_it(monkeypatch):
    created = []

    def cache_repository_pk(distro):
        created.append(distro)
        return PullThroughRepository.pk

    monkeypatch.setattr(repository_adds, "cache_repository_pk", cache_repository_pk)
    distro = distribution(repository_id=None, remote_id=7)
    lookups, pending = serve_repeatedly(monkeypatch, 3, recent_seconds=60, distro=distro)
    assert len(created) == 1  # remembered on the distribution until its change arrives
    assert distro.cache_repository_id == PullThroughRepository.pk
    assert pending == {"c1"}


def test_a_distribution_of_a_frozen_version_or_without_remote_adds_nothing(monkeypatch):
    for distro in (distribution(repository_version_id=3), distribution(repository_id=None)):
        adds = repository_adds.RepositoryAdds(window=3600)
        monkeypatch.setattr(repository_adds, "pending", adds)
        asyncio.run(repository_adds.add_to_repository(distro, SimpleNamespace(content_id="c1")))
        assert adds._pending == {}


def test_a_deleted_cache_repository_is_replaced(monkeypatch):
    from pulp_hugging_face.app.models import HuggingFaceRepository

    adds = repository_adds.RepositoryAdds(window=3600)
    monkeypatch.setattr(repository_adds, "pending", adds)
    monkeypatch.setattr(repository_adds, "cache_repository_pk", lambda distro: "new")

    async def repository_of(pk):
        if pk == "gone":
            raise HuggingFaceRepository.DoesNotExist()
        return SimpleNamespace(pk=pk)

    monkeypatch.setattr(repository_adds, "repository_of", repository_of)
    distro = distribution(repository_id=None, remote_id=7, cache_repository_id="gone", name="d")
    asyncio.run(repository_adds.add_to_repository(distro, SimpleNamespace(content_id="c1")))
    for timer in adds._timers.values():
        timer.cancel()
    assert distro.cache_repository_id == "new" and set(adds._pending) == {"new"}
