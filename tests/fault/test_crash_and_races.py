"""A crash between enqueueing the deadline and committing the post; concurrent identical
deliveries; a brand reply that arrives before the post it answers. One private stack for the
module, wiped before each test; the policy promises 6 s."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest

import deliveries
from rig import X_CLIENT_SECRET, PolicySpec, Rig, firestore_client, x_brand_reply, x_mention
from tests.alert_proof import (
    alerts_about,
    due_at_of,
    later_post_alerted_past,
    wait_until_no_tasks,
    wait_until_task_done,
)
from tests.fault.helpers import log_dir, overdue_alerts, pagerduty_triggers, require_emulators, run_sweep, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.emulator, pytest.mark.timeout(120)]

PROMISE_SECONDS = 6
# A later post is alerted at least this long after a moment in question: anything due then ran before.
ORDER_MARGIN = timedelta(seconds=2)
POLICY = PolicySpec(promise=f"{PROMISE_SECONDS}s", warning_before="2s", max_level=1,
                    ladder_sinks=("webhook", "pagerduty"), warning_sinks=("slack",))


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    require_emulators()
    with Rig(targets=("x_webhook", "deadline", "sweep"), policy=POLICY, log_dir=log_dir("crash_and_races")) as rig:
        yield rig


@pytest.fixture
def clean(rig: Rig) -> Rig:
    rig.reset()
    return rig


def doc_id(post_id: str) -> str:
    from hilft.core.ids import mention_doc_id

    return mention_doc_id("x", post_id)


def tasks_of(rig: Rig, document: str) -> list[str]:
    """Names of queued tasks whose payload is about this document."""
    from google.cloud import tasks_v2

    from stack import QUEUE

    tasks = rig.tasks.list_tasks(request={"parent": QUEUE, "response_view": tasks_v2.Task.View.FULL})
    return [t.name for t in tasks if document.encode() in t.http_request.body]


# -- a crash between enqueue and commit ------------------------------------------------------------


class Crash(BaseException):
    """The instance died here (BaseException: no handler in the function may swallow it)."""


class CrashBeforeCommit:
    """The Firestore adapter, except that the instance dies instead of creating a mention."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        if collection == "mentions":
            raise Crash(doc_id)
        return bool(self.inner.create(collection, doc_id, data))


def deliver_and_crash(rig: Rig, body: bytes) -> None:
    """One delivery into an in-process instance that dies after scheduling, before committing."""
    from hilft import handlers
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.app import App

    app = App(rig.function_settings())
    client = firestore_client(rig.stack.firestore_host)
    app.store = CrashBeforeCommit(FirestoreStore("hilft-local", client_factory=lambda: client))
    headers = deliveries.x_headers(body, X_CLIENT_SECRET)
    with flask.Flask("crash").test_request_context("/", method="POST", data=body, headers=headers):
        with pytest.raises(Crash):
            handlers.x_webhook(app, flask.request)


def test_crash_after_enqueue_then_redelivery_before_due_alerts_once(clean: Rig) -> None:
    post_id, body = x_mention("Kein Internet seit dem Gewitter.")
    deliver_and_crash(clean, body)
    assert clean.mention_count() == 0
    assert len(tasks_of(clean, doc_id(post_id))) == 2, "warning and due were enqueued before the crash"

    response = clean.post_x(body)  # X redelivers: the crashed delivery got no 2xx
    assert response.status_code == 200 and response.json()["stored"] == 1
    assert len(tasks_of(clean, doc_id(post_id))) == 2, "the redelivery's tasks deduplicated by name"

    wait_for(lambda: overdue_alerts(clean)[doc_id(post_id)] and pagerduty_triggers(clean)[doc_id(post_id)],
             timeout=PROMISE_SECONDS + 15, what="the overdue alert")
    wait_until_no_tasks(clean.tasks, doc_id(post_id))  # warning and due ran to a 2xx: nothing more to come
    assert overdue_alerts(clean) == {doc_id(post_id): 1}
    assert pagerduty_triggers(clean) == {doc_id(post_id): 1}
    assert clean.mention_count() == 1


