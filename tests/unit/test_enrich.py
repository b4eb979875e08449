"""The enrich task without emulators: ingest stores a Meta mention sent as ids only and enqueues
``enrich``; the service fills it from a scripted Graph reader. The failure rules are pinned here
(rate limit → rescheduled at Meta's reset, outage → retry, refusal → the promise runs on)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from hilft.channels.meta import GraphMentionReader
from hilft.channels.meta import client as mc
from hilft.channels.x import client as xc
from hilft.core.errors import TransientError
from hilft.core.ids import mention_doc_id
from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform
from hilft.core.policy import parse_policy
from hilft.service.enrich import (
    AUTHOR_RETRIES_BEFORE_HANDOFF,
    AUTHOR_RETRY_AFTER_OUTAGE,
    MISSING_POST_RETRIES,
    EnrichService,
)
from hilft.service.ingest import IngestService
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

PAGE = "110000000000001"
POLICY = """
[promise]
first_response = "60m"
warning_before = "5m"
[promise.priorities]
high = "15m"
[[promise.priority_rules]]
priority = "high"
keywords = ["störung"]
[handoff]
auto = true
default_department = "kundenservice"
[departments.kundenservice]
label = "Kundenservice"
[departments.rechnung]
label = "Rechnung"
keywords = ["rechnung"]
private = true
"""


class Reader:
    """Answers ``fetch_mention`` from a script: a dict, or an exception to raise."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.lookups: list[Mapping[str, str]] = []

    def fetch_mention(self, lookup: Mapping[str, str]) -> dict[str, str | None]:
        self.lookups.append(dict(lookup))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, dict)
        return answer


class World:
    def __init__(self, *answers: object) -> None:
        self.policy = parse_policy(POLICY)
        self.clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
        self.store = MemoryStore()
        self.scheduler = MemoryScheduler()
        self.reader = Reader(*answers)
        self.ingest = IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                    claim_ttl=DEFAULTS.claim_ttl)
        # The production adapter turns the Graph client's errors into hilft's: the script raises Meta's.
        self.enrich = EnrichService(store=self.store, scheduler=self.scheduler, policy=self.policy,
                                    clock=self.clock, reader=GraphMentionReader(self.reader))

    def page_mention(self, post_id: str = "7300000000000104_840000000000001") -> str:
        mention = Mention(platform=Platform.FACEBOOK, post_id=post_id, kind=Kind.MENTION,
                          author=Author(id="7300000000000104"), text="", created_at=self.clock(),
                          brand_account_id=PAGE, mentioned_user_ids=(PAGE,), needs_enrichment=True)
        assert self.ingest.ingest(ParsedBatch(events=(mention,)), frozenset({PAGE})).stored == 1
        return mention_doc_id("facebook", post_id)

    def task(self, kind: str) -> dict:
        (found,) = [t.payload for t in self.scheduler.tasks.values() if t.payload["kind"] == kind]
        return found

    def doc(self, doc_id: str) -> dict:
        snap = self.store.get("mentions", doc_id)
        assert snap is not None
        return snap.data


FOUND = {"text": "Meine Rechnung ist doppelt, IBAN DE02120300000000202051", "author_id": "7300000000000104",
         "author_handle": None, "author_name": "Kai Müller"}


def test_ingest_enqueues_one_enrich_task_with_the_graph_lookup_and_keeps_the_promise_tasks():
    world = World()
    doc_id = world.page_mention()
    task = world.task("enrich")
    assert task["doc_id"] == doc_id
    assert task["lookup"] == {"type": "fb_post", "id": "7300000000000104_840000000000001", "account": PAGE}
    assert {t.payload["kind"] for t in world.scheduler.tasks.values()} == {"warning", "due", "enrich"}
    assert world.doc(doc_id)["needs_enrichment"] is True


def test_enrichment_fills_redacts_routes_and_schedules_the_handoff_once():
    world = World(FOUND, FOUND)
    doc_id = world.page_mention()
    task = world.task("enrich")
    assert world.enrich.run(task).outcome == "enriched"
    doc = world.doc(doc_id)
    assert "DE0212" not in doc["text"] and doc["pii_kinds"] == ["iban"]
    assert doc["author_name"] == "Kai Müller" and doc["department"] == "rechnung"
    assert doc["needs_enrichment"] is False and doc["handoff_pending"] is True
    handoff = world.task("handoff")
    assert handoff["department"] == "rechnung" and handoff["reason"] == "pii"
    # Cloud Tasks delivers at least once: a second delivery reads nothing and schedules nothing.
    assert world.enrich.run(task).outcome == "nothing_to_do"
    assert len(world.reader.lookups) == 1


