"""Fixtures the unit tests share."""

import pytest

from pulp_hugging_face.app import cache
from pulp_hugging_face.app.cache.memory import Memory


@pytest.fixture
def memory(monkeypatch):
    """A fresh, listening memory in place of the process's own."""
    fresh = Memory()
    fresh.listening = True
    monkeypatch.setattr(cache, "memory", fresh)
    return fresh
