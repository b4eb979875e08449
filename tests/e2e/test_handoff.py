"""Handoff to private end to end: PII in a public post → redacted document, one DM through the
(fake) X API, one public reply, a `handoffs` record, the department told; and the refusals."""

from __future__ import annotations

import time

import pytest

from tests.alert_proof import alerts_about, doc_id_of, wait_until_no_tasks
from tests.e2e.alerting import later_post_escalated_past
from tests.e2e.builders import aaa_tweet

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

CUSTOMER = "1472583690"
PHONE_POST = "Ihr erreicht mich unter 0171 2345678, seit Tagen kein Internet!"


def handoffs(e2e) -> list[dict]:
    return [d.to_dict() for d in e2e.db.collection("handoffs").stream()]


def test_pii_post_is_redacted_and_handed_off_with_one_dm_and_one_public_reply(e2e):
    post_id, body = aaa_tweet(PHONE_POST)
    assert e2e.post_x(body).status_code == 200
    doc = e2e.mention("x", post_id)
    assert "2345678" not in doc["text"] and "⟨phone⟩" in doc["text"]
    assert doc["pii_kinds"] == ["phone"]

    e2e.wait(lambda: (e2e.mention("x", post_id) or {}).get("status") == "handed_off", timeout=15,
             what="the automatic handoff")
    assert len(e2e.fakes.x.dms) == 1
    dm = e2e.fakes.x.dms[0]
    assert dm["participant_id"] == CUSTOMER
    assert "Stunde" in dm["text"] or "Minuten" in dm["text"] or "Sekunden" in dm["text"]
    assert "0171" not in dm["text"]
    assert len(e2e.fakes.x.replies) == 1
    reply = e2e.fakes.x.replies[0]
    assert reply["in_reply_to_tweet_id"] == post_id and "2345678" not in reply["text"]

    records = handoffs(e2e)
    assert len(records) == 1
    record = records[0]
    assert record["state"] == "sent" and record["reason"] == "pii" and record["dm_id"] == dm["dm_event_id"]
    assert record["department"] == "kundenservice" and record["case_ref"].startswith("H")
    e2e.wait(lambda: e2e.fakes.department.accepted, timeout=5, what="the department notification")
    notified = e2e.fakes.department.accepted[0]
    assert notified.path == "/departments/kundenservice"
    assert "2345678" not in notified.body.decode()

    doc = e2e.mention("x", post_id)
    assert doc["answered_by"] == "hilft:handoff" and doc["first_response_seconds"] is not None
    # The promise is kept by the handoff: no overdue alert, proven once a later post has been
    # escalated past this post's due time.
    later_post_escalated_past(e2e, doc["due_at"])
    assert not [d for d in alerts_about(e2e, post_id) if d.level >= 1]


def handoff_tasks_finished(tasks_client, post_id: str) -> None:
    """Every handoff task of the post answered 2xx and left the queue: no further DM can be sent."""
    wait_until_no_tasks(tasks_client, doc_id_of(post_id), {"handoff"}, timeout=30)


def test_redelivered_three_times_still_sends_one_dm(e2e, tasks_client):
    post_id, body = aaa_tweet(PHONE_POST)
    for _ in range(3):
        assert e2e.post_x(body).status_code == 200
    e2e.wait(lambda: (e2e.mention("x", post_id) or {}).get("status") == "handed_off", timeout=15,
             what="the handoff")
    handoff_tasks_finished(tasks_client, post_id)
    assert len(e2e.fakes.x.dms) == 1
    assert len(handoffs(e2e)) == 1


def test_closed_dms_fall_back_to_a_public_reply(e2e):
    e2e.fakes.x.closed_dms.add(CUSTOMER)
    post_id, body = aaa_tweet(PHONE_POST)
    assert e2e.post_x(body).status_code == 200
    e2e.wait(lambda: handoffs(e2e) and handoffs(e2e)[0].get("state") == "sent", timeout=15, what="the handoff")
    assert e2e.fakes.x.dms == []
    assert len(e2e.fakes.x.replies) == 1
    record = handoffs(e2e)[0]
    assert record["status"] == "dm_refused" and record["public_reply_id"]


def test_rate_limited_dm_is_sent_once_after_the_reset(e2e, tasks_client):
    e2e.fakes.x.rate_limit_next(1, reset_in=2)
    post_id, body = aaa_tweet(PHONE_POST)
    started = time.time()
    assert e2e.post_x(body).status_code == 200
    e2e.wait(lambda: e2e.fakes.x.dms, timeout=20, what="the DM after the rate-limit reset")
    assert time.time() - started >= 1.0
    handoff_tasks_finished(tasks_client, post_id)
    assert len(e2e.fakes.x.dms) == 1
    assert handoffs(e2e)[0]["state"] == "sent"


def test_department_rule_hands_off_without_pii(e2e):
    post_id, body = aaa_tweet("Warum ist die Lastschrift diesen Monat doppelt?")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(lambda: (e2e.mention("x", post_id) or {}).get("status") == "handed_off", timeout=15,
             what="the department handoff")
    record = handoffs(e2e)[0]
    assert record["department"] == "rechnung" and record["reason"] == "department"
    assert len(e2e.fakes.x.dms) == 1 and e2e.fakes.x.replies == []  # no PII: no public "see DM" note


def test_staff_hand_a_post_off_to_a_department(e2e):
    post_id, body = aaa_tweet("Mein Router verliert ständig die Verbindung.")
    assert e2e.post_x(body).status_code == 200
    response = e2e.staff("handoff", {"platform": "x", "post_id": post_id, "department": "festnetz"})
    # The handoff function holds no platform token: it queues, and ``deadline`` sends the DM.
    assert response.status_code == 202, response.text
    assert response.json()["outcome"] == "queued"
    e2e.wait(lambda: (e2e.mention("x", post_id) or {}).get("status") == "handed_off", what="handed off")
    assert e2e.fakes.department.wait_for(lambda reqs: any(r.path.endswith("/festnetz") for r in reqs), 5)
    record = handoffs(e2e)[0]
    assert record["requested_by"] == "staff" and record["reason"] == "manual"
    again = e2e.staff("handoff", {"platform": "x", "post_id": post_id, "department": "festnetz"})
    assert again.status_code == 200 and again.json()["outcome"] == "already_handed_off"
    assert len(e2e.fakes.x.dms) == 1


def test_handoff_needs_staff_auth_and_a_known_department(e2e):
    post_id, body = aaa_tweet("Kein Empfang.")
    assert e2e.post_x(body).status_code == 200
    assert e2e.http.post(e2e.url("handoff"), json={"platform": "x", "post_id": post_id}).status_code == 401
    response = e2e.staff("handoff", {"platform": "x", "post_id": post_id, "department": "nope"})
    assert response.status_code == 404
    assert e2e.staff("handoff", {"platform": "x"}).status_code == 400
