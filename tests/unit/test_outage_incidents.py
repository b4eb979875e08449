"""Incidents from stored posts: the scheduled evaluation, incident documents and alerts, storm folding.

Services run on the in-memory store and scheduler (tests/unit/memory.py), the real IngestService
and a DeadlineService whose ``AlertFolder`` hook is the incident service (as app.py wires it).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hilft.core import outage
from hilft.core.alerts import Alert, AlertAction
from hilft.core.document import MentionDoc
from hilft.core.incident_alerts import IncidentEvent
from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform
from hilft.core.policy import parse_policy
from hilft.service.deadlines import DeadlineService
from hilft.service.incidents import IncidentService
from hilft.service.ingest import IngestService
from hilft.service.ports import INCIDENT_ALERTS, INCIDENTS, INCIDENTS_OPEN, OUTAGE_STATE, Snapshot
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore, RecordingSink

BRAND = frozenset({"1000000001"})
POLICY = """
[promise]
first_response = "60m"
warning_before = "15m"
[escalation]
realert_every = "30m"
max_level = 3
warning_sinks = ["slack"]
[departments.festnetz]
label = "Festnetz"
keywords = ["internet", "dsl", "festnetz"]
[departments.kundenservice]
label = "Kundenservice"
[outage]
trigger = "tasks"
resolve_after = "10m"
update_every = "5m"
fold_window = "30s"
"""
SINKS = ("slack", "google_chat", "pagerduty", "webhook")


class Queries:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def _docs(self, collection: str) -> list[Any]:
        return [Snapshot(k, dict(v), 0) for k, v in self.store.data.get(collection, {}).items()]

    def received_between(self, after: datetime, through: datetime, limit: int = 2000) -> list[Any]:
        docs = [s for s in self._docs("mentions") if isinstance(s.data.get("received_at"), datetime)
                and after < s.data["received_at"] <= through]
        return sorted(docs, key=lambda s: s.data["received_at"])

    def incident_members(self, incident_id: str, limit: int = 5000) -> list[Any]:
        return [s for s in self._docs("mentions") if s.data.get("incident_id") == incident_id]

    def unanswered_members(self, incident_id: str, due_by: datetime | None) -> Iterator[Any]:
        """As the Firestore query: unanswered, due by ``due_by``, earliest due first (no due time: left out)."""
        docs = [s for s in self._docs("mentions") if s.data.get("incident_id") == incident_id
                and s.data.get("status") in ("open", "overdue") and isinstance(s.data.get("due_at"), datetime)
                and (due_by is None or s.data["due_at"] <= due_by)]
        yield from sorted(docs, key=lambda s: (s.data["due_at"], s.id))

    def open_incidents(self, limit: int = 50) -> list[Any]:
        return [s for s in self._docs(INCIDENTS) if s.data.get("status") in ("open", "acknowledged")]


def _no_nested_arrays(value: Any, inside_array: bool = False) -> None:
    """Firestore refuses an array inside an array (INVALID_ARGUMENT); the memory store must too."""
    if isinstance(value, list | tuple):
        assert not inside_array, "Firestore holds no array inside an array"
        for item in value:
            _no_nested_arrays(item, True)
    elif isinstance(value, dict):
        for item in value.values():
            _no_nested_arrays(item, False)


class WriteLog(MemoryStore):
    """A MemoryStore that remembers when each document was written (fake clock time; only writes
    that happened, not refused creates or failed preconditions) and refuses what Firestore refuses
    (arrays in arrays; over 1 MiB, as every MemoryStore)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.writes: list[tuple[str, str, datetime]] = []

    def _bump(self, op: str, collection: str, doc_id: str) -> None:
        super()._bump(op, collection, doc_id)
        self.writes.append((collection, doc_id, self.clock()))

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        _no_nested_arrays(data)
        return super().create(collection, doc_id, data)

    def update(self, collection: str, doc_id: str, updates: dict[str, Any]) -> bool:
        _no_nested_arrays(updates)
        return super().update(collection, doc_id, updates)

    def set(self, collection: str, doc_id: str, data: dict[str, Any], merge: bool = True) -> None:
        _no_nested_arrays(data)
        super().set(collection, doc_id, data, merge)

    def busiest_second(self, collections: tuple[str, ...] | None = None) -> tuple[int, tuple[str, str, datetime]]:
        """The most writes one document had within one wall-clock second, and which document and second."""
        per_second = Counter((c, d, t.replace(microsecond=0)) for c, d, t in self.writes
                             if collections is None or c in collections)
        worst, count = per_second.most_common(1)[0] if per_second else (("", "", datetime.min), 0)
        return count, worst


