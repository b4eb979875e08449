"""In-memory stand-ins for the Store, Scheduler and sinks, so services run without emulators.

The one in-memory store of the test suites (unit, fuzz, security). They follow the adapters'
contracts closely (create() fails on an existing id, update() of a dotted path sets a nested
field, preconditions compare versions, text Firestore cannot encode raises as its client does, a
document over Firestore's 1 MiB is refused with INVALID_ARGUMENT), not more. Every write is
recorded (``write_log``, ``calls``), so a test can tell exactly what a request would have persisted.

Every write to ``mentions`` must leave a document ``MentionDoc`` loads (``_declared``): a field
that no model declares, or a value of the wrong type, fails the test that wrote it — so the tests
that run the services prove that every field any service writes is declared.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.exceptions import InvalidArgument

from hilft.adapters.firestore_store import PreconditionFailed, PreconditionLoop
from hilft.adapters.tasks_scheduler import clamp_to_horizon
from hilft.core.document import MentionDoc
from hilft.service.ports import MENTIONS, Snapshot
from hilft.settings import Settings

MAX_DOCUMENT_BYTES = 1_048_576  # Firestore's limit on one document
DEFAULTS = Settings.from_env({})  # the shipped settings (claim TTL, sweep grace), for services built by hand


def value_size(value: Any) -> int:
    """Firestore's storage size of a field value (cloud.google.com/firestore/docs/storage-size)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float | datetime):
        return 8
    if isinstance(value, str):
        return len(value.encode("utf-8", errors="surrogatepass")) + 1
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return sum(value_size(str(key)) + value_size(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return sum(value_size(item) for item in value)
    return 16  # geo points, references: small and fixed


def document_size(collection: str, doc_id: str, data: dict[str, Any]) -> int:
    """Storage size of a document: its name, its fields and 32 bytes."""
    name = len(collection.encode()) + 1 + len(doc_id.encode()) + 1 + 16
    return name + value_size(data) + 32


def _fits(collection: str, doc_id: str, data: dict[str, Any]) -> None:
    """Raise as Firestore does when a write would make a document larger than 1 MiB."""
    size = document_size(collection, doc_id, data)
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidArgument(f"Document {collection}/{doc_id} exceeds the maximum size ({size} bytes)")


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def _declared(collection: str, data: dict[str, Any]) -> None:
    """Raise (pydantic's ValidationError) when a write leaves a post ``MentionDoc`` does not load."""
    if collection == MENTIONS:
        MentionDoc.from_store(data)


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = copy.deepcopy(value)


def _encodable(value: Any) -> None:
    """Raise as Firestore's client does (UnicodeEncodeError in protobuf) on text it cannot send."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            _encodable(key)
            _encodable(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _encodable(item)


class MemoryStore(PreconditionLoop):
    """Duck-types ``hilft.service.ports.Store`` (and the board's and report's reads).

    ``data[collection][doc_id]`` is the stored document; ``write_log`` lists every write that
    changed something as (operation, collection, doc id); ``ops`` counts reads, writes, queries.
    """

    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        self.versions: dict[tuple[str, str], int] = {}
        self._version = itertools.count(1)
        self.ops: Counter[str] = Counter()
        self.write_log: list[tuple[str, str, str]] = []
        self.fail_with: Exception | None = None

    @property
    def docs(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every stored document by (collection, doc id)."""
        return {(collection, doc_id): doc for collection, docs in self.data.items() for doc_id, doc in docs.items()}

    def reset(self) -> None:
        self.data.clear()
        self.versions.clear()
        self.write_log.clear()
        self.ops.clear()

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def _bump(self, op: str, collection: str, doc_id: str) -> None:
        self.versions[(collection, doc_id)] = next(self._version)
        self.write_log.append((op, collection, doc_id))

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        self._check()
        _encodable(data)
        self.ops["writes"] += 1
        docs = self.data.setdefault(collection, {})
        if doc_id in docs:
            return False
        _fits(collection, doc_id, data)
        _declared(collection, data)
        docs[doc_id] = copy.deepcopy(data)
        self._bump("create", collection, doc_id)
        return True

    def get(self, collection: str, doc_id: str) -> Snapshot | None:
        self._check()
        self.ops["reads"] += 1
        doc = self.data.get(collection, {}).get(doc_id)
        if doc is None:
            return None
        return Snapshot(doc_id, copy.deepcopy(doc), self.versions[(collection, doc_id)])

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Snapshot]:
        found = {doc_id: self.get(collection, doc_id) for doc_id in doc_ids}
        return {doc_id: snap for doc_id, snap in found.items() if snap is not None}

    def update(self, collection: str, doc_id: str, updates: dict[str, Any]) -> bool:
        self._check()
        _encodable(updates)
        self.ops["writes"] += 1
        doc = self.data.get(collection, {}).get(doc_id)
        if doc is None:
            return False
        after = copy.deepcopy(doc)
        for path, value in updates.items():
            _set_path(after, path, value)
        _fits(collection, doc_id, after)
        _declared(collection, after)
        for path, value in updates.items():
            _set_path(doc, path, value)
        self._bump("update", collection, doc_id)
        return True

    def update_if_unchanged(self, collection: str, snap: Snapshot, updates: dict[str, Any]) -> None:
        if self.versions.get((collection, snap.id)) != snap.update_time:
            raise PreconditionFailed(snap.id)
        self.update(collection, snap.id, updates)

    def set(self, collection: str, doc_id: str, data: dict[str, Any], merge: bool = True) -> None:
        self._check()
        _encodable(data)
        self.ops["writes"] += 1
        docs = self.data.setdefault(collection, {})
        after = {**(docs.get(doc_id) or {}), **data} if merge else data
        _fits(collection, doc_id, after)
        _declared(collection, after)
        target = docs.setdefault(doc_id, {}) if merge else docs.__setitem__(doc_id, {}) or docs[doc_id]
        target.update(copy.deepcopy(data))
        self._bump("set", collection, doc_id)

    def _where(self, predicate: Callable[[dict[str, Any]], bool], key: str) -> list[Snapshot]:
        self.ops["queries"] += 1
        docs = [(i, d) for i, d in self.data.get("mentions", {}).items() if predicate(d)]
        docs.sort(key=lambda item: item[1].get(key) or datetime.max.replace(tzinfo=UTC))
        return [Snapshot(i, copy.deepcopy(d), self.versions[("mentions", i)]) for i, d in docs]

    def open_past_due(self, now: datetime, limit: int = 200) -> list[Snapshot]:
        return self._where(lambda d: d.get("status") == "open" and d.get("due_at") is not None
                           and d["due_at"] <= now, "due_at")[:limit]

    def overdue_realert_due(self, now: datetime, limit: int = 200) -> list[Snapshot]:
        return self._where(lambda d: d.get("status") == "overdue" and d.get("next_alert_at") is not None
                           and d["next_alert_at"] <= now, "next_alert_at")[:limit]

    def open_in_conversation(self, platform: str, conversation_id: str) -> list[Snapshot]:
        return self._where(lambda d: d.get("platform") == platform and d.get("conversation_id") == conversation_id
                           and d.get("status") in ("open", "overdue"), "due_at")

    def answered_via(self, platform: str, via: str) -> list[Snapshot]:
        return self._where(lambda d: d.get("platform") == platform and d.get("answered_via") == via, "due_at")[:10]

    def board_items(self, limit: int = 300) -> list[Snapshot]:
        return self._where(lambda d: d.get("status") in ("open", "overdue"), "due_at")[:limit]

    def received_between(self, start: datetime, end: datetime) -> list[Snapshot]:
        return self._where(lambda d: d.get("received_at") and start <= d["received_at"] < end, "received_at")

    def incidents_opened_between(self, start: datetime, end: datetime) -> int:
        self.ops["queries"] += 1
        return sum(1 for d in self.data.get("incidents", {}).values()
                   if isinstance(d.get("opened_at"), datetime) and start <= d["opened_at"] < end)

    def received_since(self, since: datetime, limit: int = 5000) -> list[Snapshot]:
        return self._where(lambda d: d.get("received_at") and d["received_at"] >= since, "received_at")[:limit]


@dataclass
class ScheduledTask:
    name: str
    at: datetime
    payload: dict[str, Any]


class MemoryScheduler:
    """Named tasks with Cloud Tasks' deduplication; ``due(now)`` pops what would have fired."""

    def __init__(self) -> None:
        self.tasks: dict[str, ScheduledTask] = {}
        self.reserved: set[str] = set()
        self.ops: Counter[str] = Counter()
        self.calls: list[tuple[str, str]] = []  # ("schedule" | "delete", task name), in order
        self.fail_with: Exception | None = None

    def reset(self) -> None:
        self.tasks.clear()
        self.reserved.clear()
        self.ops.clear()
        self.calls.clear()

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        fire_at, not_before = clamp_to_horizon(at, now)  # the production clamp (raises on naive times)
        self.calls.append(("schedule", task_id))
        self.ops["creates"] += 1
        if task_id in self.reserved:
            return False
        body = dict(payload)
        if not_before is not None:
            body["not_before"] = not_before.isoformat()
        self.reserved.add(task_id)
        self.tasks[task_id] = ScheduledTask(task_id, fire_at, body)
        return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        return [self.schedule(task_id, at, payload, now) for task_id, at, payload in tasks]

    def delete(self, task_id: str) -> bool:
        self.calls.append(("delete", task_id))
        self.ops["deletes"] += 1
        return self.tasks.pop(task_id, None) is not None

    def due(self, now: datetime) -> list[ScheduledTask]:
        ready = sorted((t for t in self.tasks.values() if t.at <= now), key=lambda t: t.at)
        for task in ready:
            del self.tasks[task.name]
        return ready


@dataclass
class RecordingSink:
    name: str
    sent: list[Any] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def send(self, alert: Any) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(alert)
