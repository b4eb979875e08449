"""Evaluate the stack's variables and locals with the real terraform binary, offline.

infra/locals.tf holds every decision of the stack and refers to no resource except the project
number, so a scratch module made of variables.tf + locals.tf + functions.json (project number
stubbed) needs no provider: ``terraform init`` works without a registry. Each resource's ``for_each`` expression is
replayed on a ``terraform_data`` resource (built into terraform), which proves the keys are unique
and known at plan time. Variable validation blocks run for real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra.stack import FUNCTIONS, INFRA, expression, load_stack

PROJECT_NUMBER = "123456789012"
PROJECT_NUMBER_LINE = "  project_number = data.google_project.this.number\n"

TERRAFORM = shutil.which("terraform")
SKIPPED_TOOLS: dict[str, str] = {}  # tool or check -> why it did not run (tests/infra/conftest.py prints it)


def require_tool(tool: str, path: str | None, install: str) -> str:
    """The tool's path; without it, a failure in CI (CI=true) and a visible skip elsewhere.

    An infra check that silently skips proves nothing: CI must run them all.
    """
    if path is not None:
        return path
    reason = f"{tool} is not installed ({install})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: CI runs every infra check, so a missing tool is a failure", pytrace=False)
    SKIPPED_TOOLS[tool] = reason
    pytest.skip(reason)


def skip_visibly(check: str, reason: str) -> None:
    """Skip a check that cannot run here for a reason other than a missing tool (no network for
    Terraform's providers): a skip in CI too, named with its reason in the end-of-run summary."""
    SKIPPED_TOOLS[check] = f"{check}: {reason}"
    pytest.skip(f"{check}: {reason}")


def require_terraform() -> str:
    return require_tool("terraform", TERRAFORM, "Terraform >= 1.6: https://developer.hashicorp.com/terraform/install")


def terraform_env() -> dict[str, str]:
    return {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
            "TF_CLI_CONFIG_FILE": os.devnull}


@dataclass
class Outcome:
    ok: bool
    output: dict[str, Any]
    log: str


class ScratchModule:
    """A copy of the stack's decisions in ``root/infra`` (with ``root/functions`` linked in)."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "infra"
        self.dir.mkdir(parents=True)
        (root / "functions").symlink_to(FUNCTIONS, target_is_directory=True)
        shutil.copy(INFRA / "variables.tf", self.dir / "variables.tf")
        shutil.copy(INFRA / "functions.json", self.dir / "functions.json")
        locals_tf = (INFRA / "locals.tf").read_text()
        if PROJECT_NUMBER_LINE not in locals_tf:
            raise AssertionError("infra/locals.tf must read the project number in exactly this line: "
                                 + PROJECT_NUMBER_LINE.strip())
        (self.dir / "locals.tf").write_text(
            locals_tf.replace(PROJECT_NUMBER_LINE, f'  project_number = "{PROJECT_NUMBER}"\n'))
        (self.dir / "replay.tf").write_text(self._replay_for_each())
        self._run("init", "-backend=false")

    @staticmethod
    def _replay_for_each() -> str:
        stack = load_stack()
        blocks = ['output "locals" {\n  value = {\n']
        blocks += [f"    {name} = local.{name}\n" for name in sorted(stack.locals)]
        blocks.append("  }\n}\n")
        for (rtype, name), body in sorted(stack.resources.items()):
            for_each = expression(body.get("for_each"))
            if for_each is None:
                continue
            if any(ref in for_each for ref in ("google_", "data.")):
                raise AssertionError(f"{rtype}.{name}: for_each must depend on variables and locals only, "
                                     f"so its keys are known at plan time: {for_each}")
            blocks.append(f'resource "terraform_data" "{rtype}__{name}" {{\n'
                          f"  for_each = {for_each}\n  input    = each.key\n}}\n")
        blocks.append('output "for_each_keys" {\n  value = {\n')
        for (rtype, name), body in sorted(stack.resources.items()):
            if expression(body.get("for_each")) is not None:
                blocks.append(f"    {rtype}__{name} = sort(keys(terraform_data.{rtype}__{name}))\n")
        blocks.append("  }\n}\n")
        return "".join(blocks)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([require_terraform(), f"-chdir={self.dir}", *args], capture_output=True, text=True,
                              env=terraform_env(), timeout=120, check=False)

    def apply(self, tfvars: dict[str, Any]) -> Outcome:
        """``terraform apply`` the scratch module (only terraform_data) with these variables."""
        (self.dir / "case.tfvars.json").write_text(json.dumps(tfvars))
        for leftover in self.dir.glob("terraform.tfstate*"):
            leftover.unlink()
        applied = self._run("apply", "-auto-approve", "-lock=false", "-no-color", "-var-file=case.tfvars.json")
        log = applied.stdout + applied.stderr
        if applied.returncode != 0:
            return Outcome(False, {}, log)
        shown = self._run("output", "-json")
        assert shown.returncode == 0, shown.stderr
        return Outcome(True, {name: item["value"] for name, item in json.loads(shown.stdout).items()}, log)
