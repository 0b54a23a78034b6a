"""Which stored files a distribution may serve (isolation between remotes and domains)."""

import pytest

from pulpcore.plugin.models import Artifact, ContentArtifact, Domain, RemoteArtifact
from pulpcore.plugin.util import get_domain

from pulp_hugging_face import hub
from pulp_hugging_face.app.models import (
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRemote,
    HuggingFaceRepository,
)
from pulp_hugging_face.app.stored_files import OnDemandFile, StoredFile, files_at_commit, find_file
from pulp_hugging_face.tests.unit.test_models import make_content

COMMIT = "0123456789abcdef0123456789abcdef01234567"
PINNED = hub.ResolvePath(hub.Repo("model", "org/m"), COMMIT, "config.json")
pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(tmp_path, settings):
    """config.json of org/m stored through remote `a` in the default domain."""
    settings.WORKING_DIRECTORY = str(tmp_path)
    source = tmp_path / "config.json"
    source.write_bytes(b"{}")
    artifact = Artifact.init_and_validate(str(source))
    artifact.save()
    content = make_content()
    ca = ContentArtifact.objects.create(
        content=content, artifact=artifact, relative_path=PINNED.artifact_path()
    )
    remote = HuggingFaceRemote.objects.create(name="a", url="http://hub-a.test")
    RemoteArtifact.objects.create(remote=remote, content_artifact=ca, url="http://hub-a.test/x")
    return {"remote": remote, "content": content}


def distribution(name, **fields):
    return HuggingFaceDistribution.objects.create(name=name, base_path=name, **fields)


def test_served_through_the_remote_that_fetched_it(stored):
    found = find_file(distribution("a", remote=stored["remote"]), PINNED)
    assert found is not None
    assert (found.commit, found.etag, found.size) == (COMMIT, "e" * 40, 2)
    assert found.file_path and open(found.file_path, "rb").read() == b"{}"
    assert found.in_repository is False


def test_not_served_through_another_remote(stored):
    other = HuggingFaceRemote.objects.create(name="b", url="http://hub-a.test", hf_token="t")
    assert find_file(distribution("b", remote=other), PINNED) is None
    assert find_file(distribution("none"), PINNED) is None


def test_served_from_the_repository(stored):
    repo = HuggingFaceRepository.objects.create(name="r")
    with repo.new_version() as version:
        version.add_content(HuggingFaceContent.objects.filter(pk=stored["content"].pk))
    found = find_file(distribution("r", repository=repo), PINNED)
    assert found is not None and found.in_repository is True
    other_file = hub.ResolvePath(PINNED.repo, COMMIT, "other.json")
    assert find_file(distribution("r2", repository=repo), other_file) is None


def test_not_served_in_another_domain(stored):
    domain = Domain.objects.create(
        name="other",
        storage_class="pulpcore.app.models.storage.FileSystem",
        storage_settings={"MEDIA_ROOT": "/tmp/other-domain"},
    )
    remote = stored["remote"]
    dist = HuggingFaceDistribution.objects.create(
        name="d", base_path="d", remote=remote, pulp_domain=domain
    )
    assert get_domain().name == "default"
    assert find_file(dist, PINNED) is None


def test_a_commit_is_found_at_once_and_only_what_the_distribution_may_serve(stored):
    remote = stored["remote"]
    other = HuggingFaceRemote.objects.create(name="b", url="http://hub-a.test", hf_token="t")
    for name, fetched_by in (("a.json", remote), ("b.json", other)):
        content = make_content(path_in_repo=name)
        ca = ContentArtifact.objects.create(
            content=content, artifact=Artifact.objects.get(), relative_path=name
        )
        RemoteArtifact.objects.create(remote=fetched_by, content_artifact=ca, url="http://x")
    dist = distribution("a", remote=remote)
    found = files_at_commit(dist, PINNED.repo, COMMIT)
    assert sorted(found) == ["a.json", "config.json"] and found.complete
    assert all(isinstance(file, StoredFile) for file in found.values())
    truncated = files_at_commit(dist, PINNED.repo, COMMIT, limit=1)
    assert len(truncated) == 1 and not truncated.complete
    assert files_at_commit(dist, PINNED.repo, "f" * 40) == {}


def test_a_file_pinned_without_bytes_is_on_demand_only_in_the_repository(stored):
    remote = stored["remote"]
    content = make_content(path_in_repo="lazy.bin")
    ca = ContentArtifact.objects.create(content=content, artifact=None, relative_path="lazy.bin")
    RemoteArtifact.objects.create(remote=remote, content_artifact=ca, url="http://x")
    lazy = hub.ResolvePath(PINNED.repo, COMMIT, "lazy.bin")
    assert find_file(distribution("a", remote=remote), lazy) is None  # not stored: cold
    repo = HuggingFaceRepository.objects.create(name="r")
    with repo.new_version() as version:
        version.add_content(HuggingFaceContent.objects.filter(pk=content.pk))
    found = find_file(distribution("r", repository=repo), lazy)
    assert isinstance(found, OnDemandFile) and found.remote_pk == remote.pk
