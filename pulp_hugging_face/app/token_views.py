"""REST for Hugging Face tokens: `/pulp/api/v3/hugging_face/tokens/`. A user creates, lists and
revokes their own; an admin (model-level view / delete permission) sees and revokes any. The
secret is in the answer to `create` only."""

from gettext import gettext as _

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from pulpcore.plugin.serializers import IdentityField, ModelSerializer
from pulpcore.plugin.viewsets import NamedModelViewSet

from .tokens import SCOPES, HuggingFaceToken

VIEW_ANY = "hugging_face.view_huggingfacetoken"


class HuggingFaceTokenSerializer(ModelSerializer):
    """A token: its secret `token` is returned once, when it is created."""

    pulp_href = IdentityField(view_name="hugging_face/tokens-detail")
    name = serializers.CharField(max_length=255, help_text=_("What the token is for."))
    scope = serializers.ChoiceField(
        choices=SCOPES, default="read", help_text=_("'read', or 'write' to publish.")
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("When it stops working (never if null).")
    )
    user = serializers.CharField(source="user.username", read_only=True)
    hint = serializers.CharField(read_only=True, help_text=_("The secret's first characters."))
    last_used_at = serializers.DateTimeField(read_only=True)
    token = serializers.SerializerMethodField(
        help_text=_("The secret (HF_TOKEN): shown in the answer to create only.")
    )

    def get_token(self, obj) -> str | None:
        return getattr(obj, "secret", None)

    def validate_name(self, value):
        if "\0" in value:
            raise serializers.ValidationError(_("A name may not hold NUL bytes."))
        return value

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must be in the future."))
        return value

    def create(self, validated_data):
        token, secret = HuggingFaceToken.issue(self.context["request"].user, **validated_data)
        token.secret = secret
        return token

    class Meta:
        model = HuggingFaceToken
        fields = ModelSerializer.Meta.fields + (
            "name",
            "scope",
            "expires_at",
            "user",
            "hint",
            "last_used_at",
            "token",
        )


class HuggingFaceTokenViewSet(
    NamedModelViewSet,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
):
    """Hugging Face tokens Pulp issues (HF_TOKEN for publishing and guarded reads)."""

    endpoint_name = "hugging_face/tokens"
    router_lookup = "huggingfacetoken"
    queryset = HuggingFaceToken.objects.select_related("user").order_by("-pulp_created")
    serializer_class = HuggingFaceTokenSerializer
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": ["list", "retrieve", "create", "destroy"],
                "principal": "authenticated",
                "effect": "allow",
            }
        ],
        "queryset_scoping": {"function": "own_tokens"},
    }

    def own_tokens(self, qs):
        """A user's own tokens; every token for an admin."""
        user = self.request.user
        return qs if user.is_superuser or user.has_perm(VIEW_ANY) else qs.filter(user=user)

    @extend_schema(summary="Create a token", description="The secret is in this answer only.")
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
