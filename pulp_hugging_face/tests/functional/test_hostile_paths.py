"""Hostile paths under a Hugging Face distribution: a clear 4xx, never a 500, nothing upstream."""

import pytest

from pulp_hugging_face.pytest_plugin import raw_request

HOSTILE = [
    # Not Hub-shaped: these reach pulpcore's stock handler, which asks the remote for a URL.
    "../../../../etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "http:%2F%2F127.0.0.1:1%2Finfo",
    "http://127.0.0.1:1/info",
    "//etc/passwd",
    "config.json",
    "org/m/blob/main/config.json",
    # Hub-shaped, with control bytes that could split or forge an upstream request.
    "org/m/resolve/ma%0Din/config.json",
    "org/m/resolve/ma%0Ain/config.json",
    "org/m/resolve/ma%09in/config.json",
    "org/m/resolve/ma%7Fin/config.json",
    "org/m/resolve/main%00/config.json",
    "org/m/resolve/main/conf%01ig.json",
    "org/m%0A/resolve/main/config.json",
    "org/m/resolve/0123456789abcdef0123456789abcdef01234567%0A/config.json",
    "api/models/org/m/revision/ma%0Din",
    "api/models/org/m/tree/main/a%0D%0AX-Injected:%201",
]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_get_a_clear_4xx_and_nothing_upstream(
    hf_distribution, fake_hub, pulp_stack, path, method
):
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    content_log = pulp_stack["state"] / "log" / "content.log"
    logged_before = content_log.stat().st_size
    status, _, body = raw_request(f"{endpoint}/{path}", method)
    assert status in (400, 404), (status, body)
    assert fake_hub.requests == [] and fake_hub.cdn_requests == []
    assert b"Traceback" not in content_log.read_bytes()[logged_before:]
