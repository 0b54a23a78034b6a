"""Pulp models for Hugging Face Hub content, remotes, repositories and distributions."""

from contextvars import ContextVar
from datetime import timedelta

from django.db import models
from django.utils import timezone

from yarl import URL

from pulpcore.plugin.download import DownloaderFactory
from pulpcore.plugin.models import (
    AutoAddObjPermsMixin,
    BaseModel,
    Content,
    Distribution,
    EncryptedTextField,
    Remote,
    Repository,
)
from pulpcore.plugin.repo_version_utils import remove_duplicates, validate_repo_version
from pulpcore.plugin.util import get_domain_pk

from pulp_hugging_face import hub

from .hub_downloader import HubDownloader
from .pulpcore_internals import is_unsaved
from .tokens import HuggingFaceToken  # noqa: F401 (a model of this app)
from .usage_records import (  # noqa: F401 (models of this app)
    CachedFile,
    DistributionUsage,
    EvictedArtifact,
    ServingReport,
)
from .xet_index import XetChunk, XetFile, XetSpan, XetXorb  # noqa: F401 (models of this app)

# Set while pull-through adds files to a repository: those stay evictable (retention.py).
PULLING_THROUGH = ContextVar("hf_pulling_through", default=False)

DEFAULT_HUB_URL = "https://huggingface.co"
DEFAULT_METADATA_TTL = 300


class HuggingFaceContent(Content):
    """One file of one Hub repository at one commit.

    `etag` and `size` are the upstream's own answers (git blob sha1 for regular files, sha256
    for LFS files), so the Hub client names its cache blobs exactly as it would upstream.
    """

    TYPE = "hugging-face"
    repo_key_fields = ("repo_type", "repo_id", "commit", "path_in_repo")
    PROTECTED_FROM_RECLAIM = False  # reclaim_space may drop the bytes: the remote has them

    repo_type = models.CharField(max_length=16, choices=[(t, t) for t in hub.REPO_TYPES])
    repo_id = models.CharField(max_length=hub.MAX_REPO_ID)
    commit = models.CharField(max_length=40)
    path_in_repo = models.TextField()
    etag = models.CharField(max_length=128)
    size = models.BigIntegerField()
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("repo_type", "repo_id", "commit", "path_in_repo", "_pulp_domain")

    @property
    def resolve_path(self):
        """The commit-pinned `ResolvePath` of this file."""
        return hub.ResolvePath(
            hub.Repo(self.repo_type, self.repo_id), self.commit, self.path_in_repo
        )


class HuggingFaceRef(Content):
    """A branch, tag or `refs/pr/N` of a Hub repo and the commit it pointed at when pinned
    (a tag published here is named `refs/tags/<tag>`).

    A repository version holds at most one per (repo, name), so a distribution of the version
    resolves the name the same way for as long as it serves that version.
    """

    TYPE = "hugging-face-ref"
    repo_key_fields = ("repo_type", "repo_id", "name")

    repo_type = models.CharField(max_length=16, choices=[(t, t) for t in hub.REPO_TYPES])
    repo_id = models.CharField(max_length=hub.MAX_REPO_ID)
    name = models.CharField(max_length=hub.MAX_REVISION)
    commit = models.CharField(max_length=40)
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("repo_type", "repo_id", "name", "commit", "_pulp_domain")


class HuggingFaceCommit(Content):
    """What the Hub says about a repo at one commit: its info answer (no file list, no Xet).

    With the version's files it answers `model_info`, `revision`, `tree` and `paths-info` with
    no upstream.
    """

    TYPE = "hugging-face-commit"
    repo_key_fields = ("repo_type", "repo_id", "commit")

    repo_type = models.CharField(max_length=16, choices=[(t, t) for t in hub.REPO_TYPES])
    repo_id = models.CharField(max_length=hub.MAX_REPO_ID)
    commit = models.CharField(max_length=40)
    info = models.JSONField(default=dict)
    # A commit published here: git's view of it (publishing/history.py), None for a synced one.
    git = models.JSONField(null=True)
    _pulp_domain = models.ForeignKey("core.Domain", default=get_domain_pk, on_delete=models.PROTECT)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("repo_type", "repo_id", "commit", "_pulp_domain")


