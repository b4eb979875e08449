"""Filtered Stream deliveries: shape recognition and parsing into radar mentions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hilft.channels.x import stream as x_stream
from hilft.core.errors import MalformedPayload
from hilft.core.models import Kind, ParsedBatch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x" / "documented"
BRAND = frozenset({"1000000001"})


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_a_radar_post_carries_its_rule_tags_author_and_text() -> None:
    batch = x_stream.parse(load("stream_post_radar.json"), brand_user_ids=BRAND)
    (post,) = batch.events
    assert isinstance(post, x_stream.StreamMention)
    assert post.post_id == "2080770000000000001" and post.kind == Kind.MENTION
    assert post.author.handle == "bonner_jan" and post.author.followers == 211
    assert "53113 Bonn" in post.text and post.lang == "de"
    assert post.radar_rule_tags == ("hilft-radar",)
    assert post.mentioned_user_ids == () and not post.is_brand
    assert post.url == "https://x.com/bonner_jan/status/2080770000000000001"
    assert x_stream.rule_tags(post) == ("hilft-radar",) and x_stream.from_stream(post)
    # a ParsedBatch keeps the subclass (ingest reads the tags from it)
    assert isinstance(ParsedBatch(events=batch.events).events[0], x_stream.StreamMention)


def test_a_reply_to_the_brand_from_the_stream_is_addressed_to_the_brand() -> None:
    (post,) = x_stream.parse(load("stream_post_reply_to_brand.json"), brand_user_ids=BRAND).events
    assert post.kind == Kind.REPLY and post.in_reply_to == "2080765813578191000"
    assert post.in_reply_to_author_id == "1000000001" and post.mentioned_user_ids == ("1000000001",)
    assert post.brand_account_id == "1000000001"
    assert x_stream.rule_tags(post) == ("hilft-radar", "hilft-radar:2")


def test_a_retweet_is_ignored() -> None:
    batch = x_stream.parse(load("stream_post_retweet.json"), brand_user_ids=BRAND)
    assert batch.events == () and batch.ignored == ("stream.retweet",)


def test_shape_recognition() -> None:
    stream = json.loads(load("stream_post_radar.json"))
    assert x_stream.is_stream_delivery(stream) and x_stream.shape_of(stream) == "stream"
    xaa = {"data": {"event_type": "post.mention.create", "payload": {}}, "matching_rules": []}
    assert not x_stream.is_stream_delivery(xaa)
    assert not x_stream.is_stream_delivery({"for_user_id": "1", "tweet_create_events": []})
    assert not x_stream.is_stream_delivery([stream])


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(matching_rules=[]),
    lambda d: d["data"].pop("author_id"),
    lambda d: d["data"].update(id="not-a-number"),
    lambda d: d["data"].update(created_at="yesterday"),
    lambda d: d["data"].update(created_at="2026-07-24T10:31:02"),
    lambda d: d.update(data="text"),
])
def test_malformed_deliveries_are_malformed_payload(mutate) -> None:
    document = json.loads(load("stream_post_radar.json"))
    mutate(document)
    with pytest.raises(MalformedPayload):
        x_stream.parse(json.dumps(document).encode(), brand_user_ids=BRAND)


# -- ingest: stream matches are radar items with a longer promise and no warning (issue 17) ----------


def _ingest_world(policy_text: str = ""):
    from hilft.core.policy import parse_policy
    from hilft.service.ingest import IngestService
    from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

    clock = FakeClock()
    store, scheduler = MemoryStore(), MemoryScheduler()
    policy = parse_policy(policy_text or '[radar]\nkeywords = ["telekom"]\n')
    ingest = IngestService(store=store, scheduler=scheduler, policy=policy, clock=clock, claim_ttl=DEFAULTS.claim_ttl)
    return ingest, store, scheduler, clock


def test_a_stream_match_is_stored_as_a_radar_item_with_its_rule_tags_four_hours_and_no_warning() -> None:
    from datetime import timedelta

    from hilft.core.ids import mention_doc_id

    ingest, store, scheduler, clock = _ingest_world()
    (post,) = x_stream.parse(load("stream_post_radar.json"), brand_user_ids=BRAND).events
    post = post.model_copy(update={"created_at": clock()})
    assert ingest.ingest(ParsedBatch(events=(post,)), BRAND).stored == 1
    doc = store.data["mentions"][mention_doc_id("x", post.post_id)]
    assert doc["radar"] is True and doc["radar_rules"] == ["hilft-radar"]
    assert doc["due_at"] - clock() == timedelta(hours=4)  # radar.first_response, not the 60 min promise
    kinds = sorted(t.payload["kind"] for t in scheduler.tasks.values())
    assert "warning" not in kinds and "due" in kinds


def test_a_stream_match_is_kept_even_when_the_local_keyword_check_would_not_and_warns_if_the_policy_says() -> None:
    ingest, store, scheduler, clock = _ingest_world('[radar]\nkeywords = ["entertain"]\nwarning = true\n'
                                                    'first_response = "2h"\n')
    (post,) = x_stream.parse(load("stream_post_radar.json"), brand_user_ids=BRAND).events
    post = post.model_copy(update={"created_at": clock()})
    assert ingest.ingest(ParsedBatch(events=(post,)), BRAND).stored == 1
    assert "warning" in {t.payload["kind"] for t in scheduler.tasks.values()}


def test_a_post_matching_only_someone_elses_stream_rule_is_judged_by_the_radar_keywords() -> None:
    from hilft.core.ids import mention_doc_id

    ingest, store, _, clock = _ingest_world('[radar]\nkeywords = ["telekom"]\nexclude = ["#anzeige"]\n')
    (post,) = x_stream.parse(load("stream_post_radar.json"), brand_user_ids=BRAND).events
    ad = post.model_copy(update={"created_at": clock(), "text": "Neuer Vodafone Tarif ist da, #anzeige",
                                 "radar_rule_tags": ("marketing-competitor",)})
    assert ingest.ingest(ParsedBatch(events=(ad,)), BRAND).ignored == 1  # another team's rule, no keyword
    ours = post.model_copy(update={"created_at": clock(), "post_id": "777", "text": "Telekom hat kein Netz",
                                   "radar_rule_tags": ("marketing-competitor",)})
    assert ingest.ingest(ParsedBatch(events=(ours,)), BRAND).stored == 1  # the radar's keyword still counts
    doc = store.data["mentions"][mention_doc_id("x", "777")]
    assert doc["radar"] is True and not doc.get("radar_rules")  # only hilft's own rule tags are kept


def test_a_stream_post_addressed_to_the_brand_keeps_the_ordinary_promise() -> None:
    from datetime import timedelta

    from hilft.core.ids import mention_doc_id

    ingest, store, scheduler, clock = _ingest_world()
    (post,) = x_stream.parse(load("stream_post_reply_to_brand.json"), brand_user_ids=BRAND).events
    post = post.model_copy(update={"created_at": clock()})
    ingest.ingest(ParsedBatch(events=(post,)), BRAND)
    doc = store.data["mentions"][mention_doc_id("x", post.post_id)]
    assert doc["radar"] is False and doc["due_at"] - clock() == timedelta(minutes=60)
    assert doc["radar_rules"] == ["hilft-radar", "hilft-radar:2"]


def test_a_long_posts_mentions_are_read_from_its_note_tweet_like_any_x_api_v2_post() -> None:
    """X puts a long post's full text and entities in ``note_tweet`` (X API v2 "note_tweet" field)."""
    document = json.loads(load("stream_post_radar.json"))
    long_text = "Seit heute Morgen kein Internet in 53113 Bonn. " * 8 + "@Telekom_hilft bitte melden"
    document["data"]["note_tweet"] = {"text": long_text, "entities": {"mentions": [
        {"start": len(long_text) - 26, "end": len(long_text) - 12, "username": "Telekom_hilft", "id": "1000000001"}]}}
    (post,) = x_stream.parse(json.dumps(document).encode(), brand_user_ids=BRAND).events
    assert post.text == long_text
    assert post.mentioned_user_ids == ("1000000001",) and post.brand_account_id == "1000000001"
