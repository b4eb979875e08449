"""Threads through the services, without emulators: ingest of parsed Threads payloads (promise,
brand answers, deletes, redelivery) and the handoff on a channel without DMs, which is one public
reply pointing to the private channel the policy names, never a DM and never personal data."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from hilft.channels import Capabilities
from hilft.channels.threads import parse as threads
from hilft.core import templates
from hilft.core.errors import PlatformRateLimited, PolicyError, PrivateChannelRefused
from hilft.core.ids import mention_doc_id
from hilft.core.policy import parse_policy
from hilft.service.handoff import HandoffService
from hilft.service.ingest import IngestService
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

BRAND = "17841400000000077"
POLICY = """
[promise]
first_response = "60m"
warning_before = "15m"
[departments.kundenservice]
label = "Kundenservice"
[channels.threads]
private_channel = { de = "per Direktnachricht an @brand_hilft auf Instagram", en = "via Instagram DM to @brand_hilft" }
"""


class PointerGateway:
    """A gateway like Threads': no DMs, public replies recorded."""

    capabilities = Capabilities(delivery="webhook", can_dm=False)

    def __init__(self) -> None:
        self.dms: list[str] = []
        self.replies: list[tuple[str, str]] = []
        self.refuse = False
        self.limited_until: Any = None

    def send_private(self, post, text, now, *, send=None):  # never called for a channel without DMs
        self.dms.append(text)
        raise PrivateChannelRefused("threads: no private messages")

    def public_reply(self, post, text, *, send=None):
        if self.limited_until is not None:
            raise PlatformRateLimited(self.limited_until)
        if self.refuse:
            raise PrivateChannelRefused("threads: reply refused")
        self.replies.append((post.post_id, text))
        return f"reply-{len(self.replies)}"


