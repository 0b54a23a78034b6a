"""What a content-app process remembers, what a change notification drops, and pruning."""

import asyncio
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from pulp_hugging_face import hub
from pulp_hugging_face.app import cache
from pulp_hugging_face.app.cache.memory import Lru, Memory
from pulp_hugging_face.app.models import HuggingFaceRememberedAnswer, HuggingFaceRemote

COMMIT = "c" * 40


def distro(name, **fields):
    values = dict(
        pk=uuid.uuid4(),
        pulp_domain_id=uuid.uuid4(),
        base_path=name,
        remote_id=uuid.uuid4(),
        repository_id=uuid.uuid4(),
        repository_version_id=None,
        content_guard_id=None,
    )
    values.update(fields)
    return SimpleNamespace(**values)


def pinned(name):
    return hub.ResolvePath(hub.Repo("model", "org/m"), COMMIT, name)


def stored(content_pk=None):
    return SimpleNamespace(content_pk=str(content_pk or uuid.uuid4()), file_path=None)


@pytest.fixture
def two(memory):
    """Distributions a and b, each with a remembered file and a remembered revision."""
    a, b = distro("a"), distro("b")
    for d in (a, b):
        cache.remember_distribution(d, SimpleNamespace(pk=d.remote_id))
        cache.remember_stored_file(d, pinned("config.json"), stored())
        memory.commits.put((d.remote_id, "revision:model:org/m:main"), (COMMIT, time.time()))
    return a, b


def remembered(memory, d):
    return (
        cache.distribution(d.pulp_domain_id, [d.base_path]) is not None,
        cache.stored_file(d, pinned("config.json")) is not None,
        (d.remote_id, "revision:model:org/m:main") in memory.commits.data,
    )


@pytest.mark.parametrize(
    "kind, field, a_after",
    [
        ("distribution", "pk", (False, False, True)),
        ("repository", "repository_id", (False, False, True)),
        ("remote", "remote_id", (False, False, False)),
    ],
)
def test_a_change_drops_only_what_depends_on_it(memory, two, kind, field, a_after):
    a, b = two
    memory.forget(f"{kind}:{getattr(a, field)}")
    assert remembered(memory, a) == a_after
    assert remembered(memory, b) == (True, True, True)


def test_a_content_guard_change_drops_the_guarded_distribution(memory):
    guard = uuid.uuid4()
    a, b = distro("a", content_guard_id=guard), distro("b")
    for d in (a, b):
        cache.remember_distribution(d, None)
    memory.forget(f"guard:{guard}")
    assert cache.distribution(a.pulp_domain_id, ["a"]) is None
    assert cache.distribution(b.pulp_domain_id, ["b"]) is not None


def test_a_deleted_content_drops_only_its_files(memory, two):
    a, b = two
    content = uuid.uuid4()
    cache.remember_stored_file(a, pinned("weights.bin"), stored(content))
    cache.remember_stored_file(b, pinned("weights.bin"), stored(content))
    memory.forget(f"content:{content}")
    assert cache.stored_file(a, pinned("weights.bin")) is None
    assert cache.stored_file(b, pinned("weights.bin")) is None
    assert remembered(memory, a) == remembered(memory, b) == (True, True, True)


@pytest.mark.parametrize("payload", [f"domain:{uuid.uuid4()}", "", "something-new:1"])
def test_domain_and_unknown_changes_drop_everything(memory, two, payload):
    memory.forget(payload)
    for d in two:
        assert remembered(memory, d) == (False, False, False)


def test_nothing_is_used_while_not_listening(memory, two):
    memory.listening = False
    a, _ = two
    assert cache.distribution(a.pulp_domain_id, ["a"]) is None
    assert cache.stored_file(a, pinned("config.json")) is None


def test_the_content_index_does_not_outgrow_the_files(memory):
    memory.files.size = 10
    d = distro("a")
    for n in range(100):
        cache.remember_stored_file(d, pinned(f"f{n}"), stored())
    assert len(memory.files.data) == 10
    assert sum(len(keys) for keys in memory.files_of_content.values()) == 10


@pytest.mark.django_db
def test_old_metadata_rows_are_pruned(settings):
    settings.HF_METADATA_RETENTION = 3600
    remote = HuggingFaceRemote.objects.create(name="prune", url="https://hub.example")
    now = timezone.now()
    for key, age, immutable in (
        ("old", 7200, False),
        ("old-commit", 7200, True),
        ("new", 60, True),
    ):
        HuggingFaceRememberedAnswer.objects.create(
            remote=remote,
            key=key,
            commit=COMMIT,
            immutable=immutable,
            fetched_at=now - timedelta(seconds=age),
        )
    assert cache.prune_remembered() == 2
    assert list(HuggingFaceRememberedAnswer.objects.values_list("key", flat=True)) == ["new"]


def test_a_weighted_lru_keeps_its_bytes_under_the_budget():
    lru = Lru(10, weight=len)
    lru.put("a", b"1234")
    lru.put("b", b"1234")
    lru.get("a")  # "b" is now the least recently used
    lru.put("c", b"1234")
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (b"1234", None, b"1234")
    lru.put("a", b"123456")  # replacing counts the new size only
    assert lru.total == 10 and lru.get("c") == b"1234"
    lru.pop("a")
    assert lru.total == 4