def test_crash_after_enqueue_then_redelivery_after_due_is_caught_by_the_sweep(clean: Rig) -> None:
    """The due task fires while the post is not stored yet and finds nothing; the redelivery's
    task names are taken, so only the sweep can alert it: once, late by up to its period."""
    post_id, body = x_mention("Hotline legt immer auf.")
    deliver_and_crash(clean, body)
    wait_for(lambda: not tasks_of(clean, doc_id(post_id)), timeout=PROMISE_SECONDS + 15,
             what="the due task to fire on a missing post")
    response = clean.post_x(body)
    assert response.status_code == 200 and response.json()["stored"] == 1
    # A task the redelivery might have queued would be due at once: a later post alerted at its own
    # due time proves none ran. Scoped counts, from here on (the later post is alerted too).
    later_post_alerted_past(clean, due_at_of(clean, post_id), new_post=x_mention, margin=ORDER_MARGIN)
    assert overdue_alerts(clean)[doc_id(post_id)] == 0, "nothing else alerts this post"
    assert pagerduty_triggers(clean)[doc_id(post_id)] == 0

    wait_until_task_done(clean.tasks, run_sweep(clean))
    assert overdue_alerts(clean)[doc_id(post_id)] == 1, "the sweep's alert"
    wait_until_task_done(clean.tasks, run_sweep(clean))  # a second sweep must not alert again
    assert overdue_alerts(clean)[doc_id(post_id)] == 1
    assert pagerduty_triggers(clean)[doc_id(post_id)] == 1


# -- races ------------------------------------------------------------------------------------------


def test_ten_concurrent_identical_deliveries_make_one_document_and_one_alert(clean: Rig) -> None:
    post_id, body = x_mention("Zehnmal dieselbe Zustellung.")
    barrier = threading.Barrier(10)
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def deliver() -> None:
        import httpx

        with httpx.Client(timeout=30) as client:
            barrier.wait()
            response = clean.post_x(body, client)
        with lock:
            answers.append({"status": response.status_code, **(response.json() if response.status_code == 200 else {})})

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a["status"] for a in answers] == [200] * 10
    assert sum(a["stored"] for a in answers) == 1 and sum(a["duplicates"] for a in answers) == 9
    assert clean.mention_count() == 1
    assert len(tasks_of(clean, doc_id(post_id))) == 2

    wait_for(lambda: overdue_alerts(clean)[doc_id(post_id)], timeout=PROMISE_SECONDS + 15, what="the overdue alert")
    wait_until_no_tasks(clean.tasks, doc_id(post_id))  # warning and due ran to a 2xx: nothing more to come
    assert overdue_alerts(clean) == {doc_id(post_id): 1}
    assert pagerduty_triggers(clean) == {doc_id(post_id): 1}


def test_brand_reply_delivered_before_its_post_marks_the_post_answered_and_nothing_alerts(clean: Rig) -> None:
    now = datetime.now(UTC)
    post_id, post = x_mention("Mein Vertrag wurde doppelt abgebucht?", at=now - timedelta(seconds=2))
    reply = x_brand_reply(post_id, at=now)
    assert clean.post_x(reply).status_code == 200
    answer = clean.post_x(post).json()
    assert answer["stored"] == 1 and answer["answered"] == 1

    snapshot = clean.db.collection("mentions").document(doc_id(post_id)).get().to_dict()
    assert snapshot["status"] == "answered"
    assert 0 <= snapshot["first_response_seconds"] <= 3
    # Its tasks were deleted when the post completed the answered stub; a later post alerted past
    # its due time proves none ran anyway (the later post's own alerts are not counted).
    assert tasks_of(clean, doc_id(post_id)) == []
    later_post_alerted_past(clean, snapshot["due_at"], new_post=x_mention, margin=ORDER_MARGIN)
    assert alerts_about(clean, post_id) == [], "no alert, not even a warning"