class World:
    def __init__(self, policy: str = POLICY) -> None:
        self.policy = parse_policy(policy)
        self.clock = FakeClock()
        self.store = MemoryStore()
        self.scheduler = MemoryScheduler()
        self.ingest = IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                    claim_ttl=DEFAULTS.claim_ttl)
        self.gateway = PointerGateway()
        self.handoff = HandoffService(store=self.store, scheduler=self.scheduler, policy=self.policy,
                                      clock=self.clock, gateways=lambda platform: self.gateway, notifier=None,
                                      claim_ttl=DEFAULTS.claim_ttl)

    def deliver(self, field: str, value: dict[str, Any], topic: str = "moderate"):
        body = json.dumps({"app_id": "1", "topic": topic, "target_id": BRAND, "time": int(self.clock().timestamp()),
                           "values": {"field": field, "value": value}}).encode()
        batch = threads.parse(body, brand_user_ids=frozenset({BRAND}))
        return self.ingest.ingest(batch, frozenset({BRAND}))

    def reply(self, post_id: str, text: str, *, username: str = "kundin_anna", to: str = "500") -> dict[str, Any]:
        return {"id": post_id, "username": username, "text": text, "replied_to": {"id": to},
                "timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "root_post": {"id": "500", "owner_id": BRAND, "username": "brand_hilft"}}

    def doc(self, post_id: str) -> dict[str, Any] | None:
        return self.store.data.get("mentions", {}).get(mention_doc_id("threads", post_id))


def test_a_customer_reply_gets_the_promise_and_its_tasks_and_a_redelivery_changes_nothing():
    world = World()
    first = world.deliver("replies", world.reply("900", "Seit gestern kein Netz in Köln"))
    again = world.deliver("replies", world.reply("900", "Seit gestern kein Netz in Köln"))
    assert (first.stored, again.stored, again.duplicates) == (1, 0, 1)
    doc = world.doc("900")
    assert doc is not None and doc["status"] == "open" and doc["platform"] == "threads"
    assert doc["due_at"] == world.clock() + timedelta(minutes=60)
    kinds = sorted(t.payload["kind"] for t in world.scheduler.tasks.values())
    assert kinds == ["due", "warning"]


def test_the_brand_replying_in_its_thread_stops_the_clock():
    world = World()
    world.deliver("replies", world.reply("900", "Seit gestern kein Netz"))
    world.clock.advance(minutes=5)
    result = world.deliver("replies", world.reply("901", "Wir schauen nach!", username="brand_hilft", to="900"))
    assert result.brand == 1 and result.answered == 1
    assert world.doc("900")["status"] == "answered" and world.doc("901") is None


def test_a_published_brand_reply_stops_the_clock_also_before_the_post_arrives():
    world = World()
    published = {"id": "902", "username": "brand_hilft", "text": "Wir helfen!", "replied_to": {"id": "900"},
                 "timestamp": world.clock().strftime("%Y-%m-%dT%H:%M:%S+0000")}
    assert world.deliver("publish", published, topic="interaction").answered == 1
    world.deliver("replies", world.reply("900", "Seit gestern kein Netz"))
    assert world.doc("900")["status"] == "answered"


def test_a_deleted_post_is_forgotten():
    world = World()
    world.deliver("replies", world.reply("900", "Meine Nummer ist 0171 2345678"))
    world.deliver("delete", {"id": "900", "deleted_at": world.clock().strftime("%Y-%m-%dT%H:%M:%S+0000")})
    doc = world.doc("900")
    assert doc["status"] == "deleted" and doc["text"] == "" and doc["author_handle"] is None


def test_a_reply_anywhere_in_the_brands_thread_is_addressed_to_the_brand():
    world = World()
    world.deliver("replies", world.reply("900", "Kein Netz"))
    world.deliver("replies", world.reply("901", "Wir schauen nach!", username="brand_hilft", to="900"))
    # "still broken" under the brand's answer: the payload names the replied-to post by id only
    assert world.deliver("replies", world.reply("902", "Immer noch kaputt", to="901")).stored == 1
    assert world.deliver("replies", world.reply("903", "Bei mir auch nicht", to="900", username="nachbar")).stored == 1
    assert world.doc("902")["status"] == "open" and world.doc("903")["status"] == "open"


def test_a_mention_outside_the_brands_threads_is_addressed_only_by_the_tag():
    world = World()
    value = world.reply("904", "kein Netz")
    value["root_post"] = {"id": "77", "owner_id": "4242", "username": "someone"}
    value["replied_to"] = {"id": "77"}
    body = json.dumps({"app_id": "1", "topic": "interaction", "target_id": "999", "time": 1,
                       "values": {"field": "mentions", "value": value}}).encode()
    batch = threads.parse(body, brand_user_ids=frozenset({BRAND}))
    assert world.ingest.ingest(batch, frozenset({BRAND})).stored == 0  # tagged someone else


def test_pii_handoff_is_one_public_pointer_reply_without_the_personal_data():
    world = World()
    world.deliver("replies", world.reply("900", "Ruft mich an: 0171 2345678, Kundennummer 123456789"))
    doc_id = mention_doc_id("threads", "900")
    assert [t.payload["kind"] for t in world.scheduler.tasks.values()].count("handoff") == 1
    result = world.handoff.handoff(doc_id, department=None, reason="pii", pii=True)
    again = world.handoff.handoff(doc_id, department=None, reason="pii", pii=True)
    assert (result.outcome, again.outcome) == ("public_pointer", "already_handed_off")
    assert world.gateway.dms == [] and len(world.gateway.replies) == 1
    post_id, text = world.gateway.replies[0]
    assert post_id == "900"
    assert "per Direktnachricht an @brand_hilft auf Instagram" in text
    assert templates.case_reference("900", "threads") not in text  # the case reference is for DMs only
    assert "0171" not in text and "2345678" not in text and "123456789" not in text
    assert "kundin_anna" in text  # the plain handle only
    assert world.doc("900")["status"] == "handed_off"
    assert world.store.data["handoffs"][result.handoff_id]["public_reply_id"] == "reply-1"


def test_a_staff_members_dm_text_is_never_posted_publicly():
    world = World()
    world.deliver("replies", world.reply("900", "Seit gestern kein Netz"))
    world.handoff.handoff(mention_doc_id("threads", "900"), department=None, reason="manual",
                          text="Ihre Vertragsnummer 998877 ist gesperrt")
    assert "998877" not in world.gateway.replies[0][1]


def test_an_english_post_gets_the_english_pointer():
    world = World()
    value = world.reply("900", "no signal since yesterday")
    world.deliver("replies", value)
    world.store.data["mentions"][mention_doc_id("threads", "900")]["lang"] = "en"
    world.handoff.handoff(mention_doc_id("threads", "900"), department=None, reason="manual")
    assert "via Instagram DM to @brand_hilft" in world.gateway.replies[0][1]


def test_a_spent_reply_quota_reschedules_the_handoff_at_the_reset():
    world = World()
    world.deliver("replies", world.reply("900", "Seit gestern kein Netz"))
    reset = world.clock() + timedelta(hours=1)
    world.gateway.limited_until = reset
    doc_id = mention_doc_id("threads", "900")
    assert world.handoff.handoff(doc_id, department=None, reason="manual").outcome == "rate_limited"
    retry = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "handoff"]
    assert len(retry) == 1 and retry[0].at == reset
    world.gateway.limited_until = None
    world.clock.now = reset
    assert world.handoff.handoff(doc_id, department=None, reason="manual", attempt=1).outcome == "public_pointer"
    assert len(world.gateway.replies) == 1


