"""The stack's decisions evaluated by terraform itself, offline (see offline_tf.py).

These catch what a static read cannot: a for_each with duplicate or unknown keys, a validation
block that lets a bad value through or rejects a good one, wiring that depends on variables.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.grants import GRANTING_RESOURCES, Access, access_by_function, identities_with_grants
from tests.infra.offline_tf import PROJECT_NUMBER, ScratchModule, require_terraform
from tests.infra.stack import INFRA

MINIMAL: dict[str, Any] = {
    "project_id": "acme-care-prod",
    "alert_sinks": {"slack": True},
    "x_brand_user_ids": ["783214"],
    "oncall_members": ["group:oncall@example.com", "user:lena@example.com"],
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> ScratchModule:
    require_terraform()
    return ScratchModule(tmp_path_factory.mktemp("stack"))


def evaluate(scratch: ScratchModule, **overrides: Any) -> dict[str, Any]:
    outcome = scratch.apply({**MINIMAL, **overrides})
    assert outcome.ok, outcome.log
    return outcome.output


def rejection(scratch: ScratchModule, **overrides: Any) -> str:
    outcome = scratch.apply({**MINIMAL, **overrides})
    assert not outcome.ok, f"terraform accepted {overrides}"
    return outcome.log


def test_every_for_each_has_unique_keys_known_at_plan_time(scratch: ScratchModule) -> None:
    everything_on = {"slack": True, "google_chat": True, "pagerduty": True, "webhook": True}
    keys = evaluate(scratch, alert_sinks=everything_on, meta_page_ids=["1"])["for_each_keys"]

    assert keys["google_cloudfunctions2_function__entry_point"] == sorted(
        ["x_webhook", "meta_webhook", "threads_webhook", "deadline", "sweep", "handoff", "ack", "board",
         "pagerduty_webhook", "poll"])
    assert len(keys["google_secret_manager_secret__managed"]) == 12
    assert len(keys["google_firestore_index__composite"]) == len(scratch_locals(scratch)["composite_indexes"])


def scratch_locals(scratch: ScratchModule, **overrides: Any) -> dict[str, Any]:
    return evaluate(scratch, **overrides)["locals"]


def invokers_by_function(decisions: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for binding in decisions["invoker_bindings"]:
        found.setdefault(binding["entry_point"], set()).add(binding["member"])
    return found


def test_invokers_public_only_on_webhooks_and_oidc_identities_exact(scratch: ScratchModule) -> None:
    decisions = scratch_locals(scratch)
    emails = decisions["service_account_emails"]

    invokers = invokers_by_function(decisions)

    assert invokers["x_webhook"] == {"allUsers"}
    assert invokers["meta_webhook"] == {"allUsers"}
    assert invokers["deadline"] == {f"serviceAccount:{emails['tasks']}"}
    assert invokers["sweep"] == {f"serviceAccount:{emails['scheduler']}"}
    for staff_function in ("handoff", "ack", "board"):
        assert invokers[staff_function] == set(MINIMAL["oncall_members"])


def test_without_oncall_members_staff_functions_have_no_invoker_binding(scratch: ScratchModule) -> None:
    invokers = invokers_by_function(scratch_locals(scratch, oncall_members=[]))

    assert not {"handoff", "ack", "board"} & invokers.keys()


def test_the_poll_job_exists_only_when_a_polled_channel_is_on(scratch: ScratchModule) -> None:
    job = "google_cloud_scheduler_job__poll"

    assert evaluate(scratch)["for_each_keys"][job] == []
    assert evaluate(scratch, bluesky_handle="acme.bsky.social")["for_each_keys"][job] == ["poll"]
    assert evaluate(scratch, mastodon_base_url="https://mastodon.social")["for_each_keys"][job] == ["poll"]


def test_only_enabled_platforms_and_sinks_get_secrets(scratch: ScratchModule) -> None:
    decisions = scratch_locals(scratch, alert_sinks={"pagerduty": True}, x_brand_user_ids=[],
                               meta_page_ids=["101"])

    assert set(decisions["enabled_secrets"]) == {
        "PAGERDUTY_ROUTING_KEY", "PAGERDUTY_WEBHOOK_SECRET", "META_APP_SECRET", "META_PAGE_ACCESS_TOKEN",
        "META_VERIFY_TOKEN"}
    wired = decisions["function_secrets"]
    assert wired["x_webhook"] == []
    assert wired["meta_webhook"] == ["META_APP_SECRET", "META_VERIFY_TOKEN"]
    assert wired["deadline"] == ["META_APP_SECRET", "META_PAGE_ACCESS_TOKEN", "PAGERDUTY_ROUTING_KEY"]
    assert wired["sweep"] == ["PAGERDUTY_ROUTING_KEY"]
    assert wired["board"] == []
    assert wired["pagerduty_webhook"] == ["PAGERDUTY_WEBHOOK_SECRET"]


def test_secret_access_follows_wiring_exactly(scratch: ScratchModule) -> None:
    output = evaluate(scratch, alert_sinks={"slack": True, "webhook": True}, meta_ig_user_ids=["7"])
    wired = output["locals"]["function_secrets"]

    for name, access in access_by_function(output).items():
        assert access.secrets == set(wired[name]), name
    assert not identities_with_grants(output) & {"tasks", "scheduler"}  # callers only, never readers


EVERYTHING_ON: dict[str, Any] = {
    "alert_sinks": {"slack": True, "google_chat": True, "pagerduty": True, "webhook": True},
    "x_brand_user_ids": ["783214"], "meta_page_ids": ["1029384756"], "meta_ig_user_ids": ["17841400000000000"],
    "threads_user_ids": ["25893547000000001"],
    "bluesky_handle": "acme.bsky.social", "mastodon_base_url": "https://mastodon.social",
    "mastodon_account_ids": ["109000000000000001"],
}
ALERT_SECRETS = {"ALERT_WEBHOOK_SECRET", "ALERT_WEBHOOK_URL", "GOOGLE_CHAT_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY",
                 "SLACK_WEBHOOK_URL"}
FIRESTORE = ("roles/datastore.user", "project")
ENQUEUE = {("roles/cloudtasks.enqueuer", "queue"), ("roles/iam.serviceAccountUser", "tasks identity")}
CANCEL = ("roles/cloudtasks.taskDeleter", "queue")

# The whole answer to "who can read what and do what", everything enabled, staff behind IAM.
EXPECTED_ACCESS: dict[str, tuple[set[str], set[tuple[str, str]]]] = {
    "x_webhook": ({"X_CLIENT_SECRET", "X_CONSUMER_SECRET"}, {FIRESTORE, *ENQUEUE, CANCEL}),
    "meta_webhook": ({"META_APP_SECRET", "META_VERIFY_TOKEN"}, {FIRESTORE, *ENQUEUE, CANCEL}),
    "threads_webhook": ({"THREADS_APP_SECRET", "THREADS_VERIFY_TOKEN"}, {FIRESTORE, *ENQUEUE, CANCEL}),
    # enqueues: acknowledging an incident acknowledges its posts' own PagerDuty incidents (deadline sends)
    "pagerduty_webhook": ({"PAGERDUTY_WEBHOOK_SECRET"}, {FIRESTORE, *ENQUEUE}),
    "deadline": (ALERT_SECRETS | {"META_APP_SECRET", "META_PAGE_ACCESS_TOKEN", "X_USER_ACCESS_TOKEN",
                                  "THREADS_ACCESS_TOKEN", "BLUESKY_APP_PASSWORD", "MASTODON_ACCESS_TOKEN"},
                 {FIRESTORE, *ENQUEUE}),
    "sweep": (ALERT_SECRETS, {FIRESTORE, *ENQUEUE}),
    "poll": ({"BLUESKY_APP_PASSWORD", "MASTODON_ACCESS_TOKEN", "THREADS_ACCESS_TOKEN"}, {FIRESTORE, *ENQUEUE, CANCEL}),
    "handoff": (set(), {FIRESTORE, *ENQUEUE}),
    "ack": (set(), {FIRESTORE, *ENQUEUE}),
    "board": (set(), {FIRESTORE, *ENQUEUE}),
}


def test_every_function_identity_reads_exactly_its_secrets_and_holds_exactly_its_roles(
        scratch: ScratchModule) -> None:
    output = evaluate(scratch, **EVERYTHING_ON)

    access = access_by_function(output)

    assert set(access) == set(EXPECTED_ACCESS)
    for name, (secrets, roles) in EXPECTED_ACCESS.items():
        assert access[name].secrets == secrets, name
        assert access[name].roles == roles, name


def test_no_two_functions_share_an_identity(scratch: ScratchModule) -> None:
    output = evaluate(scratch, **EVERYTHING_ON)
    identities = [access.identity for access in access_by_function(output).values()]

    assert len(set(identities)) == len(identities) == len(EXPECTED_ACCESS)
    assert identities_with_grants(output) <= set(identities) | {"build"}


def test_every_granting_resource_is_read_by_the_access_table(scratch: ScratchModule) -> None:
    keys = evaluate(scratch, **EVERYTHING_ON)["for_each_keys"]
    iam_resources = {name for name in keys if "_iam_" in name}

    assert iam_resources == GRANTING_RESOURCES


def test_staff_token_mode_gives_only_the_staff_functions_the_token(scratch: ScratchModule) -> None:
    output = evaluate(scratch, **EVERYTHING_ON, staff_auth="token")
    access = access_by_function(output)

    for name, (secrets, roles) in EXPECTED_ACCESS.items():
        staff = name in {"handoff", "ack", "board"}
        assert access[name].secrets == (secrets | {"HILFT_STAFF_TOKEN"} if staff else secrets), name
        assert access[name].roles == roles, name
        if staff:
            assert access[name].invokers == {"allUsers"}, name
    assert output["locals"]["function_env"]["HILFT_STAFF_AUTH"] == "token"


def test_only_google_services_reach_deadline_sweep_and_poll(scratch: ScratchModule) -> None:
    ingress = {name: access.ingress for name, access in access_by_function(evaluate(scratch)).items()}

    assert ingress.pop("deadline") == ingress.pop("sweep") == ingress.pop("poll") == "ALLOW_INTERNAL_ONLY"
    assert set(ingress.values()) == {"ALLOW_ALL"}


# -- the table in infra/README.md ---------------------------------------------------------------

def invoked_by(access: Access, oncall: list[str], emails: dict[str, str]) -> str:
    members = access.invokers
    if members == {"allUsers"}:
        return "`allUsers`"
    if members == set(oncall):
        return "`oncall_members`"
    for caller in ("tasks", "scheduler"):
        if members == {f"serviceAccount:{emails[caller]}"}:
            return f"the `{caller}` identity (OIDC)"
    raise AssertionError(f"no words for invokers {members}")


def readme_row(name: str, iam: Access, token: Access, oncall: list[str], emails: dict[str, str]) -> str:
    def names(items: set[str]) -> str:
        return ", ".join(f"`{item}`" for item in sorted(items)) or "none"

    secrets = names(iam.secrets)
    if token.secrets != iam.secrets:
        secrets += f"; with `staff_auth = \"token\"` also {names(token.secrets - iam.secrets)}"
    roles = ", ".join(f"`{role.removeprefix('roles/')}` ({where})" for role, where in sorted(iam.roles))
    ingress = {"ALLOW_ALL": "all", "ALLOW_INTERNAL_ONLY": "internal"}[iam.ingress]
    return f"| `{name}` | {invoked_by(iam, oncall, emails)} | {ingress} | {secrets} | {roles} |"


def test_readme_table_is_what_terraform_grants(scratch: ScratchModule) -> None:
    iam = evaluate(scratch, **EVERYTHING_ON)
    token = evaluate(scratch, **EVERYTHING_ON, staff_auth="token")
    emails = iam["locals"]["service_account_emails"]
    by_iam, by_token = access_by_function(iam), access_by_function(token)
    readme = (INFRA / "README.md").read_text()
    section = readme.split("\n## Who may call what\n", 1)[1].split("\n## ", 1)[0]
    table_rows = [line for line in section.splitlines() if re.match(r"\| `[a-z_]+` \| ", line)]

    expected = [readme_row(name, by_iam[name], by_token[name], MINIMAL["oncall_members"], emails)
                for name in by_iam]

    missing = [row for row in expected if row not in table_rows]
    assert not missing, "infra/README.md, \"Who may call what\", should have these rows:\n" + "\n".join(missing)
    assert len(table_rows) == len(expected), "a row in infra/README.md names no deployed function"


def test_urls_and_queue_are_deterministic_and_consistent(scratch: ScratchModule) -> None:
    decisions = scratch_locals(scratch, prefix="acme", region="europe-west1")
    env = decisions["function_env"]

    assert env["HILFT_DEADLINE_URL"] == f"https://acme-deadline-{PROJECT_NUMBER}.europe-west1.run.app"
    assert env["HILFT_SWEEP_URL"] == decisions["function_urls"]["sweep"]
    assert env["HILFT_BOARD_URL"] == decisions["function_urls"]["board"]
    assert env["HILFT_TASKS_QUEUE"] == "projects/acme-care-prod/locations/europe-west1/queues/acme-deadlines"
    assert env["HILFT_TASKS_SERVICE_ACCOUNT"] == "acme-tasks@acme-care-prod.iam.gserviceaccount.com"
    assert env["HILFT_SCHEDULER_SERVICE_ACCOUNT"] == "acme-scheduler@acme-care-prod.iam.gserviceaccount.com"
    assert decisions["function_urls"]["x_webhook"] == f"https://acme-x-webhook-{PROJECT_NUMBER}.europe-west1.run.app"


def test_environment_carries_ids_and_policy_path(scratch: ScratchModule) -> None:
    env = scratch_locals(scratch, x_brand_user_ids=["1", "22"], meta_page_ids=["3"], meta_ig_user_ids=[],
                         retention_days=30)["function_env"]

    assert env["X_BRAND_USER_IDS"] == "1,22"
    assert env["META_PAGE_IDS"] == "3"
    assert env["META_IG_USER_IDS"] == ""
    assert env["HILFT_CONFIG"] == "policy.toml"
    assert env["HILFT_RETENTION_DAYS"] == "30"
    assert env["HILFT_STAFF_AUTH"] == "iam"


def test_a_policy_in_a_subfolder_keeps_its_path_inside_the_zip(scratch: ScratchModule) -> None:
    env = scratch_locals(scratch, policy_file="../functions/policies/brand.toml")["function_env"]

    assert env["HILFT_CONFIG"] == "policies/brand.toml"


def test_concurrency_above_one_gets_a_full_cpu(scratch: ScratchModule) -> None:
    assert scratch_locals(scratch, function_concurrency=4)["function_cpu"]["x_webhook"] == "1"
    decided = scratch_locals(scratch, function_concurrency=1, deadline_concurrency=1)
    assert set(decided["function_cpu"].values()) == {None}


def test_deadline_takes_its_own_concurrency_and_every_other_function_the_shared_one(scratch: ScratchModule) -> None:
    decided = scratch_locals(scratch, function_concurrency=12, deadline_concurrency=40)["function_concurrency"]
    assert decided.pop("deadline") == 40
    assert decided and set(decided.values()) == {12}


@pytest.mark.parametrize(("override", "message"), [
    ({"project_id": "Acme_Prod"}, "project_id must be a Google Cloud project id"),
    ({"project_id": "short"}, "project_id must be a Google Cloud project id"),
    ({"alert_sinks": {}}, "Enable at least one alert sink"),
    ({"alert_sinks": {"pagerduty": True, "pagerduty_events_url": "http://events.example"}}, "https://"),
    ({"oncall_members": ["oncall@example.com"]}, "oncall_members entries"),
    ({"oncall_members": ["serviceAccount:x@p.iam.gserviceaccount.com"]}, "oncall_members entries"),
    ({"python_runtime": "python310"}, "python_runtime must be"),
    ({"function_concurrency": 0}, "function_concurrency must be"),
    ({"function_concurrency": 2.5}, "function_concurrency must be"),
    ({"deadline_concurrency": 81}, "deadline_concurrency must be"),
    ({"min_instances": 11}, "min_instances must be"),
    ({"max_instances": 0}, "max_instances must be"),
    ({"retention_days": 0}, "retention_days must be"),
    ({"function_memory": "384Mi"}, "function_memory must be"),
    ({"prefix": "Hilft"}, "prefix must be"),
    ({"prefix": "a-very-long-prefix"}, "prefix must be"),
    ({"sweep_schedule": "every 5 minutes please"}, "five-field cron"),
    ({"x_brand_user_ids": ["@acme"]}, "numeric X user ids"),
    ({"meta_page_ids": ["acme-page"]}, "meta_page_ids must be numeric"),
    ({"x_api_base_url": "https://api.x.com/"}, "x_api_base_url must be"),
    ({"meta_graph_base_url": "https://graph.facebook.com"}, "meta_graph_base_url must look like"),
    ({"firestore_location": "Europe"}, "firestore_location must be"),
    ({"region": "europe west3"}, "region must be"),
    ({"policy_file": "../functions/policy.yaml"}, "policy_file must be a .toml"),
    ({"staff_auth": "off"}, "staff_auth must be"),
    ({"threads_user_ids": ["@acme"]}, "threads_user_ids must be numeric"),
    ({"bluesky_handle": "@acme.bsky.social"}, "bluesky_handle must be"),
    ({"mastodon_base_url": "http://mastodon.example"}, "mastodon_base_url must be"),
    ({"mastodon_account_ids": ["@acme"]}, "mastodon_account_ids must be numeric"),
    ({"poll_schedule": "every minute"}, "five-field cron"),
    ({"operator_notification_channels": ["oncall@example.com"]}, "operator_notification_channels entries"),
    ({"threads_api_base_url": "https://graph.threads.net"}, "threads_api_base_url must look like"),
])
def test_validation_rejects_bad_values(scratch: ScratchModule, override: dict[str, Any], message: str) -> None:
    log = " ".join(rejection(scratch, **override).split())

    assert message in log


def test_validation_accepts_a_full_realistic_configuration(scratch: ScratchModule) -> None:
    decisions = scratch_locals(
        scratch, project_id="acme-care-prod-1", prefix="acme-care", region="us-central1",
        firestore_location="nam5", alert_sinks={"google_chat": True, "pagerduty": True,
                                                "pagerduty_events_url": "https://events.eu.pagerduty.com/v2/enqueue"},
        meta_page_ids=["1029384756"], meta_ig_user_ids=["17841400000000000"], min_instances=1, max_instances=100,
        function_concurrency=80, function_memory="1Gi", python_runtime="python313", retention_days=3650,
        sweep_schedule="*/2 * * * 1-5", oncall_members=["group:care-oncall@acme.example"])

    assert decisions["function_env"]["PAGERDUTY_EVENTS_URL"] == "https://events.eu.pagerduty.com/v2/enqueue"
    assert decisions["functions"]["x_webhook"]["min_instances"] == 1
    assert decisions["functions"]["deadline"]["min_instances"] == 0
