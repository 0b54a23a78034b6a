"""Resolve manifest entries to commits and install them into the standard HF cache."""

import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils import filter_repo_objects

from .lock import is_commit
from .manifest import Entry


def hub_cache() -> Path:
    """The HF cache folder, read from the environment at call time, as `hf` does."""
    if explicit := os.environ.get("HF_HUB_CACHE"):
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    home = os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")
    return Path(home).expanduser() / "hub"


def client() -> HfApi:
    """An API client for HF_ENDPOINT (the Hub when unset)."""
    return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)


@dataclass(frozen=True)
class Planned:
    """What installing one entry at one commit fetches."""

    entry: Entry
    commit: str
    files: tuple[str, ...]
    size: int


def resolve(api: HfApi, entry: Entry) -> str:
    """The commit `entry.ref` points at now."""
    if is_commit(entry.ref):
        return entry.ref
    info = api.repo_info(entry.repo, repo_type=entry.repo_type, revision=entry.ref)
    return str(info.sha)


def _patterns(values: tuple[str, ...]) -> list[str] | None:
    return list(values) or None


def plan(api: HfApi, entry: Entry, commit: str) -> Planned:
    """The files (and bytes) of `entry` at `commit` that its include/exclude globs select."""
    tree = api.list_repo_tree(
        entry.repo, repo_type=entry.repo_type, revision=commit, recursive=True
    )
    files = [item for item in tree if isinstance(item, RepoFile)]
    chosen = list(
        filter_repo_objects(
            files,
            allow_patterns=_patterns(entry.include),
            ignore_patterns=_patterns(entry.exclude),
            key=lambda item: item.path,
        )
    )
    return Planned(
        entry, commit, tuple(sorted(f.path for f in chosen)), sum(f.size for f in chosen)
    )


def install(entry: Entry, commit: str) -> Path:
    """Download `entry` at `commit` into the HF cache and point `refs/<ref>` at it."""
    folder = snapshot_download(
        entry.repo,
        repo_type=entry.repo_type,
        revision=commit,
        allow_patterns=_patterns(entry.include),
        ignore_patterns=_patterns(entry.exclude),
        cache_dir=hub_cache(),
        endpoint=os.environ.get("HF_ENDPOINT") or None,
    )
    if not is_commit(entry.ref):
        repo_dir = hub_cache() / repo_folder_name(repo_id=entry.repo, repo_type=entry.repo_type)
        ref_file = repo_dir / "refs" / entry.ref
        ref_file.parent.mkdir(parents=True, exist_ok=True)
        ref_file.write_text(commit)
    return Path(folder)
