"""The CLI's own helpers, without a server: sizes, progress lines, token redaction, bodies."""

import logging

import click
import pytest

from pulpcore.cli.hugging_face import RedactToken
from pulpcore.cli.hugging_face.progress import ProgressPrinter, amount, report_line
from pulpcore.cli.hugging_face.remote import remote_body


@pytest.mark.parametrize(
    "value, code, shown",
    [
        (None, "sync.downloading.bytes", "?"),
        (12, "sync.listing.files", "12"),
        (1023, "sync.downloading.bytes", "1023 B"),
        (1536, "sync.downloading.bytes", "1.5 KiB"),
        (5 * 1024**3, "sync.downloading.bytes", "5.0 GiB"),
        (3 * 1024**5, "sync.downloading.bytes", "3072.0 TiB"),
    ],
)
def test_amounts(value: int | None, code: str, shown: str) -> None:
    assert amount(value, code) == shown


def test_report_line_names_done_and_total() -> None:
    report = {"message": "Resolving repos", "code": "sync.resolving.repos", "done": 1, "total": 2}
    assert report_line(report) == "Resolving repos: 1 of 2"
    assert report_line({**report, "total": None}) == "Resolving repos: 1"


def test_progress_off_a_terminal_prints_changes_at_most_every_interval(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = ProgressPrinter(interval=3600)
    report = {"message": "Listing files", "code": "sync.listing.files", "done": 1, "total": None}
    printer.update([report])
    printer.update([{**report, "done": 2}])  # too soon: not printed
    printer.update([{**report, "done": 3}], final=True)  # the last state always is
    assert capsys.readouterr().err.splitlines() == ["Listing files: 1", "Listing files: 3"]


def test_progress_on_a_terminal_rewrites_a_line_while_its_report_changes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = ProgressPrinter()
    printer.tty = True
    files = {"message": "Listing files", "code": "sync.listing.files", "done": 1, "total": None}
    size = {"message": "Downloading bytes", "code": "sync.downloading.bytes", "done": 0}
    printer.update([files])
    printer.update([{**files, "done": 2}])
    printer.update([{**files, "done": 2}, size])
    printer.update([{**files, "done": 2}, {**size, "done": 2048}], final=True)
    assert capsys.readouterr().err == (
        "Listing files: 1\r\033[KListing files: 2\nDownloading bytes: 0 B"
        "\r\033[KDownloading bytes: 2.0 KiB\n"
    )


@pytest.mark.parametrize(
    "logged",
    [
        '\'{"hf_token": "hf_abc", "name": "r"}\'',
        "{'name': 'r', 'hf_token': 'hf_abc'}",
        '\'{"hf_token": "hf_a\\\\"bc"}\'',
    ],
)
def test_token_redaction(logged: str) -> None:
    record = logging.LogRecord("pulp_glue.openapi", logging.DEBUG, "", 0, "%s", (logged,), None)
    assert RedactToken().filter(record)
    assert "hf_a" not in record.getMessage() and "***" in record.getMessage()


def test_remote_body_maps_token_and_one_includes_source() -> None:
    body = remote_body(
        {
            "token": None,
            "token_file": "hf_x",
            "includes": None,
            "manifest": "models: []",
            "lock": None,
        }
    )
    assert body == {"hf_token": "hf_x", "includes": "models: []"}
    with pytest.raises(click.UsageError):
        remote_body(
            {"token": "a", "token_file": "b", "includes": None, "manifest": None, "lock": None}
        )


def test_every_private_pulp_glue_name_the_plugin_uses_is_there() -> None:
    import importlib.metadata

    from pulp_glue.hugging_face import glue_internals

    gone = glue_internals.missing()
    version = importlib.metadata.version("pulp-glue")
    assert not gone, f"pulp-glue {version} no longer has {gone}: adapt glue_internals.py"


def test_a_context_is_filed_under_its_model_name() -> None:
    from pulp_glue.common.context import PulpEntityContext
    from pulp_glue.hugging_face.context import PulpHuggingFaceContentContext

    registry = PulpEntityContext.PRN_TYPE_REGISTRY
    assert registry["hugging_face:huggingfacecontent"] is PulpHuggingFaceContentContext
    assert "hugging_face:hugging-face" not in registry
