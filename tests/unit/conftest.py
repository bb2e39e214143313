"""Unit tests: pure logic and parsers, no network, no AWS (not even moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopdesk import clock


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Tests that move the clock leave it where they found it."""
    clock.set_offset(0)
    yield
    clock.set_offset(0)
