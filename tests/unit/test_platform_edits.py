"""Edits and brand answers in the shapes the platforms send them, through the parsers into ingest.

* A Page mention edited (Meta sends ids only, ``verb: edited``) keeps the text it has and fetches
  the edited one in a new ``enrich`` task: never an empty text, never a skipped redaction.
* An Instagram comment re-sent with new words (Instagram has no edit verb) is looked up before any
  task is queued: one document, one due task, one handoff.
* A brand reply that arrives as ``post.reply.create`` stops the clock.
* Numeric ids in feed ``from.id`` and mention ``sender_id`` are accepted as strings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hilft.channels.meta import parse as meta
from hilft.channels.x import parse as x
from hilft.core.errors import MalformedPayload
from hilft.core.ids import mention_doc_id
from hilft.core.models import Mention, ParsedBatch
from tests.unit.test_enrich import World

DOCUMENTED = Path(__file__).resolve().parents[1] / "fixtures"
PAGE = "110000000000001"
IG = "17841400000000001"
X_BRAND = "1000000001"
PHONE = "0221 9876543"


def meta_body(name: str, *, at: datetime, edit: dict[str, Any] | None = None) -> bytes:
    """A documented Meta body delivered at ``at`` (entry time), its value changed by ``edit``."""
    body = json.loads((DOCUMENTED / "meta" / "documented" / name).read_text())
    entry = body["entry"][0]
    entry["time"] = int(at.timestamp())
    if edit:
        (entry["changes"][0]["value"] if "changes" in entry else entry["value"]).update(edit)
    return json.dumps(body).encode()


def meta_events(body: bytes) -> tuple[Mention, ...]:
    batch = meta.parse(body, page_ids=frozenset({PAGE}), ig_user_ids=frozenset({IG}))
    assert not batch.ignored
    return tuple(e for e in batch.events if isinstance(e, Mention))


def tasks_of(world: World, kind: str) -> list[Any]:
    return [t for t in world.scheduler.tasks.values() if t.payload["kind"] == kind]


# -- a Page mention edited: ids only ------------------------------------------------------------


FIRST = {"text": "@Telko hilft: seit Montag kein Festnetz", "author_id": "7300000000000104",
         "author_handle": None, "author_name": "Kai Müller"}
EDITED = {**FIRST, "text": f"@Telko hilft: seit Montag kein Festnetz. Ruft mich an: {PHONE}"}


def test_an_edited_page_mention_keeps_its_text_and_fetches_the_edit_in_a_new_enrich_task():
    world = World(FIRST, EDITED)
    start = world.clock()
    result = world.ingest.ingest(ParsedBatch(events=meta_events(meta_body("page_mention_post.json", at=start))),
                                 frozenset({PAGE}))
    (doc_id,) = result.doc_ids
    (first_task,) = tasks_of(world, "enrich")
    assert world.enrich.run(first_task.payload).outcome == "enriched"
    due = world.doc(doc_id)["due_at"]
    assert world.doc(doc_id)["text"] == FIRST["text"]

    later = world.clock.advance(minutes=5)
    edited = meta_events(meta_body("page_mention_post_edited.json", at=later))
    assert edited[0].needs_enrichment and edited[0].edit_of
    result = world.ingest.ingest(ParsedBatch(events=edited), frozenset({PAGE}))
    assert result.edited == 1 and result.stored == 0
    doc = world.doc(doc_id)
    assert doc["text"] == FIRST["text"]  # never wiped while the edit's words are unknown
    assert doc["needs_enrichment"] is True and doc["edited_at"] == later
    (second_task,) = [t for t in tasks_of(world, "enrich") if t.name != first_task.name]  # a name of its own

    assert world.enrich.run(second_task.payload).outcome == "enriched"
    doc = world.doc(doc_id)
    assert "9876543" not in doc["text"] and "⟨phone⟩" in doc["text"] and doc["pii_kinds"] == ["phone"]
    assert doc["needs_enrichment"] is False and doc["due_at"] == due and len(world.store.docs) == 1
    (handoff,) = tasks_of(world, "handoff")  # the personal data the edit added is moved to a DM
    assert handoff.payload["reason"] == "pii"
    assert [lookup["id"] for lookup in world.reader.lookups] == ["7300000000000104_840000000000001"] * 2


def test_a_redelivered_mention_edit_asks_graph_once():
    world = World(FIRST, EDITED)
    start = world.clock()
    world.ingest.ingest(ParsedBatch(events=meta_events(meta_body("page_mention_post.json", at=start))),
                        frozenset({PAGE}))
    edit = meta_events(meta_body("page_mention_post_edited.json", at=start + timedelta(minutes=5)))
    assert world.ingest.ingest(ParsedBatch(events=edit), frozenset({PAGE})).edited == 1
    again = world.ingest.ingest(ParsedBatch(events=edit), frozenset({PAGE}))
    assert again.edited == 0 and again.duplicates == 1
    assert len(tasks_of(world, "enrich")) == 2  # the first version's and the edit's, no third


def test_an_edit_retried_after_a_rate_limit_keeps_names_apart_from_the_first_versions_retries():
    from hilft.channels.meta import client as mc

    limit = mc.MetaRateLimited(613, None, 400, retry_after=60.0, retry_at=datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    world = World(limit, limit)
    start = world.clock()
    world.ingest.ingest(ParsedBatch(events=meta_events(meta_body("page_mention_post.json", at=start))),
                        frozenset({PAGE}))
    (first,) = tasks_of(world, "enrich")
    assert world.enrich.run(first.payload).outcome == "rate_limited"
    world.ingest.ingest(ParsedBatch(events=meta_events(
        meta_body("page_mention_post_edited.json", at=start + timedelta(minutes=5)))), frozenset({PAGE}))
    (edit_task,) = [t for t in tasks_of(world, "enrich") if t.payload.get("edit_rank")]
    assert world.enrich.run(edit_task.payload).outcome == "rate_limited"
    retries = [t for t in tasks_of(world, "enrich") if t.payload.get("attempt") == 1]
    assert len(retries) == 2  # the edit's retry was not swallowed by the first version's name


# -- Instagram: a re-sent comment with new words --------------------------------------------------


def test_a_resent_instagram_comment_is_an_edit_looked_up_before_any_task_is_queued():
    world = World()
    start = world.clock()
    first = meta_events(meta_body("instagram_comments.json", at=start))
    assert world.ingest.ingest(ParsedBatch(events=first), frozenset({IG})).stored == 1
    doc_id = mention_doc_id("instagram", "17950000000000101")
    due = world.doc(doc_id)["due_at"]
    assert tasks_of(world, "handoff") == []

    world.clock.advance(minutes=3)
    resent = meta_events(meta_body("instagram_comments.json", at=world.clock(), edit={
        "text": f"Bei mir in München geht seit gestern kein mobiles Internet. Ruft an: {PHONE}"}))
    result = world.ingest.ingest(ParsedBatch(events=resent), frozenset({IG}))
    assert result.edited == 1 and result.stored == 0 and result.duplicates == 0
    doc = world.doc(doc_id)
    assert "9876543" not in doc["text"] and doc["pii_kinds"] == ["phone"] and doc["due_at"] == due
    assert len(world.store.docs) == 1
    assert len(tasks_of(world, "due")) == 1  # no second promise with a later due time
    (handoff,) = tasks_of(world, "handoff")
    assert handoff.payload["due_at"] == due.isoformat()

    # The same comment once more: a duplicate, nothing queued.
    queued = len(world.scheduler.tasks)
    assert world.ingest.ingest(ParsedBatch(events=resent), frozenset({IG})).duplicates == 1
    assert len(world.scheduler.tasks) == queued


# -- X: a brand reply as post.reply.create ----------------------------------------------------------


def x_documented(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((DOCUMENTED / "x" / "documented" / name).read_text())
    return body


def test_a_brand_reply_arriving_as_post_reply_create_stops_the_clock():
    world = World()
    customer = x_documented("xaa_post_reply_create.json")
    customer["data"]["payload"]["created_at"] = world.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    batch = x.parse(json.dumps(customer).encode(), brand_user_ids=frozenset({X_BRAND}))
    assert batch.events[0].author.id == "1472583690"  # X's example: an empty includes, the author an id only
    assert world.ingest.ingest(batch, frozenset({X_BRAND})).stored == 1
    doc_id = mention_doc_id("x", "2090000000000000001")

    # A second brand account (filtered too) answers under the first one's post: X sends that
    # as post.reply.create for the first account. Its author is the brand: an answer.
    world.clock.advance(minutes=4)
    answer = x_documented("xaa_post_reply_create.json")
    payload = answer["data"]["payload"]
    payload.update(id="2090000000000000009", edit_history_tweet_ids=["2090000000000000009"], author_id=X_BRAND,
                   text="@kabelsalat_kiel Das tut uns leid, wir schauen sofort nach.",
                   created_at=world.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                   in_reply_to_tweet_id="2090000000000000001", in_reply_to_user_id="1472583690",
                   referenced_tweets=[{"type": "replied_to", "id": "2090000000000000001"}])
    answer["data"]["filter"]["user_id"] = "1000000002"
    batch = x.parse(json.dumps(answer).encode(), brand_user_ids=frozenset({X_BRAND, "1000000002"}))
    assert batch.events[0].is_brand
    result = world.ingest.ingest(batch, frozenset({X_BRAND, "1000000002"}))
    assert result.answered == 1 and result.brand == 1
    assert world.doc(doc_id)["status"] == "answered"


# -- numeric ids ------------------------------------------------------------------------------------


def test_numeric_feed_from_id_and_mention_sender_id_are_strings():
    feed = json.loads(meta_body("page_feed_comment_add.json", at=datetime(2026, 11, 30, 9, tzinfo=UTC)))
    feed["entry"][0]["changes"][0]["value"]["from"]["id"] = 7300000000000101
    (comment,) = meta_events(json.dumps(feed).encode())
    assert comment.author.id == "7300000000000101"
    mention = json.loads(meta_body("page_mention_post.json", at=datetime(2026, 11, 30, 9, tzinfo=UTC)))
    mention["entry"][0]["changes"][0]["value"]["sender_id"] = 7300000000000104
    (found,) = meta_events(json.dumps(mention).encode())
    assert found.author.id == "7300000000000104"


@pytest.mark.parametrize("value", [True, -1, 1.5, ""])
def test_ids_that_are_no_ids_stay_malformed(value: object):
    feed = json.loads(meta_body("page_feed_comment_add.json", at=datetime(2026, 11, 30, 9, tzinfo=UTC)))
    feed["entry"][0]["changes"][0]["value"]["from"]["id"] = value
    with pytest.raises(MalformedPayload):
        meta_events(json.dumps(feed).encode())
