"""Properties of the Hub URL grammar: any input parses or raises HubPathError, never anything
else, and whatever parses comes back the same from its own URL."""

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulp_hugging_face import hub

# Pieces a hostile or confused client might put together: Hub words, traversal, encodings.
WORDS = st.sampled_from(
    [
        "api",
        "models",
        "datasets",
        "spaces",
        "kernels",
        "resolve",
        "tree",
        "revision",
        "paths-info",
        "refs",
        "main",
        "refs%2Fpr%2F1",
        "org",
        "gpt2",
        "..",
        ".",
        "%2e%2e",
        "",
        "%00",
        "%0D",
        "%09",
        "%7F",
        "%ff",
        "%",
        "a b",
        "\\",
        "http:",
        "%2F",
        "x" * 300,
        "0123456789abcdef0123456789abcdef01234567",
        "config.json",
        "\ud800",
        "\x7f",
        "\t",
    ]
)
SEGMENT = st.one_of(WORDS, st.text(max_size=12))
RAW_PATH = st.lists(SEGMENT, max_size=8).map("/".join)


@settings(max_examples=3000, deadline=None)
@given(RAW_PATH)
def test_any_path_parses_or_raises_the_grammar_error(raw):
    try:
        parsed = hub.parse_url_path(raw)
    except hub.HubPathError:
        return
    assert hub.parse_url_path(parsed.url()) == parsed


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(["model", "dataset", "space"]),
    st.sampled_from(["gpt2", "org/name", "a.b-c_d/e"]),
    st.text(min_size=1, max_size=40),
    st.text(min_size=1, max_size=60),
)
def test_built_resolve_paths_round_trip_or_are_refused(repo_type, repo_id, revision, path):
    raw = f"{hub.URL_PREFIXES[repo_type]}{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"
    try:
        parsed = hub.parse_url_path(raw)
    except hub.HubPathError:
        return
    assert parsed == hub.ResolvePath(hub.Repo(repo_type, repo_id), revision, path)
    assert hub.parse_url_path(parsed.url()) == parsed


CONTROL = [chr(c) for c in range(0x20)] + ["\x7f"]


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_never_reach_upstream(char):
    encoded = quote(char, safe="")
    for raw in (
        f"org/m/resolve/ma{encoded}in/config.json",
        f"org/m/resolve/main/conf{encoded}ig.json",
        f"org/m{encoded}/resolve/main/config.json",
        f"api/models/org/m/revision/ma{encoded}in",
        f"api/models/org/m/tree/main/sub{encoded}dir",
    ):
        with pytest.raises(hub.HubPathError):
            hub.parse_url_path(raw)


def test_unencodable_text_is_refused_not_crashed_on():
    with pytest.raises(hub.HubPathError):
        hub.parse_url_path("org/m/resolve/main/\ud800.json")
