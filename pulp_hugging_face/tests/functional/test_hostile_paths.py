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


@pytest.fixture(scope="class")
def endpoint(hf_remote_factory, hf_repository_factory, hf_distribution_factory):
    """One distribution with a remote and a repository for the whole table."""
    distribution = hf_distribution_factory(
        remote=hf_remote_factory(), repository=hf_repository_factory()
    )
    return distribution["base_url"].rstrip("/")


class TestHostilePaths:
    @pytest.mark.parametrize("method", ["GET", "HEAD"])
    @pytest.mark.parametrize("path", HOSTILE)
    def test_a_clear_4xx_and_nothing_upstream(self, endpoint, fake_hub, pulp_stack, path, method):
        fake_hub.reset_log()
        content_log = pulp_stack["state"] / "log" / "content.log"
        logged_before = content_log.stat().st_size
        status, _, body = raw_request(f"{endpoint}/{path}", method)
        assert status in (400, 404), (status, body)
        assert fake_hub.requests == [] and fake_hub.cdn_requests == []
        assert b"Traceback" not in content_log.read_bytes()[logged_before:]


def test_a_nul_byte_in_the_first_request_is_a_400(hf_distribution, fake_hub):
    """Before any distribution is remembered: PostgreSQL refuses NUL in the base path lookup."""
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    status, headers, _ = raw_request(f"{endpoint}/org/m/resolve/main%00/config.json")
    assert status == 400 and headers.get("X-Error-Message")
    assert fake_hub.requests == []
