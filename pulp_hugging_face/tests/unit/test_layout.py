"""The app's modules read top-down: a request's way from route to storage, each module importing
only modules below it, none of them long (docs/index.md lists the same order)."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
# From the route down to the models; docs/index.md's layout table follows this order.
ORDER = [
    "content",
    "replica",
    "tasks",
    "modelresource",
    "handler",
    "xet",
    "publishing",
    "api",
    "authentication",
    "heartbeat",
    "downloads",
    "follow",
    "transfer",
    "sinks",
    "sources",
    "peers",
    "inflight",
    "resolver",
    "remembered",
    "pinned",
    "eviction",
    "freeing",
    "repository_adds",
    "retention",
    "xet_indexing",
    "responses",
    "usage",
    "stored_files",
    "storage",
    "room",
    "upstream",
    "cache",
    "models",
    "tokens",
    "xet_index",
    "usage_records",
    "hub_downloader",
    "pulpcore_internals",
]
MAX_LINES = 270
MAX_FUNCTION_LINES = 60


def sources(module):
    path = APP / module
    return sorted(path.glob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def app_imports(module):
    """The app modules `module` imports (relative imports only: that is how the app imports)."""
    found = set()
    for source in sources(module):
        package_level = 1 if source.parent == APP else 2
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.ImportFrom) or node.level != package_level:
                continue
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found & set(ORDER)


@pytest.mark.parametrize("module", ORDER)
def test_modules_import_only_modules_below_them(module):
    above = set(ORDER[: ORDER.index(module)])
    assert not app_imports(module) & above, f"{module} imports a module above it"


@pytest.mark.parametrize("source", sorted(APP.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_long(source):
    if "migrations" not in source.parts:
        assert len(source.read_text().splitlines()) <= MAX_LINES


def test_every_app_module_has_its_place():
    rest = {"serializers", "viewsets", "token_views", "retention_views", "access_policies"}
    skip = {"__init__", "settings", "migrations"} | rest
    present = {p.stem for p in APP.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert present - skip == set(ORDER)


@pytest.mark.parametrize("source", sorted(APP.rglob("*.py")), ids=lambda p: p.name)
def test_no_function_is_long(source):
    """One job per function: none of the app's longer than MAX_FUNCTION_LINES."""
    if "migrations" in source.parts:
        return
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{node.name} has {length} lines"


def test_the_docs_layout_table_lists_the_modules_in_this_order():
    index = (APP.parents[1] / "docs" / "index.md").read_text()
    listed = []
    for row in index.splitlines():
        if row.startswith("| `app/"):
            name = row.split("`")[1].removeprefix("app/").removesuffix("/").removesuffix(".py")
            if name in ORDER:
                listed.append(name)
    assert listed == ORDER
