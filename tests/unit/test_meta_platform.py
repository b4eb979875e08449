"""hilft.channels.meta.parse: subscription handshake, signatures, parsing of Meta's webhook payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hilft.channels.meta import parse as meta
from hilft.core.errors import Forbidden, InvalidSignature, MalformedPayload, MissingSecret
from hilft.core.models import Deletion, Kind, Mention, ParsedBatch, Platform

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
PAGE_ID = "110000000000001"
IG_USER_ID = "17841400000000001"
APP_SECRET = "app-secret-for-tests"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_bytes(body: bytes) -> ParsedBatch:
    return meta.parse(body, page_ids=frozenset({PAGE_ID}), ig_user_ids=frozenset({IG_USER_ID}))


def parse_fixture(name: str) -> ParsedBatch:
    return parse_bytes(raw(name))


def only_event(name: str) -> Mention | Deletion:
    batch = parse_fixture(name)
    assert len(batch.events) == 1, batch
    return batch.events[0]


def only_mention(name: str) -> Mention:
    event = only_event(name)
    assert isinstance(event, Mention)
    return event


def page_body(*changes: dict, time: int = 1730794363) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": time, "changes": list(changes)}]}).encode()


def feed(**value: object) -> dict:
    return {"field": "feed", "value": value}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- subscription handshake ---------------------------------------------------------------


def test_subscription_handshake_echoes_the_challenge():
    params = {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1158201444"}
    assert meta.verify_subscription(params, "let-me-in") == "1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1158201444"},
    {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    {"hub.mode": "subscribe", "hub.verify_token": "let-me-in"},
    {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "<script>alert(1)</script>"},
    {"hub.mode": "subscribe", "hub.verify_token": "lét-me-in", "hub.challenge": "1158201444"},
], ids=["wrong-token", "wrong-mode", "no-token", "no-challenge", "markup-challenge", "non-ascii-token"])
def test_a_subscription_request_that_does_not_match_is_forbidden(params):
    with pytest.raises(Forbidden):
        meta.verify_subscription(params, "let-me-in")


@pytest.mark.parametrize("configured", [None, ""])
def test_a_subscription_without_a_configured_verify_token_fails_closed(configured):
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    with pytest.raises(MissingSecret):
        meta.verify_subscription(params, configured)


# -- signatures ---------------------------------------------------------------------------


def test_a_body_signed_with_the_app_secret_verifies():
    body = raw("page_feed_comment.json")
    meta.verify_signature(body, meta.sign(body, APP_SECRET), APP_SECRET)


# The known answer (a delivery Meta signed) is checked once for every signer: tests/unit/test_known_answers.py.


def test_signing_the_raw_escaped_bytes_verifies_while_reserialised_json_would_not():
    body = raw("umlauts_emoji.json")
    assert b"\\u00fc" in body and b"\\ud83d\\udc4b" in body  # Meta's escaping is in the raw bytes
    signature = meta.sign(body, APP_SECRET)
    meta.verify_signature(body, signature, APP_SECRET)

    reserialised = json.dumps(json.loads(body), ensure_ascii=False, indent=2).encode()
    assert json.loads(reserialised) == json.loads(body)  # the same document…
    with pytest.raises(InvalidSignature):  # …but not the bytes Meta signed
        meta.verify_signature(reserialised, signature, APP_SECRET)


def test_the_signature_accepts_uppercase_hex_and_surrounding_whitespace():
    body = raw("page_feed_post.json")
    digest = meta.sign(body, APP_SECRET).removeprefix("sha256=")
    meta.verify_signature(body, f"  sha256={digest.upper()} ", APP_SECRET)


@pytest.mark.parametrize("header", [
    None,
    "",
    "sha256=",
    "sha1=0000000000000000000000000000000000000000",
    meta.sign(b"another body", APP_SECRET),
    meta.sign(b'{"object":"page","entry":[]}', "someone-elses-secret"),
    "sha256=" + "ü" * 64,
], ids=["missing", "empty", "empty-digest", "sha1", "other-body", "other-secret", "non-ascii"])
def test_a_missing_or_wrong_signature_is_invalid(header):
    with pytest.raises(InvalidSignature):
        meta.verify_signature(b'{"object":"page","entry":[]}', header, APP_SECRET)


def test_a_signature_without_the_sha256_prefix_is_invalid():
    body = b'{"object":"page","entry":[]}'
    with pytest.raises(InvalidSignature):
        meta.verify_signature(body, meta.sign(body, APP_SECRET).removeprefix("sha256="), APP_SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_without_an_app_secret_every_signature_is_refused(secret):
    body = b'{"object":"page","entry":[]}'
    with pytest.raises(MissingSecret):
        meta.verify_signature(body, meta.sign(body, "anything"), secret)


# -- Page feed ----------------------------------------------------------------------------


def test_a_customer_comment_under_a_page_post_is_a_reply_to_that_post():
    comment = only_mention("page_feed_comment.json")
    assert comment.platform is Platform.FACEBOOK
    assert comment.kind is Kind.REPLY
    assert comment.post_id == "820000000000001_930000000000001"
    assert comment.in_reply_to == "110000000000001_820000000000001"
    assert comment.conversation_id == "110000000000001_820000000000001"
    assert comment.author.id == "7300000000000101"
    assert comment.author.name == "Jana Schröder"
    assert comment.text.startswith("Seit gestern Abend kein Internet in Kiel-Gaarden.")
    assert comment.text.endswith("\N{POUTING FACE}")
    assert comment.created_at == at("2024-11-05T08:12:41")
    assert not comment.is_brand
    assert comment.brand_account_id == PAGE_ID
    assert comment.url == "https://www.facebook.com/110000000000001_820000000000001"


def test_a_visitor_post_on_the_page_is_a_mention_with_a_permalink():
    post = only_mention("page_feed_post.json")
    assert post.kind is Kind.MENTION
    assert post.post_id == "110000000000001_820000000000002"
    assert post.in_reply_to is None
    assert post.author.name == "Jörg Bäcker"
    assert post.created_at == at("2024-11-05T09:30:00")
    assert post.url == "https://www.facebook.com/110000000000001_820000000000002"
    assert not post.is_brand


def test_the_page_replying_to_a_customer_comment_is_a_brand_reply_to_that_comment():
    reply = only_mention("page_feed_brand_reply.json")
    assert reply.is_brand
    assert reply.kind is Kind.REPLY
    assert reply.author.id == PAGE_ID
    assert reply.in_reply_to == "820000000000001_930000000000001"
    assert reply.conversation_id == "110000000000001_820000000000001"


def test_a_removed_comment_becomes_a_deletion_of_that_comment():
    deletion = only_event("page_feed_remove.json")
    assert deletion == Deletion(platform=Platform.FACEBOOK, post_id="820000000000001_930000000000001",
                                author_id="7300000000000101", deleted_at=at("2024-11-05T10:00:58"))


def test_a_reaction_is_ignored_by_name():
    batch = parse_fixture("page_feed_reaction_ignored.json")
    assert batch.events == ()
    assert batch.ignored == ("feed:reaction",)


def test_an_edited_comment_is_parsed_like_a_new_one():
    body = page_body(feed(item="comment", verb="edited", post_id="1_2", comment_id="2_3", parent_id="1_2",
                          message="jetzt mit Tippfehler-Korrektur", created_time=1730800000,
                          **{"from": {"id": "7300000000000101", "name": "Jana"}}))
    (comment,) = parse_bytes(body).events
    assert isinstance(comment, Mention)
    assert comment.post_id == "2_3"
    assert comment.text == "jetzt mit Tippfehler-Korrektur"


def test_a_comment_without_from_has_an_unknown_author_and_never_counts_as_the_brand():
    body = page_body(feed(item="comment", verb="add", post_id="1_2", comment_id="2_3", parent_id="1_2",
                          message="Hallo?", created_time=1730800000))
    (comment,) = parse_bytes(body).events
    assert isinstance(comment, Mention)
    assert comment.author.id == meta.UNKNOWN_AUTHOR_ID
    assert not comment.is_brand


def test_a_feed_item_without_created_time_takes_the_entry_time():
    body = page_body(feed(item="status", verb="add", post_id="110000000000001_5", message="Hallo",
                          **{"from": {"id": "7"}}), time=1730794363)
    (post,) = parse_bytes(body).events
    assert isinstance(post, Mention)
    assert post.created_at == datetime.fromtimestamp(1730794363, tz=UTC)


def test_an_unhandled_verb_is_ignored_by_item_and_verb():
    body = page_body(feed(item="comment", verb="hide", post_id="1_2", comment_id="2_3", created_time=1))
    assert parse_bytes(body).ignored == ("feed:comment:hide",)


def test_ids_are_kept_exactly_as_meta_sent_them():
    body = page_body(feed(item="comment", verb="add", post_id="0012_0034", comment_id="0034_000056",
                          parent_id="0012_0034", message="x", created_time=1, **{"from": {"id": "007"}}))
    (comment,) = parse_bytes(body).events
    assert isinstance(comment, Mention)
    assert (comment.post_id, comment.in_reply_to, comment.author.id) == ("0034_000056", "0012_0034", "007")


# -- Page mention -------------------------------------------------------------------------


def test_a_page_mention_names_the_author_but_carries_no_text():
    mention = only_mention("page_mention.json")
    assert mention.kind is Kind.MENTION
    assert mention.post_id == "7300000000000104_840000000000001"
    assert mention.author.id == "7300000000000104"
    assert mention.author.name == "Kai Müller"
    assert mention.text == ""  # Meta sends ids only; the service fetches the text if it needs it
    assert mention.mentioned_user_ids == (PAGE_ID,)
    assert mention.created_at == at("2024-11-05T11:20:05")  # from entry.time


def test_a_page_mention_in_a_comment_is_identified_by_the_comment():
    body = page_body({"field": "mention", "value": {"post_id": "9_8", "comment_id": "8_7", "item": "comment",
                                                    "verb": "add", "sender_id": "55", "sender_name": "Kai"}})
    (mention,) = parse_bytes(body).events
    assert isinstance(mention, Mention)
    assert (mention.post_id, mention.in_reply_to) == ("8_7", "9_8")


# -- Instagram ----------------------------------------------------------------------------


def test_an_instagram_comment_replies_to_the_media_it_was_written_under():
    comment = only_mention("ig_comment.json")
    assert comment.platform is Platform.INSTAGRAM
    assert comment.kind is Kind.REPLY
    assert comment.post_id == "17950000000000001"
    assert comment.in_reply_to == "17900000000000001"
    assert comment.conversation_id == "17900000000000001"
    assert comment.author.id == "6140000000000201"
    assert comment.author.handle == "jana.schroeder"
    assert comment.text == "Netz in der Münchner U-Bahn seit Tagen weg \N{NO MOBILE PHONES} zahle ich dafür?"
    assert comment.created_at == at("2024-11-05T12:00:07")  # Instagram sends no created time
    assert comment.brand_account_id == IG_USER_ID
    assert not comment.is_brand
    assert comment.url is None


def test_the_brand_answering_an_instagram_comment_is_a_brand_reply_to_that_comment():
    reply = only_mention("ig_comment_brand_reply.json")
    assert reply.is_brand
    assert reply.in_reply_to == "17950000000000001"
    assert reply.author.handle == "telkohilft"


def test_an_instagram_caption_mention_is_the_media_itself_by_an_unknown_author():
    mention = only_mention("ig_mention_caption.json")
    assert mention.platform is Platform.INSTAGRAM
    assert mention.kind is Kind.MENTION
    assert mention.post_id == "17900000000000099"
    assert mention.author.id == meta.UNKNOWN_AUTHOR_ID
    assert mention.text == ""
    assert mention.in_reply_to is None
    assert mention.mentioned_user_ids == (IG_USER_ID,)


def test_an_instagram_comment_mention_is_the_comment_under_its_media():
    body = json.dumps({"object": "instagram", "entry": [{"id": IG_USER_ID, "time": 1730800000, "changes": [
        {"field": "mentions", "value": {"media_id": "17900000000000042", "comment_id": "17950000000000042"}}]}]})
    (mention,) = parse_bytes(body.encode()).events
    assert isinstance(mention, Mention)
    assert (mention.post_id, mention.in_reply_to) == ("17950000000000042", "17900000000000042")


# -- Messenger and Instagram direct messages ----------------------------------------------


def test_a_messenger_message_is_a_customer_dm_with_millisecond_time():
    message = only_mention("messenger_message.json")
    assert message.platform is Platform.MESSENGER
    assert message.kind is Kind.DM
    assert message.post_id == "m_q8rV3xWbTn0c5Y2dKfJ1hAaEeLmPzGuS0vN7iXoQ4wRkBjH6tMy9DlUZpF"
    assert message.author.id == "24000000000000101"
    assert message.recipient_id == PAGE_ID
    assert message.conversation_id == "24000000000000101"
    assert message.created_at == at("2024-11-05T14:02:09.874")
    assert "Glasfaseranschluss" in message.text
    assert not message.is_brand


def test_a_messenger_echo_is_the_brand_answering_in_the_customers_conversation():
    echo = only_mention("messenger_echo.json")
    assert echo.is_brand
    assert echo.kind is Kind.DM
    assert echo.author.id == PAGE_ID
    assert echo.recipient_id == "24000000000000101"
    assert echo.conversation_id == "24000000000000101"


def _messaging(sender: dict, recipient: dict, **message: object) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1786528800123, "messaging": [{
        "sender": sender, "recipient": recipient, "timestamp": 1786528799000,
        "message": {"mid": "m_guest1", "text": "Hallo?", **message}}]}]}).encode()


def test_a_chat_plugin_guest_named_by_user_ref_only_is_a_dm_whose_author_is_the_user_ref():
    """Meta: from the Chat Plugin "sender.id" is not sent, "sender.user_ref" is (Graph API v7.0+)."""
    (message,) = parse_bytes(_messaging({"user_ref": "UR-42"}, {"id": PAGE_ID})).events
    assert isinstance(message, Mention) and message.kind is Kind.DM and not message.is_brand
    assert message.author.id == message.conversation_id == "user_ref:UR-42"
    assert meta.user_ref_of(message.author.id) == "UR-42"


def test_the_brands_echo_to_a_user_ref_answers_the_guests_conversation():
    (echo,) = parse_bytes(_messaging({"id": PAGE_ID}, {"user_ref": "UR-42"}, is_echo=True)).events
    assert isinstance(echo, Mention) and echo.is_brand
    assert echo.conversation_id == echo.recipient_id == "user_ref:UR-42"


def test_a_participant_with_both_a_psid_and_a_user_ref_is_its_psid():
    (message,) = parse_bytes(_messaging({"id": "24000000000000101", "user_ref": "UR-42"}, {"id": PAGE_ID})).events
    assert message.author.id == "24000000000000101" and meta.user_ref_of(message.author.id) is None


@pytest.mark.parametrize("sender", [{}, {"user_ref": ""}, {"user_ref": "UR\n42"}, {"user_ref": 42},
                                    {"user_ref": "x" * 257}, {"id": None}])
def test_a_sender_named_neither_by_id_nor_by_a_plain_user_ref_is_malformed(sender):
    with pytest.raises(MalformedPayload) as caught:
        parse_bytes(_messaging(sender, {"id": PAGE_ID}))
    assert "UR" not in str(caught.value)  # the error names the place, never the value


def test_an_instagram_direct_message_is_an_instagram_dm():
    message = only_mention("ig_dm.json")
    assert message.platform is Platform.INSTAGRAM
    assert message.kind is Kind.DM
    assert message.text == "Hi, mein eSIM-Profil lässt sich nicht aktivieren \N{SEE-NO-EVIL MONKEY}"
    assert message.brand_account_id == IG_USER_ID
    assert not message.is_brand


def test_an_unsent_instagram_message_becomes_a_deletion():
    body = json.dumps({"object": "instagram", "entry": [{"id": IG_USER_ID, "time": 1730800000000, "messaging": [
        {"sender": {"id": "6140000000000201"}, "recipient": {"id": IG_USER_ID}, "timestamp": 1730800000123,
         "message": {"mid": "aWdfZAG1-unsent", "is_deleted": True}}]}]})
    (deletion,) = parse_bytes(body.encode()).events
    assert deletion == Deletion(platform=Platform.INSTAGRAM, post_id="aWdfZAG1-unsent",
                                author_id="6140000000000201", deleted_at=at("2024-11-05T09:46:40.123"))


def test_a_message_with_only_an_attachment_has_empty_text():
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1730800000000, "messaging": [
        {"sender": {"id": "24"}, "recipient": {"id": PAGE_ID}, "timestamp": 1730800000000,
         "message": {"mid": "m_photo", "attachments": [{"type": "image", "payload": {"url": "https://x"}}]}}]}]})
    (message,) = parse_bytes(body.encode()).events
    assert isinstance(message, Mention)
    assert message.text == ""


@pytest.mark.parametrize("event, name", [
    ({"read": {"watermark": 1}}, "messaging:read"),
    ({"delivery": {"mids": ["m_1"], "watermark": 1}}, "messaging:delivery"),
    ({"postback": {"title": "Start", "payload": "GET_STARTED"}}, "messaging:postback"),
    ({"reaction": {"mid": "m_1", "action": "react", "emoji": "x"}}, "messaging:reaction"),
])
def test_receipts_postbacks_and_reactions_are_ignored_by_name(event, name):
    item = {"sender": {"id": "24"}, "recipient": {"id": PAGE_ID}, "timestamp": 1730800000000, **event}
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1730800000000, "messaging": [item]}]})
    assert parse_bytes(body.encode()) == ParsedBatch(ignored=(name,))


# -- batches and the unknown --------------------------------------------------------------


def test_a_mixed_batch_yields_every_event_in_delivery_order_and_names_the_rest_once():
    batch = parse_fixture("mixed_batch.json")
    assert [(event.platform, event.kind) for event in batch.events if isinstance(event, Mention)] == [
        (Platform.FACEBOOK, Kind.REPLY), (Platform.FACEBOOK, Kind.MENTION), (Platform.MESSENGER, Kind.DM)]
    assert [event.post_id for event in batch.events] == [
        "820000000000001_930000000000003",
        "7300000000000107_840000000000002",
        "m_Mx2Yp4Rt6Vw8Za1Cb3Ed5Gf7Hj9Kl0Nm2Pq4Rs6Tu8Vw0Xy2Za4Bc6De8Fg",
    ]
    assert batch.ignored == ("feed:reaction", "page:ratings", "messaging:read")


def test_an_unknown_field_is_ignored_by_object_and_field_name():
    assert parse_fixture("unknown_field.json") == ParsedBatch(ignored=("page:ratings",))


def test_an_ignored_name_repeated_in_one_batch_is_listed_once():
    reaction = feed(item="reaction", verb="add", post_id="1_2", created_time=1)
    assert parse_bytes(page_body(reaction, reaction)).ignored == ("feed:reaction",)


def test_an_object_hilft_does_not_subscribe_to_is_ignored():
    body = b'{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": []}]}'
    assert parse_bytes(body) == ParsedBatch(ignored=("object:whatsapp_business_account",))


def test_umlauts_and_emoji_arrive_as_the_characters_the_customer_typed():
    comment = only_mention("umlauts_emoji.json")
    assert comment.author.name == "Jürgen Weiß"
    assert comment.text == (
        "Grüße aus Düsseldorf \N{WAVING HAND SIGN} Übertragung läuft nicht \N{EN DASH} Spotify-Streaming "
        "zählt doch nicht zum Datenvolumen?! \N{ANTENNA WITH BARS}\N{FACE WITH LOOK OF TRIUMPH} "
        "Siehe https://www.example.de/tarife")


def test_a_lone_surrogate_in_text_is_replaced_so_the_text_stays_valid_utf8():
    body = page_body(feed(item="status", verb="add", post_id="1_2", created_time=1, message="kaputt \ud83d"))
    (post,) = parse_bytes(body).events
    assert isinstance(post, Mention)
    post.text.encode("utf-8")
    assert post.text.startswith("kaputt ")


# -- malformed payloads -------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[]",
    b'{"entry": []}',
    b'{"object": "page"}',
    b'{"object": "page", "entry": {}}',
    b'{"object": "page", "entry": [{"time": 1}]}',
    b'{"object": "page", "entry": [{"id": -110000000000001}]}',
    b'{"object": "page", "entry": [{"id": "1", "changes": [{"value": {}}]}]}',
    b'{"object": "page", "entry": [{"id": "1", "time": -5}]}',
    b'{"object": "page", "entry": [{"id": "1", "time": 1e400}]}',
    b'{"object": "page", "entry": [{"id": "1", "time": 1, "changes": [{"field": "feed", "value": "x"}]}]}',
    b"[" * 100_000,
], ids=["empty", "text", "bad-utf8", "array", "no-object", "no-entry", "entry-object", "entry-without-id",
        "negative-numeric-id", "change-without-field", "negative-time", "infinite-time", "feed-value-not-object",
        "deeply-nested"])
def test_a_body_not_shaped_like_metas_is_malformed(body):
    with pytest.raises(MalformedPayload):
        parse_bytes(body)


@pytest.mark.parametrize("value", [
    {"item": "comment", "verb": "add", "post_id": "1_2", "created_time": 1},  # no comment_id
    {"item": "status", "verb": "add", "created_time": 1},  # no post_id
    {"item": "comment", "verb": "add", "comment_id": "2_3", "created_time": "2024-11-05T08:12:41+0000"},
    {"item": "comment", "verb": "add", "comment_id": "2_3", "created_time": True},
    {"item": "comment", "verb": "add", "comment_id": "2_3", "created_time": 10**15},
    {"item": "comment", "verb": "add", "comment_id": 23, "created_time": 1},
    {"item": "comment", "verb": "add", "comment_id": "2_3", "created_time": 1, "message": ["Hallo"]},
    {"item": "comment", "verb": "add", "comment_id": "2_3", "created_time": 1, "from": "Jana"},
    {"verb": "add", "comment_id": "2_3"},
])
def test_a_feed_change_with_missing_or_mistyped_fields_is_malformed(value):
    with pytest.raises(MalformedPayload):
        parse_bytes(page_body({"field": "feed", "value": value}))


def test_a_comment_with_neither_created_time_nor_entry_time_is_malformed():
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "changes": [
        {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "2_3"}}]}]})
    with pytest.raises(MalformedPayload):
        parse_bytes(body.encode())


def test_the_malformed_payload_message_names_the_place_but_never_repeats_the_payload():
    secret_text = "Meine IBAN ist DE02120300000000202051"
    body = page_body(feed(item="comment", verb="add", comment_id="2_3", created_time=secret_text))
    with pytest.raises(MalformedPayload) as caught:
        parse_bytes(body)
    assert "created_time" in str(caught.value)
    assert secret_text not in str(caught.value) and "IBAN" not in str(caught.value)


# -- private replies ----------------------------------------------------------------------

NOW = datetime(2024, 11, 12, 8, 0, tzinfo=UTC)


def test_a_fresh_customer_comment_may_get_a_private_reply():
    assert meta.private_reply_allowed(NOW - timedelta(hours=2), NOW, is_brand_comment=False,
                                      already_replied=False) == (True, None)


def test_a_comment_just_under_seven_days_old_may_still_get_a_private_reply():
    created = NOW - timedelta(days=7) + timedelta(seconds=1)
    assert meta.private_reply_allowed(created, NOW, is_brand_comment=False, already_replied=False) == (True, None)


@pytest.mark.parametrize("age", [timedelta(days=7), timedelta(days=7, seconds=1), timedelta(days=30)])
def test_a_comment_seven_days_or_older_is_past_the_private_reply_window(age):
    assert meta.private_reply_allowed(NOW - age, NOW, is_brand_comment=False,
                                      already_replied=False) == (False, "window_expired")


def test_a_comment_already_answered_privately_gets_no_second_private_reply():
    assert meta.private_reply_allowed(NOW, NOW, is_brand_comment=False,
                                      already_replied=True) == (False, "already_replied")


def test_the_brands_own_comment_never_gets_a_private_reply():
    assert meta.private_reply_allowed(NOW, NOW, is_brand_comment=True,
                                      already_replied=False) == (False, "brand_comment")


def test_private_reply_rules_compare_instants_across_time_zones():
    now_in_berlin = NOW.astimezone(timezone(timedelta(hours=1)))
    created_in_utc = NOW - timedelta(days=6, hours=23, minutes=30)
    assert meta.private_reply_allowed(created_in_utc, now_in_berlin, is_brand_comment=False,
                                      already_replied=False) == (True, None)


def test_private_reply_rules_refuse_naive_datetimes():
    with pytest.raises(ValueError):
        meta.private_reply_allowed(datetime(2024, 11, 12), NOW, is_brand_comment=False, already_replied=False)


# -- properties ---------------------------------------------------------------------------

json_leaves = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
               | st.floats(allow_nan=False) | st.text(max_size=8))
json_values = st.recursive(json_leaves, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=6), children, max_size=4), max_leaves=25)


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Usually a well-typed value, sometimes any JSON at all: reaches deep code and its edges."""
    return st.integers(min_value=0, max_value=19).flatmap(lambda roll: json_leaves if roll == 0 else valid)


