"""The foundation's promise: a real HTTP request into a function under functions-framework
writes Firestore (emulator), creates a named task (emulator) that is dispatched back over HTTP
to another function at its schedule_time; the same task name again is ALREADY_EXISTS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.api_core.exceptions import AlreadyExists

from tests.e2e.builders import aaa_tweet
from tests.e2e.conftest import fresh, tasks_of, x_fixture

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


def test_mention_is_stored_scheduled_and_its_deadline_task_comes_back(e2e, tasks_client):
    # A fresh post id: task names stay reserved for an hour after earlier tests purged them.
    post_id, body = aaa_tweet("Seit heute früh kein Internet, der Speedport blinkt nur rot.")
    response = e2e.post_x(body)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1

    docs = e2e.mentions()
    assert len(docs) == 1
    doc = docs[0]
    assert doc["platform"] == "x" and doc["status"] == "open"
    assert doc["due_at"] > doc["received_at"]

    from stack import QUEUE

    tasks = tasks_of(tasks_client, "x", post_id)
    assert len(tasks) == 2  # warning + due
    # The same name again is refused: this is what makes redelivery harmless.
    existing = tasks[0]
    with pytest.raises(AlreadyExists):
        tasks_client.create_task(parent=QUEUE, task={"name": existing.name, "http_request": {
            "url": e2e.url("deadline"), "http_method": "POST"}})

    # The due task is dispatched back over HTTP to `deadline` at its time (5 s policy).
    doc = e2e.wait(lambda: (d := e2e.mentions()[0]).get("alerts", {}).get("1", {}).get("state") == "sent" and d,
                   timeout=20, what="the overdue alert to be recorded as sent")
    assert doc["status"] == "overdue"
    assert datetime.now(UTC) >= doc["due_at"]
    assert doc["alerts"]["1"]["state"] == "sent"
    assert e2e.fakes.slack.accepted, "the overdue alert reached Slack"


def test_duplicate_delivery_creates_one_document(e2e):
    body = fresh(x_fixture("aaa_mention.json"))
    answers = [e2e.post_x(body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    # The webhook answers after its write: what each delivery did is in its answer, and final.
    assert [(a.json()["stored"], a.json()["duplicates"]) for a in answers] == [(1, 0), (0, 1), (0, 1)]
    assert len(e2e.mentions()) == 1
