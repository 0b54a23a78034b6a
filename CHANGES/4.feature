Distributions now behave like the Hub for every client call: branches, tags and `refs/pr/N`
resolve through upstream and are remembered per remote for `metadata_ttl` (served stale when
upstream is down), metadata API answers are cached (commit-addressed ones for good), concurrent
first requests share one upstream download, pulled files land in the repository in batched
versions, and content cached through one remote is never served through another.
