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
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2

from tests.e2e.builders import aaa_tweet, brand_reply
from tests.e2e.conftest import tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

ALL_SINKS = ("google_chat", "pagerduty", "slack", "webhook")
WARNING_SINKS = ("google_chat", "slack")
ALERTING_KINDS = frozenset({"warning", "due", "escalate"})
REALERT = timedelta(seconds=3)  # the e2e policy's realert_every (and its level-2 ladder step)
_SLACK_CONTEXT = re.compile(r"level (\d+) · post (\S+)$")


@dataclass(frozen=True)
class Delivery:
    """One alert (trigger) a sink accepted: which sink, which level, when the fake read it."""

    sink: str
    level: int
    received_at: float  # epoch seconds


def doc_id_of(post_id: str, platform: str = "x") -> str:
    from hilft.core.ids import mention_doc_id

    return mention_doc_id(platform, post_id)


def _slack_level(body: dict[str, Any], post_id: str) -> int | None:
    """Slack's trigger carries ``hilft · level N · post P`` in its context block."""
    for block in body.get("blocks") or []:
        if block.get("type") != "context":
            continue
        for element in block.get("elements") or []:
            match = _SLACK_CONTEXT.search(str(element.get("text", "")))
            if match and match.group(2) == post_id:
                return int(match.group(1))
    return None


def _level(sink: str, body: Any, post_id: str, doc_id: str) -> int | None:
    """The level of a trigger about this post, read the way that sink's message carries it."""
    if not isinstance(body, dict):
        return None
    key = f"hilft-{doc_id}"
    if sink == "slack":
        return _slack_level(body, post_id)
    if sink == "google_chat":
        cards = body.get("cardsV2") or []
        if (body.get("thread") or {}).get("threadKey") != key or not cards:
            return None  # another post, or a resolve/acknowledge note
        return int(cards[0]["cardId"].rsplit("-", 1)[1])
    if sink == "pagerduty":
        if body.get("event_action") != "trigger" or body.get("dedup_key") != key:
            return None
        return int(body["payload"]["custom_details"]["level"])
    if body.get("event") != "triggered" or body.get("doc_id") != doc_id:  # the generic webhook
        return None
    return int(body["level"])


def fake_of(e2e, sink: str) -> Any:
    return {"slack": e2e.fakes.slack, "google_chat": e2e.fakes.chat, "pagerduty": e2e.fakes.pagerduty,
            "webhook": e2e.fakes.webhook}[sink]


def deliveries(e2e, post_id: str, platform: str = "x") -> list[Delivery]:
    """Every alert about one post that any sink accepted."""
    doc_id = doc_id_of(post_id, platform)
    found = []
    for sink in ALL_SINKS:
        for request in list(fake_of(e2e, sink).accepted):
            level = _level(sink, request.json(), post_id, doc_id)
            if level is not None:
                found.append(Delivery(sink, level, request.received_at))
    return found


def per_sink(e2e, post_id: str, level: int) -> Counter:
    """How many alerts of one level about one post each sink accepted."""
    return Counter(d.sink for d in deliveries(e2e, post_id) if d.level == level)


def once_each(*sinks: str) -> Counter:
    return Counter(dict.fromkeys(sinks, 1))


def alerted(e2e, post_id: str, level: int):
    def check():
        doc = e2e.mention("x", post_id) or {}
        return doc if (doc.get("alerts") or {}).get(str(level), {}).get("state") == "sent" else None
    return check


def task_kind(task: Any) -> str | None:
    return json.loads(task.http_request.body).get("kind")


def wait_until_no_tasks(e2e, tasks_client, post_id: str, kinds: frozenset[str] | set[str],
                        timeout: float = 20.0) -> None:
    """Wait until no task of these kinds is queued for the post: each ran to a 2xx or was deleted.

    Cloud Tasks deletes a task only once its handler answered 2xx, so after this every alert those
    tasks could send has been received (a retry stays queued until it succeeds).
    """
    e2e.wait(lambda: not [t for t in tasks_of(tasks_client, "x", post_id) if task_kind(t) in kinds],
             timeout=timeout, what=f"the post's {'/'.join(sorted(kinds))} tasks to finish")


