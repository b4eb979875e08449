"""The weekend gap, shown for real: one post goes through hilft's own ingest and handoff under a
weekday-hours policy, on a clock stopped at Friday 19:55 Berlin time.

The demo's stack runs a 24/7 policy compressed to seconds; a Friday-evening promise would need the
clock to wait for Monday. So this post is ingested in-process by the same services the functions
run (``IngestService``, ``HandoffService``) — Firestore is the demo's emulator (a project of its
own, so the day's numbers are untouched), the DM goes through the real X client to the fake X API —
with the demo's policy changed in two places only: a 60-minute promise and Mon–Fri 08:00–20:00.
The post carries a phone number, so it is handed off to a DM, and that DM names the real due time:
"… Wir melden uns bis Montag, 8:55 Uhr." (due 08:55).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

import deliveries
from demo.scenario import POLICY_FILE
from fakes.world import OutsideWorld

PROJECT = "hilft-demo-friday"  # its own Firestore project in the demo's emulator
CUSTOMER = deliveries.Author("7310000000000000001", "freitagabend", "Jana Freitag")
TEXT = "@Telekom_hilft Seit einer Stunde kein Internet. Rufen Sie mich bitte an: 0171 2345678"
WEEKDAY_HOURS = '''timezone = "Europe/Berlin"
holidays = "DE"

[promise.hours]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
'''


@dataclass(frozen=True)
class FridayEvening:
    posted_at: datetime  # Friday 19:55, policy time zone
    due_at: datetime  # Monday 08:55
    dm_text: str  # what the customer was sent, as the fake X API received it


class _Tasks:
    """The task queue of this one post, kept in memory: its tasks are read here, not dispatched."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, datetime, dict[str, Any]]] = []

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        self.tasks.append((task_id, at, payload))
        return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        return [self.schedule(task_id, at, payload, now) for task_id, at, payload in tasks]

    def delete(self, task_id: str) -> bool:
        return True


def weekday_policy_text() -> str:
    """The demo's policy with the real 60-minute promise and weekday hours instead of 24/7."""
    text = POLICY_FILE.read_text(encoding="utf-8")
    for old, new in (('first_response = "20s"', 'first_response = "60m"'),
                     ('warning_before = "8s"', 'warning_before = "15m"'),
                     ('timezone = "Europe/Berlin"\nhours = "24/7"\n', WEEKDAY_HOURS)):
        if old not in text:
            raise ValueError(f"{POLICY_FILE.name}: expected {old!r} (the Friday-evening post changes it)")
        text = text.replace(old, new, 1)
    return text


def next_friday_evening(today: datetime, tz: ZoneInfo) -> datetime:
    local = today.astimezone(tz)
    friday = local + timedelta(days=(4 - local.weekday()) % 7)
    return friday.replace(hour=19, minute=55, second=0, microsecond=0)


def run(fakes: OutsideWorld, today: datetime) -> FridayEvening:
    """Ingest the Friday-evening post and run its handoff; the demo's Firestore emulator must be
    the ``FIRESTORE_EMULATOR_HOST``."""
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.channels import gateway_factory
    from hilft.channels.x import parse as x
    from hilft.core.ids import mention_doc_id
    from hilft.core.policy import parse_policy
    from hilft.service.handoff import HandoffService
    from hilft.service.ingest import IngestService
    from hilft.settings import Settings

    policy = parse_policy(weekday_policy_text(), source="demo Friday-evening policy")
    tz = ZoneInfo(policy.promise.timezone)
    friday = next_friday_evening(today, tz)
    settings = Settings.from_env(fakes.env())
    store, tasks = FirestoreStore(PROJECT), _Tasks()

    def clock() -> datetime:
        return friday

    post_id = str(int(friday.timestamp() * 1000) << 22)  # an X id of that time
    body = deliveries.x_tweet(post_id, CUSTOMER, TEXT, friday, lang="de")
    ingest = IngestService(store=store, scheduler=tasks, policy=policy, clock=clock, claim_ttl=settings.claim_ttl)
    ingest.ingest(x.parse(body, brand_user_ids=settings.x_brand_user_ids), settings.x_brand_user_ids)
    doc_id = mention_doc_id("x", post_id)
    doc = store.get("mentions", doc_id)
    if doc is None:
        raise RuntimeError("the Friday-evening post was not stored")
    handoff = next((p for _, _, p in tasks.tasks if p.get("kind") == "handoff"), None)
    if handoff is None:
        raise RuntimeError("the Friday-evening post was not handed off (no phone number found?)")
    with httpx.Client(timeout=10) as http:
        HandoffService(store=store, scheduler=tasks, policy=policy, clock=clock,
                       gateways=gateway_factory(settings, http), notifier=None,
                       claim_ttl=settings.claim_ttl).handoff(
            doc_id, department=handoff.get("department"), reason=str(handoff.get("reason") or "pii"),
            pii=True, requested_by="hilft:auto")
    sent = [dm["text"] for dm in fakes.x.dms if dm["participant_id"] == CUSTOMER.id]
    if not sent:
        raise RuntimeError("no DM reached the fake X API")
    return FridayEvening(posted_at=friday, due_at=doc.data["due_at"].astimezone(tz), dm_text=sent[-1])


def promise_in(text: str) -> str:
    """The "bis Montag, 9:00 Uhr" part of a DM, for the demo's one line."""
    match = re.search(r"bis \w+, \d{1,2}:\d{2} Uhr", text)
    return match.group(0) if match else text
