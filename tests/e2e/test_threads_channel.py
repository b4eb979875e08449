"""Threads end to end: the real threads_webhook under functions-framework over HTTP, against the
Firestore and Cloud Tasks emulators, with handoffs as public pointer replies through the fake
Threads API. Bodies follow Meta's documented samples (tests/fixtures/threads/documented)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import deliveries
from tests.alert_proof import doc_id_of, wait_until_no_tasks
from tests.stack_fixtures import CREDENTIALS, tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

BRAND = CREDENTIALS.threads_id
ROOT = "17900000000000500"  # the brand's post the customers reply to
PRIVATE_CHANNEL = "per Direktnachricht an @telekom_hilft auf Instagram"  # tests/fixtures/policy/e2e.toml


def stamp(shift: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=shift)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def body(field: str, value: dict[str, Any], *, topic: str = "moderate", target: str = BRAND) -> bytes:
    return deliveries.threads_delivery(field, value, datetime.now(UTC), topic=topic, target_id=target)


def reply(post_id: str, text: str, *, username: str = "kundin_anna", to: str = ROOT, shift: float = 0.0) -> bytes:
    return body("replies", {"id": post_id, "username": username, "text": text, "media_type": "TEXT_POST",
                            "permalink": f"https://www.threads.net/@{username}/post/Pp{post_id[-4:]}",
                            "replied_to": {"id": to}, "shortcode": "Pp",
                            "root_post": {"id": ROOT, "owner_id": BRAND, "username": "telekom_hilft"},
                            "timestamp": stamp(shift)})


def post(e2e, raw: bytes, *, signature: str | None = "valid", secret: str = CREDENTIALS.threads_secret) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers[deliveries.HUB_SIGNATURE_HEADER] = deliveries.hub_signature(raw, secret)
    elif signature is not None:
        headers[deliveries.HUB_SIGNATURE_HEADER] = signature
    return e2e.http.post(e2e.url("threads_webhook"), content=raw, headers=headers)


def handoffs(e2e) -> list[dict[str, Any]]:
    return [d.to_dict() for d in e2e.db.collection("handoffs").stream()]


def test_subscription_check_echoes_the_challenge_for_the_threads_token_only(e2e):
    url = e2e.url("threads_webhook")
    ok = e2e.http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": CREDENTIALS.threads_verify,
                                   "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444" and ok.headers["content-type"].startswith("text/plain")
    for token in ("nope", CREDENTIALS.meta_verify):  # the Page app's token is not the Threads app's
        wrong = e2e.http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"})
        assert wrong.status_code == 403


@pytest.mark.parametrize("field", ["replies", "mentions"])
def test_a_customer_post_gets_the_promise_and_is_alerted_when_overdue(e2e, field):
    # One post id per case: a task name Cloud Tasks has seen stays taken after deletion.
    post_id = "17900000000000901" if field == "replies" else "17900000000000911"
    if field == "replies":
        raw = reply(post_id, "Seit gestern kein Netz in Köln")
    else:
        raw = body("mentions", {"id": post_id, "username": "kundin_anna", "is_reply": False,
                                "text": "@telekom_hilft seit gestern kein Netz", "timestamp": stamp(),
                                "media_type": "TEXT_POST", "permalink": "https://www.threads.net/@kundin_anna/post/Pp"},
                   topic="interaction")
    answer = post(e2e, raw)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    doc = e2e.mention("threads", post_id)
    assert doc["status"] == "open" and doc["platform"] == "threads" and doc["author_handle"] == "kundin_anna"
    assert doc["due_at"] - doc["created_at"] <= timedelta(seconds=6)
    overdue = e2e.wait(lambda: (d := e2e.mention("threads", post_id) or {})
                       .get("alerts", {}).get("1", {}).get("state") == "sent" and d, timeout=25,
                       what="the overdue alert")
    assert overdue["status"] == "overdue"
    alerts = [m for m in e2e.fakes.webhook.messages if m.get("platform") == "threads" and m.get("level") == 1]
    assert len(alerts) == 1 and alerts[0]["post_id"] == post_id


@pytest.mark.parametrize("how", ["reply_in_thread", "publish"])
def test_a_brand_reply_stops_the_clock(e2e, tasks_client, how):
    customer, brand = ("17900000000000902", "17900000000000903") if how == "publish" else \
        ("17900000000000912", "17900000000000913")
    assert post(e2e, reply(customer, "Router blinkt rot")).json()["stored"] == 1
    assert tasks_of(tasks_client, "threads", customer)  # the promise's tasks are queued
    if how == "reply_in_thread":
        answer = reply(brand, "Wir schauen nach!", username="telekom_hilft", to=customer, shift=1)
    else:
        # Meta's documented publish payload (fixtures/threads/documented/publish.json): no replied_to.
        # The brand answered in the Threads app; only reading the post back says what it answers.
        e2e.fakes.threads.add_brand_reply(brand, replied_to=customer, text="Wir schauen nach!", timestamp=stamp(1))
        answer = body("publish", {"id": brand, "media_type": "TEXT_POST", "username": "telekom_hilft",
                                  "timestamp": stamp(1),
                                  "permalink": "https://www.threads.net/@telekom_hilft/post/Qq"}, topic="interaction")
    result = post(e2e, answer).json()
    assert result["brand"] == 1
    doc = e2e.wait(lambda: (d := e2e.mention("threads", customer) or {}).get("status") == "answered" and d,
                   timeout=15, what="the brand's reply stopping the clock")
    assert doc["answered_by"] == "telekom_hilft"
    assert e2e.mention("threads", brand) is None  # the brand's own reply is no item
    e2e.wait(lambda: not tasks_of(tasks_client, "threads", customer), timeout=10,
             what="the answered post's tasks deleted")
    # "still broken" under the brand's answer is addressed to the brand: a new promise
    follow_up = str(int(brand) + 100)
    assert post(e2e, reply(follow_up, "Immer noch kaputt", to=brand, shift=2)).json()["stored"] == 1
    assert e2e.mention("threads", follow_up)["status"] == "open"


def test_pii_is_handed_off_as_one_public_pointer_reply_and_never_a_dm(e2e, tasks_client):
    raw = reply("17900000000000904", "Ruft mich an: 0171 2345678, seit Tagen kein Internet!")
    for _ in range(3):  # Meta resends until it gets a 200
        assert post(e2e, raw).status_code == 200
    doc = e2e.mention("threads", "17900000000000904")
    assert "2345678" not in doc["text"] and doc["pii_kinds"] == ["phone"]
    e2e.wait(lambda: (e2e.mention("threads", "17900000000000904") or {}).get("status") == "handed_off",
             timeout=20, what="the handoff")
    # The handoff task publishes in its own request and leaves the queue only after answering 2xx.
    wait_until_no_tasks(tasks_client, doc_id_of("17900000000000904", "threads"), {"handoff"})
    published = e2e.fakes.threads.published
    assert len(published) == 1
    pointer = published[0]
    assert pointer.reply_to_id == "17900000000000904"
    assert PRIVATE_CHANNEL in pointer.text and "2345678" not in pointer.text and "0171" not in pointer.text
    assert e2e.fakes.x.dms == [] and e2e.fakes.graph.private_replies == [] and e2e.fakes.graph.messages == []
    records = handoffs(e2e)
    assert len(records) == 1
    record = records[0]
    assert record["state"] == "sent" and record["status"] == "public_pointer"
    assert record["public_reply_id"] == pointer.id and not record.get("dm_id")
    assert record["case_ref"] not in pointer.text  # said in DMs only: anyone can read a public reply


def test_a_customer_who_deletes_their_reply_is_forgotten_by_the_poll_run(e2e, tasks_client):
    """Meta sends ``delete`` only for the brand's own posts: a customer's deletion reaches hilft only
    through poll's check, which asks Threads (GET /{threads-media-id}) about stored posts."""
    from tests.e2e.test_poll_channels import run_poll

    customer = "17900000000000905"
    e2e.fakes.threads.add_reply(customer, text="Router blinkt rot seit Montag")  # Threads has the reply
    assert post(e2e, reply(customer, "Router blinkt rot seit Montag")).json()["stored"] == 1
    run_poll(e2e, tasks_client, e2e.url("poll"))  # still there: nothing is forgotten
    assert e2e.mention("threads", customer)["status"] == "open"
    e2e.fakes.threads.delete_post(customer)  # the customer deletes it; no webhook says so
    run_poll(e2e, tasks_client, e2e.url("poll"))
    doc = e2e.mention("threads", customer)
    assert doc["status"] == "deleted" and doc["text"] == "" and doc["author_handle"] is None
    asked = [r for r in e2e.fakes.threads.requests if r.method == "GET" and r.path.endswith(f"/{customer}")]
    assert len(asked) == 2 and all(r.header("authorization") == f"Bearer {CREDENTIALS.threads_token}"
                                   for r in asked)
    e2e.wait(lambda: not tasks_of(tasks_client, "threads", customer), timeout=10,
             what="the deleted post's tasks cancelled")


