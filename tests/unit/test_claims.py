"""The send-once claim: taken once, also when two callers take over a failed claim at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hilft.core.errors import Conflict
from hilft.service.claims import claim_once
from hilft.service.ports import Snapshot
from tests.unit.memory import MemoryStore

NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def take(store: MemoryStore, doc_id: str) -> str:
    """What one caller gets: "send" (the claim is its), "sent" (done already) or "conflict"."""
    try:
        sent = claim_once(store, "replies", "k", {"doc_id": doc_id}, now=NOW, ttl=TTL, what="reply")
    except Conflict:
        return "conflict"
    return "sent" if sent is not None else "send"


class ReadThenInterleave(MemoryStore):
    """Runs ``other`` right after the first read of the claim: a second caller acting between this
    caller's read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.other: Callable[[], None] | None = None

    def get(self, collection: str, doc_id: str) -> Snapshot | None:
        snap = super().get(collection, doc_id)
        if collection == "replies" and self.other is not None:
            other, self.other = self.other, None
            other()
        return snap


@pytest.mark.parametrize("state", ["failed", "rate_limited", "in_progress"])  # in_progress: expired
def test_two_callers_taking_over_one_failed_claim_at_once_get_it_once(state):
    store = ReadThenInterleave()
    store.create("replies", "k", {"doc_id": "d1", "state": state, "expires_at": NOW - timedelta(seconds=1)})
    outcomes: list[str] = []
    store.other = lambda: outcomes.append(take(store, "d2"))
    outcomes.append(take(store, "retry-of-d1"))
    assert sorted(outcomes) == ["conflict", "send"]
    assert store.data["replies"]["k"]["state"] == "in_progress"


def test_threads_taking_over_one_failed_claim_get_it_once():
    """The same with real threads, both reading before either writes (in-memory store)."""
    store = MemoryStore()
    store.create("replies", "k", {"doc_id": "d1", "state": "failed", "expires_at": NOW})
    both_read = threading.Barrier(2)
    first_read: set[int] = set()
    read = store.get

    def get(collection: str, doc_id: str) -> Snapshot | None:
        snap = read(collection, doc_id)
        if collection == "replies" and threading.get_ident() not in first_read:
            first_read.add(threading.get_ident())
            both_read.wait(timeout=5)
        return snap

    store.get = get  # type: ignore[method-assign]
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda d=d: outcomes.append(take(store, d))) for d in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "send"]


def test_a_sent_claim_is_final_and_a_live_one_is_a_conflict():
    store = MemoryStore()
    assert take(store, "d1") == "send"
    assert take(store, "d1") == "conflict"  # in progress, not expired
    store.update("replies", "k", {"state": "sent"})
    assert take(store, "d2") == "sent"