class World:
    def __init__(self, policy_text: str = POLICY) -> None:
        self.policy = parse_policy(policy_text)
        self.clock = FakeClock(datetime(2026, 11, 20, 13, 0, 3, tzinfo=UTC))
        self.store = WriteLog(self.clock)
        self.scheduler = MemoryScheduler()
        self.post_sinks = {name: RecordingSink(name) for name in SINKS}
        self.incident_sinks = {name: RecordingSink(name) for name in SINKS}
        self.ingest = IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                    claim_ttl=DEFAULTS.claim_ttl)
        self.incidents = IncidentService(store=self.store, queries=Queries(self.store), scheduler=self.scheduler,
                                         policy=self.policy, clock=self.clock, sinks=self.incident_sinks,
                                         board_url="https://board.example/")
        self.deadlines = DeadlineService(store=self.store, scheduler=self.scheduler, policy=self.policy,
                                         clock=self.clock, sinks=self.post_sinks, claim_ttl=timedelta(seconds=60),
                                         sweep_grace=DEFAULTS.sweep_grace, folder=self.incidents)
        self.sequence = 0

    def post(self, text: str, n: int = 1) -> None:
        events = []
        for _ in range(n):
            self.sequence += 1
            events.append(Mention(platform=Platform.X, post_id=str(10_000 + self.sequence), kind=Kind.MENTION,
                                  author=Author(id=str(500 + self.sequence), handle=f"kunde{self.sequence}"),
                                  text=text, created_at=self.clock(), mentioned_user_ids=("1000000001",)))
        result = self.ingest.ingest(ParsedBatch(events=tuple(events)), BRAND)
        self.incidents.note_ingest(result.stored)

    def run_tasks(self) -> list[Any]:
        """Fire every task due by now, as Cloud Tasks would call ``deadline``."""
        outcomes = []
        for task in self.scheduler.due(self.clock()):
            kind = task.payload["kind"]
            if kind in ("outage_eval", "incident_fold", "incident_acknowledged"):
                outcomes.append(self.incidents.run_task(task.payload))
            elif kind in ("warning", "due", "escalate", "acknowledged"):
                outcomes.append(self.deadlines.fire(task.payload).outcome)
        return outcomes

    def advance(self, seconds: float, step: float = 5.0) -> None:
        """Time passes: due tasks fire, and the sweep runs at every full minute (Cloud Scheduler)."""
        end = self.clock() + timedelta(seconds=seconds)
        while self.clock() < end:
            before = self.clock()
            self.clock.now = min(end, self.clock() + timedelta(seconds=step))
            self.run_tasks()
            if self.clock().minute != before.minute:
                self.incidents.sweep()

    def incident_docs(self) -> dict[str, dict[str, Any]]:
        return self.store.data.get(INCIDENTS, {})

    def sent(self, sinks: dict[str, RecordingSink], event: IncidentEvent | None = None) -> Counter[str]:
        return Counter(name for name, sink in sinks.items() for alert in sink.sent
                       if event is None or getattr(alert, "event", None) is event)


BURST = "Seit 10 Minuten kein Internet in 53113 Bonn, Router blinkt rot. Ruf mich an: 0171 2345678"


def test_a_burst_opens_one_incident_with_topic_place_and_redacted_samples_and_alerts_each_sink_once() -> None:
    world = World()
    for _ in range(6):
        world.post(BURST, 2)
        world.advance(10)
    world.advance(30)
    (incident_id, doc), = world.incident_docs().items()
    assert (doc["key"], doc["topic"], doc["place"], doc["status"]) == ("festnetz|de-53", "festnetz", "de-53", "open")
    assert doc["topic_label"] == "Störung Festnetz" and doc["place_label"] == "53113 Bonn"
    assert doc["count"] >= 8 and doc["first_seen"] <= doc["last_seen"]
    assert doc["samples"] and all("0171" not in s["excerpt"] and "2345678" not in s["excerpt"] for s in doc["samples"])
    assert {s["platform"] for s in doc["samples"]} == {"x"}
    assert world.sent(world.incident_sinks, IncidentEvent.OPENED) == Counter({name: 1 for name in SINKS})
    opened = world.incident_sinks["pagerduty"].sent[0]
    assert opened.incident_id == incident_id and "53113 Bonn" in opened.headline
    pointer = world.store.data[INCIDENTS_OPEN][outage.key_id("festnetz|de-53")]
    assert pointer["incident_id"] == incident_id
    members = [d for d in world.store.data["mentions"].values() if d.get("incident_id") == incident_id]
    assert len(members) == 12  # the posts of the window are marked, not only those after the opening
    assert not any(d.get("incident_id") for k, d in world.incident_docs().items() if k != incident_id)


def test_a_sink_that_missed_the_opening_message_gets_it_from_the_next_evaluation() -> None:
    from hilft.core.errors import SinkUnavailable

    world = World()
    world.incident_sinks["slack"].failures.append(SinkUnavailable("slack", "503"))
    for _ in range(6):
        world.post(BURST, 2)
        world.advance(10)
    (incident_id, doc), = world.incident_docs().items()
    assert world.sent(world.incident_sinks, IncidentEvent.OPENED)["slack"] == 0
    assert doc["alerts"]["opened"]["sinks_failed"] == ["slack"]
    world.advance(70)  # the next evaluations (the sweep at least once a minute)
    assert world.sent(world.incident_sinks, IncidentEvent.OPENED) == Counter({name: 1 for name in SINKS})
    opened = world.incident_docs()[incident_id]["alerts"]["opened"]
    assert opened["sinks_sent"] == sorted(SINKS) and opened["sinks_failed"] == []


