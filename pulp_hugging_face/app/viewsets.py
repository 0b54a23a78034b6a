"""REST endpoints at `/pulp/api/v3/{remotes,repositories,distributions,content}/hugging_face/`."""

from django_filters import CharFilter, ChoiceFilter

from pulpcore.plugin.actions import ModifyRepositoryActionMixin
from pulpcore.plugin.viewsets import (
    NAME_FILTER_OPTIONS,
    ContentFilter,
    DistributionViewSet,
    ReadOnlyContentViewSet,
    RemoteViewSet,
    RepositoryVersionViewSet,
    RepositoryViewSet,
    RolesMixin,
)

from pulp_hugging_face import hub

from .models import (
    HuggingFaceContent,
    HuggingFaceDistribution,
    HuggingFaceRemote,
    HuggingFaceRepository,
)
from .serializers import (
    HuggingFaceContentSerializer,
    HuggingFaceDistributionSerializer,
    HuggingFaceRemoteSerializer,
    HuggingFaceRepositorySerializer,
)

ENDPOINT_NAME = "hugging-face"
APP = "hugging_face"


def _perm(model, action):
    return f"{APP}.{action}_{model}"


def access_policy(model, create_conditions=(), update_conditions=(), extra_statements=()):
    """The pulp_file-style policy: creators own what they create, viewers see it."""
    view = f"has_model_or_domain_or_obj_perms:{_perm(model, 'view')}"
    return {
        "statements": [
            {
                "action": ["list", "retrieve", "my_permissions"],
                "principal": "authenticated",
                "effect": "allow",
            },
            {
                "action": ["create"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_perms:{_perm(model, 'add')}"]
                + list(create_conditions),
            },
            {
                "action": ["update", "partial_update", "set_label", "unset_label"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_or_obj_perms:{_perm(model, 'change')}", view]
                + list(update_conditions),
            },
            {
                "action": ["destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_or_obj_perms:{_perm(model, 'delete')}", view],
            },
            {
                "action": ["list_roles", "add_role", "remove_role"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_or_obj_perms:{_perm(model, 'manage_roles')}"],
            },
            *extra_statements,
        ],
        "creation_hooks": [
            {
                "function": "add_roles_for_object_creator",
                "parameters": {"roles": f"{APP}.{model}_owner"},
            },
        ],
        "queryset_scoping": {"function": "scope_queryset"},
    }


def locked_roles(model, extra_owner_perms=()):
    """Creator, owner and viewer roles for `model`."""
    owner = [_perm(model, a) for a in ("view", "change", "delete", "manage_roles")]
    return {
        f"{APP}.{model}_creator": [_perm(model, "add")],
        f"{APP}.{model}_owner": owner + [_perm(model, a) for a in extra_owner_perms],
        f"{APP}.{model}_viewer": [_perm(model, "view")],
    }


class HuggingFaceContentFilter(ContentFilter):
    """Filter Hub files by repo, type, commit and path."""

    repo_type = ChoiceFilter(choices=[(t, t) for t in hub.REPO_TYPES])
    commit = CharFilter()

    class Meta:
        model = HuggingFaceContent
        fields = {
            "repo_id": ["exact", "in", "contains", "startswith"],
            "path_in_repo": NAME_FILTER_OPTIONS,
            "etag": ["exact"],
        }


class HuggingFaceContentViewSet(ReadOnlyContentViewSet):
    """Files fetched from the Hub (by pull-through or sync), one per repo, commit and path."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceContent.objects.prefetch_related("_artifacts")
    serializer_class = HuggingFaceContentSerializer
    filterset_class = HuggingFaceContentFilter
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {"action": ["list", "retrieve"], "principal": "authenticated", "effect": "allow"},
            {
                "action": ["set_label", "unset_label"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": ["has_model_or_domain_perms:core.manage_content_labels"],
            },
        ],
        "queryset_scoping": {"function": "scope_queryset"},
    }


class HuggingFaceRemoteViewSet(RemoteViewSet, RolesMixin):
    """An upstream Hub and its (write-only, encrypted) token."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceRemote.objects.all()
    serializer_class = HuggingFaceRemoteSerializer
    queryset_filtering_required_permission = _perm("huggingfaceremote", "view")
    DEFAULT_ACCESS_POLICY = access_policy("huggingfaceremote")
    LOCKED_ROLES = locked_roles("huggingfaceremote")


_REPO = "huggingfacerepository"
_REMOTE_PARAM = (
    f"has_remote_param_model_or_domain_or_obj_perms:{_perm('huggingfaceremote', 'view')}"
)
_REPO_VIEW = f"has_model_or_domain_or_obj_perms:{_perm('huggingfacerepository', 'view')}"


class HuggingFaceRepositoryViewSet(RepositoryViewSet, ModifyRepositoryActionMixin, RolesMixin):
    """Pinned sets of Hub files; each change is a new immutable version."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceRepository.objects.exclude(user_hidden=True)
    serializer_class = HuggingFaceRepositorySerializer
    queryset_filtering_required_permission = _perm("huggingfacerepository", "view")
    DEFAULT_ACCESS_POLICY = access_policy(
        "huggingfacerepository",
        create_conditions=[_REMOTE_PARAM],
        update_conditions=[_REMOTE_PARAM],
        extra_statements=[
            {
                "action": ["modify"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [
                    "has_model_or_domain_or_obj_perms:" + _perm("huggingfacerepository", "modify"),
                    _REPO_VIEW,
                ],
            },
        ],
    )
    LOCKED_ROLES = locked_roles(
        "huggingfacerepository", extra_owner_perms=("modify", "sync", "repair")
    )


class HuggingFaceRepositoryVersionViewSet(RepositoryVersionViewSet):
    """The immutable versions of a Hugging Face repository."""

    parent_viewset = HuggingFaceRepositoryViewSet
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": actions,
                "principal": "authenticated",
                "effect": "allow",
                "condition": [
                    f"has_repository_model_or_domain_or_obj_perms:{_perm(_REPO, p)}" for p in perms
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
    + _perm("huggingfacerepository", "view"),
    _REMOTE_PARAM,
]


class HuggingFaceDistributionViewSet(DistributionViewSet, RolesMixin):
    """Serves a remote and/or repository; its `base_url` is what clients use as HF_ENDPOINT."""

    endpoint_name = ENDPOINT_NAME
    queryset = HuggingFaceDistribution.objects.all()
    serializer_class = HuggingFaceDistributionSerializer
    queryset_filtering_required_permission = _perm("huggingfacedistribution", "view")
    DEFAULT_ACCESS_POLICY = access_policy(
        "huggingfacedistribution", create_conditions=_DIST_LINKS, update_conditions=_DIST_LINKS
    )
    LOCKED_ROLES = locked_roles("huggingfacedistribution")
