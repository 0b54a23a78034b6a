"""`pulp hugging-face`: remotes, repositories, distributions, content and tokens of
pulp_hugging_face."""

import logging
import re
import typing as t

import click
from pulp_cli.generic import pulp_group

from pulpcore.cli.hugging_face.content import content
from pulpcore.cli.hugging_face.distribution import distribution
from pulpcore.cli.hugging_face.importing import import_export
from pulpcore.cli.hugging_face.remote import remote
from pulpcore.cli.hugging_face.repository import repository
from pulpcore.cli.hugging_face.token import token

__version__ = "0.1.0.dev0"

# `pulp -vvv` logs request bodies: keep a remote's Hub token out of them.
TOKEN_IN_BODY = re.compile(r"""(["']hf_token["']\s*:\s*)(["']).*?\2(?=\s*[,}])""")


class RedactToken(logging.Filter):
    """Replace the value of `hf_token` in logged request bodies with `***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_BODY.sub(r"\1\2***\2", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@pulp_group(name="hugging-face")
def hugging_face_group() -> None:
    """Hugging Face Hub remotes, repositories, distributions and content."""


def mount(main: click.Group, **kwargs: t.Any) -> None:
    for command in (content, distribution, import_export, remote, repository, token):
        hugging_face_group.add_command(command)
    main.add_command(hugging_face_group)
    logging.getLogger("pulp_glue.openapi").addFilter(RedactToken())