def test_it_grows_updates_after_doubling_and_resolves_after_the_quiet_period_telling_the_sinks() -> None:
    world = World()
    for _ in range(5):
        world.post(BURST, 2)
        world.advance(10)
    world.advance(30)
    (incident_id, doc), = world.incident_docs().items()
    first_count = doc["count"]
    for _ in range(30):  # five more minutes of posts: more than double
        world.post(BURST, 2)
        world.advance(10)
    doc = world.incident_docs()[incident_id]
    assert doc["count"] >= 2 * first_count
    assert world.sent(world.incident_sinks, IncidentEvent.OPENED)["slack"] == 1
    assert 1 <= world.sent(world.incident_sinks, IncidentEvent.GREW)["slack"] <= 2  # not one per post
    world.advance(9 * 60, step=20)
    assert world.incident_docs()[incident_id]["status"] == "open"  # quiet, but not yet resolve_after
    world.advance(8 * 60, step=20)
    doc = world.incident_docs()[incident_id]
    assert doc["status"] == "resolved"
    assert world.sent(world.incident_sinks, IncidentEvent.RESOLVED) == Counter({name: 1 for name in SINKS})
    assert world.store.data[INCIDENTS_OPEN][outage.key_id("festnetz|de-53")]["incident_id"] is None


def test_ordinary_posts_open_nothing() -> None:
    world = World()
    for i in range(40):
        world.post(["Danke für die Hilfe!", "Wie ändere ich meinen Tarif?", "kein Internet in Köln"][i % 3])
        world.advance(30)
    assert world.incident_docs() == {}
    assert world.sent(world.incident_sinks) == Counter()


def test_a_storm_of_300_due_posts_of_an_incident_is_at_most_three_messages_per_sink() -> None:
    world = World()
    for _ in range(5):
        world.post(BURST, 2)
        world.advance(10)
    world.advance(25)
    assert len(world.incident_docs()) == 1
    due_at = world.clock() + timedelta(minutes=60)
    world.post(BURST, 290)  # arrive in one second: due in the same second, 60 min later
    world.post("Festnetz geht, aber die Rechnung stimmt nicht", 1)  # outside the incident
    world.advance(30)
    world.clock.now = due_at - timedelta(minutes=15) + timedelta(seconds=1)  # the warnings: folded too
    world.run_tasks()
    world.advance(60)
    warned = [a for a in world.incident_sinks["slack"].sent if a.event is IncidentEvent.STORM]
    assert warned and warned[0].level == 0 and world.sent(world.incident_sinks, IncidentEvent.STORM)["pagerduty"] == 0
    before = world.sent(world.incident_sinks)
    world.clock.now = due_at + timedelta(seconds=1)
    world.run_tasks()
    world.advance(60)
    storm = [a for a in world.incident_sinks["slack"].sent if a.event is IncidentEvent.STORM and a.level == 1]
    assert storm and storm[0].overdue >= 290 and storm[0].oldest_due <= due_at + timedelta(seconds=1)
    assert storm[0].now - due_at <= timedelta(seconds=1)  # the first message at the due second
    after = world.sent(world.incident_sinks) - before
    assert all(1 <= after[name] <= 3 for name in SINKS), after
    count, worst = world.store.busiest_second(SHARED)  # 290 posts claiming in one second: one write each
    assert count <= 1, f"{worst[0]}/{worst[1][:16]} written {count} times at {worst[2]:%H:%M:%S}"
    # posts of the incident sent no alert of their own; the post outside it did
    per_post = Counter(alert.doc_id for sink in world.post_sinks.values() for alert in sink.sent if alert.level >= 1)
    outside = [doc_id for doc_id, d in world.store.data["mentions"].items() if not d.get("incident_id")]
    assert set(per_post) == set(outside) and len(outside) == 1


def test_as_the_deadline_services_folder_the_incident_takes_only_its_members_trigger_alerts() -> None:
    world = World()
    for _ in range(5):
        world.post(BURST, 2)
        world.advance(10)
    world.advance(25)
    assert len(world.incident_docs()) == 1
    world.post(BURST, 1)
    world.post("Festnetz geht, aber die Rechnung stimmt nicht", 1)
    world.advance(30)
    mentions = world.store.data["mentions"]
    member = max((item for item in mentions.items() if "Bonn" in item[1]["text"]),
                 key=lambda item: item[1]["received_at"])  # the post after the incident opened
    outsider = next(item for item in mentions.items() if "Rechnung" in item[1]["text"])

    def alert(doc_id: str, action: AlertAction) -> Alert:
        return Alert(action=action, level=1, platform="x", post_id="1", doc_id=doc_id, author_handle="kunde",
                     excerpt=mentions[doc_id]["text"], due_at=world.clock(), now=world.clock(), url=None,
                     board_url=None)

    def stored(item: tuple[str, dict[str, Any]]) -> MentionDoc:
        return MentionDoc.from_store(item[1])

    assert world.incidents.fold_alert(alert(outsider[0], AlertAction.TRIGGER), stored(outsider)) is False
    for action in (AlertAction.RESOLVE, AlertAction.ACKNOWLEDGE):
        assert world.incidents.fold_alert(alert(member[0], action), stored(member)) is False
    assert world.incidents.fold_alert(alert(member[0], AlertAction.TRIGGER), stored(member)) is True
    assert mentions[member[0]]["incident_id"] in world.incident_docs()


