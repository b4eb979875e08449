"""Firestore adapter: every read and write hilft does, with first writes as ``create()``.

The emulator aborts both of two concurrent transactions creating one document, and production
serialises them slowly, so first writes use ``create()`` (precondition: does not exist) and
read-modify-write uses ``update()`` with a ``last_update_time`` precondition in a retry loop.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from hilft.core.document import UNANSWERED
from hilft.core.errors import TransientStoreError
from hilft.core.models import Status

# The collection names and the snapshot type belong to the services' ports (re-exported here).
from hilft.service.ports import ANSWERS, HANDOFFS, INCIDENTS, MENTIONS, OPERATOR_ALERTS, Snapshot

__all__ = ["ANSWERS", "HANDOFFS", "MENTIONS", "OPERATOR_ALERTS", "FirestoreStore", "PreconditionFailed",
           "PreconditionLoop", "Snapshot"]

# Every composite query this module runs; infra/firestore.tf must define each (tests/infra checks).
COMPOSITE_INDEXES = [
    {"collection": MENTIONS, "fields": [("status", "ASCENDING"), ("due_at", "ASCENDING")]},
    {"collection": MENTIONS, "fields": [("status", "ASCENDING"), ("next_alert_at", "ASCENDING")]},
    {"collection": MENTIONS, "fields": [("platform", "ASCENDING"), ("conversation_id", "ASCENDING"),
                                        ("status", "ASCENDING")]},
    # incident_store.FirestoreIncidentQueries.unanswered_members (the storm-page settle check)
    {"collection": MENTIONS, "fields": [("incident_id", "ASCENDING"), ("status", "ASCENDING"),
                                        ("due_at", "ASCENDING")]},
]

_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.Aborted,
    gexc.RetryError,
    gexc.TooManyRequests,
    gexc.Unknown,
    gexc.ResourceExhausted,
)

_RETRY = Retry(
    predicate=lambda exc: isinstance(exc, gexc.ServiceUnavailable | gexc.DeadlineExceeded | gexc.Aborted),
    initial=0.05, maximum=0.5, multiplier=2.0, timeout=4.0,
)
_TIMEOUT = 5.0
_UNANSWERED = sorted(status.value for status in UNANSWERED)  # ["open", "overdue"] as Firestore compares them
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a range from here keeps only posts with a due time (not null)


class PreconditionFailed(Exception):
    """The document changed since it was read (or vanished): read again and re-decide."""


@contextmanager
def _translate() -> Iterator[None]:
    try:
        yield
    except _TRANSIENT as exc:
        raise TransientStoreError(f"firestore unavailable ({type(exc).__name__})") from exc


class PreconditionLoop:
    """Read-decide-write with a ``last_update_time`` precondition, retried when the document moved.

    Shared by every store that offers ``get`` and ``update_if_unchanged`` (tests use it too).
    """

    def get(self, collection: str, doc_id: str) -> Snapshot | None:
        raise NotImplementedError

    def update_if_unchanged(self, collection: str, snap: Snapshot, updates: dict[str, Any]) -> None:
        raise NotImplementedError

    def mutate(self, collection: str, doc_id: str,
               decide: Callable[[Snapshot | None], dict[str, Any] | None], attempts: int = 8) -> Snapshot | None:
        """Read, let ``decide`` compute updates (None = nothing to do), write with a precondition.

        Returns the snapshot the decision was based on. Retries when the document changed between.
        """
        for _ in range(attempts):
            snap = self.get(collection, doc_id)
            updates = decide(snap)
            if updates is None or snap is None:
                return snap
            try:
                self.update_if_unchanged(collection, snap, updates)
                return snap
            except PreconditionFailed:
                continue
        raise TransientStoreError("document contended, retry later")


class FirestoreStore(PreconditionLoop):
    """One per instance; the client is created on first use (not at import: cold start)."""

    def __init__(self, project: str, client_factory: Callable[[], firestore.Client] | None = None) -> None:
        self._project = project
        self._factory = client_factory or (lambda: firestore.Client(project=project))
        self._client: firestore.Client | None = None
        self._lock = threading.Lock()
        self.ops: Counter[str] = Counter()  # reads / writes / queries, for the cost benchmark

    @property
    def client(self) -> firestore.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._factory()
        return self._client

    def _doc(self, collection: str, doc_id: str) -> Any:
        return self.client.collection(collection).document(doc_id)

    # -- generic -----------------------------------------------------------------------------
    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        """True if created, False if a document with that id already existed."""
        self.ops["writes"] += 1
        with _translate():
            try:
                self._doc(collection, doc_id).create(data, retry=_RETRY, timeout=_TIMEOUT)
            except gexc.AlreadyExists:
                return False
            except gexc.Conflict:
                return False
        return True

    def get(self, collection: str, doc_id: str) -> Snapshot | None:
        self.ops["reads"] += 1
        with _translate():
            snap = self._doc(collection, doc_id).get(retry=_RETRY, timeout=_TIMEOUT)
        if not snap.exists:
            return None
        return Snapshot(snap.id, snap.to_dict() or {}, snap.update_time)

    def update_if_unchanged(self, collection: str, snap: Snapshot, updates: dict[str, Any]) -> None:
        """Apply ``updates`` only if the document is still as read; else PreconditionFailed."""
        self.ops["writes"] += 1
        option = self.client.write_option(last_update_time=snap.update_time)
        with _translate():
            try:
                self._doc(collection, snap.id).update(updates, option=option, retry=_RETRY, timeout=_TIMEOUT)
            except (gexc.FailedPrecondition, gexc.NotFound, gexc.Conflict) as exc:
                raise PreconditionFailed(snap.id) from exc

    def update(self, collection: str, doc_id: str, updates: dict[str, Any]) -> bool:
        """Unconditional partial update; False if the document does not exist."""
        self.ops["writes"] += 1
        with _translate():
            try:
                self._doc(collection, doc_id).update(updates, retry=_RETRY, timeout=_TIMEOUT)
            except gexc.NotFound:
                return False
        return True

    def set(self, collection: str, doc_id: str, data: dict[str, Any], merge: bool = True) -> None:
        self.ops["writes"] += 1
        with _translate():
            self._doc(collection, doc_id).set(data, merge=merge, retry=_RETRY, timeout=_TIMEOUT)

    # -- queries -----------------------------------------------------------------------------
    def _run(self, query: Any) -> list[Snapshot]:
        self.ops["queries"] += 1
        with _translate():
            docs = list(query.stream(retry=_RETRY, timeout=_TIMEOUT))
        self.ops["reads"] += max(1, len(docs))
        return [Snapshot(d.id, d.to_dict() or {}, d.update_time) for d in docs]

    def open_past_due(self, now: datetime, limit: int = 200) -> list[Snapshot]:
        query = (self.client.collection(MENTIONS)
                 .where(filter=FieldFilter("status", "==", Status.OPEN.value))
                 .where(filter=FieldFilter("due_at", "<=", now))
                 .order_by("due_at").limit(limit))
        return self._run(query)

    def overdue_realert_due(self, now: datetime, limit: int = 200) -> list[Snapshot]:
        query = (self.client.collection(MENTIONS)
                 .where(filter=FieldFilter("status", "==", Status.OVERDUE.value))
                 .where(filter=FieldFilter("next_alert_at", "<=", now))
                 .order_by("next_alert_at").limit(limit))
        return self._run(query)

    def open_in_conversation(self, platform: str, conversation_id: str) -> list[Snapshot]:
        query = (self.client.collection(MENTIONS)
                 .where(filter=FieldFilter("platform", "==", platform))
                 .where(filter=FieldFilter("conversation_id", "==", conversation_id))
                 .where(filter=FieldFilter("status", "in", _UNANSWERED)))
        return self._run(query)

    def answered_via(self, platform: str, via: str) -> list[Snapshot]:
        """Posts the brand post ``via`` answered (equality filters only: no composite index)."""
        query = (self.client.collection(MENTIONS)
                 .where(filter=FieldFilter("answered_via", "==", via))
                 .where(filter=FieldFilter("platform", "==", platform)).limit(10))
        return self._run(query)

    def board_items(self, limit: int = 300, unpromised: int = 100) -> list[Snapshot]:
        """Open posts by due time, then up to ``unpromised`` open items without one (radar items under
        ``radar.first_response = "none"``). Two queries because Firestore sorts null first: ordered by
        ``due_at`` alone, many radar items would push the promised posts off the board."""
        promised = (self.client.collection(MENTIONS)
                    .where(filter=FieldFilter("status", "in", _UNANSWERED))
                    .where(filter=FieldFilter("due_at", ">", _EPOCH))
                    .order_by("due_at").limit(limit))
        without_due = (self.client.collection(MENTIONS)
                       .where(filter=FieldFilter("status", "in", _UNANSWERED))
                       .where(filter=FieldFilter("due_at", "==", None)).limit(unpromised))
        return self._run(promised) + self._run(without_due)

    def received_since(self, since: datetime, limit: int = 5000) -> list[Snapshot]:
        query = (self.client.collection(MENTIONS)
                 .where(filter=FieldFilter("received_at", ">=", since))
                 .order_by("received_at").limit(limit))
        return self._run(query)

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Snapshot]:
        """Several documents in one round trip (``BatchGetDocuments``); missing ones are left out."""
        if not doc_ids:
            return {}
        refs = [self._doc(collection, doc_id) for doc_id in doc_ids]
        self.ops["reads"] += len(refs)
        with _translate():
            snaps = list(self.client.get_all(refs, retry=_RETRY, timeout=_TIMEOUT))
        return {s.id: Snapshot(s.id, s.to_dict() or {}, s.update_time) for s in snaps if s.exists}

    def received_between(self, start: datetime, end: datetime, page: int = 1000) -> list[Snapshot]:
        """Every post received in [start, end), read in pages (the SLA report's day roll-up)."""
        out: list[Snapshot] = []
        last: Any = None
        while True:
            query = (self.client.collection(MENTIONS)
                     .where(filter=FieldFilter("received_at", ">=", start))
                     .where(filter=FieldFilter("received_at", "<", end))
                     .order_by("received_at").limit(page))
            if last is not None:
                query = query.start_after(last)
            self.ops["queries"] += 1
            with _translate():
                docs = list(query.stream(retry=_RETRY, timeout=_TIMEOUT))
            self.ops["reads"] += max(1, len(docs))
            out.extend(Snapshot(d.id, d.to_dict() or {}, d.update_time) for d in docs)
            if len(docs) < page:
                return out
            last = docs[-1]

    def incidents_opened_between(self, start: datetime, end: datetime) -> int:
        """Incidents opened in [start, end): a range on ``opened_at`` (single-field index), only
        that field read back."""
        query = (self.client.collection(INCIDENTS)
                 .where(filter=FieldFilter("opened_at", ">=", start))
                 .where(filter=FieldFilter("opened_at", "<", end)).select(["opened_at"]))
        return len(self._run(query))

    def open_operator_alerts(self, limit: int = 20) -> list[Snapshot]:
        """Unresolved operator alerts for the board (one equality filter: no composite index)."""
        query = (self.client.collection(OPERATOR_ALERTS)
                 .where(filter=FieldFilter("resolved", "==", False)).limit(limit))
        return self._run(query)
