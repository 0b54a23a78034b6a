Publishing: a distribution that serves a repository is a private Hub the stock tools publish to
with the Hub's own protocol (`hf repos create`, `hf upload`, `upload_folder`, `create_commit`
with deletions, `create_pr`, `parent_commit`, branches, tags, `list_repo_commits`,
transformers' and datasets' `push_to_hub`; huggingface_hub 2.x and 0.36 on the LFS path). Each
change lands as one repository version in a task; published commits carry git's own blob, tree
and commit ids; a published repo is answered from the repository alone and travels with
export/import. Pulp issues Hugging Face tokens (`/pulp/api/v3/hugging_face/tokens/`,
`pulp hugging-face token`), kept as hashes, accepted as `Authorization: Bearer` for publishing,
guarded reads and `/api/whoami-v2` (`hf auth whoami`, `hf auth login`).
