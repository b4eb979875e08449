"""The stored post (``mentions/{doc_id}``) as a typed model, and its status transitions as pure
functions.

``MentionDoc`` is what ingest writes and every service reads: the customer's post (redacted), its
promise, and the state of its answer and alerts. Every field has a default, so older documents,
answered stubs and deletion tombstones load too. A field this module does not declare is refused
on load (``extra="forbid"``): every writer writes declared fields only (the in-memory store the
unit, fuzz and security tests use validates every write to ``mentions`` against this model).
``alerts.<level>`` is an ``AlertState``, its ``state`` an ``AlertProgress``.

The transitions (open → overdue → answered / handed_off / deleted, acknowledgement, escalation
level, reopening a closing message) decide on a document and return the field updates to write
(Firestore's dotted paths allowed, as ``Store.update``/``Store.mutate`` take them), or None when
the transition does not apply. They do no I/O: the services call them inside ``Store.mutate``.

Rules they keep (tests/unit/test_document.py checks them on generated documents):

- answered, handed_off and deleted are final for alerts: no transition but deletion changes them;
- the first response is recorded once: a later answer never changes ``answered_at``;
- deleting forgets the text and everything that names the author;
- acknowledging is once; the escalation level only rises.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hilft.core.models import Kind, Platform, Status

SCHEMA = 1

# Still waiting for a first response: alerts fire, an answer stops the clock.
UNANSWERED: frozenset[Status] = frozenset({Status.OPEN, Status.OVERDUE})
# Nothing more happens to these but deletion (no alert, no answer, no reopening).
FINAL: frozenset[Status] = frozenset({Status.ANSWERED, Status.HANDED_OFF, Status.DELETED})
# Posts whose deletion by the author still matters (they hold the customer's text, or its answer is
# pending): the poll's deleted-post check asks the platform about these.
LIVE: frozenset[Status] = UNANSWERED | {Status.ANSWERED, Status.HANDED_OFF}
# What deleting a post forgets (the author asked the platform to remove it): text and every
# field that names or points to its author.
PERSONAL_FIELDS: dict[str, Any] = {"text": "", "author_id": None, "author_handle": None, "author_name": None,
                                   "author_followers": None, "url": None, "pii_kinds": [],
                                   "conversation_id": None}


class Stored(Protocol):
    """A document as the store read it (``service.ports.Snapshot``): what ``from_snapshot`` reads."""

    @property
    def data(self) -> Mapping[str, Any]: ...


class AlertProgress(StrEnum):
    """Where one alert level's delivery stands (``alerts.<level>.state``)."""

    IN_PROGRESS = "in_progress"  # claimed by a delivery that is sending it (until ``expires_at``)
    SENT = "sent"  # done: a retry sends nothing
    FAILED = "failed"  # a sink was unavailable: a retry sends to the sinks not in ``sinks_sent``


class AlertState(BaseModel):
    """The send-once record of one alert level (``alerts.<level>``: ``"0"`` warning, ``"1"`` due,
    ``"2"``.. escalations, ``"resolve"``): its claim, and the sinks that have it."""

    model_config = ConfigDict(extra="forbid")

    state: AlertProgress
    sinks_sent: list[str] = []
    expires_at: AwareDatetime | None = None  # the claim's end (in progress)
    sent_at: AwareDatetime | None = None
    failed_at: AwareDatetime | None = None

    def to_store(self) -> dict[str, Any]:
        """The value to write at ``alerts.<level>``: only the fields given, the state as its string."""
        return {key: _plain(value) for key, value in self.model_dump(exclude_unset=True).items()}


