"""What each function's identity may do, read from the evaluated Terraform (offline_tf.py).

The grants come from the ``for_each`` keys of the IAM resources themselves (replayed by terraform
on ``terraform_data``), not from the locals that feed them, so a grant added to any IAM resource
shows up here. Shared by tests/infra (the table in infra/README.md) and tests/security.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Every resource that grants something to a runtime identity, and how its for_each key reads.
PROJECT_ROLES = "google_project_iam_member__runtime"  # "identity:role"
QUEUE_ROLES = "google_cloud_tasks_queue_iam_member__runtime"  # "identity:role"
ACT_AS_TASKS = "google_service_account_iam_member__act_as_tasks"  # "identity"
SECRET_ACCESS = "google_secret_manager_secret_iam_member__accessor"  # "secret:identity"
INVOKERS = "google_cloud_run_service_iam_member__invoker"  # "entry_point:member"
GRANTING_RESOURCES = {PROJECT_ROLES, QUEUE_ROLES, ACT_AS_TASKS, SECRET_ACCESS, INVOKERS}


@dataclass
class Access:
    identity: str
    email: str
    secrets: set[str] = field(default_factory=set)
    roles: set[tuple[str, str]] = field(default_factory=set)  # (role, where: project | queue | tasks identity)
    invokers: set[str] = field(default_factory=set)
    ingress: str = ""


def access_by_function(output: dict[str, Any]) -> dict[str, Access]:
    """entry point -> what its identity can read and do, and who may call it."""
    decisions = output["locals"]
    keys = output["for_each_keys"]
    emails = decisions["service_account_emails"]
    found = {name: Access(function["identity"], emails[function["identity"]], ingress=function["ingress"])
             for name, function in decisions["functions"].items()}
    by_identity: dict[str, list[Access]] = {}
    for access in found.values():
        by_identity.setdefault(access.identity, []).append(access)

    def grant(identity: str, role: tuple[str, str] | None = None, secret: str | None = None) -> None:
        for access in by_identity.get(identity, []):
            if role:
                access.roles.add(role)
            if secret:
                access.secrets.add(secret)

    for key in keys[PROJECT_ROLES]:
        identity, role = key.split(":", 1)
        grant(identity, role=(role, "project"))
    for key in keys[QUEUE_ROLES]:
        identity, role = key.split(":", 1)
        grant(identity, role=(role, "queue"))
    for identity in keys[ACT_AS_TASKS]:
        grant(identity, role=("roles/iam.serviceAccountUser", "tasks identity"))
    for key in keys[SECRET_ACCESS]:
        secret, identity = key.split(":", 1)
        grant(identity, secret=secret)
    for key in keys[INVOKERS]:
        entry_point, member = key.split(":", 1)
        found[entry_point].invokers.add(member)
    return found


def identities_with_grants(output: dict[str, Any]) -> set[str]:
    """Every identity any IAM resource grants something to."""
    keys = output["for_each_keys"]
    return ({key.split(":", 1)[0] for key in keys[PROJECT_ROLES] + keys[QUEUE_ROLES]}
            | set(keys[ACT_AS_TASKS]) | {key.split(":", 1)[1] for key in keys[SECRET_ACCESS]})
