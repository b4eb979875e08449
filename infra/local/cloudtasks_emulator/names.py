"""Resource names as Cloud Tasks spells and validates them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .errors import invalid

_LOCATION = re.compile(r"projects/[^/\s]+/locations/[^/\s]+")
_QUEUE = re.compile(r"(?P<parent>projects/[^/\s]+/locations/[^/\s]+)/queues/(?P<id>[^/]*)")
_TASK = re.compile(r"(?P<queue>projects/[^/\s]+/locations/[^/\s]+/queues/[^/\s]+)/tasks/(?P<id>[^/]*)")
QUEUE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")
TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,500}")


@dataclass(frozen=True)
class QueueName:
    parent: str  # projects/P/locations/L
    queue_id: str

    @property
    def full(self) -> str:
        return f"{self.parent}/queues/{self.queue_id}"


def check_location(parent: str) -> str:
    if not _LOCATION.fullmatch(parent):
        raise invalid(f"Invalid resource field value in the request: parent {parent!r} is not "
                      "projects/PROJECT_ID/locations/LOCATION_ID")
    return parent


def parse_queue(name: str) -> QueueName:
    match = _QUEUE.fullmatch(name)
    if not match or not QUEUE_ID.fullmatch(match["id"]):
        raise invalid(f"Invalid queue name {name!r}: expected projects/PROJECT_ID/locations/LOCATION_ID/"
                      "queues/QUEUE_ID with QUEUE_ID of letters, digits and hyphens, at most 100 characters")
    return QueueName(match["parent"], match["id"])


def parse_task(name: str) -> tuple[str, str]:
    """Return (queue name, task id) of a full task name."""
    match = _TASK.fullmatch(name)
    if not match:
        raise invalid(f"Invalid task name {name!r}: expected QUEUE_NAME/tasks/TASK_ID")
    if not TASK_ID.fullmatch(match["id"]):
        raise invalid("Invalid task id: it may contain only letters, digits, hyphens and underscores "
                      "and be at most 500 characters long")
    return match["queue"], match["id"]


def short_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def generated_task_id() -> str:
    """Production generates long numeric ids; random so they never repeat or sort by time."""
    return str(secrets.randbelow(9 * 10**18) + 10**18) + str(secrets.randbelow(10**9)).zfill(9)
