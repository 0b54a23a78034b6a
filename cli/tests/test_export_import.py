"""Pulp export and import with the CLI: `pulp exporter`/`pulp export` (pulp-cli's own) and
`pulp hugging-face import` (pulp-cli has no command that runs an import)."""

import json
import shutil

from pulp_hugging_face.pytest_plugin import unique


def test_export_then_import_with_the_cli(pulp_cli, pulp_stack, cli_names, cli_pinned, fake_hub):
    model = fake_hub.add_repo(f"org/{unique('cliexport')}")
    model.commit({"config.json": b'{"x": 1}', "a/b.txt": b"b"})
    _, source = cli_pinned([{"repo": model.repo_id}])
    target = cli_names("repository")
    target_href = pulp_cli.hf(f"repository create --name {target}").json()["pulp_href"]

    exporter, importer = unique("cli-exporter"), unique("cli-importer")
    export_dir = pulp_stack["state"] / "export" / exporter
    import_dir = pulp_stack["state"] / "import" / exporter
    try:
        pulp_cli.ok(
            "exporter",
            "pulp",
            "create",
            "--name",
            exporter,
            "--path",
            export_dir,
            "--repository",
            f"hugging_face:hugging-face:{source}",
        )
        pulp_cli.ok("export", "pulp", "run", "--exporter", exporter)
        shutil.copytree(export_dir, import_dir)
        toc = next(import_dir.glob("*-toc.json"))

        pulp_cli.ok("importer", "pulp", "create", "--name", importer, "--repo-map", source, target)
        missing = pulp_cli.hf_fails(f"import --importer {importer}")
        assert "Give --toc or --path" in missing.stderr
        done = pulp_cli.hf(f"import --importer {importer} --toc", toc)
        assert done.json() == [f"{target_href}versions/1/"]

        def content(name, kind):
            found = pulp_cli.hf(
                f"repository content --type {kind} list --repository {name} --limit 100"
            ).json()
            keep = ("repo_id", "commit", "path_in_repo", "etag", "size", "name", "info")
            return sorted(json.dumps({k: u[k] for k in keep if k in u}) for u in found)

        for kind in ("file", "ref", "commit"):
            assert content(target, kind) == content(source, kind) != []
    finally:
        pulp_cli("importer", "pulp", "destroy", "--name", importer)
        pulp_cli("exporter", "pulp", "destroy", "--name", exporter)
        shutil.rmtree(export_dir, ignore_errors=True)
        shutil.rmtree(import_dir, ignore_errors=True)
