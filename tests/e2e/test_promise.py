"""The promise end to end: deadline tasks fire at the due second, alerts reach every sink once,
escalation, acknowledgement, auto-resolve, and the sweep as the backstop for lost tasks.

The e2e policy promises 5 s, warns 2 s before, re-alerts every 3 s up to level 3.

Every count is scoped to one post and one level, read from what each sink accepted. "Nothing
more came" is proven by waiting for an event that must come later, never by sleeping: the post's
deadline tasks leaving the queue (Cloud Tasks deletes a task only after its handler answered 2xx,
so every alert that task sends has arrived), or a later post's escalation.
"""

from __future__ import annotations

import json
import time

import pytest
from google.cloud import tasks_v2

from tests.alert_proof import (
    ALL_SINKS,
    alerted,
    alerts_about,
    doc_id_of,
    due_at_of,
    once_each,
    per_sink,
    task_kind,
    wait_until_no_tasks,
    wait_until_task_done,
)
from tests.e2e.alerting import ALERTING_KINDS, WARNING_SINKS, later_post_escalated_past
from tests.e2e.builders import aaa_tweet, brand_reply
from tests.e2e.conftest import tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


# -- tests ------------------------------------------------------------------------------------------


def test_unanswered_post_warns_then_alerts_every_sink_then_escalates(e2e, tasks_client):
    post_id, body = aaa_tweet("Seit drei Tagen kein UMTS-Empfang in Bonn, was ist da los?")
    assert e2e.post_x(body).status_code == 200
    doc_id = doc_id_of(post_id)

    warned = e2e.wait(alerted(e2e, post_id, 0), timeout=15, what="the warning")
    assert warned["status"] == "open"
    assert sorted(warned["alerts"]["0"]["sinks_sent"]) == list(WARNING_SINKS)

    overdue = e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    assert overdue["status"] == "overdue"
    assert sorted(overdue["alerts"]["1"]["sinks_sent"]) == list(ALL_SINKS)
    chat_threads = {m["thread"]["threadKey"] for m in e2e.fakes.chat.messages}
    assert chat_threads == {f"hilft-{doc_id}"}, "escalations of one post stay in one Chat thread"

    e2e.wait(alerted(e2e, post_id, 2), timeout=15, what="the escalation to level 2")
    e2e.wait(alerted(e2e, post_id, 3), timeout=15, what="the escalation to level 3, the last")
    wait_until_no_tasks(tasks_client, doc_id_of(post_id), ALERTING_KINDS)  # no level 4: max_level is 3
    assert per_sink(e2e, post_id, 0) == once_each(*WARNING_SINKS)
    for level in (1, 2, 3):
        assert per_sink(e2e, post_id, level) == once_each(*ALL_SINKS), f"level {level}"
    assert {d.level for d in alerts_about(e2e, post_id)} == {0, 1, 2, 3}
    assert e2e.fakes.pagerduty.history[f"hilft-{doc_id}"] == ["trigger"] * 3


def test_answered_before_due_means_no_alert_and_no_pending_tasks(e2e, tasks_client):
    post_id, body = aaa_tweet("Router startet ständig neu.")
    assert e2e.post_x(body).status_code == 200
    due_at = due_at_of(e2e, post_id)
    _, reply = brand_reply(post_id, "1472583690")
    assert e2e.post_x(reply).json()["answered"] == 1
    assert tasks_of(tasks_client, "x", post_id) == []
    later_post_escalated_past(e2e, due_at)
    assert alerts_about(e2e, post_id) == []
    assert e2e.mention("x", post_id)["status"] == "answered"


def test_answer_after_breach_resolves_the_pagerduty_incident(e2e):
    post_id, body = aaa_tweet("Festnetz tot seit heute Morgen.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    time.sleep(1.1)  # X timestamps have whole seconds: the reply must be dated after the breach
    _, reply = brand_reply(post_id, "1472583690")
    assert e2e.post_x(reply).json()["answered"] == 1
    dedup = f"hilft-{doc_id_of(post_id)}"
    e2e.wait(lambda: e2e.fakes.pagerduty.state(dedup) == "resolved", timeout=15, what="PagerDuty resolve")
    doc = e2e.mention("x", post_id)
    assert doc["status"] == "answered" and doc["breached"] is True


def test_a_task_delivered_three_times_alerts_once(e2e, tasks_client):
    from stack import QUEUE

    post_id, body = aaa_tweet("Hotspot-Login klappt nicht.")
    assert e2e.post_x(body).status_code == 200
    tasks = tasks_of(tasks_client, "x", post_id)
    due_task = next(t for t in tasks if task_kind(t) == "due")
    for copy in range(2):  # two more deliveries of the very same task body at the same time
        tasks_client.create_task(parent=QUEUE, task={
            "name": f"{QUEUE}/tasks/redelivery-{copy}-{post_id}",
            "schedule_time": due_task.schedule_time,
            "http_request": {"url": due_task.http_request.url, "http_method": tasks_v2.HttpMethod.POST,
                             "headers": dict(due_task.http_request.headers), "body": due_task.http_request.body,
                             "oidc_token": {"service_account_email": due_task.http_request.oidc_token.service_account_email,
                                            "audience": due_task.http_request.oidc_token.audience}}})
    assert [task_kind(t) for t in tasks_of(tasks_client, "x", post_id)].count("due") == 3
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    wait_until_no_tasks(tasks_client, doc_id_of(post_id), {"due"})  # all three deliveries answered 2xx
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)


