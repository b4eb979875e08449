"""In-memory stand-ins for the Store and Scheduler ports that record every write.

The fuzz tests drive the real entry points; these replace only Firestore and Cloud Tasks, so a
run needs no emulator and can tell exactly what a request would have persisted.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hilft.adapters.firestore_store import Snapshot


class MemoryStore:
    """Duck-types ``hilft.service.ports.Store``; ``writes`` lists (operation, collection, doc id)."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.versions: dict[tuple[str, str], int] = {}
        self.writes: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._clock = itertools.count(1)

    def _put(self, op: str, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        _encodable(data)
        self.docs[(collection, doc_id)] = data
        self.versions[(collection, doc_id)] = next(self._clock)
        self.writes.append((op, collection, doc_id))

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        with self._lock:
            if (collection, doc_id) in self.docs:
                return False
            self._put("create", collection, doc_id, dict(data))
            return True

    def get(self, collection: str, doc_id: str) -> Snapshot | None:
        with self._lock:
            data = self.docs.get((collection, doc_id))
            if data is None:
                return None
            return Snapshot(doc_id, dict(data), self.versions[(collection, doc_id)])

    def update(self, collection: str, doc_id: str, updates: dict[str, Any]) -> bool:
        with self._lock:
            data = self.docs.get((collection, doc_id))
            if data is None:
                return False
            self._put("update", collection, doc_id, _apply(data, updates))
            return True

    def set(self, collection: str, doc_id: str, data: dict[str, Any], merge: bool = True) -> None:
        with self._lock:
            base = self.docs.get((collection, doc_id), {}) if merge else {}
            self._put("set", collection, doc_id, {**base, **data})

    def mutate(self, collection: str, doc_id: str,
               decide: Callable[[Snapshot | None], dict[str, Any] | None], attempts: int = 8) -> Snapshot | None:
        snap = self.get(collection, doc_id)
        updates = decide(snap)
        if updates is not None and snap is not None:
            self.update(collection, doc_id, updates)
        return snap

    def _query(self, predicate: Callable[[dict[str, Any]], bool]) -> list[Snapshot]:
        with self._lock:
            return [Snapshot(key[1], dict(data), self.versions[key]) for key, data in self.docs.items()
                    if key[0] == "mentions" and predicate(data)]

    def open_past_due(self, now: datetime, limit: int = 200) -> list[Snapshot]:
        return self._query(lambda d: d.get("status") == "open" and d["due_at"] <= now)[:limit]

    def overdue_realert_due(self, now: datetime, limit: int = 200) -> list[Snapshot]:
        return self._query(lambda d: d.get("status") == "overdue" and (d.get("next_alert_at") or now) <= now)[:limit]

    def open_in_conversation(self, platform: str, conversation_id: str) -> list[Snapshot]:
        return self._query(lambda d: d.get("platform") == platform and d.get("conversation_id") == conversation_id
                           and d.get("status") in ("open", "overdue"))

    def reset(self) -> None:
        with self._lock:
            self.docs.clear()
            self.versions.clear()
            self.writes.clear()


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


def _apply(data: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """Firestore's dotted field paths (``alerts.1``) applied to a copy."""
    out = dict(data)
    for path, value in updates.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[leaf] = value
    return out


class MemoryScheduler:
    """Duck-types ``hilft.service.ports.Scheduler``; names dedupe as Cloud Tasks' do."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        if at.tzinfo is None or now.tzinfo is None:
            raise ValueError("schedule times must be timezone-aware")
        with self._lock:
            self.calls.append(("schedule", task_id))
            if task_id in self.tasks:
                return False
            self.tasks[task_id] = (at, dict(payload))
            return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        return [self.schedule(task_id, at, payload, now) for task_id, at, payload in tasks]

    def delete(self, task_id: str) -> bool:
        with self._lock:
            self.calls.append(("delete", task_id))
            return self.tasks.pop(task_id, None) is not None

    def reset(self) -> None:
        with self._lock:
            self.tasks.clear()
            self.calls.clear()
