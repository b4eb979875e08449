"""X webhooks without I/O: CRC, signatures, and parsing of Account Activity and X Activity API bodies."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hilft.channels.x import parse as x
from hilft.core.errors import InvalidSignature, MalformedPayload, MissingSecret
from hilft.core.models import Deletion, Kind, Mention, ParsedBatch, Platform

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
BRAND = "1000000001"
BRANDS = frozenset({BRAND})
CLIENT_SECRET = "client-secret-for-tests"
CONSUMER_SECRET = "consumer-secret-for-tests"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def document(name: str) -> dict[str, Any]:
    return json.loads(raw(name))


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def parse(body: bytes) -> ParsedBatch:
    return x.parse(body, brand_user_ids=BRANDS)


def only_mention(body: bytes) -> Mention:
    batch = parse(body)
    assert len(batch.events) == 1
    event = batch.events[0]
    assert isinstance(event, Mention)
    return event


def verify(body: bytes, headers: dict[str, str], *, client: str | None = CLIENT_SECRET,
           consumer: str | None = CONSUMER_SECRET) -> None:
    x.verify_signature(body, headers, client_secret=client, consumer_secret=consumer)


# -- CRC ------------------------------------------------------------------------------------------


def test_crc_response_matches_x_documented_example() -> None:
    # Token and consumer secret from X's CRC sample; expected value computed with openssl.
    answer = x.crc_response("9b4507b3-9040-4669-9ca3-6b94edb50553", client_secret=None,
                            consumer_secret="z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu")
    assert answer == {"response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="}


def test_crc_prefers_the_client_secret_over_the_consumer_secret() -> None:
    both = x.crc_response("challenge", client_secret=CLIENT_SECRET, consumer_secret=CONSUMER_SECRET)
    client_only = x.crc_response("challenge", client_secret=CLIENT_SECRET, consumer_secret=None)
    consumer_only = x.crc_response("challenge", client_secret=None, consumer_secret=CONSUMER_SECRET)
    assert both == client_only
    assert both != consumer_only


def test_crc_without_any_secret_fails_closed() -> None:
    with pytest.raises(MissingSecret):
        x.crc_response("challenge", client_secret=None, consumer_secret="")


def test_crc_with_empty_token_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        x.crc_response("", client_secret=CLIENT_SECRET, consumer_secret=None)


# -- signatures -----------------------------------------------------------------------------------


def test_sign_matches_an_independent_hmac_of_the_raw_bytes() -> None:
    # Expected value computed with `openssl dgst -sha256 -hmac ... -binary | base64` over the file.
    assert x.sign(raw("aaa_non_ascii.json"), CLIENT_SECRET) == "sha256=UsBQX3jwSTMDQM+WajyQ3b+SQhVVXMXLBqYsVO5SBG4="


def test_oauth2_signature_is_accepted() -> None:
    body = raw("aaa_mention.json")
    verify(body, {"X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, CLIENT_SECRET)})


def test_wrong_signature_is_rejected() -> None:
    body = raw("aaa_mention.json")
    with pytest.raises(InvalidSignature):
        verify(body, {"X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, "someone-elses-secret")})


def test_signature_of_another_body_is_rejected() -> None:
    signature = x.sign(raw("aaa_mention.json"), CLIENT_SECRET)
    with pytest.raises(InvalidSignature):
        verify(raw("aaa_delete.json"), {"X-Twitter-Webhooks-Signature-OAuth2": signature})


def test_missing_signature_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        verify(raw("aaa_mention.json"), {"Content-Type": "application/json"})


def test_legacy_signature_is_accepted_when_oauth2_header_missing() -> None:
    body = raw("aaa_mention.json")
    verify(body, {"X-Twitter-Webhooks-Signature": x.sign(body, CONSUMER_SECRET)})


def test_legacy_header_is_checked_with_the_consumer_secret_only() -> None:
    body = raw("aaa_mention.json")
    with pytest.raises(InvalidSignature):
        verify(body, {"X-Twitter-Webhooks-Signature": x.sign(body, CLIENT_SECRET)})


def test_legacy_signature_is_rejected_when_no_consumer_secret_is_configured() -> None:
    body = raw("aaa_mention.json")
    with pytest.raises(InvalidSignature):
        verify(body, {"X-Twitter-Webhooks-Signature": x.sign(body, CONSUMER_SECRET)}, consumer=None)


def test_signature_header_lookup_ignores_case() -> None:
    body = raw("xaa_mention.json")
    verify(body, {"x-twitter-webhooks-signature-oauth2": x.sign(body, CLIENT_SECRET)})
    verify(body, {"X-TWITTER-WEBHOOKS-SIGNATURE": x.sign(body, CONSUMER_SECRET)})


def test_no_secret_configured_fails_closed_even_with_a_signature() -> None:
    body = raw("aaa_mention.json")
    with pytest.raises(MissingSecret):
        verify(body, {"X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, "")}, client=None, consumer=None)


def test_garbage_signature_header_is_rejected_not_crashing() -> None:
    with pytest.raises(InvalidSignature):
        verify(raw("aaa_mention.json"), {"X-Twitter-Webhooks-Signature-OAuth2": "sha256=\u00e4\ud800"})


# -- Account Activity API -------------------------------------------------------------------------


def test_mention_becomes_a_customer_mention_addressed_to_the_brand() -> None:
    mention = only_mention(raw("aaa_mention.json"))
    assert mention.platform is Platform.X
    assert mention.post_id == "1858786321410785281"
    assert mention.kind is Kind.MENTION
    assert (mention.author.id, mention.author.handle, mention.author.followers) == ("1472583690", "kabelsalat_kiel",
                                                                                    348)
    assert mention.text.startswith("@Telekom_hilft Seit heute früh kein Internet")
    assert mention.created_at == datetime(2024, 11, 19, 8, 14, 3, tzinfo=UTC)
    assert mention.is_brand is False
    assert mention.brand_account_id == BRAND
    assert mention.mentioned_user_ids == (BRAND,)
    assert mention.in_reply_to is None
    assert mention.lang == "de"
    assert mention.url == "https://x.com/kabelsalat_kiel/status/1858786321410785281"


def test_truncated_tweet_uses_extended_full_text() -> None:
    body = document("aaa_long_mention_extended_tweet.json")
    tweet = body["tweet_create_events"][0]
    mention = only_mention(encode(body))
    assert tweet["text"].endswith("https://t.co/Qm3xR8vLpZ")
    assert mention.text == tweet["extended_tweet"]["full_text"]
    assert mention.text.endswith("wofür zahle ich eigentlich jeden Monat 49,95 €?")


def test_untruncated_tweet_ignores_a_stale_extended_tweet() -> None:
    body = document("aaa_long_mention_extended_tweet.json")
    body["tweet_create_events"][0]["truncated"] = False
    assert only_mention(encode(body)).text == body["tweet_create_events"][0]["text"]


def test_brand_reply_is_marked_as_brand_and_points_to_the_mention() -> None:
    original = only_mention(raw("aaa_mention.json"))
    reply = only_mention(raw("aaa_brand_reply.json"))
    assert reply.is_brand is True
    assert reply.kind is Kind.REPLY
    assert reply.in_reply_to == original.post_id
    assert reply.in_reply_to_author_id == original.author.id


def test_native_brand_reply_arriving_first_names_the_post_it_answers() -> None:
    reply = only_mention(raw("aaa_brand_reply_before_post.json"))
    post = only_mention(raw("aaa_post_answered_natively.json"))
    assert reply.is_brand and not post.is_brand
    assert reply.created_at > post.created_at
    assert reply.in_reply_to == post.post_id


def test_inbound_dm_is_a_dm_from_the_customer_to_the_brand() -> None:
    dm = only_mention(raw("aaa_dm_inbound.json"))
    assert dm.kind is Kind.DM
    assert dm.post_id == "1858793912745500676"
    assert dm.is_brand is False
    assert (dm.author.id, dm.author.handle, dm.author.followers) == ("1472583690", "kabelsalat_kiel", 348)
    assert dm.recipient_id == BRAND
    assert dm.conversation_id == "1000000001-1472583690"
    assert dm.created_at == datetime(2024, 11, 19, 8, 44, 51, tzinfo=UTC)
    assert dm.url is None and dm.in_reply_to is None


def test_dm_echo_from_brand_is_marked_as_brand() -> None:
    echo = only_mention(raw("aaa_dm_echo_of_brand.json"))
    inbound = only_mention(raw("aaa_dm_inbound.json"))
    assert echo.is_brand is True
    assert echo.kind is Kind.DM
    assert echo.recipient_id == inbound.author.id
    assert echo.conversation_id == inbound.conversation_id


def test_dm_conversation_id_orders_user_ids_numerically() -> None:
    assert x.dm_conversation_id("999", "1000000001") == "999-1000000001"
    assert x.dm_conversation_id("1000000001", "999") == "999-1000000001"


def test_delete_becomes_a_deletion_of_the_mentioned_post() -> None:
    (deletion,) = parse(raw("aaa_delete.json")).events
    assert isinstance(deletion, Deletion)
    assert deletion.post_id == only_mention(raw("aaa_mention.json")).post_id
    assert deletion.author_id == "1472583690"
    assert deletion.deleted_at == datetime(2024, 11, 19, 9, 3, 27, tzinfo=UTC)


def test_non_ascii_text_is_kept_exactly() -> None:
    body = raw("aaa_non_ascii.json")
    mention = only_mention(body)
    assert "Grüße aus Großröhrsdorf 😤" in mention.text
    assert "📞❌ Maß ist voll." in mention.text
    assert mention.author.name == "Grit Größler 🌻"
    verify(body, {"X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, CLIENT_SECRET)})


def test_mixed_batch_keeps_delivery_order_and_repeats_the_already_seen_post() -> None:
    events = parse(raw("aaa_mixed_batch.json")).events
    assert [e.post_id for e in events] == ["1858786321410785281", "1858805512301363201"]
    assert events[0] == only_mention(raw("aaa_mention.json"))


def test_favorite_event_is_ignored_by_name() -> None:
    batch = parse(raw("aaa_favorite_ignored.json"))
    assert batch.events == ()
    assert batch.ignored == ("favorite_events",)


def test_each_unhandled_event_kind_is_named_once() -> None:
    body = document("aaa_mention.json") | {"follow_events": [{}], "favorite_events": [{}, {}]}
    batch = parse(encode(body))
    assert len(batch.events) == 1
    assert batch.ignored == ("follow_events", "favorite_events")


def test_radar_post_without_mention_mentions_nobody() -> None:
    post = only_mention(raw("aaa_radar_no_mention.json"))
    assert post.kind is Kind.MENTION
    assert post.mentioned_user_ids == ()
    assert post.is_brand is False
    assert "Glasfaser bei der Telekom" in post.text


def test_retweet_is_ignored_because_it_adds_no_words() -> None:
    body = document("aaa_mention.json")
    body["tweet_create_events"][0]["retweeted_status"] = copy.deepcopy(body["tweet_create_events"][0])
    batch = parse(encode(body))
    assert batch.events == ()
    assert batch.ignored == ("retweet",)


def test_non_message_dm_events_are_ignored_by_type() -> None:
    body = document("aaa_dm_inbound.json")
    body["direct_message_events"].append({"type": "participants_join", "id": "1858793912745500999",
                                          "created_timestamp": "1732005891000"})
    batch = parse(encode(body))
    assert len(batch.events) == 1
    assert batch.ignored == ("direct_message_events.participants_join",)


def test_dm_author_without_users_entry_keeps_the_sender_id() -> None:
    body = document("aaa_dm_inbound.json")
    body["users"] = {}
    dm = only_mention(encode(body))
    assert (dm.author.id, dm.author.handle) == ("1472583690", None)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_user_has_blocked_must_be_true_or_false(value: Any) -> None:
    body = document("aaa_mention.json") | {"user_has_blocked": value}
    if value is None:
        assert len(parse(encode(body)).events) == 1
    else:
        with pytest.raises(MalformedPayload):
            parse(encode(body))


# -- X Activity API -------------------------------------------------------------------------------


def test_xaa_mention_takes_author_from_includes_and_brand_from_the_filter() -> None:
    mention = only_mention(raw("xaa_mention.json"))
    assert mention.kind is Kind.MENTION
    assert mention.post_id == "1858815012003926017"
    assert (mention.author.id, mention.author.handle, mention.author.followers) == ("1688877766655544433",
                                                                                    "lisa_wlan_los", 97)
    assert mention.brand_account_id == BRAND
    assert mention.mentioned_user_ids == (BRAND,)
    assert mention.conversation_id == mention.post_id
    assert mention.created_at == datetime(2024, 11, 19, 10, 8, 41, tzinfo=UTC)
    assert mention.url == "https://x.com/lisa_wlan_los/status/1858815012003926017"
    assert mention.is_brand is False


def test_xaa_brand_post_create_is_a_brand_reply_to_the_mention() -> None:
    mention = only_mention(raw("xaa_mention.json"))
    reply = only_mention(raw("xaa_post_create_brand_reply.json"))
    assert reply.is_brand is True
    assert reply.kind is Kind.REPLY
    assert reply.in_reply_to == mention.post_id
    assert reply.in_reply_to_author_id == mention.author.id
    assert reply.conversation_id == mention.conversation_id


def test_xaa_dm_received_is_a_customer_dm_to_the_brand() -> None:
    dm = only_mention(raw("xaa_dm_received.json"))
    assert dm.kind is Kind.DM
    assert dm.is_brand is False
    assert (dm.author.id, dm.author.handle, dm.author.followers) == ("1688877766655544433", "lisa_wlan_los", 97)
    assert dm.recipient_id == BRAND
    assert dm.brand_account_id == BRAND
    assert dm.conversation_id == "1000000001-1688877766655544433"


def test_xaa_dm_sent_is_the_brand_echo() -> None:
    echo = only_mention(raw("xaa_dm_sent.json"))
    assert echo.is_brand is True
    assert echo.recipient_id == "1688877766655544433"


def test_xaa_v2_dm_event_payload_is_accepted() -> None:
    body = {"data": {"event_type": "dm.received", "filter": {"user_id": BRAND}, "payload": {
        "id": "1858818765420355600", "event_type": "MessageCreate", "text": "Hallo, Router ist aus.",
        "sender_id": "1688877766655544433", "dm_conversation_id": "1000000001-1688877766655544433",
        "participant_ids": ["1688877766655544433", BRAND], "created_at": "2024-11-19T10:23:35.000Z"}}}
    dm = only_mention(encode(body))
    assert (dm.kind, dm.recipient_id, dm.conversation_id) == (Kind.DM, BRAND, "1000000001-1688877766655544433")
    assert dm.author.id == "1688877766655544433" and dm.is_brand is False


def test_xaa_delete_has_no_deletion_time() -> None:
    (deletion,) = parse(raw("xaa_delete.json")).events
    assert isinstance(deletion, Deletion)
    assert deletion.post_id == only_mention(raw("xaa_mention.json")).post_id
    assert deletion.author_id == "1688877766655544433"
    assert deletion.deleted_at is None


def test_xaa_unknown_event_type_is_ignored() -> None:
    batch = parse(raw("xaa_unknown_event.json"))
    assert batch.events == ()
    assert batch.ignored == ("profile.update.bio",)


def test_xaa_long_post_uses_the_note_tweet_text() -> None:
    body = document("xaa_mention.json")
    full = body["data"]["payload"]["text"] + " Nachtrag: Seit Tagen keine Rückmeldung zur Störungsmeldung. " * 4
    body["data"]["payload"]["note_tweet"] = {"text": full}
    assert only_mention(encode(body)).text == full


def test_xaa_mention_entity_without_id_is_resolved_through_includes() -> None:
    body = document("xaa_mention.json")
    for entity in body["data"]["payload"]["entities"]["mentions"]:
        del entity["id"]
    assert only_mention(encode(body)).mentioned_user_ids == (BRAND,)


def test_xaa_brand_account_comes_from_the_mention_when_the_filter_follows_someone_else() -> None:
    body = document("xaa_mention.json")
    body["data"]["filter"] = {"user_id": "1688877766655544433"}  # a post.create subscription on the customer
    body["data"]["event_type"] = "post.create"
    assert only_mention(encode(body)).brand_account_id == BRAND
    body["data"]["filter"] = {}
    assert only_mention(encode(body)).brand_account_id == BRAND


def test_xaa_reply_without_includes_falls_back_to_the_i_url() -> None:
    body = document("xaa_post_create_brand_reply.json")
    del body["data"]["includes"]
    reply = only_mention(encode(body))
    assert reply.author.handle is None
    assert reply.url == "https://x.com/i/status/1858817339116871681"


def test_xaa_list_of_envelopes_is_rejected_because_x_documents_one_event_per_delivery() -> None:
    with pytest.raises(MalformedPayload):
        parse(encode([document("xaa_mention.json")]))


# -- malformed bodies -----------------------------------------------------------------------------


def _with(name: str, path: tuple[Any, ...], value: Any) -> bytes:
    body = document(name)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return encode(body)


@pytest.mark.parametrize("body", [
    pytest.param(b"", id="empty"),
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b"[]", id="array"),
    pytest.param(b'"for_user_id"', id="string"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(b"[" * 100_000, id="deeply-nested"),
    pytest.param(b'{"for_user_id": 1000000001}', id="numeric-for-user-id"),
    pytest.param(b'{"data": {"payload": {}}}', id="xaa-without-event-type"),
    pytest.param(_with("aaa_mention.json", ("tweet_create_events", 0, "id_str"), "12ab"), id="id-not-digits"),
    pytest.param(_with("aaa_mention.json", ("tweet_create_events", 0, "id_str"), 1858786321410785281),
                 id="id-as-number"),
    pytest.param(_with("aaa_mention.json", ("tweet_create_events", 0, "created_at"), "2024-11-19"),
                 id="v1-created-at-iso"),
    pytest.param(_with("aaa_mention.json", ("tweet_create_events", 0, "created_at"),
                       "Tue Foo 19 08:14:03 +0000 2024"), id="v1-created-at-bad-month"),
    pytest.param(_with("aaa_mention.json", ("tweet_create_events", 0, "user", "followers_count"), "348"),
                 id="followers-as-string"),
    pytest.param(_with("aaa_mention.json", ("tweet_create_events",), {"0": {}}), id="events-not-a-list"),
    pytest.param(_with("aaa_dm_inbound.json", ("direct_message_events", 0, "created_timestamp"),
                       "9" * 40), id="timestamp-out-of-range"),
    pytest.param(_with("aaa_dm_inbound.json", ("direct_message_events", 0, "created_timestamp"),
                       "-1"), id="timestamp-negative"),
    pytest.param(_with("aaa_delete.json", ("tweet_delete_events", 0, "status"), None), id="delete-without-status"),
    pytest.param(_with("xaa_mention.json", ("data", "payload", "created_at"), "2024-11-19T10:08:41"),
                 id="xaa-naive-created-at"),
    pytest.param(_with("xaa_mention.json", ("data", "payload", "text"), None), id="xaa-text-null"),
    pytest.param(_with("xaa_mention.json", ("data", "includes", "users", 0), "lisa"), id="xaa-user-not-object"),
    pytest.param(_with("xaa_dm_received.json", ("data", "payload", "direct_message_events"), {}),
                 id="xaa-dm-events-not-a-list"),
])
def test_malformed_body_is_rejected(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)


def _parses_or_is_malformed(body: bytes) -> None:
    try:
        result = parse(body)
    except MalformedPayload:
        return
    assert isinstance(result, ParsedBatch)


@given(st.binary(max_size=512))
def test_parse_never_raises_anything_but_malformed_payload_on_bytes(body: bytes) -> None:
    _parses_or_is_malformed(body)


@given(json_values)
def test_parse_never_raises_anything_but_malformed_payload_on_json(value: Any) -> None:
    _parses_or_is_malformed(encode(value))


@given(st.dictionaries(st.sampled_from(["for_user_id", "data", "tweet_create_events", "direct_message_events",
                                        "tweet_delete_events", "users", "user_has_blocked"]),
                       json_values, max_size=4))
def test_parse_never_raises_anything_but_malformed_payload_on_envelope_like_json(value: dict[str, Any]) -> None:
    _parses_or_is_malformed(encode(value))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_parse_never_raises_anything_but_malformed_payload_on_mutated_fixtures(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(FIXTURE_NAMES))
    body = document(name)
    path = data.draw(st.sampled_from(_paths(body)))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    _parses_or_is_malformed(encode(body))


# -- events beyond mentions and DMs (issue: every real event the platforms send) -----------------

DOCUMENTED = FIXTURES / "documented"


def documented(name: str) -> dict[str, Any]:
    return json.loads((DOCUMENTED / name).read_bytes())


def test_documented_payloads_also_survive_mutation_as_malformed_or_parsed() -> None:
    for path in sorted(DOCUMENTED.glob("*.json")):
        body = json.loads(path.read_bytes())
        for target in _paths(body)[:60]:
            mutated = copy.deepcopy(body)
            node = mutated
            for key in target[:-1]:
                node = node[key]
            node[target[-1]] = None
            _parses_or_is_malformed(encode(mutated))


def test_a_reply_event_without_in_reply_to_user_id_is_addressed_to_the_filtered_user() -> None:
    body = documented("xaa_post_reply_create.json")
    del body["data"]["payload"]["in_reply_to_user_id"]
    post = only_mention(encode(body))
    assert post.kind is Kind.REPLY and post.in_reply_to_author_id == BRAND


def test_a_quote_in_post_create_finds_the_quoted_author_in_includes() -> None:
    body = documented("xaa_post_mention_create.json")
    payload = body["data"]["payload"]
    payload["referenced_tweets"] = [{"type": "quoted", "id": "2080761390344937796"}]
    body["data"]["includes"]["tweets"] = [{"id": "2080761390344937796", "author_id": BRAND, "text": "Wartung"}]
    assert only_mention(encode(body)).quoted_author_id == BRAND


def test_an_aaa_quote_of_someone_elses_post_names_that_author() -> None:
    body = documented("aaa_tweet_create_quote.json")
    body["tweet_create_events"][0]["quoted_status"]["user"]["id_str"] = "555"
    assert only_mention(encode(body)).quoted_author_id == "555"


def test_an_original_post_is_not_an_edit() -> None:
    post = only_mention(raw("xaa_mention.json"))
    assert post.edit_of is None and post.edit_rank == 0


def test_a_later_edit_ranks_above_an_earlier_one() -> None:
    body = documented("xaa_post_mention_create_edited.json")
    payload = body["data"]["payload"]
    first = payload["edit_history_tweet_ids"][0]
    payload["edit_history_tweet_ids"] = [first, "2080765999999999998", payload["id"]]
    assert only_mention(encode(body)).edit_rank == 2


def test_a_chat_with_a_conversation_id_not_made_of_user_ids_is_malformed() -> None:
    body = documented("xaa_chat_received.json")
    body["data"]["payload"]["conversation_id"] = "../../admin"
    with pytest.raises(MalformedPayload):
        parse(encode(body))


def test_a_user_event_without_a_revoke_is_counted_as_ignored() -> None:
    batch = parse(encode({"user_event": {"something_new": {}}}))
    assert batch.events == () and batch.ignored == ("user_event.something_new",)


def test_an_oauth_revoke_with_an_unreadable_time_still_counts() -> None:
    body = documented("xaa_oauth_revoke.json")
    body["data"]["payload"]["date_time"] = "gestern"
    (revoked,) = parse(encode(body)).events
    assert revoked.account_id == BRAND and revoked.revoked_at is None


def test_a_revoke_body_that_is_not_shaped_like_xs_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        parse(encode({"user_event": {"revoke": {"source": {"user_id": 63046977}}}}))
