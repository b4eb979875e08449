"""Bluesky's documented answers → hilft's models (pure parser), and the parser's small helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hilft.channels.bluesky import parse
from hilft.core.models import Deletion, Kind, Mention, Platform

DOCUMENTED = Path(__file__).resolve().parents[1] / "fixtures" / "bluesky" / "documented"
BRAND = "did:plc:telkohilftbrand0000000001"
BRANDS = frozenset({BRAND})
BRAND_POST = f"at://{BRAND}/app.bsky.feed.post/3lbq2m4z7ks2c"


def documented(name: str) -> Any:
    return json.loads((DOCUMENTED / name).read_text())


def test_notifications_mention_reply_and_quote_become_posts_and_likes_follows_are_ignored() -> None:
    batch = parse.parse_notifications(documented("list_notifications.json"), BRANDS, BRAND)
    assert batch.ignored == ("notification:like", "notification:follow")
    mention, reply, quote = batch.events
    assert mention.platform == Platform.BLUESKY
    assert mention.post_id == "at://did:plc:k7q3m2xw5vn4r6tb2yz3hc4a/app.bsky.feed.post/3lbqa7xk2fs2w"
    assert mention.kind == Kind.MENTION and not mention.is_brand
    assert mention.author.id == "did:plc:k7q3m2xw5vn4r6tb2yz3hc4a"
    assert mention.author.handle == "kabelsalat.bsky.social" and mention.author.name == "Kabelsalat Kiel"
    assert mention.text.startswith("@telkohilft.bsky.social seit gestern Abend kein Internet")
    assert mention.mentioned_user_ids == (BRAND,)  # from the mention facet
    assert mention.created_at == datetime(2024, 11, 20, 8, 41, 12, 504000, tzinfo=UTC)
    assert mention.lang == "de" and mention.brand_account_id == BRAND
    assert mention.url == "https://bsky.app/profile/kabelsalat.bsky.social/post/3lbqa7xk2fs2w"
    assert mention.conversation_id == mention.post_id and mention.in_reply_to is None

    assert reply.kind == Kind.REPLY
    assert reply.in_reply_to == BRAND_POST and reply.in_reply_to_author_id == BRAND
    assert reply.conversation_id == BRAND_POST  # the thread's root

    assert quote.kind == Kind.MENTION and quote.quoted_author_id == BRAND
    assert quote.text == '"Wartungsarbeiten" seit drei Tagen. Ernsthaft?'


def test_search_hits_are_radar_candidates_and_the_brands_own_hit_is_a_brand_post() -> None:
    customer, own = parse.parse_post_views(parse.posts_of(documented("search_posts.json")), BRANDS, BRAND).events
    assert not customer.is_brand and customer.mentioned_user_ids == ()
    assert customer.text == "Telko hilft Störung in ganz Kiel, Festnetz tot."
    assert own.is_brand and own.author.id == BRAND


def test_own_records_reply_names_the_customer_post_it_answers() -> None:
    reply, top = parse.parse_own_records(parse.records_of(documented("list_records_own_posts.json")), BRAND,
                                         "telkohilft.bsky.social").events
    assert reply.is_brand and top.is_brand
    assert reply.kind == Kind.REPLY
    assert reply.in_reply_to == "at://did:plc:k7q3m2xw5vn4r6tb2yz3hc4a/app.bsky.feed.post/3lbqa7xk2fs2w"
    assert top.kind == Kind.MENTION and top.in_reply_to is None


def test_get_posts_leaves_out_deleted_posts_and_those_are_deletions() -> None:
    kept = "at://did:plc:f3h7ma2rq6wk4zt5nx2jc7vy/app.bsky.feed.post/3lbqb2hx5ls2d"
    gone = "at://did:plc:k7q3m2xw5vn4r6tb2yz3hc4a/app.bsky.feed.post/3lbqa7xk2fs2w"
    now = datetime(2024, 11, 20, 10, tzinfo=UTC)
    deletions = parse.deletions([kept, gone], documented("get_posts.json"), now)
    assert [(d.post_id, d.author_id, d.deleted_at) for d in deletions] == [
        (gone, "did:plc:k7q3m2xw5vn4r6tb2yz3hc4a", now)]


@pytest.mark.parametrize("body", [{}, {"notifications": "x"}, {"notifications": [None, 3]}, []])
def test_unexpected_shapes_yield_nothing(body: Any) -> None:
    assert parse.parse_notifications(body, BRANDS).events == ()


def test_a_notification_whose_record_is_not_a_post_is_counted_unreadable() -> None:
    body = {"notifications": [{"uri": "at://did:plc:x/app.bsky.feed.like/1", "reason": "mention", "record": {},
                               "author": {"did": "did:plc:x"}, "indexedAt": "2024-11-20T08:00:00Z"}]}
    batch = parse.parse_notifications(body, BRANDS)
    assert batch.events == () and batch.ignored == ("notification:mention:unreadable",)


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-11-20T08:41:13.118Z", "2024-11-20T08:41:13.118000Z"),
    ("2024-11-20T08:41:13Z", "2024-11-20T08:41:13.000000Z"),
    ("2024-11-20T08:41:13.123456789Z", "2024-11-20T08:41:13.123456Z"),
    ("2024-11-20T10:41:13.5+02:00", "2024-11-20T08:41:13.500000Z"),
    ("2024-11-20T08:41:13", ""),  # no zone: unreadable, never guessed
    ("yesterday", ""),
])
def test_sort_key_is_fixed_width_utc(value: str, expected: str) -> None:
    assert parse.sort_key(value) == expected


def test_tids_sort_like_time_and_have_the_record_key_shape() -> None:
    earlier = parse.tid_at(datetime(2024, 11, 20, 8, tzinfo=UTC), 5)
    later = parse.tid_at(datetime(2024, 11, 20, 8, 0, 0, 1, tzinfo=UTC), 0)
    assert len(earlier) == 13 and earlier < later
    assert earlier[0] in "234567abcdefghij"  # the top bit is zero


@pytest.mark.parametrize("uri", ["", "https://bsky.app/x", "at://did:plc:x", "at://did:plc:x//rkey"])
def test_uri_parts_refuses_anything_but_a_record_uri(uri: str) -> None:
    assert parse.uri_parts(uri) is None


def test_a_reply_deep_in_a_thread_the_brand_started_is_addressed_to_the_brand() -> None:
    body = documented("list_notifications.json")
    reply = dict(body["notifications"][1])
    other = "at://did:plc:z5n2qa7tk3vw6yr4mb2xe7hd/app.bsky.feed.post/3lbq9k3jq4s2f"
    reply["record"] = {**reply["record"], "reply": {"root": reply["record"]["reply"]["root"],
                                                    "parent": {"uri": other, "cid": "bafyreiother"}}}
    (deep,) = parse.parse_notifications({"notifications": [reply]}, BRANDS).events
    assert deep.in_reply_to == other and deep.in_reply_to_author_id == "did:plc:z5n2qa7tk3vw6yr4mb2xe7hd"
    assert deep.on_brand_surface and deep.conversation_id == BRAND_POST
    (mention,) = parse.parse_notifications({"notifications": [body["notifications"][0]]}, BRANDS).events
    assert not mention.on_brand_surface  # a top-level post is on the author's own surface


# -- chat (chat.bsky.convo.getLog, listConvos, getMessages) ------------------------------------
CUSTOMER = "did:plc:k7q3m2xw5vn4r6tb2yz3hc4a"
CONVO = "3lbqd2fa4ks2c"


def test_chat_log_customer_message_is_a_dm_the_brands_is_its_answer_deletes_are_deletions() -> None:
    now = datetime(2024, 11, 20, 9, 30, tzinfo=UTC)
    batch = parse.parse_chat_log(parse.logs_of(documented("get_log.json")), BRANDS, BRAND, now=now)
    assert batch.ignored == ("chat:logBeginConvo", "chat:logReadMessage")
    dm, answer, gone_before_read, deleted = batch.events
    assert isinstance(dm, Mention) and dm.kind == Kind.DM and dm.platform == Platform.BLUESKY
    assert dm.post_id == "3lbqd2fb7cs2e" and dm.conversation_id == CONVO  # the reply goes into this convo
    assert not dm.is_brand and dm.author.id == CUSTOMER
    assert dm.author.handle == "kabelsalat.bsky.social" and dm.author.name == "Kabelsalat Kiel"  # relatedProfiles
    assert dm.text.startswith("Hallo, mein Anschluss in Kiel ist seit gestern tot.")
    assert dm.created_at == datetime(2024, 11, 20, 9, 14, 3, 118000, tzinfo=UTC)
    assert dm.brand_account_id == BRAND and dm.recipient_id == BRAND and dm.in_reply_to is None
    assert dm.url == f"https://bsky.app/messages/{CONVO}" and dm.lang is None

    assert isinstance(answer, Mention) and answer.is_brand and answer.kind == Kind.DM
    assert answer.conversation_id == CONVO and answer.author.id == BRAND and answer.recipient_id is None

    assert isinstance(gone_before_read, Deletion) and gone_before_read.post_id == "3lbqd2h2lcs2j"
    assert isinstance(deleted, Deletion) and deleted.post_id == "3lbqd2fb7cs2e"
    assert deleted.author_id == CUSTOMER and deleted.deleted_at == now


def test_chat_log_since_leaves_out_older_messages_but_never_deletions() -> None:
    since = datetime(2024, 11, 20, 9, 15, tzinfo=UTC)
    batch = parse.parse_chat_log(parse.logs_of(documented("get_log.json")), BRANDS, BRAND, since=since)
    assert [type(e).__name__ for e in batch.events] == ["Mention", "Deletion", "Deletion"]
    assert batch.events[0].post_id == "3lbqd2gx5ms2g"


def test_chat_log_revs_sort_in_log_order() -> None:
    revs = [parse.log_rev(e) for e in parse.logs_of(documented("get_log.json"))]
    assert revs == sorted(revs) and revs[-1] == documented("get_log.json")["cursor"]


@pytest.mark.parametrize("message", [
    {"id": "m1", "rev": "r", "text": "hi", "sender": {"did": "not-a-did"}, "sentAt": "2024-11-20T09:00:00Z"},
    {"id": "m1", "rev": "r", "text": "hi", "sender": {"did": CUSTOMER}, "sentAt": "gestern"},
    {"id": "", "rev": "r", "text": "hi", "sender": {"did": CUSTOMER}, "sentAt": "2024-11-20T09:00:00Z"},
    {"$type": "chat.bsky.convo.defs#systemMessageView", "id": "m1", "rev": "r", "sentAt": "2024-11-20T09:00:00Z",
     "data": {}},
])
def test_an_unreadable_chat_message_is_counted_never_guessed(message: dict[str, Any]) -> None:
    log = {"$type": parse.LOG_CREATE_MESSAGE, "rev": "r", "convoId": CONVO, "message": message}
    batch = parse.parse_chat_log([log], BRANDS, BRAND)
    assert batch.events == () and batch.ignored == ("chat:unreadable",)


def test_listconvos_last_message_time_picks_the_conversations_to_look_back_into() -> None:
    active, old = parse.convos_of(documented("list_convos.json"))
    assert parse.last_message_at(active) == datetime(2024, 11, 20, 9, 20, 41, 502000, tzinfo=UTC)
    assert parse.last_message_at(old) == datetime(2024, 8, 2, 16, 3, 55, tzinfo=UTC)
    assert parse.last_message_at({"id": "x"}) is None


def test_getmessages_of_a_convo_oldest_first_members_name_the_author_deleted_left_out() -> None:
    convo = parse.convos_of(documented("list_convos.json"))[0]
    messages = parse.messages_of(documented("get_messages.json"))
    since = datetime(2024, 11, 19, tzinfo=UTC)
    customer, answer = parse.parse_convo_messages(convo, messages, BRANDS, BRAND, since=since).events
    assert isinstance(customer, Mention) and customer.post_id == "3lbqd2fb7cs2e" and not customer.is_brand
    assert customer.author.handle == "kabelsalat.bsky.social" and customer.conversation_id == CONVO
    assert isinstance(answer, Mention) and answer.is_brand and answer.created_at > customer.created_at
    everything = parse.parse_convo_messages(convo, messages, BRANDS, BRAND).events
    assert [e.post_id for e in everything] == ["3lbpzk2xq3s2m", "3lbqd2fb7cs2e", "3lbqd2gx5ms2g"]