def wait_until_task_done(e2e, tasks_client, name: str, timeout: float = 20.0) -> None:
    def gone() -> bool:
        try:
            tasks_client.get_task(name=name)
        except gexc.NotFound:
            return True
        return False
    e2e.wait(gone, timeout=timeout, what=f"task {name.rsplit('/', 1)[-1]} to finish")


def due_at_of(e2e, post_id: str) -> datetime:
    return e2e.mention("x", post_id)["due_at"]


def later_post_escalated_past(e2e, moment: datetime) -> str:
    """Proof of absence by a later event that must happen.

    A fresh post (no PII, no department: it is alerted, not handed off) is escalated at its due
    time plus one re-alert step; that moment lies at least 3 s after ``moment``. Deadline tasks are
    dispatched in due order, never early, so anything due at ``moment`` was dispatched seconds
    before this alert, which is waited for. Returns the later post's id.
    """
    post_id, body = aaa_tweet("Kein Empfang in der Bahn, schon wieder.")
    assert e2e.post_x(body).status_code == 200
    level = 1
    while due_at_of(e2e, post_id) + REALERT * (level - 1) < moment + REALERT:
        level += 1
    assert level <= 3, "the later post cannot escalate far enough past that moment"
    e2e.wait(lambda: per_sink(e2e, post_id, level)["webhook"] >= 1, timeout=25,
             what=f"the later post's level-{level} alert")
    return post_id


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
    wait_until_no_tasks(e2e, tasks_client, post_id, ALERTING_KINDS)  # no level 4: max_level is 3
    assert per_sink(e2e, post_id, 0) == once_each(*WARNING_SINKS)
    for level in (1, 2, 3):
        assert per_sink(e2e, post_id, level) == once_each(*ALL_SINKS), f"level {level}"
    assert {d.level for d in deliveries(e2e, post_id)} == {0, 1, 2, 3}
    assert e2e.fakes.pagerduty.history[f"hilft-{doc_id}"] == ["trigger"] * 3


def test_answered_before_due_means_no_alert_and_no_pending_tasks(e2e, tasks_client):
    post_id, body = aaa_tweet("Router startet ständig neu.")
    assert e2e.post_x(body).status_code == 200
    due_at = due_at_of(e2e, post_id)
    _, reply = brand_reply(post_id, "1472583690")
    assert e2e.post_x(reply).json()["answered"] == 1
    assert tasks_of(tasks_client, "x", post_id) == []
    later_post_escalated_past(e2e, due_at)
    assert deliveries(e2e, post_id) == []
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
    wait_until_no_tasks(e2e, tasks_client, post_id, {"due"})  # all three deliveries answered 2xx
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)


def test_sink_failing_twice_then_accepting_delivers_exactly_one_alert(e2e, tasks_client):
    e2e.fakes.pagerduty.fail_next(2, 500)
    post_id, body = aaa_tweet("Mobilfunk-Empfang in Köln weg!")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 1), timeout=20, what="the overdue alert")
    wait_until_no_tasks(e2e, tasks_client, post_id, {"due"})
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
    wait_until_no_tasks(e2e, tasks_client, post_id, {"due"})
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
    wait_until_no_tasks(e2e, tasks_client, post_id, ALERTING_KINDS)
    assert per_sink(e2e, post_id, 1) == once_each(*ALL_SINKS)
    assert {d.level for d in deliveries(e2e, post_id)} == {0, 1}
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
    assert deliveries(e2e, post_id) == [], "without its tasks, nothing alerts the post until the sweep"
    # Cloud Scheduler's call, with its OIDC identity, played by the Tasks emulator.
    sweep = tasks_client.create_task(parent=QUEUE, task={"http_request": {
        "url": e2e.url("sweep"), "http_method": tasks_v2.HttpMethod.POST,
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": e2e.url("sweep")}}})
    doc = e2e.wait(alerted(e2e, post_id, 1), timeout=15, what="the sweep's overdue alert")
    assert doc["status"] == "overdue"
    wait_until_task_done(e2e, tasks_client, sweep.name)  # the sweep alerts in its own request
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