def test_sink_failing_twice_then_accepting_delivers_exactly_one_alert(e2e, tasks_client):
    e2e.fakes.pagerduty.fail_next(2, 500)
    post_id, body = aaa_tweet("Mobilfunk-Empfang in Köln weg!")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=20, what="the overdue alert")
    wait_until_no_tasks(tasks_client, doc_id_of(post_id), {"due"})
    key = f"hilft-{doc_id_of(post_id)}"
    tried = [r for r in list(e2e.fakes.pagerduty.requests) if r.json().get("dedup_key") == key
             and r.json().get("payload", {}).get("custom_details", {}).get("level") == 1]
    assert len(tried) == 3, "two refused attempts, then the accepted one"
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)


def test_sink_down_longer_than_one_delivery_is_retried_by_cloud_tasks_without_duplicates(e2e, tasks_client):
    e2e.fakes.pagerduty.fail_next(5, 503)  # more than the sink's in-process attempts: the task must retry
    post_id, body = aaa_tweet("MagentaTV ruckelt beim Fußball.")
    assert e2e.post_x(body).status_code == 200
    doc = e2e.wait(alerted(e2e, post_id, 1), timeout=30, what="the overdue alert after task retries")
    assert "pagerduty" in doc["alerts"]["1"]["sinks_sent"]
    wait_until_no_tasks(tasks_client, doc_id_of(post_id), {"due"})
    # The sinks that accepted on the first delivery are not sent again by the retried task.
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)


def test_acknowledged_post_is_not_realerted(e2e, tasks_client):
    post_id, body = aaa_tweet("Kein Netz im ICE, wie immer.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    response = e2e.staff("ack", {"platform": "x", "post_id": post_id})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "acknowledged"
    e2e.wait(lambda: e2e.fakes.pagerduty.state(f"hilft-{doc_id_of(post_id)}") == "acknowledged", timeout=10,
             what="PagerDuty acknowledge")
    # The level-2 task fires 3 s after due (or was cancelled): once it is gone, no re-alert can come.
    wait_until_no_tasks(tasks_client, doc_id_of(post_id), ALERTING_KINDS)
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)
    assert {d.level for d in alerts_about(e2e, post_id)} == {0, 1}
    assert e2e.mention("x", post_id)["acknowledged"] is True


def test_ack_requires_the_staff_token_and_one_of_our_document_ids(e2e):
    response = e2e.http.post(e2e.url("ack"), json={"doc_id": "x"})
    assert response.status_code == 401
    assert e2e.staff("ack", {"doc_id": "../handoffs/x"}).status_code == 400
    assert e2e.staff("ack", {"doc_id": "0" * 40}).status_code == 404


def test_deadline_rejects_calls_without_a_valid_oidc_token(e2e):
    assert e2e.http.post(e2e.url("deadline"), json={"kind": "due", "doc_id": "x"}).status_code == 401
    bad = e2e.http.post(e2e.url("deadline"), json={"kind": "due", "doc_id": "x"},
                        headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"})
    assert bad.status_code == 401


def test_lost_deadline_task_is_caught_by_the_sweep(e2e, tasks_client):
    from stack import QUEUE, SCHEDULER_SA

    post_id, body = aaa_tweet("DSL-Anschluss seit Umzug nicht geschaltet.")
    assert e2e.post_x(body).status_code == 200
    due_at = due_at_of(e2e, post_id)
    for task in tasks_of(tasks_client, "x", post_id):
        tasks_client.delete_task(name=task.name)  # the tasks are lost
    assert tasks_of(tasks_client, "x", post_id) == []
    later_post_escalated_past(e2e, due_at)  # also past the sweep's 1 s grace
    assert alerts_about(e2e, post_id) == [], "without its tasks, nothing alerts the post until the sweep"
    # Cloud Scheduler's call, with its OIDC identity, played by the Tasks emulator.
    sweep = tasks_client.create_task(parent=QUEUE, task={"http_request": {
        "url": e2e.url("sweep"), "http_method": tasks_v2.HttpMethod.POST,
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": e2e.url("sweep")}}})
    doc = e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the sweep's overdue alert")
    assert doc["status"] == "overdue"
    wait_until_task_done(tasks_client, sweep.name)  # the sweep alerts in its own request
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)


def test_acknowledging_in_pagerduty_acknowledges_the_post(e2e):
    import hashlib
    import hmac

    from tests.e2e.conftest import PD_WEBHOOK_SECRET

    post_id, body = aaa_tweet("Glasfaser-Termin schon zweimal verschoben.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    pd_event = json.dumps({"event": {"event_type": "incident.acknowledged", "resource_type": "incident",
                                     "data": {"type": "incident", "incident_key": f"hilft-{doc_id_of(post_id)}"}}})
    url = e2e.url("pagerduty_webhook")
    unsigned = e2e.http.post(url, content=pd_event, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert e2e.mention("x", post_id)["acknowledged"] is False
    signature = "v1=" + hmac.new(PD_WEBHOOK_SECRET.encode(), pd_event.encode(), hashlib.sha256).hexdigest()
    response = e2e.http.post(url, content=pd_event, headers={"Content-Type": "application/json",
                                                             "X-PagerDuty-Signature": signature})
    assert response.status_code == 200 and response.json()["outcome"] == "acknowledged"
    assert e2e.mention("x", post_id)["acknowledged_by"] == "pagerduty"
