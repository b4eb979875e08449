"""X channel end to end: x_webhook under functions-framework, Firestore emulator, Tasks emulator."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import deliveries
from tests.alert_proof import alerts_about
from tests.e2e.alerting import later_post_escalated_past
from tests.e2e.builders import aaa_tweet, brand_reply
from tests.e2e.conftest import CREDENTIALS, X_SECRET, fresh, tasks_of, x_fixture

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

MENTION_ID = "1858786321410785281"


def test_crc_challenge_is_answered_with_the_client_secret(e2e):
    response = e2e.http.get(e2e.url("x_webhook"), params={"crc_token": "challenge-123"})
    assert response.status_code == 200
    assert response.json() == {"response_token": deliveries.x_crc_response_token("challenge-123", X_SECRET)}


def test_crc_without_token_is_a_bad_request(e2e):
    assert e2e.http.get(e2e.url("x_webhook")).status_code == 400


@pytest.mark.parametrize("signature", [None, "sha256=AAAA", "garbage"])
def test_wrong_or_missing_signature_is_401_and_stores_nothing(e2e, signature):
    response = e2e.post_x(fresh(x_fixture("aaa_mention.json")), signature=signature)
    assert response.status_code == 401
    assert "Traceback" not in response.text
    assert e2e.mentions() == []


def test_legacy_signature_with_the_consumer_secret_is_accepted(e2e):
    body = fresh(x_fixture("aaa_mention.json"))
    response = e2e.post_x(body, signature=None,
                          headers=deliveries.x_headers(body, CREDENTIALS.x_consumer_secret, legacy=True))
    assert response.status_code == 200, response.text
    assert len(e2e.mentions()) == 1


def test_malformed_json_with_valid_signature_is_400(e2e):
    response = e2e.post_x(b'{"for_user_id": "1000000001", "tweet_create_events": [')
    assert response.status_code == 400
    assert e2e.mentions() == []


def test_oversize_body_is_413(e2e):
    body = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert e2e.post_x(body).status_code == 413


def test_wrong_content_type_is_415(e2e):
    body = fresh(x_fixture("aaa_mention.json"))
    assert e2e.post_x(body, headers={"Content-Type": "text/plain"}).status_code == 415


def test_mention_is_normalised_into_one_document(e2e):
    assert e2e.post_x(fresh(x_fixture("aaa_mention.json"))).status_code == 200
    doc = e2e.mention("x", MENTION_ID)
    assert doc is not None
    assert doc["kind"] == "mention" and doc["status"] == "open"
    assert doc["author_handle"] == "kabelsalat_kiel"
    assert "Speedport" in doc["text"]
    assert doc["url"].endswith(f"/status/{MENTION_ID}")


def test_truncated_tweet_is_stored_with_its_extended_full_text(e2e):
    body = fresh(x_fixture("aaa_long_mention_extended_tweet.json"))
    assert e2e.post_x(body).status_code == 200
    event = json.loads(body)["tweet_create_events"][0]
    doc = e2e.mention("x", event["id_str"])
    assert len(doc["text"]) > len(event["text"]) - 5
    assert doc["text"].rstrip().endswith(event["extended_tweet"]["full_text"].rstrip()[-12:])


def test_non_ascii_text_survives_unchanged(e2e):
    body = fresh(x_fixture("aaa_non_ascii.json"))
    assert e2e.post_x(body).status_code == 200
    text = json.loads(body)["tweet_create_events"][0]["text"]
    stored = e2e.mentions()[0]["text"]
    assert any(ch in stored for ch in "äöüß") and stored[:20] == text[:20]


def test_brand_reply_marks_the_post_answered_and_deletes_its_tasks(e2e, tasks_client):

    post_id, body = aaa_tweet("Mein DSL ist seit gestern tot.")
    assert e2e.post_x(body).status_code == 200
    assert len(tasks_of(tasks_client, "x", post_id)) == 2
    _, reply = brand_reply(post_id, "1472583690")
    assert e2e.post_x(reply).json()["answered"] == 1
    doc = e2e.mention("x", post_id)
    assert doc["status"] == "answered"
    assert doc["answered_by"] == "Telekom_hilft"
    assert doc["first_response_seconds"] >= 0
    assert tasks_of(tasks_client, "x", post_id) == []
    # The brand's own reply never becomes an item to answer.
    assert len(e2e.mentions()) == 1


def test_brand_reply_before_post_marks_answered(e2e, tasks_client):
    """Out of order and written natively on X: the reply arrives first."""
    reply = fresh(x_fixture("aaa_brand_reply_before_post.json"))
    assert e2e.post_x(reply).status_code == 200
    stub = e2e.mention("x", "1858896522301198337")
    assert stub["stub"] is True and stub["status"] == "answered"  # what the reply knows, until the post comes
    post = fresh(x_fixture("aaa_post_answered_natively.json"), shift=-1)
    result = e2e.post_x(post).json()
    assert result["stored"] == 1 and result["answered"] == 1
    doc = e2e.mention("x", "1858896522301198337")
    assert doc["status"] == "answered" and doc["stub"] is False
    assert doc["author_handle"] == "MoritzAusMainz" and doc["first_response_seconds"] >= 0
    assert e2e.post_x(post).json()["duplicates"] == 1
    # No alert may fire: the answered post's tasks are gone, and nothing about it has come by the
    # time a later post is escalated past its due time.
    assert tasks_of(tasks_client, "x", "1858896522301198337") == []
    later_post_escalated_past(e2e, doc["due_at"])
    assert alerts_about(e2e, "1858896522301198337") == []


def test_inbound_dm_is_an_item_and_the_brand_dm_answers_it(e2e):
    assert e2e.post_x(fresh(x_fixture("aaa_dm_inbound.json"))).status_code == 200
    docs = e2e.mentions()
    assert len(docs) == 1 and docs[0]["kind"] == "dm" and docs[0]["status"] == "open"
    echo = fresh(x_fixture("aaa_dm_echo_of_brand.json"), shift=1)
    assert e2e.post_x(echo).json()["answered"] == 1
    assert e2e.mentions()[0]["status"] == "answered"
    assert len(e2e.mentions()) == 1  # the echo itself is not stored


def test_delete_forgets_text_and_author_but_keeps_a_tombstone(e2e):
    assert e2e.post_x(fresh(x_fixture("aaa_mention.json"))).status_code == 200
    assert e2e.post_x(fresh(x_fixture("aaa_delete.json"))).json()["deleted"] == 1
    doc = e2e.mention("x", MENTION_ID)
    assert doc["status"] == "deleted"
    assert doc["text"] == "" and doc["author_handle"] is None and doc["author_id"] is None
    assert doc["received_at"] is not None  # kept for metrics


def test_delete_before_post_keeps_the_late_post_deleted(e2e):
    assert e2e.post_x(fresh(x_fixture("aaa_delete.json"))).status_code == 200
    assert e2e.post_x(fresh(x_fixture("aaa_mention.json"))).json()["duplicates"] == 1
    doc = e2e.mention("x", MENTION_ID)
    assert doc["status"] == "deleted" and doc["text"] == ""


def test_mixed_batch_stores_the_new_post_and_skips_the_seen_one(e2e):
    assert e2e.post_x(fresh(x_fixture("aaa_mention.json"))).status_code == 200
    result = e2e.post_x(fresh(x_fixture("aaa_mixed_batch.json"))).json()
    assert result["stored"] == 1 and result["duplicates"] == 1
    assert len(e2e.mentions()) == 2


def test_favorite_events_are_ignored(e2e):
    response = e2e.post_x(fresh(x_fixture("aaa_favorite_ignored.json")))
    assert response.status_code == 200 and response.json()["ignored"] == 1  # the favorite_events list, named once
    assert e2e.mentions() == []


def test_a_quote_of_a_brand_post_is_addressed_to_the_brand_not_radar(e2e):
    # The fixture quotes @Telekom_hilft's post without an @-mention: X's docs count a quote as a
    # conversation with the quoted account, so it carries the promise (it is not a radar find).
    assert e2e.post_x(fresh(x_fixture("aaa_radar_no_mention.json"))).status_code == 200
    docs = e2e.mentions()
    assert len(docs) == 1 and docs[0]["radar"] is False and docs[0]["status"] == "open"


def test_radar_keeps_a_post_about_the_brand_without_mention(e2e):
    post_id, body = aaa_tweet("Dritter Technikertermin bei der Telekom, dritter No-Show.", mention_brand=False)
    assert e2e.post_x(body).status_code == 200
    assert e2e.mention("x", post_id)["radar"] is True


def test_post_neither_addressed_to_brand_nor_on_radar_is_ignored(e2e):
    _, body = aaa_tweet("Schönes Wetter heute in Kiel.", mention_brand=False)
    assert e2e.post_x(body).json()["ignored"] == 1
    assert e2e.mentions() == []


@pytest.mark.parametrize("name,kind", [("xaa_mention.json", "mention"), ("xaa_dm_received.json", "dm")])
def test_x_activity_api_events_are_stored(e2e, name, kind):
    assert e2e.post_x(fresh(x_fixture(name))).status_code == 200
    docs = e2e.mentions()
    assert len(docs) == 1 and docs[0]["kind"] == kind


def test_x_activity_api_brand_reply_and_delete(e2e):
    assert e2e.post_x(fresh(x_fixture("xaa_mention.json"))).status_code == 200
    assert e2e.post_x(fresh(x_fixture("xaa_post_create_brand_reply.json"), shift=1)).json()["answered"] == 1
    assert e2e.post_x(fresh(x_fixture("xaa_delete.json"))).json()["deleted"] == 1
    assert e2e.mentions()[0]["status"] == "deleted"


def test_unknown_x_activity_event_is_200_and_ignored(e2e):
    response = e2e.post_x(fresh(x_fixture("xaa_unknown_event.json")))
    assert response.status_code == 200 and response.json()["ignored"] == 1


def test_ten_concurrent_identical_deliveries_make_one_document_and_one_schedule(e2e, tasks_client):

    post_id, body = aaa_tweet("Kein Netz seit dem Update.")
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: e2e.post_x(body).status_code, range(10)))
    assert statuses == [200] * 10
    assert len(e2e.mentions()) == 1
    assert len(tasks_of(tasks_client, "x", post_id)) == 2
