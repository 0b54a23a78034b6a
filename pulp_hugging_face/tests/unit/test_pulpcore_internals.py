"""The contract with pulpcore's private names (app/pulpcore_internals.py): each still there."""

import importlib.metadata

from pulp_hugging_face.app import pulpcore_internals


def test_every_private_name_the_plugin_uses_is_in_the_installed_pulpcore():
    gone = pulpcore_internals.missing()
    version = importlib.metadata.version("pulpcore")
    assert not gone, (
        f"pulpcore {version} no longer has {', '.join(gone)}; pulpcore_internals.py was written "
        f"for pulpcore {pulpcore_internals.WRITTEN_FOR}: adapt it there"
    )


def test_the_contract_names_what_the_door_uses():
    source = open(pulpcore_internals.__file__).read()
    for _module, path in pulpcore_internals.CONTRACT:
        assert path.rsplit(".", 1)[-1] in source.split("CONTRACT = (", 1)[1].split(")\n", 1)[1]


def test_a_name_gone_is_named(monkeypatch):
    monkeypatch.setattr(
        pulpcore_internals, "CONTRACT", (("pulpcore.content.handler", "Handler._no_such_name"),)
    )
    assert pulpcore_internals.missing() == ["pulpcore.content.handler.Handler._no_such_name"]


def test_a_remote_session_is_pulpcores(monkeypatch):
    import asyncio

    from pulp_hugging_face.app.models import HuggingFaceRemote

    remote = HuggingFaceRemote(name="x", url="https://hub.example", headers=[{"X-Team": "ml"}])

    async def build():
        session = pulpcore_internals.remote_session(remote)
        try:
            return dict(session.headers)
        finally:
            await session.close()

    assert asyncio.run(build()).get("X-Team") == "ml"
