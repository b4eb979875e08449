"""The holding reply's text: the time it names is the post's own due time while that is ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hilft.core import holding
from hilft.core.document import MentionDoc
from hilft.core.models import Kind
from hilft.core.policy import parse_policy
from hilft.service.holding import default_text

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = """
[promise]
first_response = "60m"
timezone = "Europe/Berlin"
[promise.hours]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
"""


def test_the_posts_due_time_is_kept_while_it_is_ahead():
    now = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    due, fresh = now + timedelta(minutes=40), now + timedelta(hours=1)
    assert holding.holding_target(due, now, fresh) == due
    assert holding.holding_target(now + timedelta(minutes=5), now, fresh) == fresh
    assert holding.holding_target(now - timedelta(minutes=5), now, fresh) == fresh


def test_friday_evening_holding_reply_promises_monday_in_german_and_english():
    policy = parse_policy(WEEKDAYS)
    friday_1950 = datetime(2026, 11, 27, 18, 50, tzinfo=UTC)  # 19:50 in Berlin, overdue
    post = MentionDoc(due_at=friday_1950 - timedelta(minutes=5), platform="x", lang="de", kind="mention")
    assert default_text(policy, post, friday_1950) == (
        "Danke für Ihre Geduld! Wir schauen uns das an und melden uns bis Montag, 8:50 Uhr.")
    english = default_text(policy, post.model_copy(update={"lang": "en"}), friday_1950)
    assert english is not None and english.endswith("by Monday, 8:50 am.")
    assert default_text(policy, post.model_copy(update={"kind": Kind.DM}), friday_1950) is None


def test_every_template_fits_the_shortest_reply_limit():
    now = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    for language in ("de", "en"):
        for form in ("sie", "du"):
            text = holding.holding_text(now + timedelta(days=6), now, BERLIN, language, form)
            assert len(text) <= holding.MAX_LENGTH - 20  # room for "@handle "


def test_a_queued_holding_reply_is_dropped_when_the_post_was_answered_before_it_runs():
    from hilft.service.holding import HoldingReplyService
    from tests.unit.memory import DEFAULTS
    from tests.unit.test_services import POLICY_24_7, FakeGateway, World

    world, gateway = World(POLICY_24_7), FakeGateway()
    service = HoldingReplyService(store=world.store, scheduler=world.scheduler, policy=world.policy,
                                  clock=world.clock, gateways=lambda platform: gateway, claim_ttl=DEFAULTS.claim_ttl)
    world.deliver(world.mention("1", "@Telekom_hilft Router tot"))
    from hilft.core.ids import mention_doc_id

    doc_id = mention_doc_id("x", "1")
    assert service.request(doc_id, text="Wir schauen uns das an.", requested_by="staff").outcome == "queued"
    world.deliver(world.mention("b", "Schon erledigt!", author="1000000001", brand=True, in_reply_to="1"))
    assert service.send(doc_id, text="Wir schauen uns das an.", requested_by="staff").outcome == "already_answered"
    assert gateway.replies == [] and world.store.data["mentions"][doc_id]["answered_via"] == "b"


def test_the_policy_overrides_the_holding_reply_per_language_and_address_form():
    policy = parse_policy(WEEKDAYS + """
[templates.de.sie]
holding_reply = "Hallo {name}, wir prüfen das und melden uns {promise}."
sign_off = "^tk"
[templates.en.sie]
holding_reply = "On it, {name}: we'll be back {promise}."
""")
    friday_1950 = datetime(2026, 11, 27, 18, 50, tzinfo=UTC)
    post = MentionDoc(due_at=friday_1950 - timedelta(minutes=5), platform="x", lang="de", kind="mention",
                      author_handle="jana_k")
    assert default_text(policy, post, friday_1950) == (
        "Hallo jana_k, wir prüfen das und melden uns bis Montag, 8:50 Uhr. ^tk")  # the sign-off as everywhere
    english = default_text(policy, post.model_copy(update={"lang": "en"}), friday_1950)
    assert english == "On it, jana_k: we'll be back by Monday, 8:50 am."
    informal = parse_policy(WEEKDAYS + """
[brand]
address_form = "du"
[templates.de.du]
holding_reply = "Wir schauen's uns an und melden uns {promise}."
""")
    assert default_text(informal, post, friday_1950) == "Wir schauen's uns an und melden uns bis Montag, 8:50 Uhr."


def test_a_holding_reply_override_with_an_unknown_placeholder_is_refused_at_load():
    import pytest

    from hilft.core.policy import PolicyError

    with pytest.raises(PolicyError, match="holding_reply"):
        parse_policy(WEEKDAYS + '[templates.de.sie]\nholding_reply = "bis {due}"\n')
