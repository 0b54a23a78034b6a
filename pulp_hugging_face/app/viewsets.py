"""REST endpoints at `/pulp/api/v3/{remotes,repositories,distributions,content}/hugging_face/`."""

from django.db import DataError
from django_filters import CharFilter, ChoiceFilter
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from pulpcore.plugin.actions import ModifyRepositoryActionMixin
from pulpcore.plugin.serializers import (
    AsyncOperationResponseSerializer,
    RepositorySyncURLSerializer,
)
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import (
    NAME_FILTER_OPTIONS,
    ContentFilter,
    OperationPostponedResponse,
    DistributionViewSet,
    ReadOnlyContentViewSet,
    RemoteViewSet,
    RepositoryVersionViewSet,
    RepositoryViewSet,
    RolesMixin,
)

from pulp_hugging_face import hub

from . import tasks
from .retention_views import EVICT_STATEMENT, STATS_STATEMENT, EvictAction, StatsAction
from .token_views import HuggingFaceTokenViewSet  # noqa: F401 (found here by pulpcore)
from .access_policies import CONTENT_ACCESS_POLICY, access_policy, locked_roles, perm
from .models import (
    HuggingFaceCommit,
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRef,
    HuggingFaceRemote,
    HuggingFaceRepository,
)
from .serializers import (
    HuggingFaceCommitSerializer,
    HuggingFaceContentSerializer,
    HuggingFaceDistributionSerializer,
    HuggingFaceRefSerializer,
    HuggingFaceRemoteSerializer,
    HuggingFaceRepositorySerializer,
)

ENDPOINT_NAME = "hugging-face"
# pulpcore's `orphaned_for` overflows (a 500) past the earliest date: a century is plenty.
MAX_ORPHANED_MINUTES = 100 * 366 * 24 * 60


class RefusedValuesAre400:
    """A value PostgreSQL refuses (a NUL byte, a date out of range, in a filter, a label or a
    role) is the client's mistake: 400 with the database's reason, not a 500."""

    def handle_exception(self, exc):
        if isinstance(exc, DataError):
            exc = ValidationError(f"Refused value: {str(exc).splitlines()[0]}")
        return super().handle_exception(exc)


class RepoCommitFilter(ContentFilter):
    """Filters every Hugging Face content type has: repo type and commit (repo_id in Meta)."""

    repo_type = ChoiceFilter(choices=[(t, t) for t in hub.REPO_TYPES])
    commit = CharFilter()
    orphaned_for = type(ContentFilter.base_filters["orphaned_for"])(
        max_value=MAX_ORPHANED_MINUTES,
        help_text="Minutes content has been orphaned for (-1: ORPHAN_PROTECTION_TIME).",
    )


class HuggingFaceContentFilter(RepoCommitFilter):
    """Filter Hub files by repo, type, commit and path."""

    class Meta:
        model = HuggingFaceContent
        fields = {
            "repo_id": ["exact", "in", "contains", "startswith"],
            "path_in_repo": NAME_FILTER_OPTIONS,
            "etag": ["exact"],
        }


class HuggingFaceContentViewSet(RefusedValuesAre400, ReadOnlyContentViewSet):
    """Files fetched from the Hub (by pull-through or sync), one per repo, commit and path."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceContent.objects.prefetch_related("_artifacts")
    serializer_class = HuggingFaceContentSerializer
    filterset_class = HuggingFaceContentFilter
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY


class HuggingFaceRefFilter(RepoCommitFilter):

    class Meta:
        model = HuggingFaceRef
        fields = {"repo_id": ["exact", "in", "startswith"], "name": ["exact", "in"]}


class HuggingFaceRefViewSet(RefusedValuesAre400, ReadOnlyContentViewSet):
    """Pinned branches, tags and `refs/pr/N`, each with the commit it pointed at (made by sync)."""

    endpoint_name = "refs"
    queryset = HuggingFaceRef.objects.all()
    serializer_class = HuggingFaceRefSerializer
    filterset_class = HuggingFaceRefFilter
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY


class HuggingFaceCommitFilter(RepoCommitFilter):

    class Meta:
        model = HuggingFaceCommit
        fields = {"repo_id": ["exact", "in", "startswith"]}


class HuggingFaceCommitViewSet(RefusedValuesAre400, ReadOnlyContentViewSet):
    """What the Hub said about a repo at a pinned commit (made by sync)."""

    endpoint_name = "commits"
    queryset = HuggingFaceCommit.objects.all()
    serializer_class = HuggingFaceCommitSerializer
    filterset_class = HuggingFaceCommitFilter
    DEFAULT_ACCESS_POLICY = CONTENT_ACCESS_POLICY


class HuggingFaceRemoteViewSet(RefusedValuesAre400, RemoteViewSet, RolesMixin):
    """An upstream Hub and its (write-only, encrypted) token."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceRemote.objects.all()
    serializer_class = HuggingFaceRemoteSerializer
    queryset_filtering_required_permission = perm("huggingfaceremote", "view")
    DEFAULT_ACCESS_POLICY = access_policy("huggingfaceremote")
    LOCKED_ROLES = locked_roles("huggingfaceremote")


