"""The radar on X end to end: Filtered Stream deliveries, signed like Account Activity, become radar items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stack_fixtures import fresh

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x" / "documented"


def _body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_a_stream_delivery_is_stored_as_a_radar_item(e2e) -> None:
    # A live delivery: the fixture's post from July would be due (4 h after it) long ago, and its
    # due task could mark it overdue before the read below.
    body = fresh(_body("stream_post_radar.json"))
    response = e2e.post_x(body)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1
    doc = e2e.mention("x", "2080770000000000001")
    assert doc is not None and doc["radar"] is True and doc["status"] == "open"
    assert doc["author_handle"] == "bonner_jan" and "53113 Bonn" in doc["text"]
    assert doc["radar_rules"] == ["hilft-radar"]  # the stream rule it matched
    # the radar's promise (radar.first_response, 4 h by default), not the 5 s of the e2e policy
    assert (doc["due_at"] - doc["created_at"]).total_seconds() == 4 * 3600  # counted from the post
    assert doc["warn_at"] == doc["due_at"]  # and no warning
    # redelivered: still one document
    assert e2e.post_x(body).json()["duplicates"] == 1


def test_a_stream_post_that_replies_to_the_brand_is_an_ordinary_mention(e2e) -> None:
    assert e2e.post_x(_body("stream_post_reply_to_brand.json")).status_code == 200
    doc = e2e.mention("x", "2080770000000000002")
    assert doc is not None and doc["radar"] is False and doc["kind"] == "reply"


def test_a_retweet_from_the_stream_is_ignored_and_a_bad_signature_stores_nothing(e2e) -> None:
    answer = e2e.post_x(_body("stream_post_retweet.json"))
    assert answer.status_code == 200 and answer.json()["stored"] == 0
    assert e2e.post_x(_body("stream_post_radar.json"), signature="sha256=AAAA").status_code == 401
    assert e2e.mentions() == []


def test_a_malformed_stream_delivery_is_400(e2e) -> None:
    document = json.loads(_body("stream_post_radar.json"))
    document["data"].pop("author_id")
    assert e2e.post_x(json.dumps(document).encode()).status_code == 400


@pytest.mark.timeout(240)
def test_under_radar_first_response_none_a_stream_match_is_open_with_no_due_time_and_no_tasks() -> None:
    """A private stack whose policy says radar items carry no promise: x_webhook stores the match
    with no due time and queues nothing; the board lists it without a countdown; the brand's reply
    still answers it."""
    from datetime import UTC, datetime

    import deliveries
    from hilft.core.ids import mention_doc_id
    from rig import PolicySpec, Rig
    from tests.fault.helpers import log_dir, require_emulators

    require_emulators()
    author = deliveries.Author("4400000001", "bonner_jan", "Jan")
    post_id = deliveries.new_x_id()
    with Rig(targets=("x_webhook", "board"), policy=PolicySpec(radar_first_response="none"),
             log_dir=log_dir("radar_no_promise")) as rig:
        body = deliveries.x_stream_post(post_id, author, "Seit heute früh kein Netz in 53113 Bonn, Telekom?",
                                        datetime.now(UTC))
        response = rig.post_x(body)
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == 1
        doc = rig.db.collection("mentions").document(mention_doc_id("x", post_id)).get().to_dict()
        assert doc["radar"] is True and doc["status"] == "open" and doc["radar_rules"] == ["hilft-radar"]
        assert doc["due_at"] is None and doc["warn_at"] is None  # no promise: nothing to keep or break
        assert rig.task_count() == 0  # no warning, no due task in the Tasks emulator
        board = rig.http.get(rig.stack.url("board") + "/?format=json").json()
        (item,) = board["items"]
        assert item["radar"] is True and item["due_at"] is None and item["seconds_left"] is None
        assert item["state"] == "open" and board["counts"]["open"] == 1
        page = rig.http.get(rig.stack.url("board") + "/")
        assert page.status_code == 200 and "radar: no promise" in page.text
        # the brand's reply answers it like any post
        reply = deliveries.x_tweet(deliveries.new_x_id(), deliveries.BRAND_X, "Wir schauen nach, Jan.",
                                   datetime.now(UTC), reply_to=post_id, reply_to_user=author.id)
        assert rig.post_x(reply).status_code == 200
        doc = rig.db.collection("mentions").document(mention_doc_id("x", post_id)).get().to_dict()
        assert doc["status"] == "answered" and doc["breached"] is False
