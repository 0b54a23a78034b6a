"""`pulp hugging-face distribution`: the HF_ENDPOINT it prints serves clients; --version pins."""

import time
from pathlib import Path

from huggingface_hub import snapshot_download

from pulp_hugging_face.pytest_plugin import unique
from pulp_hugging_face.tests.functional import test_retention as retention


def test_distribution_prints_an_endpoint_that_serves_the_pinned_version(
    pulp_cli, cli_names, cli_pinned, fake_hub, tmp_path
):
    model = fake_hub.add_repo(f"org/{unique('clidist')}")
    model.commit({"config.json": b'{"v": 1}'})
    first = model.refs["main"]
    remote, repository = cli_pinned([{"repo": model.repo_id}])
    name = cli_names("distribution")
    model.commit({"config.json": b'{"v": 2}'})
    pulp_cli.hf(f"repository sync --name {repository}")

    base_path = unique("cli-hf")
    created = pulp_cli.hf(
        f"distribution create --name {name} --base-path {base_path}"
        f" --repository {repository} --remote {remote}"
    )
    distribution = created.json()
    endpoint = distribution["base_url"].rstrip("/")
    assert endpoint.endswith(f"/pulp/content/{base_path}")
    assert created.stderr.strip().splitlines()[-1] == f"export HF_ENDPOINT={endpoint}"
    assert distribution["repository"] and distribution["remote"]

    def snapshot():
        fake_hub.fail_with = 503  # only Pulp answers
        try:
            path = snapshot_download(
                model.repo_id, cache_dir=tmp_path / unique("c"), endpoint=endpoint
            )
        finally:
            fake_hub.fail_with = None
        return Path(path).name, (Path(path) / "config.json").read_bytes()

    assert snapshot() == (model.refs["main"], b'{"v": 2}')

    # Freeze the distribution on version 1: the first commit is served, with the Hub down.
    pulp_cli.hf(f"distribution update --name {name} --version 1")
    frozen = pulp_cli.hf(f"distribution show --name {name}").json()
    assert frozen["repository"] is None
    assert frozen["repository_version"].endswith("/versions/1/")
    assert snapshot() == (first, b'{"v": 1}')

    # Back to the latest version.
    pulp_cli.hf(f"distribution update --name {name} --repository {repository}")
    latest = pulp_cli.hf(f"distribution show --name {name}").json()
    assert latest["repository_version"] is None and latest["repository"]
    assert snapshot() == (model.refs["main"], b'{"v": 2}')

    # Pull-through only: no repository.
    pulp_cli.hf(f"distribution update --name {name} --repository ''")
    assert pulp_cli.hf(f"distribution show --name {name}").json()["repository"] is None

    by_path = pulp_cli.hf(f"distribution list --base-path {base_path}").json()
    assert [d["name"] for d in by_path] == [name]
    pulp_cli.hf(f"distribution destroy --name {name}")
    assert pulp_cli.hf_fails(f"distribution show --name {name}")


def test_distribution_errors(pulp_cli, cli_names):
    name = cli_names("distribution")
    no_repo = pulp_cli.hf_fails(
        f"distribution create --name {name} --base-path {unique('p')} --version 1"
    )
    assert "--version needs --repository" in no_repo.stderr
    unknown = pulp_cli.hf_fails(
        f"distribution create --name {name} --base-path {unique('p')} --repository nope"
    )
    assert "Could not find hugging face repository" in unknown.stderr
    pulp_cli.hf(f"distribution create --name {name} --base-path {name}")
    clash = pulp_cli.hf_fails(f"distribution create --name {unique('d')} --base-path {name}")
    assert "base_path" in clash.stderr
    bad_path = pulp_cli.hf_fails(f"distribution update --name {name} --base-path", "a b/../c")
    assert "base_path" in bad_path.stderr or "Error" in bad_path.stderr


def test_cache_limits_eviction_and_stats(pulp_cli, cli_names, fake_hub):
    """Limits in units, `repository evict` with its outcome, `distribution stats`."""
    repository, remote, name = (cli_names(k) for k in ("repository", "remote", "distribution"))
    created = pulp_cli.hf(
        f"repository create --name {repository} --cache-max-bytes 1.5GiB --cache-max-idle 30d"
    ).json()
    assert (created["cache_max_bytes"], created["cache_max_idle"]) == (3 << 29, 30 * 86400)
    pulp_cli.hf(f"repository update --name {repository} --cache-max-idle none")
    assert pulp_cli.hf(f"repository show --name {repository}").json()["cache_max_idle"] is None
    refused = pulp_cli.hf_fails(f"repository update --name {repository} --cache-max-bytes lots")
    assert "'lots' is not a size" in refused.stderr

    pulp_cli.hf(f"remote create --name {remote} --url {fake_hub.url}")
    endpoint = (
        pulp_cli.hf(
            f"distribution create --name {name} --base-path {unique('cli-cache')}"
            f" --repository {repository} --remote {remote}"
        )
        .json()["base_url"]
        .rstrip("/")
    )
    repo, commit = retention.hub_files(fake_hub, "w.bin")
    retention.fetch(endpoint, repo, commit, "w.bin")
    retention.fetch(endpoint, repo, commit, "w.bin")
    deadline = time.time() + 30
    while (
        pulp_cli.hf(f"repository show --name {repository}").json()["cache_usage"][
            "pulled_through_files"
        ]
        != 1
    ):
        assert time.time() < deadline
        time.sleep(0.3)
    pulp_cli.hf(f"repository update --name {repository} --cache-max-bytes 0")
    evicted = pulp_cli.hf(f"repository evict --name {repository}")
    assert evicted.stderr.strip().endswith(f"Evicted 1 files (97.7 KiB) from '{repository}'.")
    stats = pulp_cli.hf(f"distribution stats --name {name}").json()
    assert stats["requests"] == 2 and (stats["from_upstream"], stats["from_storage"]) == (1, 1)
    assert (stats["bytes_sent"], stats["bytes_fetched"]) == (2 * retention.SIZE, retention.SIZE)
    assert (stats["evicted_files"], stats["repository"]) == (1, repository)
