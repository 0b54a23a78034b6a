"""Retention: what is chosen, what eviction removes and frees, and the usage batches."""

import os
import time
import uuid
from datetime import datetime, timezone

import pytest
from django.db import connection

from pulpcore.plugin.models import Artifact, ContentArtifact, RemoteArtifact

from pulp_hugging_face.app import eviction, retention, usage
from pulp_hugging_face.app.models import (
    CachedFile,
    DistributionUsage,
    EvictedArtifact,
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRemote,
    HuggingFaceRepository,
    ServingReport,
)
from pulp_hugging_face.app.retention import Candidate, choose

pytestmark = pytest.mark.django_db
MIB = 1 << 20


def files(*spec):
    """Candidates, most recently served first: (name, size, served seconds ago)."""
    now = 1_000_000.0
    return [Candidate(name, None, size, now - ago) for name, size, ago in spec], now


def names(chosen):
    return [c.content_pk for c in chosen]


def test_the_least_recently_served_go_first_until_the_rest_fit():
    found, now = files(("c", 1, 1), ("a", 1, 2), ("b", 1, 3))
    assert names(choose(found, 2, None, now)) == ["b"]
    assert names(choose(found, 3, None, now)) == []
    assert names(choose(found, 0, None, now)) == ["c", "a", "b"]


def test_a_file_that_does_not_fit_takes_every_older_one_with_it():
    found, now = files(("new", 5, 1), ("big", 10, 2), ("small", 1, 3))
    assert names(choose(found, 8, None, now)) == ["big", "small"]  # strict LRU, not best fit


def test_idle_files_go_whatever_room_is_left():
    found, now = files(("fresh", 4, 10), ("idle", 4, 100), ("old", 4, 200))
    assert names(choose(found, None, 50, now)) == ["idle", "old"]
    assert names(choose(found, 8, 150, now)) == ["old"]
    assert names(choose(found, 4, 150, now)) == ["idle", "old"]
    assert names(choose(found, None, None, now)) == []


class Pulled:
    """A repository with files pull-through stored, on the unit tests' storage."""

    def __init__(self, tmp_path, **limits):
        self.tmp_path = tmp_path
        self.repository = HuggingFaceRepository.objects.create(name=uuid.uuid4().hex, **limits)
        self.remote = HuggingFaceRemote.objects.create(name=uuid.uuid4().hex, url="http://hub")

    def store(self, name, size=MIB, data=None):
        data = data if data is not None else os.urandom(size)
        path = self.tmp_path / uuid.uuid4().hex
        path.write_bytes(data)
        artifact = Artifact.init_and_validate(str(path))
        artifact.save()
        content = HuggingFaceContent.objects.create(
            repo_type="model",
            repo_id="org/m",
            commit="1" * 40,
            path_in_repo=f"{name}-{uuid.uuid4().hex}",
            etag=artifact.sha256,
            size=len(data),
        )
        ca = ContentArtifact.objects.create(
            content=content, artifact=artifact, relative_path=content.path_in_repo
        )
        RemoteArtifact.objects.create(remote=self.remote, content_artifact=ca, url="http://x")
        return content

    def pull(self, *contents, ago=0):
        retention.add_pulled(self.repository, [c.pk for c in contents])
        served = time.time() - ago
        CachedFile.objects.filter(content__in=contents).update(
            served_at=datetime.fromtimestamp(served, timezone.utc)
        )

    def latest(self):
        self.repository.refresh_from_db()
        return set(self.repository.latest_version().content.values_list("pk", flat=True))


@pytest.fixture
def nobody_sending(monkeypatch):
    sending = set()
    monkeypatch.setattr(retention, "sending_now", lambda started: sending)
    return sending


def stored_file(content):
    ca = ContentArtifact.objects.get(content=content)
    return ca.artifact


def test_eviction_removes_the_least_recently_served_and_frees_their_bytes(
    tmp_path, nobody_sending, django_capture_on_commit_callbacks
):
    pulled = Pulled(tmp_path, cache_max_bytes=2 * MIB)
    a, b, c = pulled.store("a"), pulled.store("b"), pulled.store("c")
    pulled.pull(b, ago=30)
    pulled.pull(a, ago=20)
    pulled.pull(c, ago=10)
    b_file = stored_file(b).file.path
    with django_capture_on_commit_callbacks(execute=True):
        evicted = eviction.evict(pulled.repository)
    assert (evicted.files, evicted.bytes, evicted.freed_bytes) == (1, MIB, MIB)
    assert pulled.latest() == {a.pk, c.pk}
    assert stored_file(b) is None and not os.path.exists(b_file)
    assert RemoteArtifact.objects.filter(content_artifact__content=b).exists()  # fetched again
    assert pulled.repository.cache_evicted_files == 1
    assert pulled.repository.cache_evicted_bytes == MIB
    first = pulled.repository.versions.get(number=1)
    assert b.pk in set(first.content.values_list("pk", flat=True))  # older versions keep it


