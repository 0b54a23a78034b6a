"""REST serializers; the Hub token is write-only and reported only as `hidden_fields`."""

from gettext import gettext as _

from rest_framework import serializers

from pulpcore.plugin import models as core_models
from pulpcore.plugin.serializers import (
    DetailRelatedField,
    DistributionSerializer,
    NoArtifactContentSerializer,
    RemoteSerializer,
    RepositorySerializer,
    SingleContentArtifactField,
)

from pulp_hugging_face import hub, includes

from . import retention
from .models import (
    DEFAULT_HUB_URL,
    DEFAULT_METADATA_TTL,
    HuggingFaceCommit,
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRef,
    HuggingFaceRemote,
    HuggingFaceRepository,
)


class RepoCommitSerializer(NoArtifactContentSerializer):
    """What every Hugging Face content names: a Hub repo (type and id) and a commit."""

    repo_type = serializers.ChoiceField(choices=hub.REPO_TYPES, read_only=True)
    repo_id = serializers.CharField(read_only=True)
    commit = serializers.CharField(read_only=True, help_text=_("The 40-hex commit id."))

    class Meta:
        fields = NoArtifactContentSerializer.Meta.fields + ("repo_type", "repo_id", "commit")


class HuggingFaceContentSerializer(RepoCommitSerializer):
    """One file of one Hub repository at one commit (created by pull-through or sync)."""

    path_in_repo = serializers.CharField(
        read_only=True, help_text=_("The file path inside the Hub repository.")
    )
    etag = serializers.CharField(
        read_only=True, help_text=_("The upstream ETag: git blob sha1, or sha256 for LFS files.")
    )
    size = serializers.IntegerField(read_only=True)
    artifact = SingleContentArtifactField(
        required=False, help_text=_("The stored file, or null when it was never downloaded.")
    )

    class Meta:
        fields = RepoCommitSerializer.Meta.fields + (
            "path_in_repo",
            "etag",
            "size",
            "artifact",
        )
        model = HuggingFaceContent


class HuggingFaceRefSerializer(RepoCommitSerializer):
    """A branch, tag or `refs/pr/N` and the commit it pointed at when it was pinned."""

    name = serializers.CharField(read_only=True, help_text=_("The branch, tag or refs/pr/N."))

    class Meta:
        fields = RepoCommitSerializer.Meta.fields + ("name",)
        model = HuggingFaceRef


class HuggingFaceCommitSerializer(RepoCommitSerializer):
    """What the Hub said about a repo at one commit (its info answer, without the file list)."""

    info = serializers.JSONField(read_only=True)

    class Meta:
        fields = RepoCommitSerializer.Meta.fields + ("info",)
        model = HuggingFaceCommit


class HuggingFaceRemoteSerializer(RemoteSerializer):
    """An upstream Hub. `hf_token` is encrypted at rest and never returned."""

    url = serializers.URLField(
        default=DEFAULT_HUB_URL,
        help_text=_("The Hub to front, e.g. {url}.").format(url=DEFAULT_HUB_URL),
    )
    hf_token = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        write_only=True,
        trim_whitespace=True,
        style={"input_type": "password"},
        help_text=_("A Hugging Face access token sent upstream as a Bearer token (write-only)."),
    )
    metadata_ttl = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text=_(
            "Seconds a branch/tag to commit answer or an API listing is trusted before upstream "
            "is asked again (default {ttl})."
        ).format(ttl=DEFAULT_METADATA_TTL),
    )
    policy = serializers.ChoiceField(
        choices=(
            (core_models.Remote.IMMEDIATE, "immediate"),
            (core_models.Remote.ON_DEMAND, "on_demand"),
            (core_models.Remote.STREAMED, "streamed"),
        ),
        default=core_models.Remote.IMMEDIATE,
        help_text=_(
            "'immediate' and 'on_demand' store files fetched through pull-through; 'streamed' "
            "never stores them."
        ),
    )

    includes = serializers.JSONField(
        required=False,
        help_text=_(
            "What `sync` pins: a list of facehugger.yaml entries ({repo, repo_type, ref, include, "
            "exclude}), or the text of a whole facehugger.yaml or facehugger.lock."
        ),
    )

    def validate_hf_token(self, value):
        """Store an empty token as no token."""
        return value or None

    def validate_includes(self, value):
        """Refuse includes that are not entries, a manifest or a lock, naming the entry."""
        try:
            includes.parse(value)
        except includes.IncludesError as exc:
            raise serializers.ValidationError(str(exc))
        return value

    class Meta:
        fields = RemoteSerializer.Meta.fields + ("hf_token", "metadata_ttl", "includes")
        model = HuggingFaceRemote


def _cache_limit(help_text):
    """A repository's cache limit: a whole number a bigint holds, or null (no limit)."""
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**63 - 1, help_text=help_text
    )


class HuggingFaceRepositorySerializer(RepositorySerializer):
    """A repository of pinned Hub files, and how much of what pull-through adds it keeps."""

    cache_max_bytes = _cache_limit(
        _(
            "Bytes of pulled-through files to keep; the least recently served go first. "
            "Null: unbounded. Synced, published and imported files are never evicted."
        )
    )
    cache_max_idle = _cache_limit(
        _("Seconds a pulled-through file is kept after it was last served. Null: forever.")
    )
    cache_usage = serializers.SerializerMethodField(
        help_text=_(
            "The latest version's pulled-through and pinned files and their stored bytes, and "
            "what eviction took so far."
        )
    )

    def get_cache_usage(self, repository) -> dict:
        return retention.usage_of(repository)

    class Meta:
        fields = RepositorySerializer.Meta.fields + (
            "cache_max_bytes",
            "cache_max_idle",
            "cache_usage",
        )
        model = HuggingFaceRepository


class HuggingFaceDistributionSerializer(DistributionSerializer):
    """Serves a remote (pull-through) and/or a repository; its base_url is the HF_ENDPOINT."""

    remote = DetailRelatedField(
        required=False,
        help_text=_("Remote that can be used to fetch content when using pull-through caching."),
        view_name_pattern=r"remotes(-.*/.*)?-detail",
        queryset=HuggingFaceRemote.objects.all(),
        allow_null=True,
    )

    cache_repository = DetailRelatedField(
        read_only=True,
        view_name_pattern=r"repositories(-.*/.*)-detail",
        help_text=_(
            "The repository Pulp keeps what this distribution pulls through in when it serves "
            "no repository of its own (its limits bound the cache)."
        ),
    )

    class Meta:
        fields = DistributionSerializer.Meta.fields + ("remote", "cache_repository")
        model = HuggingFaceDistribution


class DistributionStatsSerializer(serializers.Serializer):
    """A distribution's usage since it was created (written by the content apps in batches)."""

    requests = serializers.IntegerField()
    from_storage = serializers.IntegerField(help_text=_("Files answered from storage."))
    from_upstream = serializers.IntegerField(help_text=_("Files fetched from upstream."))
    bytes_sent = serializers.IntegerField(help_text=_("File bytes sent to clients."))
    bytes_fetched = serializers.IntegerField(help_text=_("File bytes fetched from upstream."))
    evicted_files = serializers.IntegerField(help_text=_("Files its cache repository evicted."))
    evicted_bytes = serializers.IntegerField()
    repository = serializers.CharField(allow_null=True, help_text=_("The repository counted."))
