"""A DM is private already: it is handed to a department only when the department wants private
contact (never for personal data alone), and the message in the conversation says where the
request went and when the answer comes, not "let us continue in private"."""

from __future__ import annotations

from hilft.core import templates
from hilft.core.ids import mention_doc_id
from hilft.core.models import Kind
from hilft.service.handoff import HandoffService
from tests.unit.memory import DEFAULTS
from tests.unit.test_services import POLICY_24_7, FakeGateway, World

POLICY = POLICY_24_7 + """
[departments.rechnung]
label = "Rechnung"
keywords = ["rechnung", "abbuchung"]
private = true
[handoff]
auto = true
"""
MOVE_TO_PRIVATE = "lieber hier privat als öffentlich"


def handoff_tasks(world: World) -> list[dict]:
    return [t.payload for t in world.scheduler.tasks.values() if t.payload["kind"] == "handoff"]


def run_handoffs(world: World, gateway: FakeGateway) -> list[str]:
    service = HandoffService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                             gateways=lambda platform: gateway, notifier=None, claim_ttl=DEFAULTS.claim_ttl)
    return [service.handoff(p["doc_id"], department=p["department"], reason=p["reason"], pii=p["pii"]).outcome
            for p in handoff_tasks(world)]


def test_a_dm_for_a_private_department_is_handed_to_it_with_a_note_in_the_same_conversation():
    world, gateway = World(POLICY), FakeGateway()
    world.deliver(world.mention("d1", "Die Abbuchung letzten Monat war doppelt", kind=Kind.DM, conversation="c1"))
    (task,) = handoff_tasks(world)
    assert (task["department"], task["reason"], task["pii"]) == ("rechnung", "department", False)
    assert run_handoffs(world, gateway) == ["dm_sent"]
    (note,) = gateway.dms
    assert "(Rechnung)" in note and "innerhalb der nächsten Stunde" in note and MOVE_TO_PRIVATE not in note
    assert gateway.replies == []  # nothing public for a DM
    assert world.store.data["mentions"][mention_doc_id("x", "d1")]["status"] == "handed_off"


def test_a_dm_with_personal_data_alone_stays_with_the_team():
    world = World(POLICY)
    world.deliver(world.mention("d1", "Meine Nummer ist 0171 2345678, bitte Rückruf", kind=Kind.DM,
                                conversation="c1"))
    assert handoff_tasks(world) == []
    doc = world.store.data["mentions"][mention_doc_id("x", "d1")]
    assert doc["status"] == "open" and "2345678" not in doc["text"]


def test_a_public_post_moved_to_a_dm_is_told_why():
    world, gateway = World(POLICY), FakeGateway()
    world.deliver(world.mention("p1", "@Telekom_hilft ruft mich an: 0171 2345678"))
    assert run_handoffs(world, gateway) == ["dm_sent"]
    assert MOVE_TO_PRIVATE in gateway.dms[0]


def test_every_language_and_form_has_the_dm_note_without_the_move_to_private():
    for language in templates.LANGUAGES:
        for form in templates.ADDRESS_FORMS:
            text = templates.BUILT_IN[language][form]["dm_handoff"]
            assert "{department}" in text and "{promise}" in text and "{case_ref}" in text
            assert "privat" not in text and "private" not in text
