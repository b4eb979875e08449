"""Attack: a staff member (token mode: the name is the caller's word) acknowledges as ``pagerduty``
— ``ack`` with ``"by": "pagerduty"``, or any staff door with ``X-Hilft-User: pagerduty``. hilft
takes that name to mean "acknowledged in PagerDuty, which knows already" and skips telling
PagerDuty, so the incident stays triggered there and keeps paging on-call while the board says
acknowledged. Names hilft itself records (``pagerduty``, ``hilft:…``) are refused with 400, in any
case, and nothing is acknowledged."""

from __future__ import annotations

import json

import pytest

from tests.security.inprocess import STAFF, answer, app_with_post

RESERVED = ["pagerduty", "PagerDuty", " pagerduty ", "hilft:auto", "hilft:handoff", "HILFT:x", "hilft:"]


def _acknowledged(app, doc_id: str) -> bool:
    from hilft.service.ports import MENTIONS

    return bool(app.store.get(MENTIONS, doc_id).data.get("acknowledged_at"))


@pytest.mark.parametrize("name", RESERVED)
def test_ack_refuses_a_reserved_by(name):
    app, doc_id = app_with_post()
    response = answer(app, "ack", body=json.dumps({"doc_id": doc_id, "by": name}).encode(), headers=STAFF)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert not _acknowledged(app, doc_id)


@pytest.mark.parametrize("name", RESERVED)
@pytest.mark.parametrize(("door", "query", "headers", "body"), [
    ("ack", "", {}, {}),
    ("handoff", "", {}, {}),
    ("board", "?action=ack", {"X-Hilft-Board": "1"}, {}),
    ("board", "?action=handoff", {"X-Hilft-Board": "1"}, {"department": "kundenservice"}),
], ids=["ack", "handoff", "board-ack", "board-handoff"])
def test_staff_doors_refuse_a_reserved_user_header(name, door, query, headers, body):
    app, doc_id = app_with_post()
    scheduled = len(app.scheduler.calls)
    response = answer(app, door, path="/" + query, body=json.dumps({"doc_id": doc_id, **body}).encode(),
                      headers={**STAFF, **headers, "X-Hilft-User": name})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert not _acknowledged(app, doc_id)
    assert len(app.scheduler.calls) == scheduled


def test_an_ordinary_name_is_recorded():
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    response = answer(app, "ack", body=json.dumps({"doc_id": doc_id, "by": "anna"}).encode(), headers=STAFF)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert app.store.get(MENTIONS, doc_id).data["acknowledged_by"] == "anna"