SHARED = (INCIDENTS, INCIDENTS_OPEN, INCIDENT_ALERTS, OUTAGE_STATE)


@pytest.mark.slow
def test_at_10000_posts_a_minute_no_document_is_written_more_than_once_a_second() -> None:
    world = World()
    for _ in range(3):
        world.post(BURST, 1)
    tasks = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "outage_eval"]
    assert len(tasks) == 1

    def shared_writes(posts_per_slot: int) -> Counter[tuple[str, str]]:
        w = World()
        for _ in range(4):  # 80 s: an incident opens, grows; a slot's task and the minute sweep meet
            w.post(BURST, posts_per_slot)
            w.advance(20, step=5)
        w.advance(40, step=5)
        # fake time: everything at one tick is one wall-clock second — the strictest reading
        count, worst = w.store.busiest_second()
        assert count <= 1, f"{worst[0]}/{worst[1][:12]} written {count} times at {worst[2]:%H:%M:%S}"
        assert len(w.incident_docs()) == 1
        return Counter((c, d) for c, d, _ in w.store.writes if c in SHARED)

    # 10,000 posts a minute (3,334 per 20 s slot) against 60 a minute: writes follow evaluations, not posts
    busy, calm = shared_writes(3334), shared_writes(20)
    assert max(busy.values()) <= max(calm.values()) + 1


def test_an_evaluation_within_a_second_of_the_last_save_leaves_the_slots_to_the_next_trigger() -> None:
    world = World()
    world.post(BURST, 3)
    world.clock.now += timedelta(seconds=60)
    latest = outage.slot_of(world.clock() - timedelta(seconds=5), 20) - 1
    assert world.incidents.evaluate(latest - 1)["outcome"] == "evaluated"
    writes = len(world.store.writes)
    assert world.incidents.evaluate()["outcome"] == "busy"  # one more slot, but the state was just written
    assert len(world.store.writes) == writes
    world.clock.now += timedelta(seconds=1)
    assert world.incidents.evaluate()["outcome"] == "evaluated"


def test_a_storm_message_a_sink_missed_is_sent_by_the_follow_up_after_its_post_was_answered() -> None:
    from hilft.core.errors import SinkUnavailable, TransientError

    world = World()
    for _ in range(5):
        world.post(BURST, 2)
        world.advance(10)
    world.advance(25)
    assert len(world.incident_docs()) == 1
    due_at = world.clock() + timedelta(minutes=60)
    world.post(BURST, 20)
    world.advance(30)
    world.clock.now = due_at - timedelta(minutes=15) + timedelta(seconds=1)
    world.run_tasks()  # the warnings (slack only), folded
    world.incident_sinks["pagerduty"].failures.append(SinkUnavailable("pagerduty", "503"))
    world.clock.now = due_at + timedelta(seconds=1)
    failed = []
    for task in world.scheduler.due(world.clock()):
        if task.payload["kind"] != "due":
            continue
        try:
            world.deadlines.fire(task.payload)
        except TransientError:
            failed.append(task.payload["doc_id"])  # Cloud Tasks would retry this post's alert
    (creator,) = failed  # the post that sent the incident's storm message; PagerDuty failed
    assert world.sent(world.incident_sinks, IncidentEvent.STORM)["pagerduty"] == 0
    world.store.data["mentions"][creator]["status"] = "answered"  # answered before its retry
    world.advance(60)  # the follow-up, fold_window later
    storm = [a for a in world.incident_sinks["pagerduty"].sent if a.event is IncidentEvent.STORM]
    assert len(storm) == 1 and storm[0].level == 1 and storm[0].overdue >= 19
    assert world.sent(world.incident_sinks, IncidentEvent.STORM)["slack"] <= 3


def test_disabled_outage_detection_does_nothing() -> None:
    world = World(POLICY + "enabled = false\n")
    world.post(BURST, 20)
    world.advance(60)
    assert world.incidents.evaluate() == {"outcome": "disabled"}
    assert world.incident_docs() == {} and world.store.data.get(OUTAGE_STATE) is None


def test_with_the_sweep_trigger_webhooks_enqueue_nothing_and_the_sweep_still_finds_the_burst() -> None:
    world = World(POLICY.replace('trigger = "tasks"', 'trigger = "sweep"'))
    for _ in range(6):
        world.post(BURST, 2)
        world.advance(10)
    assert not [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "outage_eval"]
    world.advance(70)  # the minute sweep ran
    assert len(world.incident_docs()) == 1