def test_a_redelivered_or_concurrently_delivered_event_yields_one_document(e2e, tasks_client):
    from concurrent.futures import ThreadPoolExecutor

    raw = reply("17900000000000906", "Kein LTE seit Montag")
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: post(e2e, raw), range(5)))
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json()["stored"] for a in answers) == 1
    assert post(e2e, raw).json()["duplicates"] == 1
    assert [d["post_id"] for d in e2e.mentions()] == ["17900000000000906"]
    assert sorted(json.loads(t.http_request.body)["kind"] for t in tasks_of(tasks_client, "threads",
                                                                            "17900000000000906")) == ["due", "warning"]


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc"])
def test_a_wrong_or_missing_signature_is_401_and_stores_nothing(e2e, signature):
    assert post(e2e, reply("17900000000000907", "kein Netz"), signature=signature).status_code == 401
    assert e2e.mentions() == []


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"app_id": "1"}',
                                 b'{"app_id":"1","topic":"moderate","target_id":"2","time":1,'
                                 b'"values":{"field":"replies","value":{"text":"no id"}}}'])
def test_a_malformed_body_is_400_and_stores_nothing(e2e, raw):
    assert post(e2e, raw).status_code == 400
    assert e2e.mentions() == []


def test_an_oversize_body_is_413_and_stores_nothing(e2e):
    raw = reply("17900000000000908", "x" * (1024 * 1024 + 10))
    assert post(e2e, raw).status_code == 413
    assert e2e.mentions() == []


def test_ignored_fields_are_counted(e2e):
    result = post(e2e, body("quotes", {"id": "1"}, topic="interaction")).json()
    assert result["ignored"] == 1 and result["stored"] == 0
