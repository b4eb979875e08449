"""Bluesky and Mastodon end to end: the real ``poll`` entry point under functions-framework, called
as Cloud Scheduler calls it (an OIDC token for the scheduler's identity, here minted by the Cloud
Tasks emulator), against the fake Bluesky and Mastodon, with Firestore and Cloud Tasks emulators.

Per channel: mention, and a customer's reply to a brand post (on Bluesky also a quote) → promise →
overdue alert; the brand's native reply stops the clock; a post
with personal data is handed off by DM with a public note; a deleted post is forgotten; polling
again (also two overlapping runs) keeps one document. Direct messages: Mastodon's answered in
their thread; Bluesky's read from the chat log, answered in their conversation, handed off into
it, forgotten when deleted.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2

from tests.alert_proof import alerted
from tests.e2e.conftest import tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

CUSTOMER_DID = "did:plc:k7q3m2xw5vn4r6tb2yz3hc4a"
PHONE = "Ihr erreicht mich unter 0171 2345678, seit Tagen kein Internet!"


@pytest.fixture(scope="module")
def poll_url(hub: Any) -> Iterator[str]:
    """The stack's ``poll`` when it serves one; else started here like the stack starts a function."""
    from stack import FUNCTIONS_DIR, free_port

    if "poll" in hub.stack.procs:
        yield hub.stack.url("poll")
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**hub.stack.function_env(), "HILFT_POLL_URL": url, "PYTHONPATH": str(FUNCTIONS_DIR)}
    proc = hub.stack._spawn("poll", [sys.executable, "-m", "functions_framework", "--target", "poll", "--source",
                                     str(FUNCTIONS_DIR / "main.py"), "--host", "127.0.0.1", "--port", str(port)], env)
    import httpx

    from stack import wait_until

    wait_until(lambda: httpx.get(url + "/__ready", timeout=1).status_code < 600, 60, "function poll", proc)
    try:
        yield url
    finally:
        hub.stack.stop_one("poll")


