"""Least privilege, tried as an attacker would.

Someone who takes over a public door (a bug in a webhook, a leaked PagerDuty signing secret that
lets them drive `pagerduty_webhook`) gets what that function's identity can read and do. Before,
`pagerduty_webhook` ran as the `staff` identity, which could read the X and Meta tokens, every
alert secret, and create tasks as the tasks identity. Here:

- from the evaluated Terraform (terraform itself, offline: tests/infra/offline_tf.py), each
  public door's identity can read only its own signing secret(s) and do only its own writes, and
  nothing but `deadline` can speak as the brand or page on-call;
- from the running local stack (the one the e2e suite uses), each function process holds only
  the secrets Terraform gives that function: the environment of every other function is read
  from /proc and none of its secrets is in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stack import ENTRY_POINTS, LOCAL_ONLY, secret_names
from tests.infra.grants import Access, access_by_function
from tests.infra.offline_tf import ScratchModule, require_terraform
from tests.stack_fixtures import Hub

EVERYTHING_ON: dict[str, Any] = {
    "project_id": "acme-care-prod",
    "alert_sinks": {"slack": True, "google_chat": True, "pagerduty": True, "webhook": True},
    "x_brand_user_ids": ["783214"], "meta_page_ids": ["1029384756"], "meta_ig_user_ids": ["17841400000000000"],
    "threads_user_ids": ["25893547000000001"],
    "bluesky_handle": "acme.bsky.social", "mastodon_base_url": "https://mastodon.social",
    "mastodon_account_ids": ["109000000000000001"],
    "oncall_members": ["group:oncall@example.com"],
}
SPEAK_AS_THE_BRAND = {"X_USER_ACCESS_TOKEN", "META_PAGE_ACCESS_TOKEN", "THREADS_ACCESS_TOKEN", "BLUESKY_APP_PASSWORD",
                      "MASTODON_ACCESS_TOKEN"}
# Bluesky's app password and Mastodon's token read notifications and post alike: poll, which reads
# them (only Cloud Scheduler can call it, internal ingress), holds them too; and the Threads token,
# with which poll asks whether stored Threads posts still exist (Threads sends no delete for them).
POLLED = {"BLUESKY_APP_PASSWORD", "MASTODON_ACCESS_TOKEN", "THREADS_ACCESS_TOKEN"}
PAGE_ON_CALL = {"ALERT_WEBHOOK_SECRET", "ALERT_WEBHOOK_URL", "GOOGLE_CHAT_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY",
                "SLACK_WEBHOOK_URL"}
SIGNING = {"X_CLIENT_SECRET", "X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN", "PAGERDUTY_WEBHOOK_SECRET",
           "THREADS_APP_SECRET", "THREADS_VERIFY_TOKEN"}
STAFF = {"handoff", "ack", "board"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """terraform's evaluation of a deployment with everything on, staff behind IAM and by token."""
    require_terraform()
    scratch = ScratchModule(tmp_path_factory.mktemp("stack"))
    found = {}
    for mode in ("iam", "token"):
        outcome = scratch.apply({**EVERYTHING_ON, "staff_auth": mode})
        assert outcome.ok, outcome.log
        found[mode] = outcome.output
    return found


def access(deployed: dict[str, dict[str, Any]], mode: str = "iam") -> dict[str, Access]:
    return access_by_function(deployed[mode])


def test_pagerduty_webhook_cannot_read_platform_tokens_nor_page_anyone(deployed: dict[str, Any]) -> None:
    door = access(deployed)["pagerduty_webhook"]

    assert door.invokers == {"allUsers"}  # the public door of the finding
    assert door.secrets == {"PAGERDUTY_WEBHOOK_SECRET"}
    assert not door.secrets & (SPEAK_AS_THE_BRAND | PAGE_ON_CALL | {"X_CLIENT_SECRET", "META_APP_SECRET"})
    # It marks posts and incidents acknowledged and may create tasks for ``deadline`` (which alone holds the
    # routing key) to tell PagerDuty about members' own pages; it deletes no task and reads no other secret.
    assert door.roles == {("roles/datastore.user", "project"), ("roles/cloudtasks.enqueuer", "queue"),
                          ("roles/iam.serviceAccountUser", "tasks identity")}


@pytest.mark.parametrize("mode", ["iam", "token"])
def test_every_public_door_reads_only_what_checks_its_callers(deployed: dict[str, Any], mode: str) -> None:
    doors = {name: a for name, a in access(deployed, mode).items() if "allUsers" in a.invokers}

    assert {"x_webhook", "meta_webhook", "threads_webhook", "pagerduty_webhook"} <= set(doors)
    for name, door in doors.items():
        assert door.secrets <= SIGNING | {"HILFT_STAFF_TOKEN"}, f"{name} is public and reads {door.secrets}"


@pytest.mark.parametrize("mode", ["iam", "token"])
def test_only_deadline_speaks_as_the_brand_and_only_deadline_and_sweep_page(deployed: dict[str, Any],
                                                                            mode: str) -> None:
    functions = access(deployed, mode)

    assert {name for name, a in functions.items() if a.secrets & (SPEAK_AS_THE_BRAND - POLLED)} == {"deadline"}
    assert {name for name, a in functions.items() if a.secrets & POLLED} == {"deadline", "poll"}
    assert functions["poll"].secrets == POLLED and functions["poll"].ingress == "ALLOW_INTERNAL_ONLY"
    assert {name for name, a in functions.items() if a.secrets & PAGE_ON_CALL} == {"deadline", "sweep"}


@pytest.mark.parametrize("mode", ["iam", "token"])
def test_staff_doors_hold_no_platform_token_and_no_sink_secret(deployed: dict[str, Any], mode: str) -> None:
    for name in STAFF:
        door = access(deployed, mode)[name]
        assert door.secrets == ({"HILFT_STAFF_TOKEN"} if mode == "token" else set()), name
        assert not any(role.startswith("roles/secretmanager") for role, _ in door.roles)


def process_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def test_each_running_function_holds_only_its_terraform_secrets(hub: Hub, deployed: dict[str, Any]) -> None:
    wired = deployed["token"]["locals"]["function_secrets"]  # the e2e stack: staff by token, all on
    given = {name: value for name, value in hub.stack.env.items() if name in secret_names()}
    assert len(given) >= 10, "the e2e stack should be given the secrets of every platform and sink it runs"

    for target in ENTRY_POINTS:
        env = process_environment(hub.stack.procs[target].pid)
        held = set(env) & secret_names()
        foreign = {name: value for name, value in given.items() if name not in wired[target]}

        assert held == set(wired[target]) & set(given), target
        leaked = [name for name, value in foreign.items() if any(value in seen for seen in env.values())]
        assert not leaked, f"{target}'s process carries other functions' secrets: {leaked}"


def test_the_e2e_stack_is_given_nothing_terraform_does_not_deploy(hub: Hub, deployed: dict[str, Any]) -> None:
    """A variable the fakes hand the stack but Terraform never sets would make the e2e suite pass on
    wiring production does not have (and a secret unknown to Terraform would reach every function)."""
    decided = deployed["token"]["locals"]
    # THREADS is set per function in infra/functions.tf (local.function_concurrency).
    deployable = set(decided["function_env"]) | set(decided["secrets"]) | LOCAL_ONLY | {"THREADS"}
    assert set(decided["function_concurrency"]) == set(decided["functions"]), "THREADS for every function"

    unknown = set(hub.stack.function_env()) - deployable

    assert not unknown, f"given to the local stack but not wired by infra/ (locals.tf, functions.json): {unknown}"
