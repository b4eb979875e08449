"""infra/local/deliveries.py, the one builder of signed platform bodies for tests, bench and demo.

Its signatures are pinned to published known answers (not to hilft's own ``sign``, which the
tests using these bodies are meant to check); its bodies to the documented examples of
``tests/fixtures/<platform>/documented/`` (every field it writes is one the platform's example
has, at the same place) and to what hilft makes of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import deliveries as d
from hilft.channels.meta import parse as meta
from hilft.channels.threads import parse as threads
from hilft.channels.x import parse as x
from hilft.core.models import Deletion, Kind, Mention

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AT = datetime(2026, 7, 24, 10, 31, 2, 123000, tzinfo=UTC)
CUSTOMER = d.Author("1472583690", "kabelsalat_kiel", "Jana K\u00f6hler")


# -- signatures: known answers ---------------------------------------------------------------------


def test_x_crc_answer_matches_x_documented_example() -> None:
    # Token and consumer secret from X's CRC sample (as in test_x_platform.py); answer computed with openssl.
    assert d.x_crc_response_token("9b4507b3-9040-4669-9ca3-6b94edb50553",
                                  "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu") == \
        "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="


def test_x_signature_matches_an_openssl_hmac_of_the_raw_bytes() -> None:
    # `openssl dgst -sha256 -hmac client-secret-for-tests -binary | base64` over the file (test_x_platform.py).
    body = (FIXTURES / "x" / "aaa_non_ascii.json").read_bytes()
    assert d.x_signature(body, "client-secret-for-tests") == "sha256=UsBQX3jwSTMDQM+WajyQ3b+SQhVVXMXLBqYsVO5SBG4="


# Meta's and Threads' known answer: tests/unit/test_known_answers.py (with the parsers' signers).


def test_x_headers_name_the_oauth2_or_the_legacy_header() -> None:
    body = b'{"for_user_id":"1000000001"}'
    assert d.x_headers(body, "s") == {"Content-Type": "application/json",
                                      "X-Twitter-Webhooks-Signature-OAuth2": d.x_signature(body, "s")}
    assert d.x_headers(body, "s", legacy=True) == {"Content-Type": "application/json",
                                                   "X-Twitter-Webhooks-Signature": d.x_signature(body, "s")}


def test_hilft_accepts_what_the_builder_signs() -> None:
    body = d.x_tweet(d.new_x_id(), CUSTOMER, "kein Netz", AT)
    x.verify_signature(body, d.x_headers(body, "client"), client_secret="client", consumer_secret="consumer")
    x.verify_signature(body, d.x_headers(body, "consumer", legacy=True), client_secret="client",
                       consumer_secret="consumer")
    page = d.facebook_comment("820000000000001_1", CUSTOMER, "kein Netz", AT)
    meta.verify_signature(page, d.hub_signature(page, "app"), "app")
    reply = d.threads_reply("17900000000000901", CUSTOMER, "kein Netz", AT)
    threads.verify_signature(reply, d.hub_signature(reply, "threads-app"), "threads-app")


# -- bodies: the shapes of the documented examples ---------------------------------------------------


def _paths(node: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON document; list items as ``[]``, maps keyed by ids as ``{id}``."""
    out: set[str] = set()
    if isinstance(node, dict):
        id_keyed = bool(node) and all(key.isdigit() for key in node)
        for key, value in node.items():
            path = f"{prefix}.{{id}}" if id_keyed else f"{prefix}.{key}"
            out |= {path} | _paths(value, path)
    elif isinstance(node, list):
        for item in node:
            out |= _paths(item, f"{prefix}[]")
    return out


BRAND_REPLY_X = d.x_tweet("1955000000000000002", d.BRAND_X, "@kabelsalat_kiel Wir schauen nach. ^an", AT,
                          reply_to="1955000000000000001", reply_to_user=CUSTOMER.id)
SHAPES = [
    ("x/documented/aaa_tweet_create_mention.json", d.x_tweet("1955000000000000001", CUSTOMER, "Router blinkt rot", AT)),
    ("x/documented/aaa_tweet_create_reply.json", BRAND_REPLY_X),
    ("x/documented/aaa_direct_message_events.json", d.x_dm("1955000000000000005", CUSTOMER, d.BRAND_X, "Hallo", AT)),
    ("x/documented/aaa_tweet_delete_events.json", d.x_delete("1955000000000000001", CUSTOMER.id, AT)),
    ("x/documented/xaa_post_mention_create.json", d.x_activity_post("2080765813578191303", CUSTOMER, "kein DSL", AT)),
    ("x/documented/xaa_post_create.json", d.x_activity_post("2080765813578191304", d.BRAND_X, "Wir helfen", AT,
                                                            reply_to=("2080765813578191303", CUSTOMER))),
    ("x/documented/stream_post_radar.json", d.x_stream_post("2080770000000000001", CUSTOMER, "Telekom St\u00f6rung?", AT)),
    ("meta/documented/page_feed_comment_add.json", d.facebook_comment("820000000000001_930000000000001", CUSTOMER,
                                                                      "kein Festnetz", AT)),
    ("meta/documented/page_feed_comment_remove.json", d.facebook_remove("820000000000001_930000000000001", CUSTOMER,
                                                                        AT)),
    ("meta/documented/instagram_comments.json", d.instagram_comment("17950000000000001", CUSTOMER, "kein Netz", AT)),
    ("meta/documented/messenger_messages.json", d.messenger_message("m_1", CUSTOMER.id, d.PAGE_ID, "Hallo", AT,
                                                                    echo=False)),
    ("meta/documented/messenger_message_echoes.json", d.messenger_message("m_2", d.PAGE_ID, CUSTOMER.id, "Hallo", AT,
                                                                          echo=True)),
    ("threads/documented/replies.json", d.threads_reply("17900000000000901", CUSTOMER, "kein Netz", AT)),
    ("threads/documented/mentions.json", d.threads_mention("17900000000000911", CUSTOMER, "kein Netz", AT)),
]


