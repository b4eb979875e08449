"""Shared test set-up. The e2e fixtures start the real local stack once per session: the Firestore
emulator, the Cloud Tasks emulator and every entry point under functions-framework, plus fake
X / Graph / Slack / Google Chat / PagerDuty / webhook servers in this process."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["tests.stack_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