def test_incident_payloads_have_their_own_keys_and_speak_each_sinks_language() -> None:
    from hilft.core import incident_alerts as p
    from hilft.core.incident_alerts import IncidentAlert

    now = datetime(2026, 11, 20, 10, 12, tzinfo=UTC)
    alert = IncidentAlert(event=IncidentEvent.STORM, incident_id="ab" * 20, headline="Störung Festnetz, 53113 Bonn "
                          "— 37 posts in 12 min", count=37, first_seen=now - timedelta(minutes=12), now=now,
                          excerpts=("<users/all> kein Internet [Telefonnummer]",), level=2, overdue=30,
                          oldest_due=now - timedelta(minutes=3))
    key = "hilft-incident-" + "ab" * 20
    assert p.line(alert) == ("⏰ Störung Festnetz, 53113 Bonn — 37 posts in 12 min: 30 posts overdue (level 2), "
                             "oldest due 11:09 CET")
    # not today on the policy's wall clock: the day is named (Berlin is an hour ahead of UTC in November)
    late = dataclasses.replace(alert, now=datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    assert p.line(late).endswith("oldest due Fri 11:09 CET")
    assert p.line(dataclasses.replace(late, lang="de")).endswith("oldest due Fr 11:09 CET")
    older = dataclasses.replace(alert, oldest_due=now - timedelta(days=10))
    assert p.line(older).endswith("oldest due Tue 10 Nov 11:12 CET")
    assert p.line(dataclasses.replace(older, lang="de")).endswith("oldest due Di 10.11. 11:12 CET")
    pd = p.pagerduty_event(alert, "R" * 32)
    assert pd["dedup_key"] == key and pd["event_action"] == "trigger" and pd["payload"]["severity"] == "critical"
    chat = p.google_chat_message(alert)
    assert chat["thread"] == {"threadKey": key} and "<" not in chat["text"]
    assert "&lt;users/all&gt;" in str(p.slack_message(alert))
    hook = p.webhook_payload(alert)
    assert (hook["event"], hook["kind"], hook["incident_event"], hook["alert_key"]) == (
        "triggered", "incident", "storm", key)
    resolved = IncidentAlert(event=IncidentEvent.RESOLVED, incident_id="ab" * 20, headline="h", count=1,
                             first_seen=now, now=now)
    assert p.pagerduty_event(resolved, "k") == {"routing_key": "k", "event_action": "resolve", "dedup_key": key}
    assert p.webhook_payload(resolved)["event"] == "resolved"
    assert p.delivery_id(alert) != p.delivery_id(resolved)



def _open_an_incident_without_personal_data(world: World) -> str:
    """Five burst posts without the phone number, ten seconds apart: one incident opens; its id."""
    for _ in range(5):
        world.post(BURST.replace(" Ruf mich an: 0171 2345678", ""), 2)
        world.advance(10)
    world.advance(30)
    (incident_id, _), = world.incident_docs().items()
    return incident_id

def test_one_acknowledge_covers_the_incident_and_its_posts_and_tells_pagerduty_once() -> None:
    world = World()
    incident_id = _open_an_incident_without_personal_data(world)
    world.post(BURST.replace(" Ruf mich an: 0171 2345678", ""), 5)
    world.advance(30)
    members = [k for k, d in world.store.data["mentions"].items() if d.get("incident_id") == incident_id]
    assert len(members) == 15
    # the staff functions (ack, board) hold no sink secrets: their incident service has no sinks
    staff = IncidentService(store=world.store, queries=Queries(world.store), scheduler=world.scheduler,
                            policy=world.policy, clock=world.clock, sinks={})
    result = staff.acknowledge(incident_id, "anna@example.com", world.deadlines)
    assert result == {"outcome": "acknowledged", "posts": 15}
    doc = world.incident_docs()[incident_id]
    assert doc["status"] == "acknowledged" and doc["acknowledged_by"] == "anna@example.com"
    assert all(world.store.data["mentions"][m]["acknowledged"] for m in members)
    assert world.sent(world.incident_sinks, IncidentEvent.ACKNOWLEDGED) == Counter()
    world.run_tasks()  # deadline, which has the sinks, carries out the incident_acknowledged task
    acks = [a for a in world.incident_sinks["pagerduty"].sent if a.event is IncidentEvent.ACKNOWLEDGED]
    assert len(acks) == 1 and world.sent(world.incident_sinks, IncidentEvent.ACKNOWLEDGED)["slack"] == 0
    assert world.incidents.acknowledge(incident_id, "bob", world.deadlines)["outcome"] == "already_acknowledged"
    # acknowledged posts are not re-alerted past level 1; the incident stays listed for the board
    assert [i["status"] for i in world.incidents.open_incidents()] == ["acknowledged"]


def test_one_evaluation_at_a_time_a_second_one_is_busy_until_the_lease_expires() -> None:
    world = World()
    world.post(BURST, 3)
    world.clock.now += timedelta(seconds=40)
    other = IncidentService(store=world.store, queries=Queries(world.store), scheduler=world.scheduler,
                            policy=world.policy, clock=world.clock, sinks={})
    held = other._lease(world.clock(), None)  # an evaluation in progress elsewhere
    assert held is not None
    assert world.incidents.evaluate() == {"outcome": "busy"}
    world.clock.now += timedelta(seconds=61)
    assert world.incidents.evaluate()["outcome"] == "evaluated"
    state = world.store.data[OUTAGE_STATE]
    assert state["detector"]["lease_done"] == state["lease"]["token"]  # given back, by the save itself


def test_the_board_groups_an_incidents_open_posts_into_one_row() -> None:
    from zoneinfo import ZoneInfo

    from hilft.core.board_view import build_board

    world = World()
    for _ in range(5):
        world.post(BURST.replace(" Ruf mich an: 0171 2345678", ""), 2)
        world.advance(10)
    world.advance(30)
    world.post("Wie ändere ich meinen Tarif?")
    (incident_id, _), = world.incident_docs().items()
    docs = list(world.store.data["mentions"].items())
    board = build_board(open_docs=docs, recent_docs=[d for _, d in docs], now=world.clock(),
                        window=timedelta(hours=1), promise=timedelta(minutes=60), departments=[],
                        tz=ZoneInfo("Europe/Berlin"))
    (group,) = board.incidents
    assert group.incident_id == incident_id and len(group.doc_ids) == 10
    assert group.summary() == "Störung Festnetz, 53113 Bonn — 10 posts open, 0 overdue"
    data = board.as_json()
    assert data["incidents"][0]["posts"] == 10
    assert sum(1 for item in data["items"] if item["incident_id"] == incident_id) == 10
    assert sum(1 for item in data["items"] if item["incident_id"] is None) == 1


def test_an_incident_reply_answers_each_open_public_post_once_when_the_policy_has_one() -> None:
    from hilft.core.errors import MalformedPayload
    from hilft.service.holding import HoldingReplyService

    reply = "Uns ist eine Störung in Ihrer Region bekannt, die Technik arbeitet daran."
    world = World(POLICY + f'incident_reply = "{reply}"\n')
    incident_id = _open_an_incident_without_personal_data(world)
    holding = HoldingReplyService(store=world.store, scheduler=world.scheduler, policy=world.policy,
                                  clock=world.clock, gateways=lambda platform: None, claim_ttl=DEFAULTS.claim_ttl)
    assert world.incidents.reply_all(incident_id, "anna", holding) == {"replies": {"queued": 10}}
    queued = [t.payload for t in world.scheduler.tasks.values() if t.payload["kind"] == "holding_reply"]
    assert len(queued) == 10 and {p["text"] for p in queued} == {reply}
    plain = World()
    with pytest.raises(MalformedPayload, match="incident_reply"):
        plain.incidents.reply_all(incident_id, "anna", holding)


def test_after_a_long_gap_an_evaluation_reads_the_last_hour_only() -> None:
    world = World()
    world.post(BURST, 12)  # a burst nobody evaluated in time
    world.clock.now += timedelta(hours=2)
    world.post(BURST, 1)
    world.clock.now += timedelta(seconds=30)
    result = world.incidents.evaluate()
    assert result["outcome"] == "evaluated" and result["posts"] == 1 and result["opened"] == 0


def test_an_incident_acknowledged_in_pagerduty_acknowledges_its_members_own_pagerduty_incidents() -> None:
    world = World()
    early = BURST.replace(" Ruf mich an: 0171 2345678", "")
    world.post(early, 1)  # a post before the incident, due (and paged on its own key) later
    (early_id,) = world.store.data["mentions"]
    world.store.data["mentions"][early_id]["due_at"] = world.clock() + timedelta(seconds=40)
    world.scheduler.schedule("early-due", world.clock() + timedelta(seconds=40),
                             {"doc_id": early_id, "kind": "due", "level": 1}, world.clock())
    for _ in range(6):
        world.post(early, 2)
        world.advance(10)
    world.advance(30)
    (incident_id, _), = world.incident_docs().items()
    assert world.store.data["mentions"][early_id]["incident_id"] == incident_id
    assert "pagerduty" in MentionDoc.from_store(world.store.data["mentions"][early_id]).sinks_alerted()
    world.incidents.acknowledge(incident_id, "pagerduty", world.deadlines)
    world.run_tasks()
    own = [a for a in world.post_sinks["pagerduty"].sent if a.action is AlertAction.ACKNOWLEDGE]
    assert [a.doc_id for a in own] == [early_id]  # PagerDuty knew only the incident's key was acknowledged
    assert world.sent(world.incident_sinks, IncidentEvent.ACKNOWLEDGED) == Counter()  # that one it knows


def test_a_replayed_backlog_of_yesterdays_posts_opens_no_incident_and_pages_nobody() -> None:
    world = World()
    texts = ["Kein Internet in 53113 Bonn", "Internet weg in Bonn", "Störung DSL 53115 Bonn"]
    backlog = tuple(Mention(platform=Platform.X, post_id=str(90_000 + i), kind=Kind.MENTION,
                            author=Author(id=str(700 + i), handle=f"k{i}"), text=texts[i % 3],
                            created_at=world.clock() - timedelta(hours=20) + timedelta(minutes=40 * i),
                            mentioned_user_ids=("1000000001",)) for i in range(12))
    world.incidents.note_ingest(world.ingest.ingest(ParsedBatch(events=backlog), BRAND).stored)
    world.advance(60)
    assert world.incident_docs() == {} and world.sent(world.incident_sinks) == Counter()


def test_posts_count_in_the_slot_they_were_written_so_a_late_delivery_still_joins_its_burst() -> None:
    world = World()
    for _ in range(6):  # each batch delivered 50 s after it was written (within the 5 min window)
        events = []
        for _ in range(2):
            world.sequence += 1
            events.append(Mention(platform=Platform.X, post_id=str(10_000 + world.sequence), kind=Kind.MENTION,
                                  author=Author(id=str(500 + world.sequence), handle=f"k{world.sequence}"),
                                  text=BURST, created_at=world.clock() - timedelta(seconds=50),
                                  mentioned_user_ids=("1000000001",)))
        world.incidents.note_ingest(world.ingest.ingest(ParsedBatch(events=tuple(events)), BRAND).stored)
        world.advance(10)
    world.advance(30)
    (doc,) = world.incident_docs().values()
    assert doc["count"] >= 8


def test_a_storm_paged_after_its_incident_resolved_is_resolved_in_pagerduty_once_its_posts_are_handled() -> None:
    from hilft.core.incident_alerts import pagerduty_event

    world = World()
    for _ in range(6):
        world.post(BURST, 2)
        world.advance(10)
    (incident_id, _), = world.incident_docs().items()
    world.advance(20 * 60, step=20)  # quiet for longer than resolve_after (and the window)
    assert world.incident_docs()[incident_id]["status"] == "resolved"
    world.advance(42 * 60, step=20)  # the posts come due: their overdue alerts fold into the incident
    actions = [pagerduty_event(a, "rk")["event_action"] for a in world.incident_sinks["pagerduty"].sent]
    assert actions[:2] == ["trigger", "resolve"] and actions[-1] == "trigger"  # paged again on its key
    world.advance(6 * 60, step=20)
    assert pagerduty_event(world.incident_sinks["pagerduty"].sent[-1], "rk")["event_action"] == "trigger"  # open posts
    for doc in world.store.data["mentions"].values():
        doc["status"] = "answered"
    world.advance(6 * 60, step=20)
    actions = [pagerduty_event(a, "rk")["event_action"] for a in world.incident_sinks["pagerduty"].sent]
    assert actions[-1] == "resolve" and actions.count("resolve") == 2


def test_slow_sinks_do_not_let_the_next_evaluation_write_within_a_second_of_this_ones_writes() -> None:
    world = World()
    for sink in world.incident_sinks.values():  # each incident sink takes 3 s (HTTP within its timeout)
        def slow(alert: Any, send: Any = sink.send) -> None:
            world.clock.now += timedelta(seconds=3)
            send(alert)
        sink.send = slow  # type: ignore[method-assign]
    for _ in range(6):
        world.post(BURST, 2)
        world.clock.now += timedelta(seconds=10)
    slot = outage.slot_of(world.clock(), 20)
    world.clock.now = outage.slot_start(slot + 1, 20) + timedelta(seconds=14)
    world.post(BURST, 2)
    assert world.incidents.evaluate()["opened"] == 1  # the clock moved 12 s while it sent
    world.post(BURST, 2)
    world.clock.now += timedelta(milliseconds=300)
    assert world.incidents.evaluate() == {"outcome": "busy"}
    count, worst = world.store.busiest_second(SHARED)
    assert count <= 1, f"{worst[0]}/{worst[1][:16]} written {count} times at {worst[2]:%H:%M:%S}"


def test_incident_statuses_are_one_enum_stored_as_their_plain_names() -> None:
    from hilft.core.outage import ACTIVE_STATUSES, IncidentStatus

    world = World()
    for _ in range(6):
        world.post(BURST, 2)
        world.advance(10)
    (incident_id, doc), = world.incident_docs().items()
    assert doc["status"] is IncidentStatus.OPEN and doc["status"] == "open"
    world.incidents.acknowledge(incident_id, "anna", world.deadlines)
    assert world.incident_docs()[incident_id]["status"] == IncidentStatus.ACKNOWLEDGED
    assert [str(s) for s in ACTIVE_STATUSES] == ["open", "acknowledged"]


def _storm_paged_after_resolve() -> tuple[World, str]:
    """An incident that resolved, then its posts came due: the storm page re-opened PagerDuty's incident."""
    world = World()
    for _ in range(6):
        world.post(BURST, 2)
        world.advance(10)
    (incident_id, _), = world.incident_docs().items()
    world.advance(20 * 60, step=20)
    assert world.incident_docs()[incident_id]["status"] == "resolved"
    world.advance(42 * 60, step=20)
    return world, incident_id


def test_a_post_coming_due_after_its_storm_page_was_resolved_alerts_on_its_own() -> None:
    from hilft.core.incident_alerts import pagerduty_event

    world, incident_id = _storm_paged_after_resolve()
    mentions = world.store.data["mentions"]
    late = sorted(mentions)[0]
    for doc_id, doc in mentions.items():
        if doc_id != late:
            doc["status"] = "answered"
    # the late member's promise runs out later (a longer promise, or a reopen)
    due = world.clock() + timedelta(minutes=15)
    mentions[late].update(status="open", due_at=due, warn_at=due, alert_level=None, next_alert_at=None,
                          alerts={}, acknowledged=False)
    world.scheduler.schedule("late-due", due, {"doc_id": late, "kind": "due", "level": 1,
                                               "due_at": due.isoformat()}, world.clock())
    world.advance(6 * 60, step=20)  # the storm page settles: none of its posts is pending
    assert pagerduty_event(world.incident_sinks["pagerduty"].sent[-1], "rk")["event_action"] == "resolve"
    incident_messages = sum(len(s.sent) for s in world.incident_sinks.values())
    world.advance(20 * 60, step=20)
    own = [name for name, sink in world.post_sinks.items() for a in sink.sent if a.doc_id == late]
    assert "pagerduty" in own, "the late post's overdue alert reached nobody"
    assert sum(len(s.sent) for s in world.incident_sinks.values()) == incident_messages
    assert mentions[late]["alerts"]["1"]["sinks_sent"]


def test_a_post_folding_while_the_storm_page_settles_keeps_the_page_open() -> None:
    """The settle check found nothing pending, then a post came due and folded before the page was
    marked settled: the check after the mark sees it and the page stays open until it is handled."""
    from hilft.core.incident_alerts import pagerduty_event

    world, incident_id = _storm_paged_after_resolve()
    mentions = world.store.data["mentions"]
    for doc in mentions.values():
        doc["status"] = "answered"
    racer = sorted(mentions)[0]
    real_update = world.store.update

    def update(collection: str, doc_id: str, updates: dict[str, Any]) -> bool:
        if collection == INCIDENT_ALERTS and "settled_at" in updates:  # the racer folds just before the mark
            mentions[racer]["status"] = "overdue"
        return real_update(collection, doc_id, updates)

    world.store.update = update  # type: ignore[method-assign]
    world.advance(6 * 60, step=20)
    assert pagerduty_event(world.incident_sinks["pagerduty"].sent[-1], "rk")["event_action"] == "trigger"
    world.store.update = real_update  # type: ignore[method-assign]
    mentions[racer]["status"] = "answered"
    world.advance(6 * 60, step=20)
    assert pagerduty_event(world.incident_sinks["pagerduty"].sent[-1], "rk")["event_action"] == "resolve"


def test_settling_a_storm_page_reads_only_unanswered_overdue_members_a_page_at_a_time() -> None:
    world, incident_id = _storm_paged_after_resolve()
    mentions = world.store.data["mentions"]
    template = next(iter(mentions.values()))
    for i in range(500):  # a broad outage: many answered members, and a few still open
        mentions[f"answered{i:04d}"] = {**template, "status": "answered"}
    for i in range(100):
        mentions[f"open{i:04d}"] = dict(template)
    reads: list[int] = []
    queries = world.incidents.queries

    def counting(method: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            for snap in method(*args, **kwargs):
                reads[-1] += 1
                yield snap
        return run

    for name in ("incident_members", "unanswered_members"):
        if hasattr(queries, name):
            setattr(queries, name, counting(getattr(queries, name)))
    reads.append(0)
    assert world.incidents.settle_storm(incident_id, 1, 0)["outcome"] == "pending"
    assert reads == [1], f"settle read {reads[0]} members to find one pending"
    for i in range(100):  # all acknowledged now: the check reads the unanswered ones, in pages
        mentions[f"open{i:04d}"]["acknowledged"] = True
    for doc in mentions.values():
        if doc.get("status") != "answered" and not doc.get("acknowledged"):
            doc["status"] = "answered"
    reads.append(0)
    assert world.incidents.settle_storm(incident_id, 1, 1)["outcome"] == "resolved"
    # the 100 unanswered ones, before and after marking the claim settled; none of the 500 answered
    assert reads[-1] == 2 * 100, f"settle read {reads[-1]} members of 600+"


def test_an_incident_acknowledge_whose_task_failed_to_schedule_schedules_it_on_the_retry() -> None:
    from hilft.core.errors import TransientSchedulerError

    world = World()
    incident_id = _open_an_incident_without_personal_data(world)
    real = world.scheduler.schedule
    failures = []

    def flaky(name: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        if name.startswith("incident-ack-") and not failures:
            failures.append(name)
            raise TransientSchedulerError("Cloud Tasks unavailable")
        return real(name, at, payload, now)

    world.scheduler.schedule = flaky  # type: ignore[method-assign]
    staff = IncidentService(store=world.store, queries=Queries(world.store), scheduler=world.scheduler,
                            policy=world.policy, clock=world.clock, sinks={})
    with pytest.raises(TransientSchedulerError):
        staff.acknowledge(incident_id, "anna", world.deadlines)
    assert staff.acknowledge(incident_id, "anna", world.deadlines)["outcome"] == "already_acknowledged"
    staff.acknowledge(incident_id, "bob", world.deadlines)  # a third call: the task name dedupes
    world.run_tasks()
    acks = [a for a in world.incident_sinks["pagerduty"].sent if a.event is IncidentEvent.ACKNOWLEDGED]
    assert len(acks) == 1