def test_pinned_files_and_files_held_elsewhere_keep_their_bytes(tmp_path, nobody_sending):
    pulled = Pulled(tmp_path, cache_max_bytes=0)
    pinned, shared, twin_data = pulled.store("pinned"), pulled.store("shared"), os.urandom(MIB)
    twin, lone = pulled.store("twin", data=twin_data), pulled.store("lone")
    with pulled.repository.new_version() as version:  # as sync or publishing adds
        version.add_content(HuggingFaceContent.objects.filter(pk=pinned.pk))
    pulled.pull(shared, twin, lone)
    other = HuggingFaceRepository.objects.create(name=uuid.uuid4().hex)
    with other.new_version() as version:
        version.add_content(HuggingFaceContent.objects.filter(pk=shared.pk))
    assert retention.usage_of(pulled.repository)["pinned_files"] == 1
    eviction.evict(pulled.repository)
    assert pulled.latest() == {pinned.pk}
    assert stored_file(pinned) is not None and stored_file(shared) is not None
    assert stored_file(lone) is None and stored_file(twin) is None


def test_a_file_being_sent_is_evicted_but_freed_only_after(tmp_path, nobody_sending):
    pulled = Pulled(tmp_path, cache_max_bytes=0)
    a = pulled.store("a")
    pulled.pull(a)
    artifact = stored_file(a)
    nobody_sending.add(artifact.pk)
    eviction.evict(pulled.repository)
    assert pulled.latest() == set() and stored_file(a) is None
    assert Artifact.objects.filter(pk=artifact.pk).exists()
    assert EvictedArtifact.objects.filter(artifact=artifact).exists()
    eviction.evict(pulled.repository)  # still sending: kept
    assert Artifact.objects.filter(pk=artifact.pk).exists()
    nobody_sending.clear()
    eviction.evict(pulled.repository)
    assert not Artifact.objects.filter(pk=artifact.pk).exists()
    assert not EvictedArtifact.objects.exists()


def test_files_a_version_adds_outside_pull_through_are_pinned(tmp_path):
    pulled = Pulled(tmp_path)
    a = pulled.store("a")
    pulled.pull(a)
    assert CachedFile.objects.filter(content=a).exists()
    with pulled.repository.new_version() as version:  # sync, import, modify: pinned
        version.remove_content(HuggingFaceContent.objects.filter(pk=a.pk))
    assert not CachedFile.objects.filter(content=a).exists()  # it left the version
    pulled.pull(a)
    with pulled.repository.new_version() as version:
        version.remove_content(HuggingFaceContent.objects.filter(pk=a.pk))
    with pulled.repository.new_version() as version:
        version.add_content(HuggingFaceContent.objects.filter(pk=a.pk))
    assert not CachedFile.objects.filter(content=a).exists()
    assert retention.usage_of(pulled.repository)["pinned_bytes"] == MIB


def test_a_remote_only_distribution_gets_one_cache_repository(settings):
    settings.HF_CACHE_DEFAULT_MAX_IDLE = 123
    remote = HuggingFaceRemote.objects.create(name=uuid.uuid4().hex, url="http://hub")
    distro = HuggingFaceDistribution.objects.create(
        name=uuid.uuid4().hex, base_path=uuid.uuid4().hex, remote=remote
    )
    pk = retention.cache_repository_pk(distro)
    again = HuggingFaceDistribution.objects.get(pk=distro.pk)
    assert retention.cache_repository_pk(again) == pk
    repository = HuggingFaceRepository.objects.get(pk=pk)
    assert repository.name == f"{distro.name}-cache" and repository.cache_max_idle == 123


def flush(counted):
    """What Usage.flush does, in this thread (the test's transaction)."""
    batch, sending = counted.take(), sorted(str(pk) for pk in counted.sending)
    queries = QueryCounter()
    with connection.execute_wrapper(queries):
        usage.write(batch, sending, "proc@host")
    return queries.count


def test_usage_is_counted_in_memory_and_written_in_one_batch(tmp_path):
    pulled = Pulled(tmp_path)
    a = pulled.store("a")
    pulled.pull(a, ago=3600)
    distro = HuggingFaceDistribution.objects.create(
        name=uuid.uuid4().hex, base_path=uuid.uuid4().hex, repository=pulled.repository
    )
    counted = usage.Usage()
    for n in range(3):
        tally = counted.begin(distro)
        tally.source, tally.sent = ("storage", 10) if n else ("upstream", 7)
        tally.fetched = 0 if n else 7
        counted.end(tally)
    counted.served(a.pk)
    counted.start_sending(stored_file(a).pk, a.pk)
    assert flush(counted) == 4  # the lock timeout, then one statement per kind
    row = DistributionUsage.objects.get(distribution=distro)
    assert (row.requests, row.from_storage, row.from_upstream) == (3, 2, 1)
    assert (row.bytes_sent, row.bytes_fetched) == (27, 7)
    assert time.time() - CachedFile.objects.get(content=a).served_at.timestamp() < 60
    assert ServingReport.objects.get(name="proc@host").artifacts == [str(stored_file(a).pk)]
    counted.stop_sending(stored_file(a).pk)
    assert flush(counted) == 2
    assert ServingReport.objects.get(name="proc@host").artifacts == []
    assert DistributionUsage.objects.get(distribution=distro).requests == 3


