"""Hugging Face tokens Pulp issues to its users: kept only as a hash, shown once.

A client sends one as `Authorization: Bearer hf_...` (what `HF_TOKEN` holds) to publish, to read
through a content guard and for `whoami-v2`. A token Pulp did not issue is nobody's here.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from pulpcore.plugin.models import BaseModel

PREFIX = "hf_"
SCOPES = ("read", "write")
LAST_USED_EVERY = timedelta(minutes=5)  # last use is written at most this often


def signature(purpose, message):
    """This Pulp's HMAC of `message` for `purpose` (a key each, from SECRET_KEY: every host of
    one Pulp signs and checks alike)."""
    key = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def signed(purpose, message, given):
    """Whether `given` is this Pulp's signature of `message` for `purpose`."""
    return given.isascii() and hmac.compare_digest(signature(purpose, message), given)


def digest(secret):
    """What is stored of a token: its sha256 (a random secret needs no slow hash)."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


class HuggingFaceToken(BaseModel):
    """A token of one Pulp user: its name, scope (read or write), optional expiry and hash."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=255)
    scope = models.CharField(max_length=8, choices=[(s, s) for s in SCOPES])
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=16)  # the secret's first characters, to tell tokens apart
    expires_at = models.DateTimeField(null=True)
    last_used_at = models.DateTimeField(null=True)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"

    @property
    def expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @classmethod
    def issue(cls, user, name, scope, expires_at=None):
        """A new token and its secret (the only time the secret exists outside the client)."""
        secret = PREFIX + secrets.token_urlsafe(30).replace("-", "a").replace("_", "b")
        token = cls.objects.create(
            user=user,
            name=name,
            scope=scope,
            digest=digest(secret),
            hint=secret[:8],
            expires_at=expires_at,
        )
        return token, secret


def bearer(authorization):
    """The token an `Authorization` header carries, or None."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def holder(secret):
    """The live HuggingFaceToken (with its user) of a secret, or None: unknown, expired, revoked
    or of an inactive user. Call in a thread."""
    token = HuggingFaceToken.objects.select_related("user").filter(digest=digest(secret)).first()
    if token is None or token.expired or not token.user.is_active:
        return None
    if token.last_used_at is None or timezone.now() - token.last_used_at > LAST_USED_EVERY:
        HuggingFaceToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