def test_small_files_are_kept_only_while_listening_and_only_when_small(memory):
    cache.remember_small_file("/media/artifact/ab/cd", b"x" * 10)
    cache.remember_small_file("/media/artifact/ef/gh", b"x" * (cache.SMALL_FILE + 1))
    assert cache.small_file("/media/artifact/ab/cd") == b"x" * 10
    assert cache.small_file("/media/artifact/ef/gh") is None
    memory.listening = False
    assert cache.small_file("/media/artifact/ab/cd") is None


def test_what_an_upstream_said_of_files_is_forgotten_with_its_remote(memory):
    r1, r2 = SimpleNamespace(pk="r1"), SimpleNamespace(pk="r2")
    info = SimpleNamespace(commit=COMMIT, etag="e" * 64, size=5)
    for remote in (r1, r2):
        cache.remember_file_info(remote, pinned("w.bin"), info)
    assert cache.file_info(r1, pinned("w.bin")) is info
    assert cache.file_info(r1, pinned("other.bin")) is None
    memory.forget("remote:r1")
    assert cache.file_info(r1, pinned("w.bin")) is None
    assert cache.file_info(r2, pinned("w.bin")) is info


def test_a_crowd_asking_for_the_same_thing_shares_one_lookup():
    loads = []

    async def load():
        loads.append(1)
        await asyncio.sleep(0.05)
        return "found"

    async def crowd():
        answers = await asyncio.gather(*(cache.looked_up_once("k", load) for _ in range(64)))
        later = await cache.looked_up_once("k", load)  # the first lookup is over: asked again
        return answers, later

    answers, later = asyncio.run(crowd())
    assert answers == ["found"] * 64 and later == "found"
    assert len(loads) == 2


def test_a_request_that_goes_away_does_not_cancel_the_others_lookup():
    async def load():
        await asyncio.sleep(0.05)
        return "found"

    async def two():
        leaving = asyncio.ensure_future(cache.looked_up_once("k2", load))
        staying = asyncio.ensure_future(cache.looked_up_once("k2", load))
        await asyncio.sleep(0.01)
        leaving.cancel()
        return await staying

    assert asyncio.run(two()) == "found"


def test_a_failed_lookup_fails_every_request_that_shared_it():
    async def load():
        await asyncio.sleep(0.01)
        raise LookupError("no such distribution")

    async def crowd():
        return await asyncio.gather(
            *(cache.looked_up_once("k3", load) for _ in range(3)), return_exceptions=True
        )

    assert [type(e) for e in asyncio.run(crowd())] == [LookupError] * 3


def test_a_file_removed_behind_our_back_is_forgotten_when_it_is_to_be_read(memory, tmp_path):
    d = distro("gone")
    on_disk, in_memory = tmp_path / "big", tmp_path / "small"
    for path, name in ((on_disk, "big.bin"), (in_memory, "small.json")):
        path.write_bytes(b"x")
        entry = stored()
        entry.file_path = str(path)
        cache.remember_stored_file(d, pinned(name), entry)
    cache.remember_small_file(str(in_memory), b"x")
    on_disk.unlink()
    in_memory.unlink()
    assert cache.stored_file(d, pinned("big.bin"), reading=False) is not None  # a HEAD
    assert cache.stored_file(d, pinned("small.json")) is not None  # its bytes are in memory
    assert cache.stored_file(d, pinned("big.bin")) is None  # a GET: looked up again
    assert cache.stored_file(d, pinned("big.bin"), reading=False) is None


def test_every_fact_is_declared_once_with_its_bound_and_invalidation():
    from pulp_hugging_face.app.cache.memory import FACTS, KINDS

    fresh = Memory()
    for fact in FACTS:
        assert isinstance(getattr(fresh, fact.name), Lru) and fact.size > 0
        # dropped by named changes, or by a domain change (which drops everything), or never
        # stale at all
        assert fact.drops or "domain" in fact.holds or fact.holds.startswith("for good"), fact
        assert set(fact.drops) <= KINDS
    assert len({fact.name for fact in FACTS}) == len(FACTS)


def test_every_change_content_apps_hear_about_drops_something():
    from pulp_hugging_face.app.cache.changes import watched
    from pulp_hugging_face.app.cache.memory import FACTS

    instance = SimpleNamespace(pk="p", repository_id="r")
    kinds = {payload_of(instance).split(":")[0] for _model, _signals, payload_of in watched()}
    dropping = {kind for fact in FACTS for kind in fact.drops} | {"domain"}  # domain: all
    assert kinds <= dropping, kinds - dropping
    assert dropping <= kinds  # and no rule waits for a change nobody sends


@pytest.mark.parametrize("kind", ["distribution", "remote", "repository", "guard", "content"])
def test_each_kind_drops_the_entries_that_depend_on_the_object_it_names(memory, kind):
    guard, content = uuid.uuid4(), uuid.uuid4()
    d = distro("a", content_guard_id=guard)
    cache.remember_distribution(d, SimpleNamespace(pk=d.remote_id))
    cache.remember_stored_file(d, pinned("config.json"), stored(content))
    names = {
        "distribution": d.pk,
        "remote": d.remote_id,
        "repository": d.repository_id,
        "guard": guard,
        "content": content,
    }
    memory.forget(f"{kind}:{names[kind]}")
    assert cache.stored_file(d, pinned("config.json")) is None
