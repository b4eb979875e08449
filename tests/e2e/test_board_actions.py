"""The board's buttons through to the outside world, on the real stack: the request the page sends
(``POST ?action=…``, JSON, ``X-Hilft-Board``, same-origin) — Hand off leads ``deadline`` (the one
function holding the platform token) to send the DM on the fake X API; Acknowledge of an alerted
post leads ``deadline`` to send PagerDuty an ``acknowledge`` on that post's ``dedup_key``.

The board holds no platform or sink secret: both go through a Cloud Task, so a pass here means
the task was queued, delivered with OIDC and carried out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.alert_proof import alerted, doc_id_of
from tests.e2e.builders import aaa_tweet
from tests.stack_fixtures import STAFF_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

CUSTOMER = "1472583690"  # aaa_tweet's default author


def board_action(e2e: Any, action: str, payload: dict[str, Any]) -> Any:
    """Exactly what board.js ``act()`` sends, with the headers the browser adds to a same-origin fetch."""
    board = e2e.url("board")
    parts = urlsplit(board)
    return e2e.http.post(f"{board}/?action={action}", json=payload, headers={
        "Authorization": f"Bearer {STAFF_TOKEN}", "X-Hilft-Board": "1",
        "Origin": f"{parts.scheme}://{parts.netloc}", "Sec-Fetch-Site": "same-origin"})


def test_hand_off_from_the_board_sends_the_dm(e2e):
    post_id, body = aaa_tweet("Mein Router verliert ständig die Verbindung, seit Tagen!")
    assert e2e.post_x(body).status_code == 200
    assert e2e.mention("x", post_id)["status"] == "open"
    assert e2e.fakes.x.dms == []

    response = board_action(e2e, "handoff", {"doc_id": doc_id_of(post_id), "department": "festnetz"})
    assert response.status_code == 202, response.text
    assert response.json()["outcome"] == "queued"

    dms = e2e.wait(lambda: e2e.fakes.x.dms, timeout=20, what="the DM sent by deadline")
    assert len(dms) == 1 and dms[0]["participant_id"] == CUSTOMER
    doc = e2e.wait(lambda: (d := e2e.mention("x", post_id) or {}).get("status") == "handed_off" and d,
                   timeout=10, what="the post handed off")
    assert doc["answered_by"] == "hilft:handoff"
    records = [d.to_dict() for d in e2e.db.collection("handoffs").stream()]
    assert len(records) == 1 and records[0]["department"] == "festnetz"
    assert records[0]["requested_by"] == "staff" and records[0]["dm_id"] == dms[0]["dm_event_id"]


def test_acknowledge_from_the_board_acknowledges_the_pagerduty_incident(e2e):
    post_id, body = aaa_tweet("Kein Netz im ICE nach Köln, schon wieder.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=20, what="the overdue alert")
    key = f"hilft-{doc_id_of(post_id)}"
    assert e2e.fakes.pagerduty.state(key) == "triggered"

    response = board_action(e2e, "ack", {"doc_id": doc_id_of(post_id)})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "acknowledged"

    e2e.wait(lambda: e2e.fakes.pagerduty.state(key) == "acknowledged", timeout=15,
             what="PagerDuty's acknowledge for the post")
    events = [r.json() for r in list(e2e.fakes.pagerduty.accepted) if r.json().get("dedup_key") == key]
    assert [e["event_action"] for e in events].count("acknowledge") == 1
    doc = e2e.mention("x", post_id)
    assert doc["acknowledged"] is True and doc["acknowledged_by"] == "staff"
