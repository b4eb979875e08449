"""Out of hours on the Firestore emulator: the real IngestService, OutOfHoursService and X client
(against the fake X API) under weekday hours, on a clock set to Friday evening. The acknowledgment
goes out once per author, never after the team is back, and at most ``max_per_minute`` per platform
(the counter is a Firestore document, taken under a precondition)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import deliveries
from tests.e2e.builders import BRAND_ID

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

POLICY = """
[brand]
name = "Telekom hilft"
[promise]
first_response = "60m"
warning_before = "15m"
timezone = "Europe/Berlin"
holidays = "DE"
[promise.hours]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
[promise.out_of_hours]
enabled = true
max_per_minute = 2
"""
FRIDAY_2030 = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # 20:30 in Berlin: closed until Monday 08:00


class Tasks:
    """The tasks ingest queues, kept to be run here at the test's clock."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        self.payloads.append(payload)
        return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        return [self.schedule(t, at, p, now) for t, at, p in tasks]

    def delete(self, task_id: str) -> bool:
        return True


def test_out_of_hours_once_per_author_never_stale_and_bounded_per_minute(e2e):
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.channels import gateway_factory
    from hilft.channels.x import parse as x
    from hilft.core.policy import parse_policy
    from hilft.service.ingest import IngestService
    from hilft.service.out_of_hours import OutOfHoursService
    from hilft.settings import Settings

    policy = parse_policy(POLICY)
    settings = Settings.from_env(e2e.fakes.world.env())
    store, tasks = FirestoreStore("hilft-local"), Tasks()
    now = {"t": FRIDAY_2030}

    def clock() -> datetime:
        return now["t"]

    ingest = IngestService(store=store, scheduler=tasks, policy=policy, clock=clock, claim_ttl=settings.claim_ttl)
    authors = [deliveries.Author(f"55000000{n}", f"kunde{n}", f"Kunde {n}") for n in range(4)]
    for n, author in enumerate([authors[0], authors[0], authors[1], authors[2], authors[3]]):
        body = deliveries.x_tweet(str(1860000000000000000 + n), author, "Router tot, seit einer Stunde kein Netz",
                                  FRIDAY_2030, lang="de")
        ingest.ingest(x.parse(body, brand_user_ids=settings.x_brand_user_ids), frozenset({BRAND_ID}))
    acks = [p for p in tasks.payloads if p["kind"] == "out_of_hours"]
    assert len(acks) == 5
    with httpx.Client(timeout=10) as http:
        service = OutOfHoursService(store=store, scheduler=tasks, policy=policy, clock=clock,
                                    gateways=gateway_factory(settings, http), claim_ttl=settings.claim_ttl)
        now["t"] = FRIDAY_2030 + timedelta(seconds=5)
        outcomes = [service.send(p).outcome for p in acks[:4]]
        # One per author (the second post of the first author), then the minute's budget of 2 is spent.
        assert outcomes == ["sent", "already_sent", "sent", "storm"]
        now["t"] = FRIDAY_2030 + timedelta(days=2, hours=13)  # Monday 09:30 in Berlin: the team is back
        assert service.send(acks[4]).outcome == "team_open"
    replies = [r["text"] for r in e2e.fakes.x.replies]
    assert len(replies) == 2 and all("ab Montag, 8:00 Uhr wieder für Sie da" in r for r in replies)
    skipped = sorted(d.to_dict().get("out_of_hours_skipped") or "" for d in e2e.db.collection("mentions").stream())
    assert skipped == ["", "", "", "storm", "team_open"]


def test_two_callers_taking_over_one_failed_claim_on_firestore_get_it_once(e2e):
    """claim_once on the emulator: the second caller acts between the first one's read and write;
    the first one's write fails its precondition, it reads again and finds the claim taken."""
    import uuid

    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.core.errors import Conflict
    from hilft.service.claims import claim_once

    class ReadThenInterleave(FirestoreStore):
        other: Any = None

        def get(self, collection: str, doc_id: str) -> Any:
            snap = super().get(collection, doc_id)
            if collection == "out_of_hours" and self.other is not None:
                other, self.other = self.other, None
                other()
            return snap

    store = ReadThenInterleave("hilft-local")
    claim = f"claim-race-{uuid.uuid4().hex}"
    store.create("out_of_hours", claim, {"doc_id": "d1", "state": "failed", "expires_at": FRIDAY_2030})

    def take(doc_id: str) -> str:
        try:
            sent = claim_once(store, "out_of_hours", claim, {"doc_id": doc_id}, now=FRIDAY_2030,
                              ttl=timedelta(seconds=30), what="out-of-hours acknowledgment")
        except Conflict:
            return "conflict"
        return "sent" if sent is not None else "send"

    outcomes: list[str] = []
    store.other = lambda: outcomes.append(take("d2"))
    outcomes.append(take("retry-of-d1"))
    assert sorted(outcomes) == ["conflict", "send"]
    taken = store.get("out_of_hours", claim)
    assert taken is not None and taken.data["state"] == "in_progress"