class HuggingFaceRemote(Remote, AutoAddObjPermsMixin):
    """An upstream Hub (huggingface.co or a compatible server) and the token to reach it."""

    TYPE = "hugging-face"
    DEFAULT_DOWNLOAD_CONCURRENCY = 8

    hf_token = EncryptedTextField(null=True)
    metadata_ttl = models.PositiveIntegerField(default=DEFAULT_METADATA_TTL)
    # What `sync` pins: facehugger.yaml entries, or a whole manifest's or lock's text.
    includes = models.JSONField(default=list)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("manage_roles_huggingfaceremote", "Can manage roles on Hugging Face remotes"),
        ]

    @property
    def hub_url(self):
        """The remote URL without a trailing slash."""
        return self.url.rstrip("/")

    def save(self, *args, **kwargs):
        """Another token forgets what the old one was answered; another URL or headers make
        every remembered branch and listing stale (asked again; kept as the fallback while the
        new upstream cannot be reached). Commit-addressed answers stay true."""
        old = None if is_unsaved(self) else HuggingFaceRemote.objects.filter(pk=self.pk).first()
        if old is not None:
            remembered = HuggingFaceRememberedAnswer.objects.filter(remote=self)
            if old.hf_token != self.hf_token:
                remembered.delete()
            elif (old.hub_url, old.headers) != (self.hub_url, self.headers):
                long_ago = timezone.now() - timedelta(seconds=self.metadata_ttl + 1)
                remembered.filter(immutable=False).update(fetched_at=long_ago)
        super().save(*args, **kwargs)

    def auth_headers(self, url):
        """The Bearer token for `url`: only ever for the Hub's own origin, never a CDN or other."""
        if self.hf_token and URL(url).origin() == URL(self.hub_url).origin():
            return {"Authorization": f"Bearer {self.hf_token}"}
        return {}

    @property
    def download_factory(self):
        """pulpcore's factory, building HubDownloaders for this remote's URLs."""
        try:
            return self._download_factory
        except AttributeError:
            overrides = {"http": HubDownloader, "https": HubDownloader}
            self._download_factory = DownloaderFactory(self, downloader_overrides=overrides)
            return self._download_factory

    def get_downloader(self, remote_artifact=None, url=None, download_factory=None, **kwargs):
        return super().get_downloader(
            remote_artifact, url, download_factory, hub_remote=self, **kwargs
        )

    def get_remote_artifact_url(self, relative_path=None, request=None):
        """The upstream URL of a commit-pinned file (never a branch: pulp reuses the URL).

        None for anything else, which pulpcore's stock handler answers with a 404.
        """
        try:
            resolve_path = hub.parse_artifact_path(relative_path)
        except hub.HubPathError:
            return None
        return f"{self.hub_url}/{resolve_path.url()}"

    def get_remote_artifact_content_type(self, relative_path=None):
        """Every commit-pinned file is content; anything else is not stored."""
        return HuggingFaceContent if self.get_remote_artifact_url(relative_path) else None


class HuggingFaceRememberedAnswer(BaseModel):
    """An upstream answer remembered per remote (remembered.py reads and writes them).

    Two kinds: a revision (branch, tag, `refs/pr/N`) resolved to `commit`, and a metadata API
    answer (`status`, `headers`, `body`). Commit-addressed answers never expire; the others are
    trusted for the remote's `metadata_ttl` and served stale when upstream cannot be reached.
    """

    remote = models.ForeignKey(HuggingFaceRemote, on_delete=models.CASCADE)
    key = models.TextField()
    commit = models.CharField(max_length=40, null=True)
    status = models.PositiveSmallIntegerField(default=200)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(null=True)
    immutable = models.BooleanField(default=False)
    fetched_at = models.DateTimeField(db_index=True)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("remote", "key")


class HuggingFaceRepository(Repository, AutoAddObjPermsMixin):
    """Pinned Hub files, refs and commit infos; pull-through adds what a distribution fetched."""

    TYPE = "hugging-face"
    CONTENT_TYPES = [HuggingFaceContent, HuggingFaceRef, HuggingFaceCommit]
    REMOTE_TYPES = [HuggingFaceRemote]
    PULL_THROUGH_SUPPORTED = True

    # Retention of what pull-through stored (retention.py); null: unbounded, kept forever.
    cache_max_bytes = models.BigIntegerField(null=True)
    cache_max_idle = models.BigIntegerField(null=True)  # seconds since a file was last served
    cache_evicted_files = models.BigIntegerField(default=0)
    cache_evicted_bytes = models.BigIntegerField(default=0)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("sync_huggingfacerepository", "Can start a sync task"),
            ("modify_huggingfacerepository", "Can modify content of the repository"),
            ("manage_roles_huggingfacerepository", "Can manage roles on Hugging Face repositories"),
            ("repair_huggingfacerepository", "Can repair repository versions"),
        ]

    def finalize_new_version(self, new_version):
        """Keep one unit per (repo_type, repo_id, commit, path); what anything but pull-through
        added (sync, publishing, import, modify) is pinned, never evicted."""
        remove_duplicates(new_version)
        validate_repo_version(new_version)
        marked = CachedFile.objects.filter(repository=self)
        marked.filter(content__in=new_version.removed().values("pk")).delete()
        if not PULLING_THROUGH.get():
            marked.filter(content__in=new_version.added().values("pk")).delete()


class HuggingFaceDistribution(Distribution, AutoAddObjPermsMixin):
    """Serves a remote (pull-through) and/or a repository at `/pulp/content/<base_path>/`.

    Point `HF_ENDPOINT` at its base URL.
    """

    TYPE = "hugging-face"

    # The repository Pulp keeps what a remote-only distribution stores in (retention.py).
    cache_repository = models.ForeignKey(
        HuggingFaceRepository, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            (
                "manage_roles_huggingfacedistribution",
                "Can manage roles on Hugging Face distributions",
            ),
        ]
