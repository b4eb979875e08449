from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.google_keys import serve_google_keys


@pytest.fixture(scope="module")
def google_keys() -> Iterator[str]:
    """Google's JWKS endpoint on loopback (tests/security/google_keys.py)."""
    yield from serve_google_keys()
