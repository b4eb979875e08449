"""`terraform fmt` (works offline) and `terraform validate` (needs the providers: skipped offline,
also under CI, and named with its reason in the end-of-run summary)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.infra.offline_tf import require_terraform, skip_visibly, terraform_env
from tests.infra.stack import INFRA, ROOT


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_terraform(), *args], cwd=cwd, capture_output=True, text=True, env=terraform_env(),
                          timeout=timeout, check=False)


def test_terraform_files_are_formatted() -> None:
    checked = run("fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA), cwd=INFRA.parent)

    assert checked.returncode == 0, f"run `terraform fmt -recursive infra/`:\n{checked.stdout}{checked.stderr}"


def test_terraform_validate(tmp_path: Path) -> None:
    """Validates a copy, so `terraform init` leaves nothing behind in infra/."""
    for path in [*INFRA.glob("*.tf"), INFRA / "functions.json"]:
        shutil.copy(path, tmp_path / path.name)
    initialised = run("init", "-backend=false", "-input=false", "-no-color", cwd=tmp_path)
    if initialised.returncode != 0:
        # Offline (no provider registry) validate cannot run; not a CI failure, but never silent.
        reason = " ".join((initialised.stderr or initialised.stdout).split())[:200]
        skip_visibly("terraform validate", f"terraform init cannot fetch the providers (offline?): {reason}")

    validated = run("validate", "-no-color", cwd=tmp_path)

    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_an_offline_validate_is_named_in_the_summary_and_does_not_fail_ci() -> None:
    """Run the validate check as CI does (CI=true): it passes, or it is skipped and the end of the
    run says which check did not run and why."""
    require_terraform()
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"{Path(__file__).relative_to(ROOT)}::test_terraform_validate"],
                         cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, text=True, timeout=300,
                         check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    if "skipped" in ran.stdout.splitlines()[-1]:
        assert "infra checks skipped: terraform validate: terraform init cannot fetch the providers" in ran.stdout
