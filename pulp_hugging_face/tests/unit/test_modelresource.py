"""Import/export resources: every content type has one, and a commit's info survives the trip."""

import pytest

from pulp_hugging_face.app.modelresource import IMPORT_ORDER, InfoWidget
from pulp_hugging_face.app.models import HuggingFaceRepository


def test_every_content_type_and_the_repository_are_exported():
    models = [resource._meta.model for resource in IMPORT_ORDER]
    assert models == HuggingFaceRepository.CONTENT_TYPES + [HuggingFaceRepository]


@pytest.mark.parametrize("info", [{}, {"sha": "a" * 40, "tags": ["x"], "gated": False}])
def test_a_commit_info_round_trips(info):
    widget = InfoWidget()
    assert widget.clean(widget.render(info)) == info


def test_a_missing_info_is_empty():
    assert InfoWidget().clean(None) == {} and InfoWidget().clean("") == {}
