"""The services driven without emulators: in-memory store and scheduler, recording sinks, a fake
clock. The e2e suite proves the same paths against the real emulators; these pin the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hilft.adapters.sinks import SinkMisconfigured, SinkUnavailable
from hilft.core.errors import (
    PlatformRateLimited,
    PrivateChannelRefused,
    TransientError,
    TransientSchedulerError,
    TransientSinkError,
    TransientStoreError,
)
from hilft.core.ids import mention_doc_id
from hilft.core.models import Author, Deletion, Kind, Mention, ParsedBatch, Platform
from hilft.core.policy import parse_policy
from hilft.service.deadlines import DeadlineService
from hilft.service.handoff import HandoffService
from hilft.service.ingest import IngestService
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore, RecordingSink

BRAND = frozenset({"1000000001"})
POLICY_24_7 = """
[promise]
first_response = "60m"
warning_before = "15m"
[escalation]
realert_every = "30m"
max_level = 3
warning_sinks = ["slack"]
[departments.kundenservice]
label = "Kundenservice"
"""
WEEKDAYS = """
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
"""


class World:
    def __init__(self, policy_text: str = POLICY_24_7, start: datetime | None = None) -> None:
        self.policy = parse_policy(policy_text)
        self.clock = FakeClock(start)
        self.store = MemoryStore()
        self.scheduler = MemoryScheduler()
        self.sinks = {name: RecordingSink(name) for name in ("slack", "google_chat", "pagerduty", "webhook")}
        self.ingest = IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                    claim_ttl=DEFAULTS.claim_ttl)
        self.deadlines = DeadlineService(store=self.store, scheduler=self.scheduler, policy=self.policy,
                                         clock=self.clock, sinks=self.sinks, claim_ttl=timedelta(seconds=60),
                                         sweep_grace=DEFAULTS.sweep_grace)

    def mention(self, post_id: str = "1", text: str = "@Telekom_hilft kein Internet", *, author: str = "42",
                kind: Kind = Kind.MENTION, at: datetime | None = None, brand: bool = False,
                in_reply_to: str | None = None, conversation: str | None = None) -> Mention:
        return Mention(platform=Platform.X, post_id=post_id, kind=kind, author=Author(id=author, handle="jana"),
                       text=text, created_at=at or self.clock(), is_brand=brand, in_reply_to=in_reply_to,
                       mentioned_user_ids=("1000000001",), conversation_id=conversation)

    def deliver(self, *events: Mention | Deletion):
        return self.ingest.ingest(ParsedBatch(events=tuple(events)), BRAND)

    def run_due_tasks(self) -> list[str]:
        outcomes = []
        for task in self.scheduler.due(self.clock()):
            if task.payload["kind"] == "handoff":
                continue
            outcomes.append(self.deadlines.fire(task.payload).outcome)
        return outcomes

    def doc(self, post_id: str = "1") -> dict:
        return self.store.data["mentions"][mention_doc_id("x", post_id)]


def test_friday_evening_post_is_due_monday_morning_and_warned_before():
    friday_1955 = datetime(2026, 11, 20, 18, 55, tzinfo=UTC)  # 19:55 in Berlin
    world = World(WEEKDAYS, start=friday_1955)
    world.deliver(world.mention())
    doc = world.doc()
    assert doc["due_at"] == datetime(2026, 11, 23, 7, 55, tzinfo=UTC)  # Monday 08:55 Berlin
    times = sorted(t.at for t in world.scheduler.tasks.values())
    assert times == [datetime(2026, 11, 23, 7, 40, tzinfo=UTC), doc["due_at"]]


def test_a_closure_longer_than_thirty_days_hops_and_fires_at_the_real_due_time():
    closed = [datetime(2026, 11, 23) + timedelta(days=i) for i in range(40)]  # the office shuts for 40 days
    listed = ", ".join(f'"{day:%Y-%m-%d}"' for day in closed)
    policy = WEEKDAYS.replace("[promise.hours]", f"closed_dates = [{listed}]\n[promise.hours]")
    world = World(policy, start=datetime(2026, 11, 20, 18, 55, tzinfo=UTC))
    world.deliver(world.mention())
    due = world.doc()["due_at"]
    assert due > world.clock() + timedelta(days=30)
    first = min(world.scheduler.tasks.values(), key=lambda t: t.at)
    assert first.payload.get("not_before"), "clamped below Cloud Tasks' 30-day horizon"
    world.clock.now = first.at
    assert set(world.run_due_tasks()) == {"rescheduled"}
    world.clock.now = due
    assert "alerted" in world.run_due_tasks()
    assert world.doc()["status"] == "overdue"


def test_overdue_post_escalates_until_max_level_then_stops():
    world = World()
    world.deliver(world.mention())
    world.clock.advance(minutes=45)
    assert world.run_due_tasks() == ["alerted"]  # warning
    world.clock.advance(minutes=15)
    assert world.run_due_tasks() == ["alerted"]  # level 1
    for _ in range(2):
        world.clock.advance(minutes=30)
        assert world.run_due_tasks() == ["alerted"]  # levels 2, 3
    world.clock.advance(hours=5)
    assert world.run_due_tasks() == []  # max_level reached: nothing scheduled any more
    assert world.doc()["alert_level"] == 3 and world.doc()["next_alert_at"] is None
    assert len(world.sinks["slack"].sent) == 4 and len(world.sinks["pagerduty"].sent) == 3


def test_store_failure_after_enqueue_loses_nothing_and_duplicates_nothing():
    world = World()
    world.store.fail_with = TransientStoreError("down")
    with pytest.raises(TransientStoreError):
        world.deliver(world.mention())
    assert len(world.scheduler.tasks) == 2  # enqueued before the failed commit
    world.store.fail_with = None
    world.deliver(world.mention())  # the platform redelivers after our 503
    assert len(world.scheduler.tasks) == 2 and len(world.store.data["mentions"]) == 1
    world.clock.advance(minutes=61)
    assert world.run_due_tasks() == ["alerted", "alerted"]
    assert len(world.sinks["pagerduty"].sent) == 1


def test_scheduler_down_fails_the_delivery_before_anything_is_stored():
    world = World()
    world.scheduler.fail_with = TransientSchedulerError("down")
    with pytest.raises(TransientSchedulerError):
        world.deliver(world.mention())
    assert world.store.data.get("mentions", {}) == {}


def test_deadline_tolerates_a_missing_document():
    world = World()
    assert world.deadlines.fire({"kind": "due", "doc_id": "nope", "level": 1}).outcome == "missing"


def test_sweep_alerts_a_post_whose_tasks_were_lost_and_only_once():
    world = World()
    world.deliver(world.mention())
    world.scheduler.tasks.clear()
    world.clock.advance(minutes=62)
    assert world.deadlines.sweep()["overdue_alerted"] == 1
    assert world.deadlines.sweep()["overdue_alerted"] == 0
    assert len(world.sinks["pagerduty"].sent) == 1


def test_acknowledged_post_gets_no_realert():
    world = World()
    world.deliver(world.mention())
    world.clock.advance(minutes=60)
    world.run_due_tasks()
    assert world.deadlines.acknowledge(mention_doc_id("x", "1"), "anna").outcome == "acknowledged"
    # The staff function holds no PagerDuty key: a task tells PagerDuty, from ``deadline``.
    assert world.run_due_tasks() == ["acknowledged"]
    assert world.sinks["pagerduty"].sent[-1].action.value == "acknowledge"
    world.clock.advance(minutes=31)
    assert world.run_due_tasks() == ["acknowledged"]  # the level-2 escalation stops
    assert world.deadlines.sweep()["realerted"] == 0


def test_an_acknowledgement_from_pagerduty_is_not_sent_back_to_it():
    world = World()
    world.deliver(world.mention())
    world.clock.advance(minutes=60)
    world.run_due_tasks()
    sent_before = len(world.sinks["pagerduty"].sent)
    assert world.deadlines.acknowledge(mention_doc_id("x", "1"), "pagerduty").outcome == "acknowledged"
    world.clock.advance(minutes=31)
    assert world.run_due_tasks() == ["acknowledged"]  # only the escalation, no acknowledge task
    assert len(world.sinks["pagerduty"].sent) == sent_before


def test_claim_in_progress_blocks_a_concurrent_delivery_until_it_expires():
    world = World()
    world.deliver(world.mention())
    doc_id = mention_doc_id("x", "1")
    world.clock.advance(minutes=61)
    world.sinks["pagerduty"].failures.append(SinkUnavailable("pagerduty", "HTTP 503"))
    with pytest.raises(TransientSinkError):
        world.deadlines.alert(doc_id, 1)
    assert world.doc()["alerts"]["1"]["state"] == "failed"
    # the retry sends only what is missing
    assert world.deadlines.alert(doc_id, 1).outcome == "alerted"
    assert [len(world.sinks[n].sent) for n in ("slack", "pagerduty")] == [1, 1]
    # a claim left behind by a crashed instance blocks until it expires
    world.store.update("mentions", doc_id, {"alerts.2": {"state": "in_progress",
                                                         "expires_at": world.clock() + timedelta(seconds=60)}})
    with pytest.raises(TransientError):
        world.deadlines.alert(doc_id, 2)
    world.clock.advance(seconds=61)
    assert world.deadlines.alert(doc_id, 2).outcome == "alerted"


def test_misconfigured_sink_is_skipped_not_retried_forever():
    world = World()
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    world.sinks["webhook"].failures.append(SinkMisconfigured("webhook", 400, "bad"))
    assert world.deadlines.alert(mention_doc_id("x", "1"), 1).outcome == "alerted"
    assert "webhook" not in world.doc()["alerts"]["1"]["sinks_sent"]


def test_answer_after_alert_schedules_a_resolve_that_reaches_the_alerted_sinks():
    world = World()
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    world.run_due_tasks()
    world.deliver(world.mention("2", "Hallo!", author="1000000001", brand=True, in_reply_to="1",
                                kind=Kind.REPLY))
    assert world.doc()["status"] == "answered" and world.doc()["breached"] is True
    assert world.run_due_tasks() == ["resolved"]
    assert world.sinks["pagerduty"].sent[-1].action == "resolve"


def test_brand_dm_answers_only_messages_written_before_it():
    world = World()
    start = world.clock()
    world.deliver(world.mention("d1", "Hallo?", kind=Kind.DM, conversation="c", at=start))
    world.deliver(world.mention("b1", "Wir sind da", author="1000000001", brand=True, kind=Kind.DM,
                                conversation="c", at=start + timedelta(minutes=1)))
    world.deliver(world.mention("d2", "Danke, noch was", kind=Kind.DM, conversation="c",
                                at=start + timedelta(minutes=2)))
    assert world.doc("d1")["status"] == "answered" and world.doc("d2")["status"] == "open"


class FakeGateway:
    def __init__(self) -> None:
        self.dms: list[str] = []
        self.replies: list[str] = []
        self.refuse_dm = False
        self.rate_limited_until: datetime | None = None

    def send_private(self, post, text, now, *, send=None):
        if self.rate_limited_until and now < self.rate_limited_until:
            raise PlatformRateLimited(self.rate_limited_until)
        if self.refuse_dm:
            raise PrivateChannelRefused("closed")
        self.dms.append(text)
        return f"dm{len(self.dms)}"

    def public_reply(self, post, text, *, send=None):
        self.replies.append(text)
        return f"r{len(self.replies)}"


def handoff_world(policy: str = POLICY_24_7) -> tuple[World, FakeGateway, HandoffService]:
    world = World(policy)
    gateway = FakeGateway()
    service = HandoffService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                             gateways=lambda platform: gateway, notifier=None, claim_ttl=DEFAULTS.claim_ttl)
    return world, gateway, service


def test_handoff_sends_one_dm_even_when_called_again():
    world, gateway, service = handoff_world()
    world.deliver(world.mention(text="@Telekom_hilft ruft mich an: 0171 2345678"))
    doc_id = mention_doc_id("x", "1")
    assert "2345678" not in world.doc()["text"]
    first = service.handoff(doc_id, department=None, reason="pii", pii=True)
    again = service.handoff(doc_id, department=None, reason="pii", pii=True)
    assert (first.outcome, again.outcome) == ("dm_sent", "already_handed_off")
    assert len(gateway.dms) == 1 and len(gateway.replies) == 1
    assert "innerhalb der nächsten Stunde" in gateway.dms[0]
    assert world.doc()["status"] == "handed_off"


def test_closed_dms_fall_back_to_a_public_reply():
    world, gateway, service = handoff_world()
    gateway.refuse_dm = True
    world.deliver(world.mention())
    result = service.handoff(mention_doc_id("x", "1"), department=None, reason="manual")
    assert result.outcome == "dm_refused" and gateway.dms == [] and len(gateway.replies) == 1


def test_rate_limited_handoff_is_rescheduled_at_the_reset():
    world, gateway, service = handoff_world()
    world.deliver(world.mention())
    reset = world.clock() + timedelta(minutes=15)
    gateway.rate_limited_until = reset
    assert service.handoff(mention_doc_id("x", "1"), department=None, reason="pii").outcome == "rate_limited"
    retry = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "handoff"]
    assert len(retry) == 1 and retry[0].at == reset and retry[0].payload["attempt"] == 1
    world.clock.now = reset
    assert service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", attempt=1).outcome == "dm_sent"
    assert len(gateway.dms) == 1


def test_operations_per_post_lifecycle_stay_small():
    """mention → warning → answered: the cost budget of the promise (see README, Guarantees)."""
    world = World()
    world.deliver(world.mention())
    world.clock.advance(minutes=46)
    world.run_due_tasks()
    world.deliver(world.mention("2", "Hallo!", author="1000000001", brand=True, in_reply_to="1", kind=Kind.REPLY))
    ops = world.store.ops
    assert world.scheduler.ops["creates"] == 2
    assert ops["writes"] <= 6 and ops["reads"] <= 5, ops


def test_doc_ids_from_outside_must_be_ours():
    from hilft.core.ids import is_doc_id

    assert is_doc_id(mention_doc_id("x", "1"))
    for value in ("", "../mentions/x", "A" * 40, mention_doc_id("x", "1") + "/sub", "0" * 39):
        assert not is_doc_id(value)


def test_one_alert_goes_to_its_sinks_at_once_so_a_slow_sink_delays_no_other():
    """Each sink waits until every other sink was called: sent one after another, this deadlocks
    (and times out); sent at once, every sink gets the alert exactly once."""
    import threading

    world = World()
    names = ("slack", "google_chat", "pagerduty", "webhook")
    arrived = threading.Barrier(len(names), timeout=5)

    class WaitingSink(RecordingSink):
        def send(self, alert):
            arrived.wait()
            return super().send(alert)

    for name in names:
        world.sinks[name] = WaitingSink(name)
    world.deadlines.sinks = world.sinks
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    assert world.deadlines.alert(mention_doc_id("x", "1"), 1).outcome == "alerted"
    assert [len(world.sinks[n].sent) for n in names] == [1, 1, 1, 1]