def test_a_rate_limit_reschedules_at_metas_reset_and_changes_nothing_else():
    world = World(mc.MetaRateLimited(613, None, 400, retry_after=120.0,
                                     retry_at=datetime(2026, 11, 30, 9, 2, tzinfo=UTC)))
    doc_id = world.page_mention()
    task = world.task("enrich")
    assert world.enrich.run(task).outcome == "rate_limited"
    retry = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "enrich" and t.payload.get("attempt")]
    assert len(retry) == 1 and retry[0].payload["attempt"] == 1
    assert retry[0].at == world.clock() + timedelta(seconds=120)
    assert world.doc(doc_id)["needs_enrichment"] is True and world.doc(doc_id)["status"] == "open"


def test_a_graph_outage_is_a_transient_error_so_cloud_tasks_retries():
    world = World(mc.RetryableMetaError(2, None, 503))
    doc_id = world.page_mention()
    task = world.task("enrich")
    with pytest.raises(TransientError):
        world.enrich.run(task)
    # Nothing waits on this read but the decision itself: the handoff needs the text Graph withholds.
    assert "then" not in task and world.doc(doc_id)["handoff_pending"] is False


@pytest.mark.parametrize(("error", "outcome"), [
    (mc.MetaTokenError(190, None, 400), "config_error"),
    (mc.MetaRequestRefused(100, 33, 400), "unreadable"),
])
def test_a_refused_read_leaves_the_post_open_with_its_promise(error, outcome):
    world = World(error)
    doc_id = world.page_mention()
    assert world.enrich.run(world.task("enrich")).outcome == outcome
    doc = world.doc(doc_id)
    assert doc["status"] == "open" and doc["enrichment"] == "unreadable" and doc["text"] == ""
    assert {t.payload["kind"] for t in world.scheduler.tasks.values()} >= {"warning", "due"}


def test_a_task_before_its_document_retries_then_gives_up():
    world = World()
    payload = {"doc_id": mention_doc_id("facebook", "1_2"), "kind": "enrich",
               "lookup": {"type": "fb_post", "id": "1_2", "account": PAGE}}
    with pytest.raises(TransientError):
        world.enrich.run(payload, retries=0)
    assert world.enrich.run(payload, retries=MISSING_POST_RETRIES).outcome == "missing"


def test_a_deleted_post_is_never_filled_again():
    world = World(FOUND)
    doc_id = world.page_mention()
    world.store.update("mentions", doc_id, {"status": "deleted"})
    assert world.enrich.run(world.task("enrich")).outcome == "nothing_to_do"
    assert world.reader.lookups == []


def test_without_a_page_token_the_enrichment_is_an_operator_problem_not_a_retry():
    world = World()
    doc_id = world.page_mention()
    service = EnrichService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                            reader=None)
    assert service.run(world.task("enrich")).outcome == "config_error"
    assert world.doc(doc_id)["status"] == "open"


def test_a_payload_that_is_not_ours_does_nothing():
    world = World()
    assert world.enrich.run({"doc_id": "../etc", "lookup": {}}).outcome == "nothing_to_do"
    assert world.enrich.run({"doc_id": "a" * 40, "lookup": "x"}).outcome == "nothing_to_do"


def test_an_outage_found_in_the_fetched_text_brings_the_due_time_forward_never_back():
    world = World({"text": "Großstörung in Köln, seit Stunden nichts", "author_id": None, "author_handle": None,
                   "author_name": None})
    doc_id = world.page_mention()
    before = world.doc(doc_id)["due_at"]
    assert world.enrich.run(world.task("enrich")).outcome == "enriched"
    doc = world.doc(doc_id)
    assert doc["priority"] == "high" and doc["due_at"] == world.clock() + timedelta(minutes=15) < before
    due_tasks = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "due"]
    assert {t.payload["due_at"] for t in due_tasks} == {before.isoformat(), doc["due_at"].isoformat()}


def test_a_post_already_alerted_keeps_its_due_time():
    world = World({"text": "Störung!", "author_id": None, "author_handle": None, "author_name": None})
    doc_id = world.page_mention()
    world.store.update("mentions", doc_id, {"alert_level": 0})
    before = world.doc(doc_id)["due_at"]
    assert world.enrich.run(world.task("enrich")).outcome == "enriched"
    assert world.doc(doc_id)["due_at"] == before and world.doc(doc_id).get("priority") is None


# -- the Graph reads themselves, against the fake Graph API (token, field expansion, errors) ------


@pytest.fixture
def graph():
    from fakes.graph_api import make_graph_api

    with make_graph_api("page-token", ig_user_ids=["17841400000000001"]) as fake:
        yield fake


def client(graph, token: str = "page-token") -> mc.MetaClient:
    return mc.MetaClient(graph.url + "/v21.0", token, app_secret="app-secret")


