The first request for a file of a commit brings the stored files of that whole commit into the
content process's memory in one query, so a warm `snapshot_download` served by a process that has
not seen the files yet costs one lookup per commit instead of several queries per file.
