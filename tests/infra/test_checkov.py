"""checkov over infra/: zero failed checks; a deliberate exception is an inline skip with its reason.

checkov pins many libraries, so it lives in its own virtualenv (CI: `python -m venv /tmp/checkov-venv
&& /tmp/checkov-venv/bin/pip install checkov`). Found via CHECKOV_BIN, PATH or that venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.infra.offline_tf import require_tool
from tests.infra.stack import INFRA

VENV_BIN = Path("/tmp/checkov-venv/bin/checkov")
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z0-9_]+)(:(?P<reason>.*))?")


def checkov_binary() -> str | None:
    configured = os.environ.get("CHECKOV_BIN")
    if configured:
        return configured
    project_venv = Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"
    if project_venv.exists():
        return str(project_venv)
    return shutil.which("checkov") or (str(VENV_BIN) if VENV_BIN.exists() else None)


def test_every_inline_skip_gives_a_reason() -> None:
    skips = [(path.name, match) for path in INFRA.glob("*.tf")
             for match in SKIP_COMMENT.finditer(path.read_text())]

    unexplained = [f"{name}: {match.group(0)}" for name, match in skips
                   if len((match.group("reason") or "").strip()) < 15]

    assert not unexplained, unexplained


def test_checkov_finds_nothing(tmp_path: Path) -> None:
    binary = require_tool("checkov", checkov_binary(), "make setup puts it in .venv-checkov; or set CHECKOV_BIN")
    report = tmp_path / "report"
    ran = subprocess.run(
        [binary, "--directory", str(INFRA), "--framework", "terraform", "--quiet", "--compact",
         "--skip-download", "--output", "json", "--output-file-path", str(report)],
        capture_output=True, text=True, timeout=600, check=False,
        # checkov runs in its own venv: our PYTHONPATH (make exports it) must not leak into it.
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
             "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    results_file = report / "results_json.json"
    assert results_file.exists(), f"checkov wrote no report (exit {ran.returncode}):\n{ran.stderr[-2000:]}"
    reports = json.loads(results_file.read_text())
    reports = reports if isinstance(reports, list) else [reports]

    failed = [f"{check['check_id']} {check['resource']} ({check['file_path']}:{check['file_line_range'][0]}): "
              f"{check['check_name']}"
              for item in reports for check in item.get("results", {}).get("failed_checks", [])]
    passed = sum(item.get("summary", {}).get("passed", 0) for item in reports)

    assert passed > 0, "checkov evaluated nothing: is it reading infra/?"
    assert not failed, "\n".join(failed)
