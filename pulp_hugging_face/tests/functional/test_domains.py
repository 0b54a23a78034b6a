"""With Pulp domains on: each domain is its own world of remotes, distributions and content.

Runs a second live stack (its own ports, database and state folder) with DOMAIN_ENABLED.
"""

import os
import time
from pathlib import Path

import pytest
import requests
from hf_fake_hub import HubFile
from huggingface_hub import hf_hub_download

from pulp_hugging_face.pytest_plugin import PulpApi, unique

from .counting_proxy import CountingProxy
from .test_xet import with_xet_hash


@pytest.fixture(scope="module")
def domain_api(pulp_domains_stack):
    api = PulpApi(pulp_domains_stack.api)
    yield api
    api.cleanup()


def file_system_domain(api, name, folder):
    """A new domain `name` storing its files under `folder`: its name."""
    domain = api.request(
        "POST",
        "/pulp/default/api/v3/domains/",
        json={
            "name": name,
            "storage_class": "pulpcore.app.models.storage.FileSystem",
            "storage_settings": {"location": str(folder)},
        },
    )
    api.created.append(domain["pulp_href"])
    return name


def create_in(api, domain, kind, **body):
    result = api.request(
        "POST", f"/pulp/{domain}/api/v3/{kind}/hugging_face/hugging-face/", json=body
    )
    if "task" in result:
        result = api.get(api.wait_task(result["task"])["created_resources"][0])
    api.created.append(result["pulp_href"])
    return result


def stored_units(api, domain, repo_id, timeout=30):
    """The domain's units of `repo_id`, once there are some (a file is stored once its client
    has all the bytes)."""
    deadline = time.time() + timeout
    while True:
        units = api.get(
            f"/pulp/{domain}/api/v3/content/hugging_face/hugging-face/", repo_id=repo_id
        )
        if units["count"] or time.time() > deadline:
            return units
        time.sleep(0.2)


def test_domains_are_isolated(domain_api, fake_hub, tmp_path):
    api = domain_api
    name = file_system_domain(api, unique("team"), tmp_path / "team-media")
    repo_id = f"org/{unique('dom')}"
    commit = fake_hub.add_repo(repo_id).commit({"w.bin": HubFile(b"team bytes", lfs=True)})

    endpoints = {}
    for where in (name, "default"):
        remote = create_in(api, where, "remotes", name=unique("r"), url=fake_hub.url)
        dist = create_in(
            api,
            where,
            "distributions",
            name=unique("d"),
            base_path="hf",
            remote=remote["pulp_href"],
        )
        endpoints[where] = dist["base_url"].rstrip("/")
    assert endpoints[name].endswith(f"/pulp/content/{name}/hf")

    path = hf_hub_download(repo_id, "w.bin", cache_dir=tmp_path / "a", endpoint=endpoints[name])
    assert Path(path).read_bytes() == b"team bytes"
    assert Path(path).parent.name == commit
    units = stored_units(api, name, repo_id)
    assert units["results"][0]["artifact"].startswith(f"/pulp/{name}/api/v3/artifacts/")

    # The same base path in another domain does not see the team's cache.
    fake_hub.reset_log()
    url = f"{endpoints['default']}/{repo_id}/resolve/{commit}/w.bin"
    assert requests.get(url, timeout=30).content == b"team bytes"
    assert fake_hub.body_fetches("w.bin"), "served from another domain's cache"
    team = units
    default = stored_units(api, "default", repo_id)
    assert team["count"] == 1 and default["count"] == 1
    assert team["results"][0]["pulp_href"] != default["results"][0]["pulp_href"]


def test_a_domain_with_its_own_storage_serves_its_files_by_xet(domain_api, fake_hub, tmp_path):
    api = domain_api
    name = file_system_domain(api, unique("xet"), tmp_path / "xet-media")
    repo_id, data = f"org/{unique('domxet')}", os.urandom((64 << 20) + 300_000)
    fake_hub.add_repo(repo_id).commit({"w.bin": HubFile(data, lfs=True, xet=True)})
    remote = create_in(api, name, "remotes", name=unique("r"), url=fake_hub.url)
    dist = create_in(
        api, name, "distributions", name=unique("d"), base_path="hf", remote=remote["pulp_href"]
    )
    endpoint = dist["base_url"].rstrip("/")
    hf_hub_download(repo_id, "w.bin", cache_dir=tmp_path / "a", endpoint=endpoint)
    with_xet_hash(endpoint, repo_id, "w.bin")  # indexed in its domain
    with CountingProxy(endpoint) as proxy:
        path = hf_hub_download(repo_id, "w.bin", cache_dir=tmp_path / "b", endpoint=proxy.endpoint)
        assert proxy.bytes_down("/xet-cas/v1/fetch/") >= len(data)  # read from its own storage
    assert Path(path).read_bytes() == data
