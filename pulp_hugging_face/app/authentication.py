"""Who asks, and in which domain: pulpcore's content authentication, when a request needs it.

pulpcore-content authenticates every request before routing it: a hop to a thread, a query for
the domain and DRF's authenticators. A Hub request needs only the domain, which each process
remembers (a domain change notification forgets it), and the user only when its distribution
has a content guard (a Bearer token this Pulp issued names the user, see `token_holder`). For the
Hub routes, `install()` puts `hub_domain` in the place of pulpcore's
middleware; the handler calls `authenticate()` when a guard, or pulpcore's own handler, asks.
"""

import logging

from aiohttp import web
from asgiref.sync import sync_to_async
from django.db.utils import DatabaseError, InterfaceError

from pulpcore.plugin.content import PathNotResolved
from pulpcore.plugin.models import Domain
from pulpcore.plugin.util import set_domain

from . import cache, tokens
from .pulpcore_internals import content_authentication, reset_db_connection

log = logging.getLogger(__name__)


def install(app, hub_handlers):
    """Answer the routes of `hub_handlers` without pulpcore's per-request authentication; every
    other route keeps it. Call before the app starts (its middlewares freeze then)."""
    pulpcore_middleware = content_authentication()
    if pulpcore_middleware not in app.middlewares:  # another pulpcore: leave its chain alone
        log.warning("pulpcore's content authentication middleware not found; Hub requests keep it.")
        return
    position = list(app.middlewares).index(pulpcore_middleware)

    @web.middleware
    async def hub_domain(request, handler):
        if request.match_info.route.handler not in hub_handlers:
            return await pulpcore_middleware(request, handler)
        name = request.match_info.get("pulp_domain", "default")
        domain = cache.domain(name)
        if domain is None:
            domain = await sync_to_async(_load_domain)(name, request.match_info.get("path", ""))
            cache.remember_domain(domain)
        set_domain(domain)
        return await handler(request)

    app.middlewares[position] = hub_domain


def _load_domain(name, path):
    for attempt in range(2):
        try:
            return Domain.objects.get(name=name)
        except Domain.DoesNotExist:
            raise PathNotResolved(path)
        except (InterfaceError, DatabaseError):
            if attempt:
                raise
            reset_db_connection()


async def authenticate(request):
    """Authenticate as pulpcore's middleware would have: `request["user"]`, `["auth"]` and
    `["drf_request"]`, for content guards and pulpcore's own handler."""

    async def nothing_more(request):
        return None

    await content_authentication()(request, nothing_more)


# -- Hugging Face tokens Pulp issued (tokens.py) ---------------------------------------------
BAD_TOKEN = "Invalid credentials in Authorization header"  # the Hub's words: clients match them
NO_TOKEN = "A token is needed here: set HF_TOKEN to a Hugging Face token this Pulp issued."


class TokenRefused(Exception):
    """No token, or one this Pulp did not issue (or expired, or revoked), where one is needed:
    the Hub's 401."""

    def __init__(self, message):
        super().__init__(message)
        self.status, self.message = 401, message


async def token_holder(request):
    """The live token a request carries (TokenRefused when it carries none or a bad one)."""
    secret = tokens.bearer(request.headers.get("Authorization"))
    if secret is None:
        raise TokenRefused(NO_TOKEN)
    token = await sync_to_async(tokens.holder)(secret)
    if token is None:
        log.info("Refused a Hugging Face token Pulp did not issue (or expired or revoked).")
        raise TokenRefused(BAD_TOKEN)
    return token


async def authenticate_guarded(request):
    """Who asks for a guarded distribution: the holder of a Bearer token Pulp issued (a bad one is
    a TokenRefused), else whoever pulpcore's authentication finds (basic auth, certificates)."""
    await authenticate(request)
    if tokens.bearer(request.headers.get("Authorization")) is None:
        return
    user = (await token_holder(request)).user
    request["drf_request"].user = user
    request["user"] = user
