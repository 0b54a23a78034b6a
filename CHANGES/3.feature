Added the plugin foundation: Hugging Face content, remote (with an encrypted, write-only `hf_token`
and `metadata_ttl`), repository and distribution models and REST API; pull-through of Hub files and
metadata API calls so `HF_ENDPOINT=<distribution base_url>` works with `hf download` and
`snapshot_download()`; `make run` / `make stop` for a local Pulp and `make test` against real
services and a fake Hub.
