"""A default defined in two places must be the same in both: Terraform's variables and ``Settings``.

The functions read their configuration through ``hilft.settings.Settings``, each variable with one
default; infra/variables.tf names the same variables (in parentheses in each description) and
gives them defaults of its own, so a deployment without an override gets Terraform's value. When
the two drift (a new Graph API version in one place only), a deployed function and a local one
talk to different APIs. This test reads both sides without running anything (python-hcl2, ast).
"""

from __future__ import annotations

import re
from typing import Any

from tests.infra.stack import load_stack, settings_defaults, unquote

# Where Terraform deliberately differs from the code's default, and why.
DELIBERATELY_DIFFERENT = {
    # Deployed, staff sit behind Cloud Run IAM; the code's default suits the local stack and tests.
    "HILFT_STAFF_AUTH": "production uses Cloud Run IAM (iam), the local stack a bearer token",
    # Terraform adds the gcloud CLI's OAuth client to the function URLs it sets; the code has no URL.
    "HILFT_STAFF_AUDIENCES": "Terraform's default is the gcloud CLI's client id, beside the function URLs",
}
# The defaults this test was written for (an audit found them defined twice): it must keep seeing them.
MUST_COMPARE = {"META_GRAPH_BASE_URL", "THREADS_API_BASE_URL", "PAGERDUTY_EVENTS_URL", "X_API_BASE_URL",
                "BLUESKY_PDS_URL", "BLUESKY_APPVIEW_URL", "HILFT_RETENTION_DAYS"}
NAMED = re.compile(r"\(([A-Z][A-Z0-9_]+)[,)]")
PAGERDUTY_URL = re.compile(r'pagerduty_events_url\s*=\s*optional\(\s*string\s*,\s*"([^"]*)"\s*\)')


def _unset_is_empty(value: Any) -> Any:
    """Terraform spells "unset" as "" or [], the code as None or an empty set."""
    if value in ("", None):
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(value)
    return value


def terraform_defaults() -> dict[str, tuple[str, Any]]:
    """Environment variable -> (Terraform variable, its default), for every variable with a default
    whose description names a variable the code reads; plus alert_sinks' PagerDuty events URL."""
    code = settings_defaults()
    found: dict[str, tuple[str, Any]] = {}
    for name, body in load_stack().variables.items():
        if "default" not in body:
            continue
        named = [env for env in NAMED.findall(str(body.get("description", ""))) if env in code]
        if named:
            found[named[0]] = (name, body["default"])
    sinks_type = str(load_stack().variables["alert_sinks"]["type"])
    match = PAGERDUTY_URL.search(sinks_type)
    assert match, "alert_sinks.pagerduty_events_url lost its optional(string, default)"
    found["PAGERDUTY_EVENTS_URL"] = ("alert_sinks.pagerduty_events_url", unquote(match.group(1)))
    return found


def test_every_terraform_default_equals_the_settings_default() -> None:
    code = settings_defaults()
    terraform = terraform_defaults()
    assert MUST_COMPARE <= set(terraform), f"no longer compared: {sorted(MUST_COMPARE - set(terraform))}"
    differ = {env: (variable, default, code[env]) for env, (variable, default) in terraform.items()
              if env not in DELIBERATELY_DIFFERENT and _unset_is_empty(default) != _unset_is_empty(code[env])}
    assert not differ, "\n".join(f"{variable} = {tf!r} in infra/variables.tf, but {env} defaults to {py!r} in "
                                 f"functions/hilft/settings.py" for env, (variable, tf, py) in differ.items())


def test_the_deliberate_differences_still_differ() -> None:
    """An exception that no longer applies is removed, not kept as a blind spot."""
    code = settings_defaults()
    terraform = terraform_defaults()
    for env in DELIBERATELY_DIFFERENT:
        assert env in terraform, f"{env} is no longer named by a Terraform variable: drop its exception"
        assert _unset_is_empty(terraform[env][1]) != _unset_is_empty(code[env]), f"{env} agrees now: drop it"
