Pin, pre-warm and carry to air-gapped sites: a remote's `includes` (facehugger.yaml entries, a
whole manifest or a facehugger.lock) say what `POST {repository}sync/` pins into one immutable
repository version (files, refs and commit infos; `immediate`, `on_demand` or `streamed`;
`mirror`; progress in repos, files and bytes). A distribution of a repository or a version
serves resolve, HEAD and the metadata API from the version alone, with no upstream; with a
remote too, pinned refs come first. Pulp export/import and Pulp replication carry the versions
to other Pulps.