ids = mostly(st.sampled_from([PAGE_ID, IG_USER_ID, "1_2", "2_3", "m_1"]) | st.text(max_size=6))
epochs = mostly(st.integers(min_value=-1, max_value=2**53))
texts = mostly(st.text(max_size=12))
actors = mostly(st.fixed_dictionaries({"id": ids}, optional={"name": texts, "username": texts}))
change_values = st.fixed_dictionaries(
    {"item": mostly(st.sampled_from(["comment", "post", "status", "photo", "reaction"])),
     "verb": mostly(st.sampled_from(["add", "edited", "remove", "hide"]))},
    optional={"from": actors, "id": ids, "post_id": ids, "comment_id": ids, "parent_id": ids, "media_id": ids,
              "media": mostly(st.fixed_dictionaries({"id": ids})), "message": texts, "text": texts,
              "created_time": epochs, "sender_id": ids, "sender_name": texts},
)
changes = st.fixed_dictionaries(
    {"field": mostly(st.sampled_from(["feed", "mention", "comments", "mentions", "ratings"]))},
    optional={"value": mostly(change_values)},
)
messaging_items = st.fixed_dictionaries(
    {"sender": actors, "recipient": actors, "timestamp": epochs},
    optional={"message": mostly(st.fixed_dictionaries({"mid": ids}, optional={
        "text": texts, "is_echo": mostly(st.booleans()), "is_deleted": mostly(st.booleans())})),
        "read": json_values},
)
entries = st.fixed_dictionaries(
    {"id": ids},
    optional={"time": epochs, "changes": mostly(st.lists(changes, max_size=3)),
              "messaging": mostly(st.lists(messaging_items, max_size=3)),
              "standby": mostly(st.lists(json_leaves, max_size=2))},
)
meta_like_documents = st.fixed_dictionaries(
    {"object": mostly(st.sampled_from(["page", "instagram"])), "entry": mostly(st.lists(entries, max_size=3))})


