"""Tokens: the client's own token never reaches upstream."""

import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import GatedRepoError

from pulp_hugging_face.pytest_plugin import unique


def test_client_token_is_not_forwarded(hf_distribution, fake_hub, tmp_path):
    repo_id = f"org/{unique('gated')}"
    fake_hub.add_repo(repo_id, gated=True).commit({"w.bin": b"w"})
    fake_hub.valid_tokens.add("hf_user_token")
    fake_hub.gated_access.setdefault("hf_user_token", set()).add(("model", repo_id))
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            repo_id, "w.bin", cache_dir=tmp_path, endpoint=endpoint, token="hf_user_token"
        )
    assert fake_hub.requests and all(r["authorization"] is None for r in fake_hub.requests)


def test_a_removed_token_forgets_what_it_unlocked(pulp_api, hf_distribution, fake_hub):
    """Metadata remembered with a token is not served once the remote has no token (nor after
    its URL or headers change): it was the old upstream's answer to the old credentials."""
    from huggingface_hub import HfApi

    repo_id = f"org/{unique('gated')}"
    fake_hub.add_repo(repo_id, gated=True).commit({"w.bin": b"w"})
    fake_hub.gated_access.setdefault("hf_valid_token", set()).add(("model", repo_id))
    made = hf_distribution(hf_token="hf_valid_token", metadata_ttl=3600)
    api = HfApi(endpoint=made["endpoint"], token=False)
    assert api.model_info(repo_id).sha  # remembered for an hour
    task = pulp_api.request("PATCH", made["remote"]["pulp_href"], json={"hf_token": None})
    pulp_api.wait_task(task["task"])
    with pytest.raises(GatedRepoError):
        api.model_info(repo_id)
