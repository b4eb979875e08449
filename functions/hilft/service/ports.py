"""The small protocols the services are written against; adapters and tests implement them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from hilft.core.alerts import Alert
from hilft.core.incident_alerts import IncidentAlert

# Firestore collections: every name the services and adapters use (the names outsiders rely on are
# in README's Firestore section).
MENTIONS = "mentions"
ANSWERS = "answers"
HANDOFFS = "handoffs"
OWN_MESSAGES = "own_messages"  # hilft's automatic acknowledgments by platform message id: their echoes are no answers
OPERATOR_ALERTS = "operator_alerts"  # conditions only an operator can fix (a platform revoked our access)
REPLIES = "replies"  # holding replies' send-once claims
OUT_OF_HOURS = "out_of_hours"  # out-of-hours acknowledgments' claims and per-minute counters
POLL_CURSORS = "poll_cursors"  # each polled source's cursor state
DELIVERY_MARKS = "delivery_marks"  # the last delivery per webhook channel (the gap check)
ROLLUPS = "rollups"  # the SLA report's daily roll-ups
INCIDENTS = "incidents"
INCIDENTS_OPEN = "incidents_open"  # one pointer per key: its open incident (or none)
INCIDENT_ALERTS = "incident_alerts"  # one per incident and escalation level: the folded alerts' claim
OUTAGE_STATE = "outage_state"  # the detector's state and its lease
TTL_FIELD = "expire_at"
# Collections whose documents carry ``expire_at`` and are deleted by Firestore's TTL policy
# (infra/locals.tf ``ttl_collections`` must list exactly these; tests/infra checks it). Roll-ups,
# cursors, delivery marks and the detector's state hold no personal data and are kept.
TTL_COLLECTIONS = (ANSWERS, HANDOFFS, INCIDENT_ALERTS, INCIDENTS, MENTIONS, OPERATOR_ALERTS, OUT_OF_HOURS,
                   OWN_MESSAGES, REPLIES)

@dataclass(frozen=True)
class Snapshot:
    """A document as read: its id, its data, and an opaque token for a precondition on write."""

    id: str
    data: dict[str, Any]
    update_time: Any


class AlertSink(Protocol):
    """Where on-call hears of a post (Slack, Google Chat, PagerDuty, webhook). Raises
    ``SinkUnavailable`` (retry later) or ``SinkMisconfigured`` (never retry) from ``core.errors``."""

    name: str

    def send(self, alert: Alert) -> None: ...


class IncidentSink(Protocol):
    """Where on-call hears of an outage incident: the same sinks and errors as ``AlertSink``."""

    name: str

    def send(self, alert: IncidentAlert) -> None: ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)


class Store(Protocol):
    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool: ...
    def get(self, collection: str, doc_id: str) -> Snapshot | None: ...
    def update(self, collection: str, doc_id: str, updates: dict[str, Any]) -> bool: ...
    def set(self, collection: str, doc_id: str, data: dict[str, Any], merge: bool = True) -> None: ...
    def mutate(self, collection: str, doc_id: str,
               decide: Callable[[Snapshot | None], dict[str, Any] | None],
               attempts: int = 8) -> Snapshot | None: ...
    def open_past_due(self, now: datetime, limit: int = 200) -> list[Snapshot]: ...
    def overdue_realert_due(self, now: datetime, limit: int = 200) -> list[Snapshot]: ...
    def open_in_conversation(self, platform: str, conversation_id: str) -> list[Snapshot]: ...
    def answered_via(self, platform: str, via: str) -> list[Snapshot]:
        """The posts whose first response was the brand post ``via`` (closing-message check)."""
        ...


class ReportStore(Protocol):
    """What the SLA report reads: roll-ups and open posts by id, one day's posts (all of them,
    paged) and the number of incidents opened that day; it writes a roll-up only if unchanged
    since read (``create``, ``mutate``)."""

    def get(self, collection: str, doc_id: str) -> Snapshot | None: ...
    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Snapshot]: ...
    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool: ...
    def mutate(self, collection: str, doc_id: str,
               decide: Callable[[Snapshot | None], dict[str, Any] | None],
               attempts: int = 8) -> Snapshot | None: ...
    def received_between(self, start: datetime, end: datetime) -> list[Snapshot]: ...
    def incidents_opened_between(self, start: datetime, end: datetime) -> int:
        """How many incidents the outage detector opened in [start, end) (the report's incidents)."""
        ...


class Scheduler(Protocol):
    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool: ...
    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]: ...
    def delete(self, task_id: str) -> bool: ...


class MentionReader(Protocol):
    """Reads the text and author of a post the platform sent as ids only (Meta's Graph API).

    ``lookup`` is what ingest recorded (``{"type", "id", "account"}``); the answer has ``text``,
    ``author_id``, ``author_handle``, ``author_name`` (None when unknown). Raises the client's errors.
    """

    def fetch_mention(self, lookup: Mapping[str, str]) -> dict[str, str | None]: ...


class UserReader(Protocol):
    """Reads an account the platform named by id only (X's ``GET /2/users/:id``).

    The answer has ``handle``, ``name`` and ``followers`` (None when unknown). Raises the client's
    errors (``PlatformRefused`` for an account that does not exist or is suspended).
    """

    def fetch_user(self, user_id: str) -> dict[str, str | int | None]: ...
