"""Meta channel end to end: meta_webhook under functions-framework against the emulators, and
handoffs as private replies through the fake Graph API."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import META_VERIFY, fresh, meta_fixture, tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

COMMENT_ID = "820000000000001_930000000000001"


def comment_body(message: str, comment_id: str) -> bytes:
    body = json.loads(meta_fixture("page_feed_comment.json"))
    body["entry"][0]["changes"][0]["value"].update({"message": message, "comment_id": comment_id})
    return fresh(json.dumps(body).encode())


def test_subscription_check_echoes_the_challenge(e2e):
    ok = e2e.http.get(e2e.url("meta_webhook"), params={"hub.mode": "subscribe", "hub.verify_token": META_VERIFY,
                                                       "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444" and ok.headers["content-type"].startswith("text/plain")
    wrong = e2e.http.get(e2e.url("meta_webhook"), params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                          "hub.challenge": "1"})
    assert wrong.status_code == 403


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64])
def test_wrong_or_missing_signature_is_401_and_stores_nothing(e2e, signature):
    assert e2e.post_meta(fresh(meta_fixture("page_feed_comment.json")), signature=signature).status_code == 401
    assert e2e.mentions() == []


def test_signature_is_checked_over_the_raw_escaped_bytes(e2e):
    raw = meta_fixture("umlauts_emoji.json")  # \u00fc escapes as Meta sends them
    assert b"\\u" in raw
    assert e2e.post_meta(raw).status_code == 200
    text = e2e.mentions()[0]["text"]
    assert any(ch in text for ch in "äöüß")


def test_page_comment_is_stored_and_the_page_reply_answers_it(e2e):
    assert e2e.post_meta(fresh(meta_fixture("page_feed_comment.json"))).json()["stored"] == 1
    doc = e2e.mention("facebook", COMMENT_ID)
    assert doc["status"] == "open" and doc["kind"] == "reply"
    assert e2e.post_meta(fresh(meta_fixture("page_feed_brand_reply.json"), shift=1)).json()["answered"] == 1
    assert e2e.mention("facebook", COMMENT_ID)["status"] == "answered"
    assert len(e2e.mentions()) == 1


def test_removed_comment_becomes_a_tombstone(e2e):
    assert e2e.post_meta(fresh(meta_fixture("page_feed_comment.json"))).status_code == 200
    assert e2e.post_meta(fresh(meta_fixture("page_feed_remove.json"))).json()["deleted"] == 1
    doc = e2e.mention("facebook", COMMENT_ID)
    assert doc["status"] == "deleted" and doc["text"] == ""


def test_instagram_comment_and_brand_reply(e2e):
    assert e2e.post_meta(fresh(meta_fixture("ig_comment.json"))).json()["stored"] == 1
    assert e2e.post_meta(fresh(meta_fixture("ig_comment_brand_reply.json"), shift=1)).json()["answered"] == 1
    assert [d["status"] for d in e2e.mentions()] == ["answered"]


def test_messenger_message_is_answered_by_the_page_echo(e2e):
    assert e2e.post_meta(fresh(meta_fixture("messenger_message.json"))).json()["stored"] == 1
    assert e2e.mentions()[0]["platform"] == "messenger"
    assert e2e.post_meta(fresh(meta_fixture("messenger_echo.json"), shift=1)).json()["answered"] == 1
    assert e2e.mentions()[0]["status"] == "answered"


def test_mixed_batch_and_unknown_fields(e2e):
    result = e2e.post_meta(fresh(meta_fixture("mixed_batch.json"))).json()
    # A Page comment, a Page mention and a Messenger message; a reaction, a rating and a read receipt.
    assert (result["stored"], result["ignored"]) == (3, 3)
    assert sorted(d["platform"] for d in e2e.mentions()) == ["facebook", "facebook", "messenger"]
    assert e2e.post_meta(fresh(meta_fixture("unknown_field.json"))).json()["ignored"] == 1


def mixed_batch_with_new_ids() -> tuple[bytes, set[tuple[str, str, str]]]:
    """mixed_batch.json with ids of its own, and the posts in it addressed to the brand.

    Task names are derived from the post and its due time, and Cloud Tasks keeps a purged name
    taken for an hour: the fixture's ids at the same second as an earlier test would not be
    scheduled again. The batch keeps its shape: a Page comment, a Page mention, a Messenger
    message, plus a reaction, a rating and a read receipt that are ignored.
    """
    unique = f"{time.time_ns() // 1000 % 10**13:013d}"
    body = json.loads(meta_fixture("mixed_batch.json"))
    comment, _reaction, mention, _rating = (c["value"] for c in body["entry"][0]["changes"])
    message = body["entry"][1]["messaging"][0]["message"]
    comment["comment_id"] = f"820000000000001_93{unique}"
    mention["post_id"] = f"7300000000000107_84{unique}"
    message["mid"] = f"m_redelivery{unique}"
    posts = {("facebook", comment["comment_id"], "reply"), ("facebook", mention["post_id"], "mention"),
             ("messenger", message["mid"], "dm")}
    return fresh(json.dumps(body).encode()), posts


def alerting_tasks(tasks_client, doc_ids: set[str]) -> dict[str, tuple[str, str, str]]:
    """Queued warning/due tasks of these posts: task name -> (doc id, kind, due_at)."""
    from google.cloud import tasks_v2

    from stack import QUEUE

    found = {}
    for task in tasks_client.list_tasks(request={"parent": QUEUE, "response_view": tasks_v2.Task.View.FULL}):
        payload = json.loads(task.http_request.body or b"{}")
        if payload.get("doc_id") in doc_ids and payload.get("kind") in ("warning", "due"):
            found[task.name] = (payload["doc_id"], payload["kind"], payload["due_at"])
    return found


def test_redelivered_batch_is_stored_once(e2e, tasks_client):
    from datetime import datetime

    body, posts = mixed_batch_with_new_ids()
    first = e2e.post_meta(body).json()
    assert (first["stored"], first["duplicates"], first["ignored"]) == (3, 0, 3)
    docs = {d["_id"]: d for d in e2e.mentions()}
    assert {(d["platform"], d["post_id"], d["kind"]) for d in docs.values()} == posts
    assert {d["status"] for d in docs.values()} == {"open"}
    scheduled = alerting_tasks(tasks_client, set(docs))
    # Each post is scheduled once: one warning and one due task, for the due time stored with it.
    assert sorted((doc_id, kind) for doc_id, kind, _ in scheduled.values()) == sorted(
        (doc_id, kind) for doc_id in docs for kind in ("due", "warning"))
    for doc_id, _, due_at in scheduled.values():
        assert datetime.fromisoformat(due_at) == docs[doc_id]["due_at"]

    for _ in range(2):  # Meta redelivers the very same bytes
        again = e2e.post_meta(body).json()
        assert (again["stored"], again["duplicates"], again["ignored"]) == (0, 3, 3)
    after = {d["_id"]: d for d in e2e.mentions()}
    assert {i: (d["received_at"], d["due_at"]) for i, d in after.items()} == {
        i: (d["received_at"], d["due_at"]) for i, d in docs.items()}, "the redelivery changed no post"
    # No new task: what is queued now is what the first delivery scheduled (less any that already fired).
    assert set(alerting_tasks(tasks_client, set(docs))) <= set(scheduled)


def handoff_tasks_finished(e2e, tasks_client, comment_id: str) -> None:
    """Every handoff task of the post answered 2xx and left the queue: nothing more can be sent."""
    e2e.wait(lambda: not [t for t in tasks_of(tasks_client, "facebook", comment_id)
                          if json.loads(t.http_request.body).get("kind") == "handoff"],
             timeout=30, what="the handoff tasks to finish")


def test_pii_comment_gets_one_private_reply_and_a_public_note(e2e, tasks_client):
    body = comment_body("Meine Kundennummer ist 1234567890, bitte um Rückruf!", "820000000000001_930000000000777")
    for _ in range(3):  # Meta resends until it gets a 200
        assert e2e.post_meta(body).status_code == 200
    e2e.wait(lambda: (e2e.mention("facebook", "820000000000001_930000000000777") or {}).get("status")
             == "handed_off", timeout=15, what="the private reply handoff")
    handoff_tasks_finished(e2e, tasks_client, "820000000000001_930000000000777")
    assert len(e2e.fakes.graph.private_replies) == 1
    reply = e2e.fakes.graph.private_replies[0]
    assert reply.comment_id == "820000000000001_930000000000777" and "1234567890" not in reply.text
    assert len(e2e.fakes.graph.comment_replies) == 1
    doc = e2e.mention("facebook", "820000000000001_930000000000777")
    assert "1234567890" not in doc["text"]


def test_graph_rate_limit_retries_the_handoff_later(e2e, tasks_client):
    # Two: the first throttles the hide of the public comment (recorded, not retried), the second
    # the private reply, which is what reschedules the handoff.
    e2e.fakes.graph.rate_limit_next(2, code=613)
    body = comment_body("Meine Handynummer: 0171 9876543", "820000000000001_930000000000888")
    assert e2e.post_meta(body).status_code == 200
    e2e.wait(lambda: e2e.fakes.graph.private_replies, timeout=90, what="the private reply after the rate limit")
    handoff_tasks_finished(e2e, tasks_client, "820000000000001_930000000000888")
    assert len(e2e.fakes.graph.private_replies) == 1


def test_revoked_page_token_is_a_configuration_error_and_the_promise_still_alerts(e2e):
    e2e.fakes.graph.token = "revoked-elsewhere"  # our token no longer matches: Graph answers code 190
    body = comment_body("Ruft mich an: 0171 5554433", "820000000000001_930000000000999")
    assert e2e.post_meta(body).status_code == 200
    try:
        doc = e2e.wait(lambda: (d := e2e.mention("facebook", "820000000000001_930000000000999") or {})
                       .get("alerts", {}).get("1", {}).get("state") == "sent" and d, timeout=20,
                       what="the overdue alert despite the failed handoff")
    finally:
        from tests.e2e.conftest import META_TOKEN

        e2e.fakes.graph.token = META_TOKEN
    assert doc["status"] == "overdue"
    assert e2e.fakes.graph.private_replies == []
    record = next(d.to_dict() for d in e2e.db.collection("handoffs").stream())
    assert record["state"] == "failed"
