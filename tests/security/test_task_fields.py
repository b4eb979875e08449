"""Attack: a ``deadline`` task body (or its Cloud Tasks retry header) with fields no hilft task
carries — a level that is a word, an attempt that is a list, a time without its offset, a slot
that is negative. Each was a 500 deep in a service (``int("abc")``, a naive time compared with an
aware one); each is now a 400 (``MalformedPayload``) at the door, and nothing is scheduled."""

from __future__ import annotations

import json

import pytest

from tests.security.inprocess import answer, app_with_post

# One field class at a time: (kind, field, the values that are not that field).
NOT_A_COUNT = ["abc", "1", "", 1.5, True, -1, 10**30, [], {}]
NOT_A_TIME = ["garbage", "", "2026-13-01T00:00:00+00:00", "2026-12-01T10:00:00", "0001-01-01T00:00:00+00:00",
              "9999-12-31T23:59:59+00:00", 5, [], {}]
BAD_FIELDS = [
    *[("due", "level", value) for value in NOT_A_COUNT],
    *[("warning", "level", value) for value in NOT_A_COUNT],
    *[("incident_fold", "level", value) for value in NOT_A_COUNT],
    *[("handoff", "attempt", value) for value in NOT_A_COUNT],
    *[("outage_eval", "through_slot", value) for value in NOT_A_COUNT],
    *[("due", "due_at", value) for value in NOT_A_TIME],
    *[("due", "not_before", value) for value in NOT_A_TIME],
    *[("out_of_hours", "reopens_at", value) for value in NOT_A_TIME],
    *[("handoff", "department", value) for value in [[], ["festnetz"], {"a": 1}, 5, True]],
]
RETRY_COUNTS = ["abc", "-1", "1.5", "\u00b2", " ", "9" * 5_000]
GOOD = {  # a well-formed task of each kind (its post does not exist, or needs nothing)
    "due": {"level": 1, "due_at": "2026-12-01T10:00:00+00:00"},
    "warning": {"level": 0},
    "incident_fold": {"level": 1},
    "handoff": {"attempt": 0, "department": "kundenservice"},
    "outage_eval": {"through_slot": 1},
    "out_of_hours": {"key": "k", "template": "out_of_hours_reply", "reopens_at": "2026-12-01T08:00:00+01:00"},
    "enrich": {},
}


@pytest.fixture(scope="module")
def app_and_doc():
    return app_with_post()


def _task(app, kind: str, fields: dict, doc_id: str, headers: dict | None = None):
    body = json.dumps({"kind": kind, "doc_id": doc_id, **GOOD[kind], **fields}).encode()
    return answer(app, "deadline", body=body, headers={"Content-Type": "application/json", **(headers or {})})


@pytest.mark.parametrize(("kind", "field", "value"), BAD_FIELDS,
                         ids=[f"{k}-{f}-{v!r}"[:60] for k, f, v in BAD_FIELDS])
def test_a_task_field_of_the_wrong_kind_is_400_and_schedules_nothing(app_and_doc, kind, field, value):
    app, doc_id = app_and_doc
    scheduled = len(app.scheduler.calls)
    response = _task(app, kind, {field: value}, "f" * 40)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in response.get_json()["error"]
    assert len(app.scheduler.calls) == scheduled


@pytest.mark.parametrize("kind", ["enrich", "handoff"])
@pytest.mark.parametrize("retries", RETRY_COUNTS, ids=lambda v: repr(v[:8]))
def test_a_retry_count_header_that_is_not_a_count_is_400(app_and_doc, kind, retries):
    app, _ = app_and_doc
    # handoff reads the header when its post is missing; enrich always reads it
    response = _task(app, kind, {}, "f" * 40, {"X-CloudTasks-TaskRetryCount": retries})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "X-CloudTasks-TaskRetryCount" in response.get_json()["error"]


@pytest.mark.parametrize("kind", ["due", "warning", "handoff", "enrich"])
def test_well_formed_tasks_still_run(app_and_doc, kind):
    app, doc_id = app_and_doc
    response = _task(app, kind, {}, doc_id, {"X-CloudTasks-TaskRetryCount": "0"})
    assert response.status_code < 400, response.get_data(as_text=True)
