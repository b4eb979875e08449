"""Out of hours, say so once: the real ingest and the out-of-hours service on in-memory parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hilft.app import App
from hilft.core.document import MentionDoc
from hilft.core.ids import mention_doc_id
from hilft.core.models import Kind
from hilft.service.out_of_hours import OutOfHoursService
from hilft.settings import Settings
from tests.unit.memory import DEFAULTS
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
                                gateways=lambda platform: gateway, claim_ttl=DEFAULTS.claim_ttl)
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


def test_posts_whose_author_the_platform_did_not_name_get_one_answer_each():
    """Threads posts without a username (and Meta's id-only mentions) carry author "unknown": three
    customers must not share one once-per-author answer; each such post is its own key."""
    world, gateway = World(CLOSED, start=FRIDAY_2030), FakeGateway()
    for n in range(3):
        world.deliver(world.mention(f"u{n}", "@Telekom_hilft Router tot", author="unknown"))
    assert run(world, gateway) == ["sent", "sent", "sent"] and len(gateway.replies) == 3


# -- the platform reports the brand's own messages back: the acknowledgment's echo is no answer -----

class EchoingGateway(FakeGateway):
    """Like the platforms: the brand's own reply or DM comes back as a delivery. ``during_send``
    delivers the echo before the send returns (the race the in-flight marker covers)."""

    def __init__(self, world: World, *, during_send: bool = False) -> None:
        super().__init__()
        self.world, self.during_send = world, during_send
        self.echoes: list[str] = []

    def _echo(self, post, message_id: str, kind: Kind) -> None:
        self.world.deliver(self.world.mention(message_id, "Danke! Unser Team ist ab Montag wieder da.",
                                              author="1000000001", brand=True, kind=kind,
                                              in_reply_to=None if kind == Kind.DM else post.post_id,
                                              conversation=post.conversation_id))
        self.echoes.append(message_id)

    def public_reply(self, post, text, *, send=None):
        message_id = f"r{len(self.replies) + 1}"
        if self.during_send:
            self._echo(post, message_id, Kind.MENTION)
        super().public_reply(post, text)
        return message_id

    def send_private(self, post, text, now, *, send=None):
        message_id = f"dm{len(self.dms) + 1}"
        if self.during_send:
            self._echo(post, message_id, Kind.DM)
        super().send_private(post, text, now)
        return message_id


def echo_after(world: World, gateway: EchoingGateway, message_id: str, post_id: str, kind: Kind) -> None:
    post = MentionDoc.from_store(world.store.data["mentions"][mention_doc_id("x", post_id)])
    gateway._echo(post, message_id, kind)


def test_the_echo_of_the_public_acknowledgment_leaves_the_promise_running():
    world = World(CLOSED, start=FRIDAY_2030)
    gateway = EchoingGateway(world)
    world.deliver(world.mention("1", "@Telekom_hilft Router tot"))
    assert run(world, gateway) == ["sent"]
    echo_after(world, gateway, "r1", "1", Kind.MENTION)
    doc = world.store.data["mentions"][mention_doc_id("x", "1")]
    assert doc["status"] == "open" and doc.get("answered_at") is None
    # A real answer afterwards still stops the clock.
    world.deliver(world.mention("b2", "Wir schauen es uns an", author="1000000001", brand=True, in_reply_to="1"))
    assert world.store.data["mentions"][mention_doc_id("x", "1")]["status"] == "answered"


def test_the_echo_of_a_dm_acknowledgment_answers_neither_the_dm_nor_a_later_one_of_the_conversation():
    world = World(CLOSED, start=FRIDAY_2030)
    gateway = EchoingGateway(world)
    world.deliver(world.mention("d1", "Hallo?", kind=Kind.DM, conversation="c"))
    assert run(world, gateway) == ["sent"]
    echo_after(world, gateway, "dm1", "d1", Kind.DM)
    assert world.store.data["mentions"][mention_doc_id("x", "d1")]["status"] == "open"
    world.clock.advance(seconds=60)
    world.deliver(world.mention("d2", "Noch da?", kind=Kind.DM, conversation="c", at=world.clock() - timedelta(minutes=2)))
    assert world.store.data["mentions"][mention_doc_id("x", "d2")]["status"] == "open"


def test_an_echo_that_arrives_before_the_send_returns_is_no_answer_either():
    world = World(CLOSED, start=FRIDAY_2030)
    gateway = EchoingGateway(world, during_send=True)
    world.deliver(world.mention("1", "@Telekom_hilft Router tot"))
    assert run(world, gateway) == ["sent"] and gateway.echoes == ["r1"]
    doc = world.store.data["mentions"][mention_doc_id("x", "1")]
    assert doc["status"] == "open" and doc["out_of_hours_sent_at"]


def test_a_failed_acknowledgment_does_not_swallow_a_real_answer():
    world = World(CLOSED, start=FRIDAY_2030)
    gateway = FakeGateway()
    gateway.rate_limited_until = FRIDAY_2030 + timedelta(hours=1)
    world.deliver(world.mention("d1", "Hallo?", kind=Kind.DM, conversation="c"))
    assert run(world, gateway) == ["rate_limited"]
    world.clock.advance(seconds=10)
    world.deliver(world.mention("b", "Hallo, wir sind da", author="1000000001", brand=True, kind=Kind.DM,
                                conversation="c"))
    assert world.store.data["mentions"][mention_doc_id("x", "d1")]["status"] == "answered"


class SlowEchoingGateway(EchoingGateway):
    """A platform that takes ``minutes`` to answer the send, its echo arriving before the answer."""

    def __init__(self, world: World, minutes: float) -> None:
        super().__init__(world, during_send=True)
        self.minutes = minutes

    def _echo(self, post, message_id: str, kind: Kind) -> None:
        self.world.clock.advance(minutes=self.minutes)
        super()._echo(post, message_id, kind)


def test_the_echo_is_recognised_for_as_long_as_the_configured_claim_lives():
    """HILFT_CLAIM_TTL_SECONDS is how long a send may be under way; an echo within it is no answer
    (the window used to be a fixed two minutes whatever the setting)."""
    world = World(CLOSED, start=FRIDAY_2030)
    app = App(Settings.from_env({"HILFT_CLAIM_TTL_SECONDS": "600"}), clock=world.clock)
    # the composition root's parts, on the in-memory store (cached properties: set before first use)
    app.store, app.scheduler, app.policy = world.store, world.scheduler, world.policy  # type: ignore[assignment]
    world.ingest = app.ingest_service
    gateway = SlowEchoingGateway(world, minutes=5)
    app.gateways = lambda platform: gateway  # type: ignore[assignment]
    world.deliver(world.mention("1", "@Telekom_hilft Router tot"))
    world.clock.advance(seconds=5)
    assert [app.out_of_hours_service.send(t.payload).outcome for t in world.scheduler.due(world.clock())
            if t.payload["kind"] == "out_of_hours"] == ["sent"]
    assert gateway.echoes == ["r1"]
    doc = world.store.data["mentions"][mention_doc_id("x", "1")]
    assert doc["status"] == "open" and doc.get("answered_at") is None


def test_a_claim_shorter_than_one_send_is_refused_at_start():
    """A claim that expires while its send is still under way lets a retry send again: below 30 s
    the setting is an error naming the variable, not a silent duplicate later."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        Settings.from_env({"HILFT_CLAIM_TTL_SECONDS": "5"})
    assert "HILFT_CLAIM_TTL_SECONDS" in str(caught.value)
    assert Settings.from_env({"HILFT_CLAIM_TTL_SECONDS": "30"}).claim_ttl.total_seconds() == 30
