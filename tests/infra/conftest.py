"""Infra checks that could not run say so at the end of the run, not only as an "s" among dots."""

from __future__ import annotations

import pytest

from tests.infra.offline_tf import SKIPPED_TOOLS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for reason in SKIPPED_TOOLS.values():
        terminalreporter.write_line(f"infra checks skipped: {reason}", yellow=True, bold=True)
