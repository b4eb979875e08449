"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """One HTTP client per test for clients talking to a fake server over loopback (a module may
    override it with a shared one)."""
    with httpx.Client(timeout=5) as client:
        yield client
