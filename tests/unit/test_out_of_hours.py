"""Out of hours, say so once: the real ingest and the out-of-hours service on in-memory parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hilft.core.ids import mention_doc_id
from hilft.core.models import Kind
from hilft.service.out_of_hours import OutOfHoursService
from tests.unit.test_services import WEEKDAYS, FakeGateway, World

CLOSED = WEEKDAYS + """
[promise.out_of_hours]
enabled = true
[radar]
keywords = ["telekom"]
[departments.kundenservice]
label = "Kundenservice"
"""
FRIDAY_2030 = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # 20:30 in Berlin: closed until Monday 08:00


def run(world: World, gateway: FakeGateway) -> list[str]:
    service = OutOfHoursService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                                gateways=lambda platform: gateway)
    world.clock.advance(seconds=5)
    return [service.send(t.payload).outcome for t in world.scheduler.due(world.clock())
            if t.payload["kind"] == "out_of_hours"]


def test_a_post_while_closed_gets_one_public_answer_naming_when_the_team_is_back():
    world, gateway = World(CLOSED, start=FRIDAY_2030), FakeGateway()
    world.deliver(world.mention("1", "@Telekom_hilft Router tot"))
    world.deliver(world.mention("2", "@Telekom_hilft immer noch tot"))  # same author, same closed period
    assert run(world, gateway) == ["sent", "already_sent"]
    assert gateway.replies == ["Hallo jana, danke für Ihre Nachricht! Unser Team ist ab Montag, 8:00 Uhr wieder "
                               "für Sie da und meldet sich bis 9:00 Uhr."]
    doc = world.store.data["mentions"][mention_doc_id("x", "1")]
    assert doc["status"] == "open" and doc["out_of_hours_sent_at"]  # an acknowledgment, not the answer


def test_a_dm_gets_a_dm_and_the_next_closed_period_answers_again():
    world, gateway = World(CLOSED, start=FRIDAY_2030), FakeGateway()
    world.deliver(world.mention("d1", "Hallo?", kind=Kind.DM, conversation="c"))
    assert run(world, gateway) == ["sent"] and len(gateway.dms) == 1
    world.clock.now = FRIDAY_2030 + timedelta(days=7)
    world.deliver(world.mention("d2", "Hallo nochmal?", kind=Kind.DM, conversation="c", at=world.clock.now))
    assert run(world, gateway) == ["sent"] and len(gateway.dms) == 2


def test_no_answer_while_open_for_radar_items_or_when_a_handoff_answers():
    world, gateway = World(CLOSED, start=datetime(2026, 11, 25, 10, 0, tzinfo=UTC)), FakeGateway()  # Wed 11:00
    world.deliver(world.mention("open", "@Telekom_hilft Frage"))
    assert run(world, gateway) == []
    world.clock.now = FRIDAY_2030
    world.deliver(world.mention("pii", "@Telekom_hilft ruft mich an: 0171 2345678", author="77"))
    radar = world.mention("radar", "Telekom kann es nicht", author="78")
    radar = radar.model_copy(update={"mentioned_user_ids": ()})
    world.deliver(radar)
    assert world.store.data["mentions"][mention_doc_id("x", "radar")]["radar"] is True  # stored, as radar
    assert world.store.data["mentions"][mention_doc_id("x", "pii")]["handoff_pending"] is True
    assert run(world, gateway) == []


def test_an_answer_before_the_task_runs_means_no_acknowledgment():
    world, gateway = World(CLOSED, start=FRIDAY_2030), FakeGateway()
    world.deliver(world.mention("1", "@Telekom_hilft Router tot"))
    world.deliver(world.mention("b", "Wir schauen es uns an", author="1000000001", brand=True, in_reply_to="1"))
    assert run(world, gateway) == ["not_needed"] and gateway.replies == []