def run_poll(e2e: Any, tasks_client: Any, poll_url: str, times: int = 1) -> None:
    """Call ``poll`` as Cloud Scheduler does (OIDC token, scheduler identity) and wait until each
    call answered 2xx (a 5xx leaves the task to be retried, and this wait fails)."""
    from stack import QUEUE, SCHEDULER_SA

    names = [tasks_client.create_task(parent=QUEUE, task={"http_request": {
        "url": poll_url, "http_method": tasks_v2.HttpMethod.POST,
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": poll_url}}}).name for _ in range(times)]
    for name in names:
        def gone(name: str = name) -> bool:
            try:
                tasks_client.get_task(name=name)
            except gexc.NotFound:
                return True
            return False
        e2e.wait(gone, timeout=30, what="the poll run to answer 2xx")


@dataclass
class Channel:
    platform: str

    def post(self, e2e: Any, text: str) -> str:
        if self.platform == "bluesky":
            sky = e2e.fakes.bluesky
            return str(sky.add_post(f"@{sky.handle} {text}", author_did=CUSTOMER_DID, handle="kabelsalat.bsky.social"))
        return str(e2e.fakes.mastodon.add_status("kabelsalat", f"@telkohilft {text}"))

    def brand_reply(self, e2e: Any, post_id: str) -> None:
        if self.platform == "bluesky":
            e2e.fakes.bluesky.add_brand_post("Wir sind dran, melden uns gleich.", reply_to=post_id)
        else:
            e2e.fakes.mastodon.add_brand_status("@kabelsalat Wir sind dran.", in_reply_to=post_id)

    def delete(self, e2e: Any, post_id: str) -> None:
        if self.platform == "bluesky":
            e2e.fakes.bluesky.delete_post(post_id)
        else:
            e2e.fakes.mastodon.delete_status(post_id)


CHANNELS = [pytest.param(Channel("bluesky"), id="bluesky"), pytest.param(Channel("mastodon"), id="mastodon")]


def test_poll_refuses_a_caller_without_the_schedulers_identity(e2e: Any, tasks_client: Any, poll_url: str) -> None:
    post_id = Channel("mastodon").post(e2e, "kein Netz")
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = e2e.http.post(poll_url, headers=headers)
        assert response.status_code == 401 and "Traceback" not in response.text
    assert e2e.mention("mastodon", post_id) is None
    run_poll(e2e, tasks_client, poll_url)  # the scheduler's call is what fetches it
    assert e2e.mention("mastodon", post_id) is not None


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_mention_gets_a_promise_and_goes_overdue(e2e: Any, tasks_client: Any, poll_url: str,
                                                   channel: Channel) -> None:
    post_id = channel.post(e2e, "seit gestern kein Internet in Kiel")
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention(channel.platform, post_id)
    assert doc is not None and doc["status"] == "open" and doc["kind"] == "mention"
    assert doc["due_at"] > doc["received_at"] and "kein Internet" in doc["text"]
    assert {t for t in (task_kind(t) for t in tasks_of(tasks_client, channel.platform, post_id))} >= {"due"}
    overdue = e2e.wait(alerted(e2e, post_id, 1, channel.platform), timeout=20, what="the overdue alert")
    assert overdue["status"] == "overdue"
    assert any(m.get("post_id") == post_id and m.get("platform") == channel.platform and m.get("level") == 1
               for m in e2e.fakes.webhook.messages)  # the signed webhook names the post and its channel


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_brands_native_reply_stops_the_clock(e2e: Any, tasks_client: Any, poll_url: str,
                                                 channel: Channel) -> None:
    answered = channel.post(e2e, "Router blinkt rot")
    channel.brand_reply(e2e, answered)  # written in the platform's own app, seen in the brand's posts
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention(channel.platform, answered)
    assert doc["status"] == "answered" and doc["answered_at"] is not None
    assert tasks_of(tasks_client, channel.platform, answered) == []
    # Proof of absence by something that must happen: a later, unanswered post goes overdue…
    later = channel.post(e2e, "und bei mir auch nicht")
    run_poll(e2e, tasks_client, poll_url)
    e2e.wait(alerted(e2e, later, 1, channel.platform), timeout=20, what="the later post's overdue alert")
    # …while the answered one, due earlier, never alerted.
    assert not (e2e.mention(channel.platform, answered).get("alerts") or {})


def test_a_mastodon_dm_answered_in_its_thread_stops_the_clock(e2e: Any, tasks_client: Any, poll_url: str) -> None:
    masto = e2e.fakes.mastodon
    dm = masto.add_status("kabelsalat", "@telkohilft bitte um Rückruf", visibility="direct")
    masto.add_brand_status("@kabelsalat Wir rufen heute an.", in_reply_to=dm, visibility="direct")
    run_poll(e2e, tasks_client, poll_url)  # stored from the notifications, answered from its thread
    doc = e2e.mention("mastodon", dm)
    assert doc["kind"] == "dm" and doc["status"] == "answered"
    assert tasks_of(tasks_client, "mastodon", dm) == []


def test_a_bluesky_dm_gets_a_promise_and_the_brands_answer_in_the_conversation_stops_the_clock(
        e2e: Any, tasks_client: Any, poll_url: str) -> None:
    sky = e2e.fakes.bluesky
    dm = sky.add_dm("Hallo, seit gestern kein Internet in Kiel", author_did=CUSTOMER_DID,
                    handle="kabelsalat.bsky.social")  # in the chat service only: no post, no notification
    convo = sky.convo_for(CUSTOMER_DID)
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention("bluesky", dm)
    assert doc is not None and doc["kind"] == "dm" and doc["status"] == "open" and doc["conversation_id"] == convo
    assert doc["author_id"] == CUSTOMER_DID and doc["author_handle"] == "kabelsalat.bsky.social"
    assert doc["due_at"] > doc["received_at"] and "kein Internet" in doc["text"]
    assert "due" in {task_kind(t) for t in tasks_of(tasks_client, "bluesky", dm)}
    sky.add_brand_dm(convo, "Hallo! Wir schauen sofort nach.")  # answered in the Bluesky app, not by hilft
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention("bluesky", dm)
    assert doc["status"] == "answered" and doc["answered_at"] is not None
    assert tasks_of(tasks_client, "bluesky", dm) == []
    run_poll(e2e, tasks_client, poll_url)  # polling again: still one document, still answered
    docs = [d for d in e2e.mentions() if d.get("platform") == "bluesky"]
    assert [d["post_id"] for d in docs] == [dm] and docs[0]["status"] == "answered"
    assert sky.messages == [] and sky.replies == []  # hilft itself sent nothing


def test_a_bluesky_dm_with_personal_data_is_redacted_and_handed_off_in_its_conversation(
        e2e: Any, tasks_client: Any, poll_url: str) -> None:
    sky = e2e.fakes.bluesky
    dm = sky.add_dm(PHONE, author_did=CUSTOMER_DID, handle="kabelsalat.bsky.social")
    convo = sky.convo_for(CUSTOMER_DID)
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention("bluesky", dm)
    assert doc["kind"] == "dm" and "2345678" not in doc["text"] and doc["pii_kinds"] == ["phone"]
    assert doc["status"] == "open"  # already private: no automatic handoff, the promise runs
    response = e2e.staff("handoff", {"platform": "bluesky", "post_id": dm, "department": "festnetz"})
    assert response.status_code == 202, response.text
    e2e.wait(lambda: (e2e.mention("bluesky", dm) or {}).get("status") == "handed_off", timeout=20,
             what="the handoff")
    assert [(m["convo_id"], m["to"]) for m in sky.messages] == [(convo, [CUSTOMER_DID])]  # the same conversation
    assert "2345678" not in sky.messages[0]["text"] and sky.replies == []  # nothing public
    handoffs = [d.to_dict() for d in e2e.db.collection("handoffs").stream()]
    assert len(handoffs) == 1 and handoffs[0]["status"] == "dm_sent"
    run_poll(e2e, tasks_client, poll_url)  # hilft's own message comes back in the chat log: no change
    assert e2e.mention("bluesky", dm)["status"] == "handed_off"
    assert [d["post_id"] for d in e2e.mentions() if d.get("platform") == "bluesky"] == [dm]


def test_a_deleted_bluesky_dm_is_forgotten(e2e: Any, tasks_client: Any, poll_url: str) -> None:
    sky = e2e.fakes.bluesky
    dm = sky.add_dm("Rechnung doppelt abgebucht", author_did=CUSTOMER_DID, handle="kabelsalat.bsky.social")
    run_poll(e2e, tasks_client, poll_url)
    assert e2e.mention("bluesky", dm)["status"] == "open"
    sky.delete_dm(dm)
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention("bluesky", dm)
    assert doc["status"] == "deleted" and doc["text"] == "" and doc["author_id"] is None
    assert doc["conversation_id"] is None


@pytest.mark.parametrize("channel", CHANNELS)
def test_personal_data_is_handed_off_by_dm_with_a_public_note(e2e: Any, tasks_client: Any, poll_url: str,
                                                              channel: Channel) -> None:
    post_id = channel.post(e2e, PHONE)
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention(channel.platform, post_id)
    assert "2345678" not in doc["text"] and doc["pii_kinds"] == ["phone"]
    e2e.wait(lambda: (e2e.mention(channel.platform, post_id) or {}).get("status") == "handed_off", timeout=20,
             what="the automatic handoff")
    if channel.platform == "bluesky":
        sky = e2e.fakes.bluesky
        assert [m["to"] for m in sky.messages] == [[CUSTOMER_DID]]
        assert "2345678" not in sky.messages[0]["text"]
        assert [r["reply"]["parent"]["uri"] for r in sky.replies] == [post_id]
    else:
        masto = e2e.fakes.mastodon
        direct = [p for p in masto.posted if p["visibility"] == "direct"]
        public = [p for p in masto.posted if p["visibility"] == "public"]
        assert len(direct) == 1 and len(public) == 1
        assert direct[0]["text"].startswith("@kabelsalat ") and direct[0]["in_reply_to_id"] == post_id
        assert direct[0]["idempotency_key"] and "2345678" not in direct[0]["text"]
    handoffs = [d.to_dict() for d in e2e.db.collection("handoffs").stream()]
    assert len(handoffs) == 1 and handoffs[0]["state"] == "sent" and handoffs[0]["status"] == "dm_sent"
    run_poll(e2e, tasks_client, poll_url)  # hilft's own reply comes back in the brand's posts: no change
    assert e2e.mention(channel.platform, post_id)["status"] == "handed_off"


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_deleted_post_is_forgotten(e2e: Any, tasks_client: Any, poll_url: str, channel: Channel) -> None:
    post_id = channel.post(e2e, "Rechnung doppelt abgebucht")
    run_poll(e2e, tasks_client, poll_url)
    assert e2e.mention(channel.platform, post_id)["status"] in ("open", "handed_off")
    channel.delete(e2e, post_id)
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.wait(lambda: (e2e.mention(channel.platform, post_id) or {}).get("status") == "deleted"
                   and e2e.mention(channel.platform, post_id), timeout=10, what="the deletion")
    assert doc["text"] == "" and doc["author_id"] is None and doc["author_handle"] is None


@pytest.mark.parametrize("channel", CHANNELS)
def test_polling_again_and_overlapping_runs_keep_one_document(e2e: Any, tasks_client: Any, poll_url: str,
                                                              channel: Channel) -> None:
    post_id = channel.post(e2e, "WLAN weg")
    run_poll(e2e, tasks_client, poll_url, times=2)  # two runs at once
    run_poll(e2e, tasks_client, poll_url)
    docs = [d for d in e2e.mentions() if d.get("platform") == channel.platform]
    assert [d["post_id"] for d in docs] == [post_id]
    cursors = [d.to_dict() for d in e2e.db.collection("poll_cursors").stream()]
    mine = [c for c in cursors if c["platform"] == channel.platform and c["source"] == "notifications"]
    assert len(mine) == 1 and mine[0]["state"] and mine[0]["lease_owner"] is None


def task_kind(task: Any) -> str | None:
    import json

    return json.loads(task.http_request.body).get("kind")


def customer_answer(e2e: Any, platform: str, how: str) -> str:
    """The brand posts; a customer answers it (a reply, or on Bluesky a quote), without @-mentioning it."""
    if platform == "bluesky":
        sky = e2e.fakes.bluesky
        brand = sky.add_brand_post("Die Störung in Kiel ist behoben.")
        if how == "quote":
            return str(sky.add_post("Behoben? Bei mir geht seit heute früh nichts.", author_did=CUSTOMER_DID,
                                    handle="kabelsalat.bsky.social", reason="quote", quote=brand,
                                    mention_brand=False))
        return str(sky.add_post("Bei mir in Kiel-Gaarden geht immer noch nichts.", author_did=CUSTOMER_DID,
                                handle="kabelsalat.bsky.social", reason="reply", reply_to=brand, mention_brand=False))
    masto = e2e.fakes.mastodon
    brand = masto.add_brand_status("Die Störung in Kiel ist behoben.")
    # A Mastodon reply names the account it answers; the brand is notified of it as a mention.
    return str(masto.add_status("kabelsalat", "@telkohilft Bei mir in Kiel-Gaarden geht immer noch nichts.",
                                in_reply_to=brand))


@pytest.mark.parametrize(("platform", "how"), [("bluesky", "reply"), ("bluesky", "quote"), ("mastodon", "reply")])
def test_a_customers_reply_or_quote_to_a_brand_post_gets_a_promise_and_goes_overdue(
        e2e: Any, tasks_client: Any, poll_url: str, platform: str, how: str) -> None:
    post_id = customer_answer(e2e, platform, how)
    run_poll(e2e, tasks_client, poll_url)
    doc = e2e.mention(platform, post_id)
    assert doc is not None and doc["status"] == "open" and doc["radar"] is False
    assert doc["kind"] == ("mention" if how == "quote" else "reply") and doc["due_at"] > doc["received_at"]
    assert "due" in {task_kind(t) for t in tasks_of(tasks_client, platform, post_id)}
    overdue = e2e.wait(alerted(e2e, post_id, 1, platform), timeout=20, what="the overdue alert")
    assert overdue["status"] == "overdue"
    assert any(m.get("post_id") == post_id and m.get("platform") == platform and m.get("level") == 1
               for m in e2e.fakes.webhook.messages)