class QueryCounter:
    count = 0

    def __call__(self, execute, sql, params, many, context):
        if not sql.startswith(("SAVEPOINT", "RELEASE")):
            self.count += 1
        return execute(sql, params, many, context)


def test_figures_the_database_refused_are_kept_for_the_next_flush():
    counted = usage.Usage()
    tally = usage.Tally("d1", source="storage", sent=5)
    counted.end(tally)
    batch = counted.take()
    counted.end(usage.Tally("d1"))
    counted.give_back(batch)
    assert counted.batch.counts["d1"] == [2, 1, 0, 5, 0]


def test_files_idle_beyond_the_limit_are_evicted(tmp_path, nobody_sending):
    pulled = Pulled(tmp_path, cache_max_idle=60)
    idle, fresh = pulled.store("idle"), pulled.store("fresh")
    pulled.pull(idle, ago=3600)
    pulled.pull(fresh, ago=5)
    assert [r.pk for r in retention.with_idle_files()] == [pulled.repository.pk]
    assert eviction.evict(pulled.repository).files == 1
    assert pulled.latest() == {fresh.pk}
    assert retention.with_idle_files() == []


def test_usage_reaches_opentelemetry_when_telemetry_is_on(settings):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    settings.OTEL_ENABLED = True
    reader = InMemoryMetricReader()
    counted = usage.Usage()
    counted.metrics = usage.otel_counters(MeterProvider(metric_readers=[reader]).get_meter("t"))
    counted.end(usage.Tally("d1", source="upstream", sent=7, fetched=7))
    counted.report_metrics(counted.take())
    (scope,) = reader.get_metrics_data().resource_metrics[0].scope_metrics
    points = {m.name: m.data.data_points[0] for m in scope.metrics}
    assert points["hugging_face.bytes_fetched"].value == 7
    assert points["hugging_face.from_upstream"].value == 1
    assert dict(points["hugging_face.requests"].attributes) == {"distribution": "d1"}
    assert "hugging_face.from_storage" not in points  # nothing to add: not reported


def test_content_apps_hear_which_files_lost_their_bytes(
    monkeypatch, django_capture_on_commit_callbacks
):
    from pulp_hugging_face.app.cache import changes

    sent = []
    monkeypatch.setattr(changes, "_send", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        changes.stored_files_dropped(["a", "b"])
    assert sent == ["content:a", "content:b"]  # each forgotten: the rest stays remembered
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changes.stored_files_dropped([str(n) for n in range(changes.ONE_BY_ONE + 1)])
    assert sent == ["evicted:"]  # a kind memory does not know: everything is forgotten


def test_bytes_another_file_took_meanwhile_are_not_freed(
    tmp_path, django_capture_on_commit_callbacks
):
    pulled = Pulled(tmp_path)
    data = os.urandom(MIB)
    a = pulled.store("a", data=data)
    artifact = stored_file(a)
    assert eviction.free_artifacts({artifact.pk}) == 0  # a file still holds it
    assert Artifact.objects.filter(pk=artifact.pk).exists()

    name = artifact.file.name
    ContentArtifact.objects.filter(content=a).update(artifact=None)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert eviction.free_artifacts({artifact.pk}) == MIB
    b = pulled.store("b", data=data)  # the same bytes, stored again before the files went
    assert stored_file(b).file.name == name
    for callback in callbacks:
        callback()
    assert os.path.exists(stored_file(b).file.path)


def test_a_remote_only_distribution_knows_which_stored_files_its_repository_holds(tmp_path):
    from pulp_hugging_face import hub
    from pulp_hugging_face.app import stored_files

    pulled = Pulled(tmp_path)
    held, new = pulled.store("held"), pulled.store("new")
    distro = HuggingFaceDistribution.objects.create(
        name=uuid.uuid4().hex, base_path=uuid.uuid4().hex, remote=pulled.remote
    )
    distro.cache_repository_id = retention.cache_repository_pk(distro)
    cache = HuggingFaceRepository.objects.get(pk=distro.cache_repository_id)
    retention.add_pulled(cache, [held.pk])
    found = stored_files.files_at_commit(distro, hub.Repo("model", "org/m"), "1" * 40)
    flags = {f.content_artifact.content_id: f.in_repository for f in found.values()}
    assert flags == {held.pk: True, new.pk: False}  # only `new` is queued for an add
