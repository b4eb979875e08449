"""The deadline service's ``AlertFolder`` hook (storm folding's only way in), pinned as a contract:
when it is asked, with what, and what each answer does to sending, the claim and escalation. The
incident service as the folder: tests/unit/test_outage_incidents.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hilft.core.alerts import Alert, AlertAction
from hilft.core.document import MentionDoc
from hilft.core.errors import TransientError
from hilft.core.ids import mention_doc_id
from hilft.service.deadlines import NO_FOLDING, AlertFolder, DeadlineService, NoFolding
from tests.unit.memory import DEFAULTS
from tests.unit.test_services import World


class Folder:
    """Records every question; answers ``answer`` (or raises ``error`` once)."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[Alert, MentionDoc]] = []
        self.error: Exception | None = None

    def fold_alert(self, alert: Alert, post: MentionDoc) -> bool:
        self.asked.append((alert, post))
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.answer


def world_with(folder: AlertFolder) -> World:
    world = World()
    world.deadlines = DeadlineService(store=world.store, scheduler=world.scheduler, policy=world.policy,
                                      clock=world.clock, sinks=world.sinks, claim_ttl=timedelta(seconds=60),
                                      sweep_grace=DEFAULTS.sweep_grace, folder=folder)
    return world


def sent(world: World) -> int:
    return sum(len(sink.sent) for sink in world.sinks.values())


def test_the_default_folds_nothing():
    world = World()
    assert world.deadlines.folder is NO_FOLDING and isinstance(NO_FOLDING, NoFolding)
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    assert world.run_due_tasks() == ["alerted", "alerted"]
    assert len(world.sinks["slack"].sent) == 2 and len(world.sinks["pagerduty"].sent) == 1


def test_declined_alerts_go_to_their_sinks_and_the_folder_saw_the_claimed_post():
    folder = Folder(answer=False)
    world = world_with(folder)
    world.deliver(world.mention(text="@Telekom_hilft kein Internet in Köln"))
    world.clock.advance(minutes=45)
    assert world.run_due_tasks() == ["alerted"]  # warning
    world.clock.advance(minutes=15)
    assert world.run_due_tasks() == ["alerted"]  # level 1
    assert [(a.action, a.level) for a, _ in folder.asked] == [(AlertAction.TRIGGER, 0), (AlertAction.TRIGGER, 1)]
    alert, post = folder.asked[1]
    assert alert.doc_id == mention_doc_id("x", "1") and post.post_id == "1"
    assert post.text == world.doc()["text"]  # the post as stored, handed over (not read again)
    assert len(world.sinks["slack"].sent) == 2 and len(world.sinks["pagerduty"].sent) == 1


def test_a_folded_alert_sends_nothing_is_recorded_sent_and_escalation_goes_on():
    folder = Folder(answer=True)
    world = world_with(folder)
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    assert world.run_due_tasks() == ["alerted", "alerted"]  # warning and level 1, both folded
    assert sent(world) == 0
    doc = world.doc()
    assert doc["alerts"]["1"]["state"] == "sent" and doc["alerts"]["1"]["sinks_sent"] == []
    assert doc["status"] == "overdue" and doc["alert_level"] == 1 and doc["next_alert_at"] is not None
    assert any(t.payload.get("kind") == "escalate" and t.payload.get("level") == 2
               for t in world.scheduler.tasks.values())
    asked = len(folder.asked)
    assert world.deadlines.fire({"kind": "due", "doc_id": mention_doc_id("x", "1"), "level": 1,
                                 "due_at": doc["due_at"].isoformat()}).outcome == "already_sent"
    assert len(folder.asked) == asked  # a redelivery is not offered again


def test_resolve_and_acknowledge_notes_are_never_offered():
    folder = Folder(answer=False)
    world = world_with(folder)
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    world.run_due_tasks()
    asked = len(folder.asked)
    assert world.deadlines.resolve(mention_doc_id("x", "1")).outcome == "resolved"
    assert len(folder.asked) == asked


def test_a_folder_error_fails_the_task_and_the_retry_asks_again_without_sending_twice():
    folder = Folder(answer=False)
    folder.error = TransientError("incident store down")
    world = world_with(folder)
    world.deliver(world.mention())
    world.clock.advance(minutes=61)
    tasks = world.scheduler.due(world.clock())
    due = next(t for t in tasks if t.payload.get("level") == 1)
    with pytest.raises(TransientError):
        world.deadlines.fire(due.payload)
    assert sent(world) == 0
    world.clock.advance(seconds=61)  # the claim expired; Cloud Tasks retries
    assert world.deadlines.fire(due.payload).outcome == "alerted"
    assert len(folder.asked) == 2 and len(world.sinks["pagerduty"].sent) == 1
