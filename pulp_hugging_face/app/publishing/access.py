"""Who may publish, and `whoami-v2`: a write token of a user allowed to modify the content of
the distribution's repository (Pulp's RBAC on that repository)."""

from dataclasses import dataclass

from aiohttp import web
from asgiref.sync import sync_to_async

from pulp_hugging_face.upload_protocol import UploadError

from .. import authentication
from ..models import HuggingFaceRepository

MODIFY = "hugging_face.modify_huggingfacerepository"


@dataclass
class Publisher:
    """Who publishes (a Pulp user, through one of their tokens) into which repository."""

    user: object
    token: object
    repository: HuggingFaceRepository

    @property
    def email(self):
        return self.user.email or f"{self.user.username}@pulp"


async def publisher(request, distro):
    """The Publisher of a write request, or the Hub's 401 / 403 (UploadError) naming why not."""
    if not distro.repository_id:
        raise UploadError(
            "This distribution takes no uploads: it serves no repository, or a frozen version.",
            403,
        )
    token = await authentication.token_holder(request)
    if token.scope != "write":
        raise UploadError(
            f"The token {token.name!r} is read-only: publishing needs a write token.", 403
        )
    repository = await sync_to_async(_repository_if_allowed)(token.user, distro.repository_id)
    return Publisher(token.user, token, repository)


def _repository_if_allowed(user, repository_pk):
    repository = HuggingFaceRepository.objects.get(pk=repository_pk)
    if not (
        user.has_perm(MODIFY)
        or user.has_perm(MODIFY, repository.pulp_domain)
        or user.has_perm(MODIFY, repository)
    ):
        raise UploadError(
            f"User {user.username!r} may not publish to repository {repository.name!r}: that "
            "needs the permission to modify its content.",
            403,
        )
    return repository


async def whoami(request):
    """`GET /api/whoami-v2` as the Hub answers it for the token's user (no organizations)."""
    token = await authentication.token_holder(request)
    user = token.user
    return web.json_response(
        {
            "type": "user",
            "id": str(user.pk),
            "name": user.username,
            "fullname": user.get_full_name() or user.username,
            "email": user.email or None,
            "emailVerified": bool(user.email),
            "canPay": False,
            "isPro": False,
            "periodEnd": None,
            "avatarUrl": "",
            "orgs": [],
            "auth": {
                "type": "access_token",
                "accessToken": {
                    "displayName": token.name,
                    "role": token.scope,
                    "createdAt": token.pulp_created.isoformat(),
                },
            },
        }
    )
