"""Xet access tokens: short-lived and signed (no table: any host of this Pulp checks them),
scoped to a distribution, a repo, a revision and `read` or `write`; and the
`xet-{read,write}-token` answers that hand them out with a casUrl on the origin the client used."""

import base64
import json
import time

from aiohttp import web

from pulp_hugging_face import hub
from pulp_hugging_face.xet_format import XetError

from .. import tokens

PREFIX = "xet_"
PURPOSE = "hf-xet-token"  # of this module's signatures (tokens.signature)
LIFETIME = 3600  # seconds; clients ask again (the refresh route) before it runs out


def issue(distro, repo, revision, scope):
    """(token, expiry) for `scope` on `repo` at `revision` through `distro`."""
    expires = int(time.time()) + LIFETIME
    claims = {"d": str(distro.pk), "r": repo.api_path, "v": revision, "s": scope, "e": expires}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{PREFIX}{body}.{tokens.signature(PURPOSE, body)}", expires


def claims(request, distro, scope):
    """The claims of the Xet token `request` carries, checked for `distro` and `scope`: a
    XetError 401 when it has none, a bad or expired one, 403 when it may only read."""
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not token.startswith(PREFIX):
        raise XetError("A Xet access token is needed (Authorization: Bearer xet_...).", 401)
    body, _, signature = token[len(PREFIX) :].rpartition(".")
    if not (body and token.isascii() and tokens.signed(PURPOSE, body, signature)):
        raise XetError("This Xet access token is not one this Pulp issued.", 401)
    found = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if found["e"] < time.time():
        raise XetError("This Xet access token expired: ask for a new one.", 401)
    if found["d"] != str(distro.pk):
        raise XetError("This Xet access token was issued for another distribution.", 401)
    if scope == "write" and found["s"] != "write":
        raise XetError("This Xet access token may only read: uploads need a write token.", 403)
    return found


def cas_url(request, endpoint):
    """The distribution's CAS, on the origin the client used."""
    return f"{request.scheme}://{request.host}{endpoint}/{hub.XET_CAS}"


def answer(request, endpoint, token, expires):
    """A token endpoint's answer, as the Hub gives it (JSON and headers)."""
    cas = cas_url(request, endpoint)
    headers = {
        "X-Xet-Cas-Url": cas,
        "X-Xet-Access-Token": token,
        "X-Xet-Token-Expiration": str(expires),
    }
    body = {"accessToken": token, "exp": expires, "casUrl": cas}
    return web.json_response(body, headers=headers)
