"""The `facehugger` command."""

import argparse
import os
import sys
from pathlib import Path

from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
from huggingface_hub.utils import disable_progress_bars

from . import __version__, lock, sync
from .manifest import FacehuggerError, load

LOCK_NAME = "facehugger.lock"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="facehugger",
        description="Resolve facehugger.yaml to exact commits, download them into the "
        "Hugging Face cache and write facehugger.lock beside the manifest. Honours "
        "HF_ENDPOINT, HF_TOKEN and HF_HOME.",
    )
    p.add_argument("manifest", nargs="?", default="facehugger.yaml", help="the manifest")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--frozen",
        action="store_true",
        help="resolve nothing: install exactly the lock's commits (the lock must cover "
        "every manifest entry); works offline when they are cached",
    )
    mode.add_argument(
        "--locked",
        action="store_true",
        help="fail instead of changing facehugger.lock",
    )
    mode.add_argument(
        "--upgrade",
        action="store_true",
        help="resolve every ref again, even those the lock already pins",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be installed; write nothing"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars, no output")
    p.add_argument("--version", action="version", version=f"facehugger {__version__}")
    return p


def run(args: argparse.Namespace) -> int:
    manifest_path = Path(args.manifest)
    entries = load(manifest_path)
    lock_path = manifest_path.parent / LOCK_NAME
    say = (lambda text: None) if args.quiet else print
    if args.quiet:
        disable_progress_bars()
    api = sync.client()

    existing = lock.read(lock_path) if args.frozen or lock_path.exists() else []
    pairs = []
    for entry in entries:
        pinned = lock.find(existing, entry) if not args.upgrade else None
        if pinned is not None:
            pairs.append((entry, pinned.revision))
        elif args.frozen:
            raise FacehuggerError(
                f"{lock_path}: no entry for {entry.repo_type} {entry.repo}@{entry.ref} "
                "(run facehugger without --frozen to lock it)"
            )
        else:
            pairs.append((entry, sync.resolve(api, entry)))

    new_text = lock.render(lock.build(pairs))
    old_text = lock_path.read_text() if lock_path.exists() else None
    if args.locked and new_text != old_text:
        raise FacehuggerError(f"{lock_path} is out of date; run facehugger to update it")

    if args.dry_run:
        for entry, commit in pairs:
            planned = sync.plan(api, entry, commit)
            print(
                f"{entry.repo_type} {entry.repo}@{entry.ref} -> {commit}: "
                f"{len(planned.files)} files, {planned.size} bytes"
            )
            for name in planned.files:
                print(f"  {name}")
        if not args.frozen and new_text != old_text:
            print(f"would write {lock_path}")
        return 0

    for entry, commit in pairs:
        folder = sync.install(entry, commit)
        say(f"{entry.repo_type} {entry.repo}@{entry.ref} -> {commit}: {folder}")
    if not args.frozen and new_text != old_text:
        lock_path.write_text(new_text)
        say(f"wrote {lock_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (FacehuggerError, HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        message = message or type(exc).__name__
        print(f"facehugger: error: {message}", file=sys.stderr)
        return 1
    except Exception as exc:  # network libraries' own errors: no traceback unless asked
        if os.environ.get("FACEHUGGER_DEBUG") == "1":
            raise
        print(f"facehugger: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
