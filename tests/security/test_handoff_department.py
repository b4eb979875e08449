"""Attack: a staff request (``handoff``, or the board's Hand off button) whose ``department`` is not
a string — a list or object crashed the set lookup (500), a number was "no such department" (404).
A department is a name or absent: anything else is 400, and nothing is queued."""

from __future__ import annotations

import json

import pytest

from tests.security.inprocess import STAFF, answer, app_with_post

NOT_A_NAME = [["festnetz"], {"name": "festnetz"}, [], {}, 5, 0, 1.5, True, False]


@pytest.mark.parametrize("department", NOT_A_NAME, ids=repr)
@pytest.mark.parametrize(("door", "query", "headers"), [("handoff", "", {}), ("board", "?action=handoff",
                                                                              {"X-Hilft-Board": "1"})])
def test_a_department_that_is_not_a_name_is_400_and_queues_nothing(department, door, query, headers):
    app, doc_id = app_with_post()
    queued = len(app.scheduler.tasks)
    response = answer(app, door, path="/" + query, body=json.dumps({"doc_id": doc_id, "department": department}).encode(),
                      headers={**STAFF, **headers})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "department" in response.get_json()["error"]
    assert len(app.scheduler.tasks) == queued


@pytest.mark.parametrize("department", [None, "kundenservice"])
def test_a_named_or_absent_department_is_still_handed_off(department):
    app, doc_id = app_with_post()
    response = answer(app, "handoff", body=json.dumps({"doc_id": doc_id, "department": department}).encode(),
                      headers=STAFF)
    assert response.status_code == 202, response.get_data(as_text=True)