def test_fetch_mention_reads_each_kind_of_mention(graph):
    graph.add_comment("9_8", message="Festnetz tot", **{"from": {"id": "73", "name": "Kai"}}, created_time="x")
    graph.add_comment("8_7", message="Kommentar", **{"from": {"id": "74", "name": "Grit"}})
    graph.add_mentioned("mentioned_comment", "1795", text="@telkohilft SIM gesperrt", username="lena")
    graph.add_mentioned("mentioned_media", "1790", caption="Hotspot geht nicht", username="tom")
    api = client(graph)
    ig = "17841400000000001"
    assert api.fetch_mention({"type": "fb_post", "id": "9_8", "account": PAGE}) == {
        "text": "Festnetz tot", "author_id": "73", "author_handle": None, "author_name": "Kai"}
    assert api.fetch_mention({"type": "fb_comment", "id": "8_7", "account": PAGE})["author_name"] == "Grit"
    assert api.fetch_mention({"type": "ig_comment", "id": "1795", "account": ig}) == {
        "text": "@telkohilft SIM gesperrt", "author_id": None, "author_handle": "lena", "author_name": None}
    assert api.fetch_mention({"type": "ig_media", "id": "1790", "account": ig})["text"] == "Hotspot geht nicht"
    assert graph.reads == ["9_8", "8_7", "mentioned_comment:1795", "mentioned_media:1790"]


def test_fetch_mention_errors_are_the_clients_error_classes(graph):
    with pytest.raises(mc.MetaTokenError):
        client(graph, "wrong-token").fetch_mention({"type": "fb_post", "id": "9_8", "account": PAGE})
    with pytest.raises(mc.MetaApiError) as unknown:
        client(graph).fetch_mention({"type": "ig_media", "id": "404", "account": "17841400000000001"})
    assert not isinstance(unknown.value, mc.RetryableMetaError)
    graph.rate_limit_next(1)
    with pytest.raises(mc.MetaRateLimited):
        client(graph).fetch_mention({"type": "fb_post", "id": "9_8", "account": PAGE})
    with pytest.raises(ValueError):
        client(graph).fetch_mention({"type": "fb_post", "id": "../me", "account": PAGE})


# -- X authors named by id only (X Activity API replies and quotes) ---------------------------------

X_BRAND = "1000000001"
X_POLICY = POLICY + """
[[promise.priority_rules]]
priority = "high"
min_followers = 10000
"""


class Users:
    """Answers ``fetch_user`` from a script: a dict, or an exception to raise."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def fetch_user(self, user_id: str) -> dict[str, str | int | None]:
        self.asked.append(user_id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, dict)
        return answer


def x_world(*answers: object) -> tuple[World, Users]:
    world = World()
    world.policy = parse_policy(X_POLICY)
    world.ingest = IngestService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                                 claim_ttl=DEFAULTS.claim_ttl)
    users = Users(*answers)
    world.enrich = EnrichService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                                 reader=None, users=users)
    return world, users


def xaa_reply(world: World, text: str = "@Telekom_hilft Bei uns in Kiel ist das Netz weg.") -> str:
    """X's published post.reply.create: ``includes`` is empty, the author an id only."""
    import json
    from pathlib import Path

    from hilft.channels.x import parse as x

    body = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "x" / "documented"
                       / "xaa_post_reply_create.json").read_bytes())
    body["data"]["payload"].update(created_at=world.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"), text=text)
    batch = x.parse(json.dumps(body).encode(), brand_user_ids=frozenset({X_BRAND}))
    assert world.ingest.ingest(batch, frozenset({X_BRAND})).stored == 1
    return mention_doc_id("x", "2090000000000000001")


def test_an_x_reply_without_its_author_gets_an_author_lookup_and_the_lookup_fills_handle_name_followers():
    world, users = x_world({"handle": "kabelsalat_kiel", "name": "Jana K.", "followers": 348})
    doc_id = xaa_reply(world)
    task = world.task("enrich")
    assert task["lookup"] == {"type": "x_user", "id": "1472583690", "account": X_BRAND}
    assert world.doc(doc_id)["author_handle"] is None
    assert world.enrich.run(task).outcome == "enriched"
    doc = world.doc(doc_id)
    assert (doc["author_handle"], doc["author_name"], doc["author_followers"]) == ("kabelsalat_kiel", "Jana K.", 348)
    assert doc["priority"] is None and users.asked == ["1472583690"]
    assert world.enrich.run(task).outcome == "nothing_to_do"  # a redelivery asks X nothing
    assert users.asked == ["1472583690"]


def test_a_follower_count_read_later_tightens_the_promise():
    world, _ = x_world({"handle": "netz_influencerin", "name": "N.", "followers": 250_000})
    doc_id = xaa_reply(world)
    due = world.doc(doc_id)["due_at"]
    assert world.enrich.run(world.task("enrich")).outcome == "enriched"
    doc = world.doc(doc_id)
    assert doc["priority"] == "high" and doc["due_at"] < due
    assert any(t.payload["kind"] == "due" and t.payload["due_at"] == doc["due_at"].isoformat()
               for t in world.scheduler.tasks.values())


def test_the_handoff_waits_for_the_author_lookup_so_its_greeting_can_name_the_author():
    world, _ = x_world({"handle": "kabelsalat_kiel", "name": "Jana K.", "followers": 348})
    doc_id = xaa_reply(world, "@Telekom_hilft Meine Rechnung ist doppelt, ruft mich an: 0171 2345678")
    assert [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "handoff"] == []
    assert world.doc(doc_id)["handoff_pending"] is True
    assert world.enrich.run(world.task("enrich")).outcome == "enriched"
    handoff = world.task("handoff")
    assert handoff["doc_id"] == doc_id and handoff["reason"] == "pii"


@pytest.mark.parametrize(("error", "outcome"), [
    (xc.UserNotFound("gone").answered(200), "unreadable"),
    (xc.XAuthError("token").answered(401), "config_error"),
    (xc.RateLimited(datetime(2026, 11, 30, 9, 15, tzinfo=UTC)), "rate_limited"),
])
def test_a_failed_author_lookup_leaves_the_author_unknown_and_still_hands_off(error, outcome):
    world, _ = x_world(error)
    doc_id = xaa_reply(world, "@Telekom_hilft Meine Rechnung ist doppelt, ruft mich an: 0171 2345678")
    assert world.enrich.run(world.task("enrich")).outcome == outcome
    assert world.doc(doc_id)["author_handle"] is None and world.doc(doc_id)["status"] == "open"
    assert world.task("handoff")["doc_id"] == doc_id
    if outcome == "rate_limited":
        (retry,) = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "enrich" and t.payload.get("attempt")]
        assert "then" not in retry.payload and retry.at == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