def _parses_or_is_malformed(document: object) -> None:
    body = json.dumps(document).encode()
    try:
        batch = parse_bytes(body)
    except MalformedPayload:
        return
    for event in batch.events:  # whatever parsed is storable: valid UTF-8, aware times
        if isinstance(event, Mention):
            event.text.encode("utf-8")
            assert event.created_at.tzinfo is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_parses_or_is_malformed_and_nothing_else(document):
    _parses_or_is_malformed(document)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meta_like_documents)
def test_documents_shaped_almost_like_metas_parse_or_are_malformed_and_nothing_else(document):
    _parses_or_is_malformed(document)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_malformed_and_nothing_else(body):
    try:
        parse_bytes(body)
    except MalformedPayload:
        pass


# -- events beyond comments and messages (issue: every real event the platforms send) ------------


def test_a_feed_comment_added_is_not_an_edit():
    comment = only_mention("page_feed_comment.json")
    assert comment.edit_of is None and comment.edited_at is None


def test_an_edited_mention_edits_its_own_document():
    body = page_body({"field": "mention", "value": {"item": "comment", "verb": "edited", "post_id": "9_8",
                                                    "comment_id": "8_7", "sender_id": "7300000000000105"}},
                     time=1786528900)
    (mention,) = parse_bytes(body).events
    assert isinstance(mention, Mention)
    assert mention.edit_of == "8_7" and mention.edit_rank == 1786528900000


