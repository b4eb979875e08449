"""Attack: use X's CRC endpoint as a signing oracle for forged webhook bodies.

``GET x_webhook?crc_token=T`` answers ``sha256=base64(HMAC(secret, T))`` — the exact format of the
body signature. If T may be a JSON body, an attacker gets a valid signature for any event they
like. The class of forgeries is "any body hilft would parse", i.e. any JSON object; no such text
may ever be signed by the CRC endpoint.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deliveries
from hilft.channels.x import parse as x
from hilft.core.errors import MalformedPayload
from tests.e2e.builders import BRAND_ID, aaa_tweet, brand_reply
from tests.stack_fixtures import X_SECRET

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.text(max_size=12), json_values, max_size=4),
       indent=st.sampled_from([None, 0, 2]), lead=st.sampled_from(["", " ", "\n", "\t", "\r\n"]))
def test_no_json_object_body_is_ever_signed_by_the_crc_answer(body, indent, lead):
    text = lead + json.dumps(body, indent=indent, ensure_ascii=bool(indent))
    with pytest.raises(MalformedPayload):
        x.crc_response(text, client_secret=X_SECRET, consumer_secret="legacy")


@given(token=st.from_regex(x.CRC_TOKEN, fullmatch=True))
def test_tokens_of_the_documented_alphabet_are_answered(token):
    answer = x.crc_response(token, client_secret=X_SECRET, consumer_secret=None)
    assert answer == {"response_token": deliveries.x_crc_response_token(token, X_SECRET)}


@pytest.mark.parametrize("token", ["a" * 257, "has space", "semi;colon", "quote\"d", "{", "ümlaut"])
def test_tokens_outside_the_alphabet_or_too_long_are_refused(token):
    with pytest.raises(MalformedPayload):
        x.crc_response(token, client_secret=X_SECRET, consumer_secret=None)


def _forge(e2e, body: bytes):
    """The attack as reproduced: ask the CRC endpoint to sign the body, then post it with that."""
    crc = e2e.http.get(e2e.url("x_webhook"), params={"crc_token": body.decode()})
    if crc.status_code == 200:
        signature = crc.json()["response_token"]
    else:
        # The attacker still tries: reuse the answer to the closest token the endpoint accepts.
        signature = e2e.http.get(e2e.url("x_webhook"), params={"crc_token": "abc"}).json()["response_token"]
    return crc, e2e.post_x(body, signature=signature)


@pytest.mark.e2e
@pytest.mark.emulator
def test_forged_brand_reply_cannot_mark_a_complaint_answered(e2e):
    post_id, mention = aaa_tweet("Seit gestern kein Internet in Kiel")
    assert e2e.post_x(mention).status_code == 200
    _, forged = brand_reply(post_id, "1472583690")
    crc, response = _forge(e2e, forged)
    assert crc.status_code == 400
    assert response.status_code == 401
    assert e2e.mention("x", post_id)["status"] == "open"


@pytest.mark.e2e
@pytest.mark.emulator
def test_forged_delete_and_forged_pii_mention_store_and_send_nothing(e2e):
    post_id, mention = aaa_tweet("Netz weg")
    assert e2e.post_x(mention).status_code == 200
    delete = json.dumps({"for_user_id": BRAND_ID, "tweet_delete_events": [
        {"status": {"id": post_id, "user_id": "1472583690"}, "timestamp_ms": "1700000000000"}]}).encode()
    crc, response = _forge(e2e, delete)
    assert (crc.status_code, response.status_code) == (400, 401)
    assert e2e.mention("x", post_id)["status"] == "open"

    victim_id, pii = aaa_tweet("Meine Nummer ist 0170 1234567, ruft an", user_id="999000111", handle="victim")
    crc, response = _forge(e2e, pii)
    assert (crc.status_code, response.status_code) == (400, 401)
    assert e2e.mention("x", victim_id) is None
    # The 401 comes before anything is stored or scheduled, so no handoff can send a DM later.
    assert all(victim_id not in (r.body or b"").decode("utf-8", "replace") for r in e2e.fakes.x.requests)