PII_REPLY = "@Telekom_hilft Meine Rechnung ist doppelt, ruft mich an: 0171 2345678"


def test_a_blip_of_x_during_the_author_lookup_is_retried_by_cloud_tasks_with_the_handoff_still_held():
    world, _ = x_world(*[xc.RetryableXError("down")] * AUTHOR_RETRIES_BEFORE_HANDOFF)
    xaa_reply(world, PII_REPLY)
    task = world.task("enrich")
    for retries in range(AUTHOR_RETRIES_BEFORE_HANDOFF):
        with pytest.raises(TransientError):
            world.enrich.run(task, retries=retries)
    assert [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "handoff"] == []


def test_an_x_outage_does_not_hold_the_handoff_back_the_lookup_alone_retries_and_hands_off_no_second_time():
    world, users = x_world(xc.RetryableXError("down"), xc.RetryableXError("still down"),
                           {"handle": "kabelsalat_kiel", "name": "Jana K.", "followers": 348})
    doc_id = xaa_reply(world, PII_REPLY)
    task = world.task("enrich")
    assert world.enrich.run(task, retries=AUTHOR_RETRIES_BEFORE_HANDOFF).outcome == "unavailable"
    handoff = world.task("handoff")
    assert handoff["doc_id"] == doc_id and handoff["reason"] == "pii"
    (retry,) = [t for t in world.scheduler.tasks.values() if t.payload["kind"] == "enrich" and t.payload.get("attempt")]
    assert "then" not in retry.payload and retry.payload["attempt"] == 1
    assert retry.at == world.clock() + AUTHOR_RETRY_AFTER_OUTAGE
    assert world.doc(doc_id)["author_handle"] is None and world.doc(doc_id)["status"] == "open"
    # The lookup alone holds nothing back: Cloud Tasks retries it however long X is down ...
    with pytest.raises(TransientError):
        world.enrich.run(retry.payload, retries=50)
    # ... and once X answers it fills the author without scheduling the handoff again.
    assert world.enrich.run(retry.payload, retries=51).outcome == "enriched"
    assert world.doc(doc_id)["author_handle"] == "kabelsalat_kiel" and len(users.asked) == 3
    (handoff_name,) = [t.name for t in world.scheduler.tasks.values() if t.payload["kind"] == "handoff"]
    assert world.scheduler.calls.count(("schedule", handoff_name)) == 1


def test_an_x_post_with_its_author_in_includes_gets_no_lookup():
    world, _ = x_world()
    mention = Mention(platform=Platform.X, post_id="2090000000000000009", kind=Kind.MENTION,
                      author=Author(id="1472583690", handle="kabelsalat_kiel"), text="@Telekom_hilft Netz weg",
                      created_at=world.clock(), brand_account_id=X_BRAND, mentioned_user_ids=(X_BRAND,))
    assert world.ingest.ingest(ParsedBatch(events=(mention,)), frozenset({X_BRAND})).stored == 1
    assert {t.payload["kind"] for t in world.scheduler.tasks.values()} == {"warning", "due"}
