"""The Hub's metadata API through a distribution: model info, trees, paths-info, pagination,
and answers addressed by commit cached for good."""

import requests
from huggingface_hub import HfApi


def test_metadata_api_answers(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution()["endpoint"]
    api = HfApi(endpoint=endpoint)
    commit = repo.refs["main"]
    info = api.model_info(repo.repo_id)
    assert info.sha == commit
    assert sorted(s.rfilename for s in info.siblings) == sorted(repo.commits[commit])
    assert api.model_info(repo.repo_id, revision=commit).sha == commit
    tree = list(api.list_repo_tree(repo.repo_id, recursive=True))
    assert sorted(e.path for e in tree if e.__class__.__name__ == "RepoFile") == sorted(
        repo.commits[commit]
    )
    top = list(api.list_repo_tree(repo.repo_id, path_in_repo="sub"))
    assert [e.path for e in top] == ["sub/dir"]
    infos = api.get_paths_info(repo.repo_id, ["config.json", "weights.bin"], revision=commit)
    assert sorted(i.path for i in infos) == ["config.json", "weights.bin"]
    lfs = next(i for i in infos if i.path == "weights.bin")
    assert lfs.lfs.sha256 == repo.commits[commit]["weights.bin"].etag


def test_tree_pagination_and_xet_keys(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution()["endpoint"]
    fake_hub.reset_log()
    fake_hub.page_size = 1
    try:
        url = f"{endpoint}/api/models/{repo.repo_id}/tree/main?recursive=true&expand=false"
        pages, entries = 0, []
        while url:
            response = requests.get(url, timeout=30)
            assert response.status_code == 200
            assert "xetHash" not in response.text
            entries += response.json()
            pages += 1
            url = response.links.get("next", {}).get("url")
            if url:
                assert url.startswith(endpoint + "/api/models/"), url
                assert fake_hub.url not in url
    finally:
        fake_hub.page_size = 50
    assert pages > 3
    assert any(e["path"] == "xet.bin" for e in entries)
    forwarded = [r["query"] for r in fake_hub.requests if "/tree/" in r["path"]]
    assert all(q.get("recursive") == "true" and q.get("expand") == "false" for q in forwarded)


def test_commit_addressed_answers_are_cached_for_good(hf_distribution, repo, fake_hub):
    endpoint = hf_distribution(metadata_ttl=0)["endpoint"]
    commit = repo.refs["main"]
    url = f"{endpoint}/api/models/{repo.repo_id}/tree/{commit}?recursive=true"
    first = requests.get(url, timeout=30).json()
    fake_hub.reset_log()
    assert requests.get(url, timeout=30).json() == first
    assert fake_hub.requests == []
    branch = f"{endpoint}/api/models/{repo.repo_id}/tree/main?recursive=true"
    requests.get(branch, timeout=30)
    requests.get(branch, timeout=30)
    assert len([r for r in fake_hub.requests if "/tree/main" in r["path"]]) == 2  # ttl=0
