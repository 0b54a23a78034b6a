from aiohttp import web

from pulpcore.content import authentication as pulp_authentication

from pulp_hugging_face.app import authentication


async def hub_route(request):
    return web.Response()


async def other_route(request):
    return web.Response()


def test_only_the_hub_routes_skip_pulpcores_authentication():
    app = web.Application(middlewares=[pulp_authentication.guid, pulp_authentication.authenticate])
    authentication.install(app, (hub_route,))
    middlewares = list(app.middlewares)
    assert middlewares[0] is pulp_authentication.guid
    assert pulp_authentication.authenticate not in middlewares
    assert len(middlewares) == 2


def test_without_pulpcores_middleware_the_chain_is_left_alone():
    app = web.Application(middlewares=[pulp_authentication.guid])
    authentication.install(app, (hub_route,))
    assert list(app.middlewares) == [pulp_authentication.guid]
