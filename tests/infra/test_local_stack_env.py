"""The local stack gives each function the environment Terraform gives it (no emulator needed).

``make dev``, the demo and the e2e suite start every function through ``LocalStack``; if it gave
every function every secret, a function that lacks a secret in production would work locally
and no test could notice. Here terraform evaluates the real locals offline and the stack's
per-function environment is compared with them, name by name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from stack import ENTRY_POINTS, LOCAL_ONLY, LocalStack, secret_names
from tests.infra.offline_tf import ScratchModule, require_terraform

EVERYTHING_ON: dict[str, Any] = {
    "project_id": "acme-care-prod",
    "alert_sinks": {"slack": True, "google_chat": True, "pagerduty": True, "webhook": True},
    "x_brand_user_ids": ["783214"], "meta_page_ids": ["1029384756"], "meta_ig_user_ids": ["17841400000000000"],
    "threads_user_ids": ["25893547000000001"],
    "bluesky_handle": "acme.bsky.social", "mastodon_base_url": "https://mastodon.social",
    "mastodon_account_ids": ["109000000000000001"],
    "oncall_members": ["group:oncall@example.com"],
}


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Terraform's decisions for a deployment with everything on, staff in both modes."""
    require_terraform()
    scratch = ScratchModule(tmp_path_factory.mktemp("stack"))
    decided = {}
    for mode in ("iam", "token"):
        outcome = scratch.apply({**EVERYTHING_ON, "staff_auth": mode})
        assert outcome.ok, outcome.log
        decided[mode] = outcome.output["locals"]
    return decided


def every_variable(terraform_env: dict[str, str]) -> dict[str, str]:
    """What a caller hands the stack when everything is configured: each secret and each plain variable."""
    return {**{name: f"value-of-{name.lower()}" for name in secret_names()},
            **{name: f"plain-{name.lower()}" for name in terraform_env}}


@pytest.mark.parametrize("mode", ["iam", "token"])
def test_each_function_gets_exactly_the_secrets_terraform_wires(terraform: dict[str, Any], mode: str) -> None:
    decided = terraform[mode]
    given = every_variable(decided["function_env"])
    if mode == "iam":
        given.pop("HILFT_STAFF_TOKEN")  # not created, so not given, when staff use Cloud Run IAM
    stack = LocalStack(env=given)

    for target in ENTRY_POINTS:
        env = stack.function_env(target)
        assert set(env) & secret_names() == set(decided["function_secrets"][target]), target


def test_every_plain_variable_reaches_every_function(terraform: dict[str, Any]) -> None:
    decided = terraform["iam"]
    stack = LocalStack(env=every_variable(decided["function_env"]))

    for target in ENTRY_POINTS:
        env = stack.function_env(target)
        plain = set(env) - secret_names()
        # THREADS and local.function_own_env: per function (infra/functions.tf)
        deployed = set(decided["function_env"]) | set(decided["function_own_env"][target]) | {"THREADS"}
        assert deployed <= plain, target
        assert plain <= deployed | LOCAL_ONLY, f"{target}: not what Terraform deploys"


@pytest.mark.parametrize("mode", ["iam", "token"])
def test_signature_free_tokens_are_trusted_exactly_where_cloud_run_iam_guards_the_function(
        terraform: dict[str, Any], mode: str) -> None:
    """Cloud Run removes the signature of the ID token it verified (SIGNATURE_REMOVED_BY_GOOGLE);
    only a function no public member may invoke can trust such a token, and never a local one."""
    decided = terraform[mode]
    guarded = {name for name, function in decided["functions"].items() if "allUsers" not in function["invokers"]}
    expected = {"deadline", "sweep", "poll"} | ({"board", "ack", "handoff"} if mode == "iam" else set())

    assert guarded == expected
    for target in ENTRY_POINTS:
        own = decided["function_own_env"][target]
        assert own["HILFT_CLOUD_RUN_IAM"] == ("true" if target in guarded else "false"), target
        assert LocalStack().function_env(target)["HILFT_CLOUD_RUN_IAM"] == "false", target


# The gcloud CLI's OAuth client: `gcloud auth print-identity-token` (a person's account) mints for it.
GCLOUD_CLIENT_AUDIENCE = "32555940559.apps.googleusercontent.com"


def test_staff_audiences_are_the_functions_own_urls(terraform: dict[str, Any]) -> None:
    """A staff token's audience is checked against the deployed URLs (run.app and cloudfunctions.net
    forms) and gcloud's client (staff_token_audiences), never against the request's Host header."""
    decided = terraform["iam"]
    stack = LocalStack()
    for target in ENTRY_POINTS:
        audiences = decided["function_own_env"][target]["HILFT_STAFF_AUDIENCES"]
        local = stack.function_env(target)["HILFT_STAFF_AUDIENCES"]
        if target in {"board", "ack", "handoff"}:
            name = decided["function_names"][target]
            assert audiences.split(",") == [decided["function_urls"][target],
                                            f"https://europe-west3-acme-care-prod.cloudfunctions.net/{name}",
                                            GCLOUD_CLIENT_AUDIENCE]
            assert local == stack.url(target)
        else:
            assert audiences == local == "", target


def test_the_terraform_secret_catalogue_is_the_stacks(terraform: dict[str, Any]) -> None:
    assert secret_names() == set(terraform["token"]["secrets"])


def test_a_secret_in_the_callers_shell_reaches_no_function(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`make dev` from a shell with a token exported must not hand that token to every function."""
    monkeypatch.setenv("X_USER_ACCESS_TOKEN", "exported-in-the-shell")
    monkeypatch.setenv("HILFT_SOMETHING_PLAIN", "kept")
    stack = LocalStack(log_dir=tmp_path)
    proc = stack._spawn("probe", [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
                        {"X_CLIENT_SECRET": "given"})
    try:
        proc.wait(timeout=30)
    finally:
        stack.stop()
    seen = json.loads((tmp_path / "probe.log").read_text())

    assert "X_USER_ACCESS_TOKEN" not in seen
    assert seen["X_CLIENT_SECRET"] == "given"
    assert seen["HILFT_SOMETHING_PLAIN"] == "kept"


def test_each_function_serves_as_many_requests_at_once_as_terraform_lets_an_instance(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """functions-framework's own default is 4 threads per core of the machine it runs on; Terraform
    sets THREADS and max_instance_request_concurrency from var.function_concurrency, so does the stack."""
    from tests.infra.stack import load_stack

    variables = load_stack().variables
    default = str(variables["function_concurrency"]["default"])
    deadline = str(variables["deadline_concurrency"]["default"])
    assert "THREADS" not in load_stack().locals["function_env"]  # per function: infra/functions.tf
    for target in ENTRY_POINTS:
        assert LocalStack().function_env(target)["THREADS"] == (deadline if target == "deadline" else default), target
