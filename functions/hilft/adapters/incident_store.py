"""The queries the incident service runs, on the project's Firestore store.

Three are single-field queries (a range on ``received_at``, equality on ``incident_id`` in document-id
order, ``in`` on ``status``): Firestore's automatic indexes serve them. ``unanswered_members`` (the
storm-page settle check) filters ``incident_id``, ``status`` and a range on ``due_at``: it needs the
composite index ``mentions(incident_id, status, due_at)`` declared in infra/locals.tf.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from hilft.adapters.firestore_store import _UNANSWERED, FirestoreStore, _translate
from hilft.core.outage import ACTIVE_STATUSES
from hilft.service.ports import INCIDENTS, MENTIONS, Snapshot


class FirestoreIncidentQueries:
    def __init__(self, store: FirestoreStore) -> None:
        self._store = store

    def _run(self, query: Any) -> list[Snapshot]:
        self._store.ops["queries"] += 1
        with _translate():
            docs = list(query.stream(timeout=10.0))
        self._store.ops["reads"] += max(1, len(docs))
        return [Snapshot(d.id, d.to_dict() or {}, d.update_time) for d in docs]

    def received_between(self, after: datetime, through: datetime, limit: int = 2000) -> list[Snapshot]:
        """Mentions received in (after, through], oldest first, paged by ``limit``. A page ends inside
        a run of equal ``received_at``: the next starts at that time again and skips what it has."""
        out: list[Snapshot] = []
        seen: set[str] = set()
        cursor, op = after, ">"
        while True:
            query = (self._store.client.collection(MENTIONS)
                     .where(filter=FieldFilter("received_at", op, cursor))
                     .where(filter=FieldFilter("received_at", "<=", through))
                     .order_by("received_at").limit(limit))
            page = self._run(query)
            fresh = [snap for snap in page if snap.id not in seen]
            out.extend(fresh)
            seen.update(snap.id for snap in fresh)
            if len(page) < limit or not fresh:
                return out
            last = page[-1].data.get("received_at")
            if not isinstance(last, datetime):
                return out
            cursor, op = last, ">="

    def incident_members(self, incident_id: str, page: int = 1000) -> list[Snapshot]:
        """Every post of the incident, read in pages of ``page`` in document-id order (a broad outage
        has more members than one query should return: acknowledge-all and the storm counts need all)."""
        members: list[Snapshot] = []
        last: Any = None
        while True:
            query = (self._store.client.collection(MENTIONS)
                     .where(filter=FieldFilter("incident_id", "==", incident_id))
                     .order_by(FieldPath.document_id()).limit(page))
            if last is not None:
                query = query.start_after(last)
            self._store.ops["queries"] += 1
            with _translate():
                docs = list(query.stream(timeout=10.0))
            self._store.ops["reads"] += max(1, len(docs))
            members.extend(Snapshot(d.id, d.to_dict() or {}, d.update_time) for d in docs)
            if len(docs) < page:
                return members
            last = docs[-1]

    def unanswered_members(self, incident_id: str, due_by: datetime | None, page: int = 20) -> Iterator[Snapshot]:
        """The incident's unanswered posts due by ``due_by`` (None: any), earliest due first, one page
        of ``page`` per query as the caller iterates: a caller stopping at the first it needs reads
        one page, not the whole incident."""
        query = (self._store.client.collection(MENTIONS)
                 .where(filter=FieldFilter("incident_id", "==", incident_id))
                 .where(filter=FieldFilter("status", "in", _UNANSWERED)))
        if due_by is not None:
            query = query.where(filter=FieldFilter("due_at", "<=", due_by))
        query = query.order_by("due_at").order_by(FieldPath.document_id()).limit(page)
        last: Any = None
        while True:
            paged = query.start_after(last) if last is not None else query
            self._store.ops["queries"] += 1
            with _translate():
                docs = list(paged.stream(timeout=10.0))
            self._store.ops["reads"] += max(1, len(docs))
            yield from (Snapshot(d.id, d.to_dict() or {}, d.update_time) for d in docs)
            if len(docs) < page:
                return
            last = docs[-1]

    def open_incidents(self, limit: int = 50) -> list[Snapshot]:
        query = (self._store.client.collection(INCIDENTS)
                 .where(filter=FieldFilter("status", "in", [str(s) for s in ACTIVE_STATUSES])).limit(limit))
        return self._run(query)
