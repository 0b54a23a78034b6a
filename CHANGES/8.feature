Content apps now drop only the remembered entries a change concerns (a distribution, remote,
repository, content guard, domain or deleted file) instead of everything on every stored file,
and prune remembered metadata answers (`HF_METADATA_RETENTION`, 30 days) and idle single-flight
files (`HF_INFLIGHT_RETENTION`, one hour).