_REPO = "huggingfacerepository"
_REMOTE_PARAM = f"has_remote_param_model_or_domain_or_obj_perms:{perm('huggingfaceremote', 'view')}"
_REPO_VIEW = f"has_model_or_domain_or_obj_perms:{perm('huggingfacerepository', 'view')}"


class HuggingFaceRepositoryViewSet(
    RefusedValuesAre400, RepositoryViewSet, ModifyRepositoryActionMixin, EvictAction, RolesMixin
):
    """Pinned sets of Hub files; each change is a new immutable version."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceRepository.objects.exclude(user_hidden=True)
    serializer_class = HuggingFaceRepositorySerializer
    queryset_filtering_required_permission = perm("huggingfacerepository", "view")
    DEFAULT_ACCESS_POLICY = access_policy(
        "huggingfacerepository",
        create_conditions=[_REMOTE_PARAM],
        update_conditions=[_REMOTE_PARAM],
        extra_statements=[
            {
                "action": ["sync"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [
                    "has_model_or_domain_or_obj_perms:" + perm("huggingfacerepository", "sync"),
                    _REMOTE_PARAM,
                    _REPO_VIEW,
                ],
            },
            {
                "action": ["modify"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [
                    "has_model_or_domain_or_obj_perms:" + perm("huggingfacerepository", "modify"),
                    _REPO_VIEW,
                ],
            },
            EVICT_STATEMENT,
        ],
    )
    LOCKED_ROLES = locked_roles(
        "huggingfacerepository", extra_owner_perms=("modify", "sync", "repair")
    )

    @extend_schema(
        description="Pin what the remote's `includes` name into one new repository version.",
        summary="Sync from a remote",
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=RepositorySyncURLSerializer)
    def sync(self, request, pk, **kwargs):
        serializer = RepositorySyncURLSerializer(
            data=request.data, context={"request": request, "repository_pk": pk}
        )
        serializer.is_valid(raise_exception=True)
        repository = self.get_object()
        remote = serializer.validated_data.get("remote", repository.remote)
        result = dispatch(
            tasks.synchronize,
            shared_resources=[remote],
            exclusive_resources=[repository],
            kwargs={
                "remote_pk": str(remote.pk),
                "repository_pk": str(repository.pk),
                "mirror": serializer.validated_data.get("mirror", False),
            },
        )
        return OperationPostponedResponse(result, request)


class HuggingFaceRepositoryVersionViewSet(RefusedValuesAre400, RepositoryVersionViewSet):
    """The immutable versions of a Hugging Face repository."""

    parent_viewset = HuggingFaceRepositoryViewSet
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": actions,
                "principal": "authenticated",
                "effect": "allow",
                "condition": [
                    f"has_repository_model_or_domain_or_obj_perms:{perm(_REPO, p)}" for p in perms
                ],
            }
            for actions, perms in (
                (["list", "retrieve"], ["view"]),
                (["destroy"], ["delete", "view"]),
                (["repair"], ["repair", "view"]),
            )
        ],
    }


_DIST_LINKS = [
    "has_repo_or_repo_ver_param_model_or_domain_or_obj_perms:"
    + perm("huggingfacerepository", "view"),
    _REMOTE_PARAM,
]


class HuggingFaceDistributionViewSet(
    RefusedValuesAre400, DistributionViewSet, StatsAction, RolesMixin
):
    """Serves a remote and/or repository; its `base_url` is what clients use as HF_ENDPOINT."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceDistribution.objects.all()
    serializer_class = HuggingFaceDistributionSerializer
    queryset_filtering_required_permission = perm("huggingfacedistribution", "view")
    DEFAULT_ACCESS_POLICY = access_policy(
        "huggingfacedistribution",
        create_conditions=_DIST_LINKS,
        update_conditions=_DIST_LINKS,
        extra_statements=[STATS_STATEMENT],
    )
    LOCKED_ROLES = locked_roles("huggingfacedistribution")