class MentionDoc(BaseModel):
    """One ``mentions`` document. Datetimes are timezone-aware; ``status`` is a ``Status``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # -- the post ------------------------------------------------------------------------------
    platform: Platform
    post_id: str = ""
    kind: Kind | None = None  # None on stubs and tombstones (the post itself never arrived)
    conversation_id: str | None = None
    in_reply_to: str | None = None
    author_id: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    brand_account_id: str | None = None
    text: str = ""  # redacted
    pii_kinds: list[str] = []
    lang: str | None = None
    url: str | None = None
    radar: bool = False
    radar_rules: list[str] = []  # the X Filtered Stream rules (tags) a radar item matched
    encrypted: bool = False
    needs_enrichment: bool = False
    # -- edits ---------------------------------------------------------------------------------
    edited_at: AwareDatetime | None = None
    edit_rank: int = 0
    latest_post_id: str | None = None
    # -- the promise ---------------------------------------------------------------------------
    priority: str | None = None
    department: str | None = None
    status: Status = Status.OPEN
    created_at: AwareDatetime | None = None
    received_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None  # None: no promise (a closing message, a stub, a tombstone)
    warn_at: AwareDatetime | None = None
    promise_seconds: float | None = None
    # -- the first response --------------------------------------------------------------------
    answered_at: AwareDatetime | None = None
    answered_by: str | None = None
    answered_via: str | None = None
    first_response_seconds: float | None = None
    breached: bool | None = None
    handoff_pending: bool = False
    handoff_id: str | None = None
    private_reply_id: str | None = None
    holding_reply_id: str | None = None
    out_of_hours_sent_at: AwareDatetime | None = None
    out_of_hours_sending_at: AwareDatetime | None = None  # the automatic acknowledgment is on its way
    out_of_hours_skipped: str | None = None  # why it was not sent: "team_open" | "storm"
    # -- alerts --------------------------------------------------------------------------------
    overdue_at: AwareDatetime | None = None
    alert_level: int | None = None
    next_alert_at: AwareDatetime | None = None
    acknowledged: bool = False
    acknowledged_at: AwareDatetime | None = None
    acknowledged_by: str | None = None
    alerts: dict[str, AlertState] = {}  # "0" warning, "1" due, "2".. escalations, "resolve"
    # -- enrichment (posts Meta sent as ids only) ------------------------------------------------
    enrichment: str | None = None  # "done" | "unreadable"
    enrichment_error: str | None = None
    enriched_at: AwareDatetime | None = None
    enrichment_failed_at: AwareDatetime | None = None
    # -- other lives of a document -------------------------------------------------------------
    stub: bool = False  # left by a brand reply to a post not yet received
    deleted_at: AwareDatetime | None = None
    reopened_at: AwareDatetime | None = None
    reopened_by: str | None = None
    incident_id: str | None = None
    incident_label: str | None = None
    outage_key: str | None = None
    expire_at: AwareDatetime | None = None  # Firestore TTL
    # The document's layout version, stored as ``schema`` (a name pydantic's BaseModel reserves).
    schema_: int | None = Field(default=None, alias="schema")

    # -- conversion ----------------------------------------------------------------------------
    @classmethod
    def from_store(cls, data: Mapping[str, Any]) -> MentionDoc:
        """The document as the store returned it (Firestore's datetimes are aware already)."""
        return cls.model_validate(dict(data))

    @classmethod
    def from_snapshot(cls, snap: Stored) -> MentionDoc:
        """From a ``service.ports.Snapshot``."""
        return cls.from_store(snap.data)

    def to_store(self) -> dict[str, Any]:
        """Firestore-ready: enums as their strings, datetimes as they are. Only the fields that
        were given (or loaded) are written, so a stub or a tombstone stays as small as it was and a
        round trip changes no key; an explicit None is kept (the queries filter on it)."""
        return {key: _plain(value) for key, value in self.model_dump(exclude_unset=True, by_alias=True).items()}

    def updated(self, updates: Mapping[str, Any]) -> MentionDoc:
        """This document with ``updates`` applied as the store applies them (dotted paths nest)."""
        data = self.to_store()
        for path, value in updates.items():
            node = data
            *parents, leaf = path.split(".")
            for part in parents:
                child = node.get(part)
                node[part] = dict(child) if isinstance(child, dict) else {}
                node = node[part]
            node[leaf] = value
        return MentionDoc.from_store(data)

    # -- questions the services ask ---------------------------------------------------------------
    @property
    def unanswered(self) -> bool:
        return self.status in UNANSWERED

    @property
    def started_at(self) -> datetime | None:
        """Where the first-response time counts from (the post's time, else when it arrived)."""
        return self.created_at or self.received_at

    def alert_state(self, level: int | str) -> AlertState | None:
        """The record of alert ``level`` (or ``"resolve"``); None before its first claim."""
        return self.alerts.get(str(level))

    def sinks_sent(self, level: int | str) -> set[str]:
        """The sinks that have alert ``level`` already."""
        state = self.alert_state(level)
        return set(state.sinks_sent) if state is not None else set()

    def overdue_alerts_were_sent(self) -> bool:
        """A warning alone is not resolved: it said 'due soon', and the answer came in time."""
        return any(state.sinks_sent for key, state in self.alerts.items() if key.isdigit() and int(key) >= 1)

    def sinks_alerted(self) -> set[str]:
        """Every sink any level of this post's alerts reached (what a resolve must close)."""
        raised: set[str] = set()
        for key, state in self.alerts.items():
            if key != "resolve":
                raised.update(state.sinks_sent)
        return raised


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def as_doc(post: MentionDoc | Mapping[str, Any]) -> MentionDoc:
    """For functions whose callers may still hold the stored dict (the board, the report)."""
    return post if isinstance(post, MentionDoc) else MentionDoc.from_store(post)


# -- transitions ---------------------------------------------------------------------------------


def mark_overdue(doc: MentionDoc, now: datetime) -> dict[str, Any] | None:
    """The due alert fired for an open post."""
    if doc.status != Status.OPEN:
        return None
    return {"status": Status.OVERDUE.value, "overdue_at": now}


def mark_answered(doc: MentionDoc, *, answered_at: datetime, answered_by: str | None, via: str,
                  status: Status = Status.ANSWERED, extra: Mapping[str, Any] | None = None,
                  echo_window: timedelta | None = None) -> dict[str, Any] | None:
    """The first response (a brand reply, a holding reply, a handoff): stops the clock, once.

    ``echo_window``: given when the answer is a brand post ingest saw (None for hilft's own answers),
    the send-once claim's lifetime (``HILFT_CLAIM_TTL_SECONDS``). While hilft's own out-of-hours
    acknowledgment to this post is being sent — for at most that long — such a post is taken for
    its echo (the platform reports the brand's own messages, and the id that would tell them apart
    is not recorded yet): the acknowledgment is not a first response, so the clock keeps running.
    """
    if not doc.unanswered or status not in (Status.ANSWERED, Status.HANDED_OFF):
        return None
    if echo_window is not None and acknowledgment_in_flight(doc, answered_at, echo_window):
        return None
    started = doc.started_at
    updates: dict[str, Any] = {
        "status": status.value,
        "answered_at": answered_at,
        "answered_by": answered_by,
        "answered_via": via,
        "first_response_seconds": max(0.0, (answered_at - started).total_seconds()) if started else None,
        "breached": bool(doc.due_at is not None and answered_at > doc.due_at),
        "next_alert_at": None,
    }
    updates.update(extra or {})
    return updates


def acknowledgment_in_flight(doc: MentionDoc, at: datetime, claim_ttl: timedelta) -> bool:
    """hilft started sending this post's out-of-hours acknowledgment at most ``claim_ttl`` (the
    send-once claim's lifetime: a send still unrecorded after it has failed) before ``at`` and has
    not recorded it as sent."""
    started = doc.out_of_hours_sending_at
    if started is None or doc.out_of_hours_sent_at is not None:
        return False
    return started - timedelta(seconds=5) <= at <= started + claim_ttl


def mark_handed_off(doc: MentionDoc, *, at: datetime, via: str, handoff_id: str, department: str,
                    private_reply_id: str | None) -> dict[str, Any] | None:
    """Handed off to a private channel: the handoff is the first response."""
    return mark_answered(doc, answered_at=at, answered_by="hilft:handoff", via=via, status=Status.HANDED_OFF,
                         extra={"handoff_id": handoff_id, "department": department, "handoff_pending": False,
                                "private_reply_id": private_reply_id})


def mark_deleted(doc: MentionDoc | None, deleted_at: datetime) -> dict[str, Any]:
    """The author deleted the post: forget what is personal, stop its alerts. Applies to any
    document (again on a redelivery); ``doc`` is None for the tombstone of a post never seen."""
    del doc  # every state is deletable; the argument keeps the signature of the other transitions
    return {**PERSONAL_FIELDS, "pii_kinds": [], "status": Status.DELETED.value, "deleted_at": deleted_at,
            "next_alert_at": None}


def tombstone(platform: Platform, post_id: str, *, deleted_at: datetime, now: datetime,
              expire_at: datetime) -> MentionDoc:
    """Deleted before we saw it: a tombstone keeps a late delivery from resurrecting the post."""
    return MentionDoc(platform=platform, post_id=post_id, **mark_deleted(None, deleted_at),
                      received_at=now, expire_at=expire_at)


def answered_stub(platform: Platform, post_id: str, *, answered_at: datetime, answered_by: str | None,
                  via: str, expire_at: datetime) -> MentionDoc:
    """The brand answered a post that has not reached us: its delivery completes this stub."""
    return MentionDoc(platform=platform, post_id=post_id, status=Status.ANSWERED, stub=True,
                      answered_at=answered_at, answered_by=answered_by, answered_via=via, expire_at=expire_at)


# Set by the first response; a stub's values win over the late post's defaults.
ANSWER_FIELDS = frozenset({"status", "answered_at", "answered_by", "answered_via", "expire_at"})


def fill_stub(stub: MentionDoc, post: MentionDoc) -> dict[str, Any] | None:
    """The late post completes the stub an earlier brand reply left; the answer stands."""
    if not stub.stub:
        return None
    updates = {k: v for k, v in post.to_store().items() if k not in ANSWER_FIELDS}
    updates["stub"] = False
    updates["status"] = stub.status.value
    if stub.answered_at is not None and post.created_at is not None:
        updates["first_response_seconds"] = max(0.0, (stub.answered_at - post.created_at).total_seconds())
        updates["breached"] = bool(post.due_at is not None and stub.answered_at > post.due_at)
    return updates


def acknowledge(doc: MentionDoc, now: datetime, by: str | None) -> dict[str, Any] | None:
    """Someone has it: no more escalations. Once."""
    if doc.acknowledged:
        return None
    return {"acknowledged": True, "acknowledged_at": now, "acknowledged_by": by, "next_alert_at": None}


def raise_level(doc: MentionDoc, level: int, next_alert_at: datetime | None) -> dict[str, Any] | None:
    """Alert ``level`` went out for a waiting post: the level only rises; ``next_alert_at`` is the
    next escalation. None for a post answered or deleted (its alerts are over)."""
    if not doc.unanswered:
        return None
    return {"next_alert_at": next_alert_at, "alert_level": max(level, doc.alert_level or 0)}


def reopen(doc: MentionDoc, *, now: datetime, by: str, due_at: datetime, warn_at: datetime,
           promise: timedelta) -> dict[str, Any] | None:
    """Staff judge a closing message to need an answer after all: it gets a promise from now."""
    if doc.status != Status.NO_REPLY_NEEDED:
        return None
    return {"status": Status.OPEN.value, "due_at": due_at, "warn_at": warn_at,
            "promise_seconds": promise.total_seconds(), "reopened_at": now, "reopened_by": by}


class NoClaim(StrEnum):
    """Why ``claim_alert`` has nothing to send (the deadline service reports it as its outcome)."""

    NOT_UNANSWERED = "answered"  # answered, handed off, deleted or a closing message
    STALE = "stale"  # the task was for an earlier due time
    BEYOND_MAX_LEVEL = "beyond_max_level"
    ACKNOWLEDGED = "acknowledged"  # someone has it: no more escalations
    ALREADY_SENT = "already_sent"
    IN_PROGRESS = "in_progress"  # another delivery holds an unexpired claim: retry later


def claim_alert(doc: MentionDoc, level: int, now: datetime, *, claim_ttl: timedelta,
                expected_due: datetime | None = None, level_exists: bool = True) -> NoClaim | dict[str, Any]:
    """Alert ``level`` (0 warning, 1 due, 2.. escalations) is due: the claim to write before
    sending (and the move to overdue), or the reason there is nothing to do."""
    if not doc.unanswered:
        return NoClaim.NOT_UNANSWERED
    if expected_due is not None and doc.due_at != expected_due:
        return NoClaim.STALE
    if level >= 1 and not level_exists:
        return NoClaim.BEYOND_MAX_LEVEL
    if level >= 2 and doc.acknowledged:
        return NoClaim.ACKNOWLEDGED
    state = doc.alert_state(level)
    if state is not None and state.state is AlertProgress.SENT:
        return NoClaim.ALREADY_SENT
    if (state is not None and state.state is AlertProgress.IN_PROGRESS and state.expires_at is not None
            and state.expires_at > now):
        return NoClaim.IN_PROGRESS
    claim = AlertState(state=AlertProgress.IN_PROGRESS, expires_at=now + claim_ttl,
                       sinks_sent=sorted(doc.sinks_sent(level)))
    updates: dict[str, Any] = {f"alerts.{level}": claim.to_store()}
    if level >= 1:
        updates.update(mark_overdue(doc, now) or {})
    return updates
