"""The stack's decisions evaluated by terraform itself, offline (see offline_tf.py).

These catch what a static read cannot: a for_each with duplicate or unknown keys, a validation
block that lets a bad value through or rejects a good one, wiring that depends on variables.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.offline_tf import PROJECT_NUMBER, TERRAFORM, ScratchModule

pytestmark = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")

MINIMAL: dict[str, Any] = {
    "project_id": "acme-care-prod",
    "alert_sinks": {"slack": True},
    "x_brand_user_ids": ["783214"],
    "oncall_members": ["group:oncall@example.com", "user:lena@example.com"],
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> ScratchModule:
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
        ["x_webhook", "meta_webhook", "deadline", "sweep", "handoff", "ack", "board", "pagerduty_webhook"])
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
    decisions = scratch_locals(scratch, alert_sinks={"slack": True, "webhook": True}, meta_ig_user_ids=["7"])
    identity_of = {name: function["identity"] for name, function in decisions["functions"].items()}

    expected = {(secret, identity_of[name]) for name, secrets in decisions["function_secrets"].items()
                for secret in secrets}
    granted = {(pair["secret"], pair["identity"]) for pair in decisions["secret_accessors"]}

    assert granted == expected
    assert not any(identity in {"tasks", "scheduler", "build"} for _, identity in granted)
    assert ("X_CONSUMER_SECRET", "staff") not in granted  # staff never sees webhook signing secrets


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
                         retention_days=30, function_concurrency=12)["function_env"]

    assert env["X_BRAND_USER_IDS"] == "1,22"
    assert env["META_PAGE_IDS"] == "3"
    assert env["META_IG_USER_IDS"] == ""
    assert env["HILFT_CONFIG"] == "policy.toml"
    assert env["HILFT_RETENTION_DAYS"] == "30"
    assert env["THREADS"] == "12"
    assert env["HILFT_STAFF_AUTH"] == "iam"


def test_a_policy_in_a_subfolder_keeps_its_path_inside_the_zip(scratch: ScratchModule) -> None:
    env = scratch_locals(scratch, policy_file="../functions/policies/brand.toml")["function_env"]

    assert env["HILFT_CONFIG"] == "policies/brand.toml"


def test_concurrency_above_one_gets_a_full_cpu(scratch: ScratchModule) -> None:
    assert scratch_locals(scratch, function_concurrency=4)["function_cpu"] == "1"
    assert scratch_locals(scratch, function_concurrency=1)["function_cpu"] is None


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
