Added facehugger (distribution `facehugger-lock`): a `facehugger.yaml` manifest of Hub repos,
a deterministic `facehugger.lock` compatible with `hf cache ls --revisions --format json`,
`--frozen`, `--locked`, `--upgrade` and `--dry-run`, installing into the standard HF cache from
the Hub or a Pulp distribution.