def test_a_refused_pointer_reply_is_recorded_and_the_handoff_still_ends():
    world = World()
    world.gateway.refuse = True
    world.deliver("replies", world.reply("900", "Seit gestern kein Netz"))
    result = world.handoff.handoff(mention_doc_id("threads", "900"), department=None, reason="manual")
    assert result.outcome == "public_pointer" and result.public_reply_id is None
    assert world.store.data["handoffs"][result.handoff_id]["public_reply_error"] == "threads: reply refused"


def test_without_a_named_channel_the_pointer_still_reads_well():
    world = World(POLICY.split("[channels.threads]")[0])
    world.deliver("replies", world.reply("900", "Seit gestern kein Netz"))
    world.handoff.handoff(mention_doc_id("threads", "900"), department=None, reason="manual")
    text = world.gateway.replies[0][1]
    assert "schreiben Sie uns bitte privat und verweisen Sie" in text and "  " not in text


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("form", ["sie", "du"])
def test_the_pointer_template_exists_in_every_language_and_form(language: str, form: str):
    text = templates.render("private_pointer", language=language, address_form=form, name="anna.evil.com",
                            case_ref="HX-ABCDEF", promise="PROMISE", department="D", private_channel="CHANNEL")
    assert "CHANNEL" in text and "PROMISE" in text and "evil" not in text  # public: plain handles only
    assert "HX-ABCDEF" not in text  # the case reference is said in DMs only


@pytest.mark.parametrize("value", ['""', '"x{name}"', '"a\\nb"', '"' + "x" * 151 + '"', "{ fr = \"x\" }", "5"])
def test_a_bad_private_channel_names_its_key(value: str):
    with pytest.raises(PolicyError, match="channels.threads.private_channel"):
        parse_policy(f"[channels.threads]\nprivate_channel = {value}\n")


def test_an_unknown_channel_is_refused():
    with pytest.raises(PolicyError, match="channels"):
        parse_policy('[channels.myspace]\nprivate_channel = "x"\n')


def test_the_private_channel_of_a_platform_by_language():
    policy = parse_policy(POLICY)
    assert policy.private_channel("threads", "en") == "via Instagram DM to @brand_hilft"
    assert policy.private_channel("x", "de") is None
    single = parse_policy('[channels.threads]\nprivate_channel = "über brand.de/kontakt"\n')
    assert single.private_channel("threads", "en") == "über brand.de/kontakt"
