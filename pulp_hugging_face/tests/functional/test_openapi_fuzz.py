"""Property-based requests against the plugin's REST API (schemathesis over Pulp's own OpenAPI
document): whatever a client sends, the answer is never a 5xx.

Requests naming an object (`{pulp_id}`) name a real one most of the time, so updates, labels,
roles, syncs and modifications reach the plugin's validation instead of a 404. What the
generated requests create is deleted afterwards.
"""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from pulp_hugging_face.pytest_plugin import ADMIN, PLUGIN_API, PulpApi, unique

from .publishing import TOKENS

KINDS = ("remotes", "repositories", "distributions")
EXAMPLES = 15  # per operation (54 operations); the same examples every run


@pytest.fixture(scope="module")
def plugin_openapi(pulp_stack):
    url = f"{pulp_stack['api']}/pulp/api/v3/docs/api.json?component=hugging_face&pk_path=1"
    return schemathesis.openapi.from_url(url)


@pytest.fixture(scope="module")
def existing(pulp_stack, fake_hub):
    """One object of each kind for the generated requests to name, and a clean-up of every
    object they created."""
    api = PulpApi(pulp_stack["api"])
    before = {kind: {o["pulp_href"] for o in api.list(kind)} for kind in KINDS}
    tokens_before = {t["pulp_href"] for t in api.get(TOKENS, limit=1000)["results"]}
    name = unique("fuzz")
    remote = api.create("remotes", name=name, url=fake_hub.url)
    repository = api.create("repositories", name=name, remote=remote["pulp_href"])
    distribution = api.create("distributions", name=name, base_path=name)
    hrefs = {"remotes": remote, "repositories": repository, "distributions": distribution}
    yield {kind: obj["pulp_href"].rstrip("/").rsplit("/", 1)[-1] for kind, obj in hrefs.items()}
    for kind in reversed(KINDS):
        for obj in api.list(kind):
            if obj["pulp_href"] not in before[kind]:
                api.request("DELETE", obj["pulp_href"])
    for token in api.get(TOKENS, limit=1000)["results"]:
        if token["pulp_href"] not in tokens_before:
            api.request("DELETE", token["pulp_href"])


def name_existing(case, existing):
    """Point a generated `{pulp_id}` or `{repository_pk}` at the real object of its kind (not
    for DELETE)."""
    parameters = case.path_parameters or {}
    if case.method.upper() == "DELETE":
        return
    if "repository_pk" in parameters:
        parameters["repository_pk"] = existing["repositories"]
    for kind in KINDS:
        if "pulp_id" in parameters and f"/{kind}/hugging_face/" in case.path:
            parameters["pulp_id"] = existing[kind]


def server_errors(operation, existing, base_url):
    """Send `EXAMPLES` generated requests to one operation; the first 5xx found, or None."""
    found = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def send(case):
        name_existing(case, existing)
        try:
            response = case.call(base_url=base_url, auth=ADMIN, timeout=30)
        except requests.exceptions.InvalidURL:
            return  # the client refuses to send it: nothing reached Pulp
        if response.status_code >= 500 and not found:
            found.append(
                f"{case.method} {response.request.url} -> {response.status_code}\n"
                f"  body sent: {response.request.body!r}\n  answer: {response.text[:1000]}"
            )

    send()
    return found[0] if found else None


def test_no_generated_request_gets_a_server_error(plugin_openapi, existing, pulp_stack):
    operations = [result.ok() for result in plugin_openapi.get_all_operations()]
    assert len(operations) >= 50
    errors = [server_errors(op, existing, pulp_stack["api"]) for op in operations]
    errors = [error for error in errors if error]
    assert not errors, "\n".join(errors)


def test_the_plugin_api_is_all_there(plugin_openapi):
    """The document the fuzzing reads names every plugin endpoint (an empty one tests nothing)."""
    paths = set(plugin_openapi.raw_schema["paths"])
    for kind in ("content", *KINDS):
        assert PLUGIN_API.format(kind) in paths
    assert TOKENS in paths