def test_a_standby_item_that_is_not_a_message_is_counted_under_its_channel():
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1786528800123, "standby": [
        {"sender": {"id": "24000000000000101"}, "recipient": {"id": PAGE_ID}, "timestamp": 1786528800000,
         "read": {"watermark": 1786528800000}}]}]}).encode()
    batch = parse_bytes(body)
    assert batch.events == () and batch.ignored == ("standby:read",)


def test_a_flat_instagram_login_change_hilft_does_not_handle_is_counted():
    body = json.dumps({"object": "instagram", "entry": [{"id": IG_USER_ID, "time": 1786528800,
                                                         "field": "story_insights", "value": {"media_id": "1"}}]})
    assert parse_bytes(body.encode()).ignored == ("instagram:story_insights",)


def test_an_entry_key_hilft_does_not_know_is_named_and_an_empty_entry_is_counted():
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "hop_context": []},
                                                   {"id": PAGE_ID, "time": 1}]})
    assert parse_bytes(body.encode()).ignored == ("page:entry.hop_context", "page:empty-entry")


@pytest.mark.parametrize("bad_id", [True, -1, 1.5, "", 10**40])
def test_only_non_negative_whole_numbers_pass_as_numeric_ids(bad_id):
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1786528800123, "messaging": [
        {"sender": {"id": bad_id}, "recipient": {"id": PAGE_ID}, "timestamp": 1786528800000,
         "message": {"mid": "m_1", "text": "Hallo"}}]}]}).encode()
    with pytest.raises(MalformedPayload):
        parse_bytes(body)


def test_mentions_without_text_ask_for_enrichment_and_mentions_with_text_do_not():
    with_text = page_body({"field": "mention", "value": {"item": "post", "verb": "add", "post_id": "9_8",
                                                         "sender_id": "7300000000000105", "message": "Hallo"}})
    (mention,) = parse_bytes(with_text).events
    assert isinstance(mention, Mention) and mention.needs_enrichment is False
    assert only_mention("page_mention.json").needs_enrichment is True
    assert only_mention("ig_mention_caption.json").needs_enrichment is True