@pytest.mark.parametrize(("documented", "body"), SHAPES, ids=[name for name, _ in SHAPES])
def test_every_field_a_builder_writes_is_in_the_documented_example(documented: str, body: bytes) -> None:
    example = json.loads((FIXTURES / documented).read_bytes())
    assert _paths(json.loads(body)) - _paths(example) == set()


def test_meta_and_threads_bytes_are_ascii_with_escaped_slashes_and_x_bytes_compact() -> None:
    page = d.facebook_comment("820000000000001_1", CUSTOMER, "K\u00f6ln", AT)
    assert page.isascii() and b"\\u00f6" in page and b"https:\\/\\/www.facebook.com\\/" in page
    assert b"\\/" in d.threads_reply("17900000000000901", CUSTOMER, "x", AT)
    tweet = d.x_tweet("1", CUSTOMER, "K\u00f6ln", AT)
    assert tweet.isascii() and b"\\u00f6" in tweet and b", " not in tweet and b'": ' not in tweet


# -- bodies: what hilft makes of them ------------------------------------------------------------------


def _only(batch: Any) -> Any:
    assert len(batch.events) == 1, batch
    return batch.events[0]


def test_x_bodies_parse_to_the_events_they_stand_for() -> None:
    brands = frozenset({d.BRAND_X_ID})
    mention = _only(x.parse(d.x_tweet("1955000000000000001", CUSTOMER, "kein Netz", AT), brand_user_ids=brands))
    assert isinstance(mention, Mention) and mention.kind is Kind.MENTION and mention.author.handle == CUSTOMER.handle
    assert mention.created_at == AT.replace(microsecond=0)
    reply = _only(x.parse(BRAND_REPLY_X, brand_user_ids=brands))
    assert isinstance(reply, Mention) and reply.is_brand and reply.in_reply_to == "1955000000000000001"
    dm = _only(x.parse(d.x_dm("1955000000000000005", CUSTOMER, d.BRAND_X, "Hallo", AT), brand_user_ids=brands))
    assert isinstance(dm, Mention) and dm.kind is Kind.DM
    gone = _only(x.parse(d.x_delete("1955000000000000001", CUSTOMER.id, AT), brand_user_ids=brands))
    assert isinstance(gone, Deletion) and gone.post_id == "1955000000000000001"
    activity = _only(x.parse(d.x_activity_post("2080765813578191303", CUSTOMER, "kein DSL", AT),
                             brand_user_ids=brands))
    assert isinstance(activity, Mention) and activity.post_id == "2080765813578191303"
    radar = _only(x.parse(d.x_stream_post("2080770000000000001", CUSTOMER, "Telekom St\u00f6rung", AT),
                          brand_user_ids=brands))
    assert radar.post_id == "2080770000000000001"


def test_meta_and_threads_bodies_parse_to_the_events_they_stand_for() -> None:
    def page(body: bytes) -> Any:
        return _only(meta.parse(body, page_ids=frozenset({d.PAGE_ID}), ig_user_ids=frozenset({d.IG_ID})))

    comment = page(d.facebook_comment("820000000000001_930000000000001", CUSTOMER, "kein Festnetz", AT))
    assert isinstance(comment, Mention) and comment.post_id == "820000000000001_930000000000001"
    assert isinstance(page(d.facebook_remove("820000000000001_930000000000001", CUSTOMER, AT)), Deletion)
    assert page(d.instagram_comment("17950000000000001", CUSTOMER, "kein Netz", AT)).post_id == "17950000000000001"
    assert page(d.messenger_message("m_1", CUSTOMER.id, d.PAGE_ID, "Hallo", AT, echo=False)).kind is Kind.DM
    brand = frozenset({d.THREADS_ID})
    reply = _only(threads.parse(d.threads_reply("17900000000000901", CUSTOMER, "kein Netz", AT),
                                brand_user_ids=brand))
    assert isinstance(reply, Mention) and reply.post_id == "17900000000000901" and not reply.is_brand
    mention = _only(threads.parse(d.threads_mention("17900000000000911", CUSTOMER, "kein Netz", AT),
                                  brand_user_ids=brand))
    assert isinstance(mention, Mention) and mention.author.handle == CUSTOMER.handle


def test_x_ids_are_fresh_and_increasing() -> None:
    first, second = d.new_x_id(), d.new_x_id()
    assert int(second) > int(first)
