"""The out-of-hours acknowledgment never goes out stale (the team is back by then) and a night-time
storm gets at most ``max_per_minute`` of them per platform; the promise runs either way."""

from __future__ import annotations

from datetime import timedelta

from hilft.core.ids import mention_doc_id
from hilft.core.models import Kind
from hilft.service.out_of_hours import OutOfHoursService
from tests.unit.memory import DEFAULTS
from tests.unit.test_out_of_hours import CLOSED, FRIDAY_2030
from tests.unit.test_services import FakeGateway, World

MONDAY_0800 = FRIDAY_2030 + timedelta(days=2, hours=11, minutes=30)  # 08:00 in Berlin


def service(world: World, gateway: FakeGateway) -> OutOfHoursService:
    return OutOfHoursService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                             gateways=lambda platform: gateway, claim_ttl=DEFAULTS.claim_ttl)


def test_a_retry_after_the_team_is_back_is_dropped_with_its_reason():
    world, gateway = World(CLOSED, start=FRIDAY_2030), FakeGateway()
    world.deliver(world.mention("d1", "Hallo?", kind=Kind.DM, conversation="c"))
    gateway.rate_limited_until = MONDAY_0800 + timedelta(minutes=90)  # the platform holds us back till 9:30
    world.clock.advance(seconds=5)
    ooh = service(world, gateway)
    assert [ooh.send(t.payload).outcome for t in world.scheduler.due(world.clock())
            if t.payload["kind"] == "out_of_hours"] == ["rate_limited"]
    world.clock.now = MONDAY_0800 + timedelta(minutes=90)
    gateway.rate_limited_until = None
    retried = [ooh.send(t.payload).outcome for t in world.scheduler.due(world.clock())
               if t.payload["kind"] == "out_of_hours"]
    assert retried and set(retried) == {"team_open"}
    assert gateway.dms == []  # never "ab Montag, 8:00 Uhr wieder für Sie da" at 9:30
    doc = world.store.data["mentions"][mention_doc_id("x", "d1")]
    assert doc["out_of_hours_skipped"] == "team_open" and doc["status"] in ("open", "overdue")


def test_a_storm_gets_at_most_the_policys_acknowledgments_per_platform_and_minute():
    world = World(CLOSED.replace("enabled = true", "enabled = true\nmax_per_minute = 3"), start=FRIDAY_2030)
    assert world.policy.promise.out_of_hours.max_per_minute == 3
    gateway = FakeGateway()
    for n in range(5):
        world.deliver(world.mention(f"p{n}", "@Telekom_hilft Router tot", author=f"a{n}"))
    world.clock.advance(seconds=5)
    ooh = service(world, gateway)
    outcomes = [ooh.send(t.payload).outcome for t in world.scheduler.due(world.clock())
                if t.payload["kind"] == "out_of_hours"]
    assert sorted(outcomes) == ["sent", "sent", "sent", "storm", "storm"] and len(gateway.replies) == 3
    skipped = [d for d in world.store.data["mentions"].values() if d.get("out_of_hours_skipped") == "storm"]
    assert len(skipped) == 2 and all(d["status"] == "open" and d["due_at"] for d in skipped)  # promise runs
    # The next minute has its own budget.
    world.deliver(world.mention("p9", "@Telekom_hilft Router tot", author="a9"))
    world.clock.advance(seconds=60)
    assert [ooh.send(t.payload).outcome for t in world.scheduler.due(world.clock())
            if t.payload["kind"] == "out_of_hours" and t.payload["doc_id"] == mention_doc_id("x", "p9")] == ["sent"]
