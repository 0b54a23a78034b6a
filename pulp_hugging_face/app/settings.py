"""Plugin defaults; override them in the Pulp settings file or as `PULP_<NAME>` variables."""

# Seconds a remembered revision or metadata API answer is kept (also as a stale fallback while
# the upstream Hub is down) before it is pruned. Pinned repository versions are never pruned.
HF_METADATA_RETENTION = 30 * 24 * 3600

# Seconds an idle single-flight lock file, or a part file nobody writes any more, is kept.
HF_INFLIGHT_RETENTION = 3600

# Seconds between two prunings by a content-app process.
HF_HOUSEKEEPING_INTERVAL = 3600

# This content app's own address as the other hosts' content apps reach it (e.g.
# "http://10.0.0.5:24816"). When set, a download one host leads is followed by the others over
# HTTP instead of fetched upstream again (see peers.py). None: each host downloads on its own.
HF_PEER_ADDRESS = None
