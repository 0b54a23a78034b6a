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

# Speak Xet (huggingface.co/docs/xet): hand out Xet tokens, take Xet uploads (what `hf upload`
# does whenever hf_xet is installed) and serve files uploaded through Xet to Xet clients. False:
# the Xet endpoints answer 404, uploads need HF_HUB_DISABLE_XET=1 on the client (hf_xet has no
# fallback of its own) and every download goes over plain HTTP.
HF_XET = True

# Seconds a xorb's staged bytes are kept when no shard placed them in files (a client that
# uploaded xorbs and never finished); pruned by the content apps' housekeeping.
HF_XET_STAGED_RETENTION = 24 * 3600

# Give stored LFS files Pulp got otherwise (sync, pull-through, LFS uploads, import) Xet data, so
# Xet clients read them through the reconstruction API: a worker chunks each one the first time
# it is served (about 11 s a GiB of one worker's core; an index of ~0.06 % of its size is kept,
# no second copy). False: such files keep being served over plain HTTP only.
HF_XET_INDEX_STORED = True

# ... only files of at least this many bytes: a smaller file is one xorb, fetched in one piece
# either way, and a Xet read of it costs the client about 40 ms more than a GET (a token, a
# reconstruction, a fetch: measured in make bench).
HF_XET_INDEX_MIN_SIZE = 64 << 20

# Seconds between two writes of a content process's usage figures and last-served times (one
# batch each; an eviction also asks for one). A restart loses at most this much of them.
HF_USAGE_FLUSH_INTERVAL = 10

# Seconds between two looks for files idle longer than their repository's `cache_max_idle`
# (by the content apps' housekeeping: an eviction task per repository that has some).
HF_CACHE_EVICT_INTERVAL = 600

# Seconds an eviction waits for the content processes' figures (what they are sending now)
# before it picks what to evict.
HF_CACHE_FLUSH_WAIT = 5

# The retention of the repository Pulp creates to hold what a remote-only distribution stores
# (bytes, seconds idle; None: unbounded, kept forever). Change it on that repository afterwards.
HF_CACHE_DEFAULT_MAX_BYTES = None
HF_CACHE_DEFAULT_MAX_IDLE = 30 * 24 * 3600
