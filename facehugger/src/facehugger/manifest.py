"""`facehugger.yaml`: the repos a project needs."""

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_TYPES = ("model", "dataset", "space")
ENTRY_KEYS = {"repo", "ref", "include", "exclude", "repo_type"}


class FacehuggerError(Exception):
    """An expected failure: reported as one line, exit code 1."""


@dataclass(frozen=True)
class Entry:
    """One repo of the manifest."""

    repo: str
    ref: str = "main"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    repo_type: str = "model"


def _patterns(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise FacehuggerError(f"{where}: must be a glob or a non-empty list of globs")


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FacehuggerError(f"{where}: must be a non-empty string")
    return value


def entry(raw: object, where: str) -> Entry:
    """Check one manifest entry (a mapping); errors name `where` and the field."""
    if not isinstance(raw, dict):
        raise FacehuggerError(f"{where}: must be a mapping with at least `repo`")
    unknown = sorted(set(raw) - ENTRY_KEYS, key=str)
    if unknown:
        raise FacehuggerError(f"{where}: unknown key {unknown[0]!r}")
    if "repo" not in raw:
        raise FacehuggerError(f"{where}: `repo` is required")
    repo_type = raw.get("repo_type", "model")
    if repo_type not in REPO_TYPES:
        raise FacehuggerError(f"{where}.repo_type: must be one of {', '.join(REPO_TYPES)}")
    return Entry(
        repo=_text(raw["repo"], f"{where}.repo"),
        ref=_text(raw.get("ref", "main"), f"{where}.ref"),
        include=_patterns(raw["include"], f"{where}.include") if "include" in raw else (),
        exclude=_patterns(raw["exclude"], f"{where}.exclude") if "exclude" in raw else (),
        repo_type=repo_type,
    )


def load(path: Path) -> list[Entry]:
    """Read and check a manifest; errors name the file, the entry number and the field."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FacehuggerError(f"{path}: no such manifest") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> list[Entry]:
    """Check a manifest's text; errors name `source`, the entry number and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FacehuggerError(f"{source}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or set(data) != {"models"}:
        raise FacehuggerError(f"{source}: expected a mapping with one key, `models`")
    models = data["models"]
    if not isinstance(models, list) or not models:
        raise FacehuggerError(f"{source}: `models` must be a non-empty list")
    return [entry(raw, f"{source}: models[{n}]") for n, raw in enumerate(models, start=1)]
