"""Shared fixtures. The e2e fixtures start the real local stack once per session: the Firestore
emulator, the Cloud Tasks emulator and every entry point under functions-framework, plus fake
X / Graph / Slack / Google Chat / PagerDuty / webhook servers in this process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["tests.stack_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def load_fixture(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


@pytest.fixture
def fixture_bytes() -> Callable[[str, str], bytes]:
    return load_fixture
