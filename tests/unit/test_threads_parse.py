"""Threads webhooks, pure: the signature (known answer), the subscription check, and what hilft
extracts from each payload Meta documents (``tests/fixtures/threads/documented``, see SOURCES.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hilft.channels.threads import parse as threads
from hilft.core.errors import Forbidden, InvalidSignature, MalformedPayload, MissingSecret
from hilft.core.models import Deletion, Kind, Mention, ParsedBatch, Platform

DOCUMENTED = Path(__file__).resolve().parents[1] / "fixtures" / "threads" / "documented"
# Meta's samples name the brand twice: 123456 owns the replied-to root post, 78901 is mentioned.
BRAND_IDS = frozenset({"123456", "78901"})
SECRET = "threads-app-secret"
AT = datetime(2024, 8, 7, 10, 33, 16, tzinfo=UTC)
SENT = datetime.fromtimestamp(1723226877, tz=UTC)


def documented(name: str) -> bytes:
    return (DOCUMENTED / name).read_bytes()


def parse(body: bytes | dict[str, Any], brand: frozenset[str] = BRAND_IDS) -> ParsedBatch:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return threads.parse(raw, brand_user_ids=brand)


def envelope(field: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"app_id": "555", "topic": "moderate", "target_id": "78901", "time": 1723226877,
            "subscription_id": "1", "has_uid_field": False, "values": {"value": value, "field": field}, **extra}


# -- signatures ---------------------------------------------------------------------------


# The known answer (a delivery Meta signed) is checked once for every signer: tests/unit/test_known_answers.py.


def test_the_raw_escaped_bytes_are_signed_not_a_reserialised_document():
    body = documented("replies.json")
    assert b"\\/" in body  # Meta escapes slashes; the signature covers exactly these bytes
    threads.verify_signature(body, threads.sign(body, SECRET), SECRET)
    reserialised = json.dumps(json.loads(body)).encode()
    with pytest.raises(InvalidSignature):
        threads.verify_signature(reserialised, threads.sign(body, SECRET), SECRET)


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "garbage\u00ff"])
def test_missing_or_wrong_signatures_are_refused(header: str | None):
    with pytest.raises(InvalidSignature):
        threads.verify_signature(documented("replies.json"), header, SECRET)


def test_a_body_signed_with_another_apps_secret_is_refused():
    body = documented("mentions.json")
    with pytest.raises(InvalidSignature):
        threads.verify_signature(body, threads.sign(body, "the-facebook-page-app-secret"), SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_no_secret_configured_fails_closed(secret: str | None):
    body = documented("replies.json")
    with pytest.raises(MissingSecret):
        threads.verify_signature(body, threads.sign(body, "x"), secret)


# -- subscription check -------------------------------------------------------------------


def test_the_subscription_check_echoes_the_challenge_for_the_right_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert threads.verify_subscription(params, "vt") == "1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "vt", "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "<script>"},
    {"hub.mode": "subscribe", "hub.verify_token": "vt"},
    {},
])
def test_a_wrong_subscription_check_is_forbidden(params: dict[str, str]):
    with pytest.raises(Forbidden):
        threads.verify_subscription(params, "vt")


def test_the_subscription_check_fails_closed_without_a_token():
    with pytest.raises(MissingSecret):
        threads.verify_subscription({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, None)


# -- the documented payloads --------------------------------------------------------------

EXPECTED: dict[str, dict[str, Any]] = {
    # A customer's reply under the brand's root post 123456 (to reply 567890 in its thread).
    "replies.json": {"type": Mention, "post_id": "8901234", "kind": Kind.REPLY, "author_id": "test_username",
                     "author_handle": "test_username", "text": "Reply", "created_at": AT,
                     "conversation_id": "123456", "in_reply_to": "567890", "in_reply_to_author_id": None,
                     "is_brand": False, "brand_account_id": "123456", "on_brand_surface": True,
                     "url": "https://www.threads.net/@test_username/post/Pp"},
    # A post tagging the brand 78901.
    "mentions.json": {"type": Mention, "post_id": "8901234", "kind": Kind.MENTION, "author_id": "test_username",
                      "text": "Reply", "created_at": AT, "mentioned_user_ids": ("78901",), "is_brand": False,
                      "brand_account_id": "78901", "in_reply_to": None, "on_brand_surface": False},
    # The brand deleted its post.
    "delete.json": {"type": Deletion, "post_id": "8901234", "author_id": "78901", "deleted_at": AT},
    # The brand published (a top-level post in Meta's sample: it answers nothing).
    "publish.json": {"type": Mention, "post_id": "8901234", "is_brand": True, "in_reply_to": None,
                     "author_handle": "test_username", "brand_account_id": "78901", "created_at": AT},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_documented_payload_yields_what_hilft_must_extract(name: str):
    batch = parse(documented(name))
    assert batch.ignored == ()
    assert len(batch.events) == 1
    event = batch.events[0]
    want = dict(EXPECTED[name])
    assert isinstance(event, want.pop("type"))
    assert event.platform == Platform.THREADS
    for key, value in want.items():
        if key.startswith("author_") and isinstance(event, Mention):
            assert getattr(event.author, key.removeprefix("author_")) == value, key
        else:
            assert getattr(event, key) == value, key


def test_every_documented_file_has_an_expectation_and_a_named_source():
    files = {path.name for path in DOCUMENTED.glob("*.json")}
    assert files == set(EXPECTED)
    sources = (DOCUMENTED / "SOURCES.md").read_text()
    for name in files:
        row = next((line for line in sources.splitlines() if f"`{name}`" in line), "")
        assert "https://developers.facebook.com/docs/threads/webhooks" in row, name


# -- who is the brand, who is addressed ---------------------------------------------------


def reply_value(**overrides: Any) -> dict[str, Any]:
    value = {"id": "900", "username": "kundin_anna", "text": "@brand seit gestern kein Netz",
             "timestamp": "2026-11-30T09:00:00+0000", "permalink": "https://www.threads.com/@kundin_anna/post/Xy",
             "replied_to": {"id": "500"}, "root_post": {"id": "500", "owner_id": "78901", "username": "brand"}}
    value.update(overrides)
    return value


def test_a_direct_reply_to_the_brands_root_post_is_addressed_to_the_brand():
    event = parse(envelope("replies", reply_value())).events[0]
    assert isinstance(event, Mention)
    assert (event.in_reply_to, event.in_reply_to_author_id, event.is_brand) == ("500", "78901", False)
    assert event.url == "https://www.threads.com/@kundin_anna/post/Xy"


def test_the_root_posts_owner_replying_in_its_thread_is_the_brand_answering():
    value = reply_value(id="901", username="brand", replied_to={"id": "900"})
    event = parse(envelope("replies", value)).events[0]
    assert isinstance(event, Mention)
    assert event.is_brand and event.in_reply_to == "900" and event.author.id == "78901"


def test_the_root_owners_username_on_someone_elses_thread_is_not_the_brand():
    value = reply_value(username="brand", root_post={"id": "500", "owner_id": "4242", "username": "brand"})
    event = parse(envelope("replies", value)).events[0]
    assert isinstance(event, Mention) and not event.is_brand


def test_a_published_reply_names_the_post_it_answers():
    value = {"id": "902", "username": "brand", "text": "Wir schauen nach!", "replied_to": {"id": "900"},
             "timestamp": "2026-11-30T09:05:00+0000"}
    event = parse(envelope("publish", value, topic="interaction")).events[0]
    assert isinstance(event, Mention)
    assert event.is_brand and event.in_reply_to == "900" and event.kind == Kind.REPLY


def test_a_mention_that_is_a_reply_keeps_its_parent():
    value = reply_value(is_reply=True)
    event = parse(envelope("mentions", value, topic="interaction")).events[0]
    assert isinstance(event, Mention)
    assert event.kind == Kind.REPLY and event.in_reply_to == "500" and event.mentioned_user_ids == ("78901",)


def test_a_payload_chosen_permalink_outside_threads_is_dropped():
    for link in ("javascript:alert(1)", "https://evil.example/@a/post/1", "https://www.threads.net.evil/x"):
        event = parse(envelope("replies", reply_value(permalink=link))).events[0]
        assert isinstance(event, Mention) and event.url is None, link


def test_without_a_timestamp_the_notifications_time_stands_in():
    value = reply_value()
    del value["timestamp"]
    event = parse(envelope("replies", value)).events[0]
    assert isinstance(event, Mention) and event.created_at == SENT


def test_ids_sent_as_numbers_are_read_as_their_digits():
    value = reply_value(id=900, root_post={"id": 500, "owner_id": 78901, "username": "brand"})
    event = parse(envelope("replies", value, target_id=78901, app_id=555)).events[0]
    assert isinstance(event, Mention) and (event.post_id, event.in_reply_to_author_id) == ("900", "78901")


# -- batches, the unknown and the malformed -----------------------------------------------


def test_values_as_a_list_yield_one_event_each_in_order():
    body = envelope("replies", None)
    body["values"] = [{"field": "replies", "value": reply_value(id="1")},
                      {"field": "delete", "value": {"id": "2", "deleted_at": "2026-11-30T09:00:00+0000"}},
                      {"field": "quotes", "value": {"id": "3"}}]
    batch = parse(body)
    assert [type(e).__name__ for e in batch.events] == ["Mention", "Deletion"]
    assert batch.ignored == ("threads:quotes",)


def test_an_unknown_field_is_ignored_by_name():
    assert parse(envelope("insights", {"anything": 1})) == ParsedBatch(ignored=("threads:insights",))
    assert parse(envelope("a field <b>", {})) == ParsedBatch(ignored=("threads:a?field??b?",))


@pytest.mark.parametrize("body", [
    b"", b"[]", b"not json", b'{"app_id": "1"}', b"\xff\xfe",
    json.dumps(envelope("replies", {"username": "no id"})).encode(),
    json.dumps(envelope("replies", reply_value(id="../../etc"))).encode(),
    json.dumps(envelope("replies", reply_value(timestamp="gestern"))).encode(),
    json.dumps(envelope("replies", reply_value(timestamp="2026-11-30T09:00:00"))).encode(),
    json.dumps(envelope("replies", reply_value(timestamp="9999-12-31T23:59:59-10:00"))).encode(),
    json.dumps(envelope("replies", reply_value(timestamp="0001-01-01T00:00:00+10:00"))).encode(),
    json.dumps(envelope("replies", reply_value(text=5))).encode(),
    json.dumps(envelope("mentions", "a string")).encode(),
    json.dumps(envelope("delete", {"id": "1", "owner": "78901"})).encode(),
    json.dumps({**envelope("replies", reply_value()), "time": "1723226877"}).encode(),
    json.dumps({**envelope("replies", reply_value()), "time": -1}).encode(),
    json.dumps({**envelope("replies", reply_value()), "values": "x"}).encode(),
])
def test_a_body_not_shaped_like_metas_is_malformed_and_only_that(body: bytes):
    with pytest.raises(MalformedPayload) as caught:
        parse(body)
    assert "kein Netz" not in str(caught.value)  # errors never repeat payload text


# -- fuzz: garbage is 400, never a crash --------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_stamps = st.sampled_from(["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+10:00", "2024-08-07T10:33:16+0000",
                          "2024-02-30T00:00:00+0000", "", "2024-08-07T10:33:16+2500"])
_keys = st.sampled_from(["id", "username", "text", "timestamp", "replied_to", "root_post", "owner", "deleted_at",
                         "owner_id", "permalink", "is_reply"])


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["replies", "mentions", "publish", "delete", "other"]),
       value=st.dictionaries(_keys, _json | _stamps, max_size=6), target=_json, time=_json)
def test_any_value_under_a_documented_envelope_parses_or_is_malformed(field, value, target, time):
    raw = json.dumps({"app_id": "1", "topic": "moderate", "target_id": target, "time": time,
                      "values": {"field": field, "value": value}}).encode()
    try:
        batch = threads.parse(raw, brand_user_ids=BRAND_IDS)
    except MalformedPayload:
        return
    for event in batch.events:
        assert event.platform == Platform.THREADS and event.post_id
