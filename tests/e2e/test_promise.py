"""The promise end to end: deadline tasks fire at the due second, alerts reach every sink once,
escalation, acknowledgement, auto-resolve, and the sweep as the backstop for lost tasks.

The e2e policy promises 5 s, warns 2 s before, re-alerts every 3 s up to level 3."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from google.cloud import tasks_v2

from tests.e2e.builders import aaa_tweet, brand_reply
from tests.e2e.conftest import tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


def levels(e2e, doc_id: str) -> Counter:
    return Counter(m["level"] for m in e2e.fakes.webhook.messages
                   if m["doc_id"] == doc_id and m["event"] == "triggered")


def doc_id_of(post_id: str) -> str:
    from hilft.core.ids import mention_doc_id

    return mention_doc_id("x", post_id)


def alerted(e2e, post_id: str, level: int):
    def check():
        doc = e2e.mention("x", post_id) or {}
        return doc if (doc.get("alerts") or {}).get(str(level), {}).get("state") == "sent" else None
    return check


def test_unanswered_post_warns_then_alerts_every_sink_then_escalates(e2e):
    post_id, body = aaa_tweet("Seit drei Tagen kein UMTS-Empfang in Bonn, was ist da los?")
    assert e2e.post_x(body).status_code == 200
    doc_id = doc_id_of(post_id)

    warned = e2e.wait(alerted(e2e, post_id, 0), timeout=15, what="the warning")
    assert warned["status"] == "open"
    assert sorted(warned["alerts"]["0"]["sinks_sent"]) == ["google_chat", "slack"]

    overdue = e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    assert overdue["status"] == "overdue"
    assert sorted(overdue["alerts"]["1"]["sinks_sent"]) == ["google_chat", "pagerduty", "slack", "webhook"]
    pd = [m for m in e2e.fakes.pagerduty.messages if m["event_action"] == "trigger"]
    assert pd and pd[0]["dedup_key"] == f"hilft-{doc_id}"
    chat_threads = {m["thread"]["threadKey"] for m in e2e.fakes.chat.messages}
    assert chat_threads == {f"hilft-{doc_id}"}, "escalations of one post stay in one Chat thread"

    e2e.wait(alerted(e2e, post_id, 2), timeout=15, what="the escalation to level 2")
    assert levels(e2e, doc_id)[1] == 1 and levels(e2e, doc_id)[2] == 1


def test_answered_before_due_means_no_alert_and_no_pending_tasks(e2e, tasks_client):

    post_id, body = aaa_tweet("Router startet ständig neu.")
    assert e2e.post_x(body).status_code == 200
    _, reply = brand_reply(post_id, "1472583690")
    assert e2e.post_x(reply).status_code == 200
    assert tasks_of(tasks_client, "x", post_id) == []
    time.sleep(6.5)
    assert e2e.fakes.slack.messages == [] and e2e.fakes.pagerduty.messages == []
    assert e2e.mention("x", post_id)["status"] == "answered"


def test_answer_after_breach_resolves_the_pagerduty_incident(e2e):
    post_id, body = aaa_tweet("Festnetz tot seit heute Morgen.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    time.sleep(1.1)  # X timestamps have whole seconds
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
    due_task = next(t for t in tasks if json.loads(t.http_request.body)["kind"] == "due")
    for copy in range(2):  # two more deliveries of the very same task body at the same time
        tasks_client.create_task(parent=QUEUE, task={
            "name": f"{QUEUE}/tasks/redelivery-{copy}-{post_id}",
            "schedule_time": due_task.schedule_time,
            "http_request": {"url": due_task.http_request.url, "http_method": tasks_v2.HttpMethod.POST,
                             "headers": dict(due_task.http_request.headers), "body": due_task.http_request.body,
                             "oidc_token": {"service_account_email": due_task.http_request.oidc_token.service_account_email,
                                            "audience": due_task.http_request.oidc_token.audience}}})
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    time.sleep(1.0)
    assert levels(e2e, doc_id_of(post_id))[1] == 1
    assert sum(1 for m in e2e.fakes.pagerduty.messages if m["event_action"] == "trigger") == 1


def test_sink_failing_twice_then_accepting_delivers_exactly_one_alert(e2e):
    e2e.fakes.pagerduty.fail_next(2, 500)
    post_id, body = aaa_tweet("Mobilfunk-Empfang in Köln weg!")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=20, what="the overdue alert")
    triggers = [m for m in e2e.fakes.pagerduty.messages if m["event_action"] == "trigger"
                and m["dedup_key"] == f"hilft-{doc_id_of(post_id)}"]
    assert len(triggers) == 1
    assert levels(e2e, doc_id_of(post_id))[1] == 1


def test_sink_down_longer_than_one_delivery_is_retried_by_cloud_tasks_without_duplicates(e2e):
    e2e.fakes.pagerduty.fail_next(5, 503)  # more than the sink's in-process attempts: the task must retry
    post_id, body = aaa_tweet("MagentaTV ruckelt beim Fußball.")
    assert e2e.post_x(body).status_code == 200
    doc = e2e.wait(alerted(e2e, post_id, 1), timeout=30, what="the overdue alert after task retries")
    assert "pagerduty" in doc["alerts"]["1"]["sinks_sent"]
    assert levels(e2e, doc_id_of(post_id))[1] == 1, "the webhook sink got level 1 once despite the retries"
    slack_for_post = [m for m in e2e.fakes.slack.messages if post_id in json.dumps(m)]
    assert len(slack_for_post) >= 1


def test_acknowledged_post_is_not_realerted(e2e):
    post_id, body = aaa_tweet("Kein Netz im ICE, wie immer.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the overdue alert")
    response = e2e.staff("ack", {"platform": "x", "post_id": post_id})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "acknowledged"
    e2e.wait(lambda: e2e.fakes.pagerduty.state(f"hilft-{doc_id_of(post_id)}") == "acknowledged", timeout=10,
             what="PagerDuty acknowledge")
    time.sleep(4.5)  # beyond realert_every
    assert levels(e2e, doc_id_of(post_id))[2] == 0
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
    for task in tasks_of(tasks_client, "x", post_id):
        tasks_client.delete_task(name=task.name)  # the tasks are lost
    time.sleep(7)
    assert e2e.fakes.webhook.messages == []
    # Cloud Scheduler's call, with its OIDC identity, played by the Tasks emulator.
    tasks_client.create_task(parent=QUEUE, task={"http_request": {
        "url": e2e.url("sweep"), "http_method": tasks_v2.HttpMethod.POST,
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": e2e.url("sweep")}}})
    doc = e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the sweep's overdue alert")
    assert doc["status"] == "overdue"
    assert levels(e2e, doc_id_of(post_id))[1] == 1


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
