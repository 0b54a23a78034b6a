`pulp hugging-face`: a pulp-cli plugin (`cli/`: `pulp-glue-hugging-face` and
`pulp-cli-hugging-face`, installed by `make run`, which also configures pulp-cli for the local
Pulp). Remotes with `--token`/`--token-file` (never shown, redacted from `-vvv` logs) and what
`sync` pins from `--includes` JSON, `--manifest facehugger.yaml` or `--lock facehugger.lock`;
repositories with `sync` showing its progress, versions, content and roles; distributions whose
`create` prints the `HF_ENDPOINT` to export, with `--version` to freeze one; `content` lists with
Hub filters (`--repo-id`, `--repo-type`, `--commit`, `--path`, `--ref`); `import` runs a Pulp
import (pulp-cli's own `exporter`/`export` commands export). Replication uses the same glue.
`--header` values are not echoed to stderr as pulp-cli 0.41's own option does.
