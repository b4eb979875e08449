"""X events beyond mentions and DMs, end to end through x_webhook on the emulators: replies and quotes
under the X Activity API, encrypted XChat messages, revoked access, edited posts.

Bodies are the documented payloads of ``tests/fixtures/x/documented/`` with fresh ids and times.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.e2e.builders import aaa_tweet, next_post_id
from tests.e2e.conftest import BRAND_X, STAFF_TOKEN, tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

CUSTOMER = "1472583690"
QUOTER = "901234567812345678"


def documented(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "x" / "documented" / name).read_bytes())


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def xaa_post(name: str, *, post_id: str | None = None, text: str | None = None, history: list[str] | None = None,
             **payload: Any) -> tuple[str, bytes]:
    """A documented XAA post event with a fresh id (and, optionally, a new text or edit history)."""
    body = documented(name)
    post = body["data"]["payload"]
    post_id = post_id or next_post_id()
    post.update({"id": post_id, "created_at": iso(datetime.now(UTC)), "edit_history_tweet_ids": history or [post_id],
                 **payload})
    if text is not None:
        post["text"] = text
    body["data"]["event_uuid"] = post_id
    return post_id, encode(body)


def chat(name: str, message_id: str, at: datetime) -> bytes:
    body = documented(name)
    body["data"]["payload"].update({"id": message_id, "created_at_msec": str(int(at.timestamp() * 1000))})
    return encode(body)


def stack_log(e2e, name: str) -> str:
    """What one function of this session's stack has logged so far.

    Read through the process's own stdout (``/proc/<pid>/fd/1``), not ``test-artifacts/stack-logs``:
    another session starting its stack clears that shared folder, but never this process's file.
    """
    pid = e2e.stack.procs[name].pid
    return Path(f"/proc/{pid}/fd/1").read_text(encoding="utf-8", errors="replace")


def board_json(e2e) -> dict[str, Any]:
    response = e2e.http.get(e2e.url("board") + "/?format=json", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    assert response.status_code == 200, response.text
    return response.json()


# -- post.reply.create / post.quote.create ----------------------------------------------------


def test_a_direct_reply_under_the_x_activity_api_is_an_item_and_the_brand_reply_answers_it(e2e, tasks_client):
    brand_post = next_post_id()
    reply_id, body = xaa_post("xaa_post_reply_create.json", conversation_id=brand_post,
                              in_reply_to_tweet_id=brand_post,
                              referenced_tweets=[{"type": "replied_to", "id": brand_post}])
    result = e2e.post_x(body).json()
    assert result["stored"] == 1 and result["ignored"] == 0
    doc = e2e.mention("x", reply_id)
    assert doc["kind"] == "reply" and doc["status"] == "open" and doc["radar"] is False
    assert doc["in_reply_to"] == brand_post and "Kiel" in doc["text"]
    # warning and due: the promise runs (once the author lookup, an enrich task, has run)
    e2e.wait(lambda: len(tasks_of(tasks_client, "x", reply_id)) == 2 and e2e.fakes.x.user_reads, timeout=15,
             what="the promise tasks alone")

    _, answer = xaa_post("xaa_post_create.json", conversation_id=brand_post,
                         referenced_tweets=[{"type": "replied_to", "id": reply_id}], in_reply_to_user_id=CUSTOMER)
    assert e2e.post_x(answer).json()["answered"] == 1
    assert e2e.mention("x", reply_id)["status"] == "answered"
    assert tasks_of(tasks_client, "x", reply_id) == []
    assert len(e2e.mentions()) == 1  # the brand's answer is never an item


def test_a_brand_reply_arriving_as_post_reply_create_stops_the_clock(e2e, tasks_client):
    """X sends a reply under a filtered account's post as post.reply.create, whoever wrote it: when a
    brand account answers there (a second brand account, or the brand in its own thread), it is an answer."""
    brand_post = next_post_id()
    reply_id, body = xaa_post("xaa_post_reply_create.json", conversation_id=brand_post,
                              in_reply_to_tweet_id=brand_post,
                              referenced_tweets=[{"type": "replied_to", "id": brand_post}])
    e2e.fakes.x.add_user(CUSTOMER, "kabelsalat_kiel", "Jana K.", followers=348)
    assert e2e.post_x(body).json()["stored"] == 1
    e2e.wait(lambda: (e2e.mention("x", reply_id) or {}).get("author_handle") == "kabelsalat_kiel"
             and len(tasks_of(tasks_client, "x", reply_id)) == 2, timeout=15,
             what="the author lookup (X's example has an empty includes)")

    _, answer = xaa_post("xaa_post_reply_create.json", author_id=BRAND_X, conversation_id=brand_post,
                         text="@kabelsalat_kiel Das tut uns leid, wir schauen sofort nach.",
                         in_reply_to_tweet_id=reply_id, in_reply_to_user_id=CUSTOMER,
                         referenced_tweets=[{"type": "replied_to", "id": reply_id}])
    result = e2e.post_x(answer).json()
    assert result["answered"] == 1 and result["brand"] == 1 and result["stored"] == 0
    assert e2e.mention("x", reply_id)["status"] == "answered"
    assert tasks_of(tasks_client, "x", reply_id) == []
    assert len(e2e.mentions()) == 1


def test_a_quote_of_a_brand_post_is_addressed_to_the_brand(e2e):
    e2e.fakes.x.add_user(QUOTER, "elif_glasfaser", "Elif", followers=1210)
    quote_id, body = xaa_post("xaa_post_quote_create.json")
    assert e2e.post_x(body).json()["stored"] == 1
    doc = e2e.mention("x", quote_id)
    assert doc["kind"] == "mention" and doc["radar"] is False and doc["status"] == "open"
    assert "danke für nichts" in doc["text"] and doc["author_handle"] is None  # X sends the author's id only
    doc = e2e.wait(lambda: (d := e2e.mention("x", quote_id)) and d.get("author_handle") and d, timeout=15,
                   what="the author lookup filling the quote's author")
    assert (doc["author_handle"], doc["author_name"], doc["author_followers"]) == ("elif_glasfaser", "Elif", 1210)
    assert e2e.fakes.x.user_reads == [QUOTER]


def test_a_reply_in_xs_published_shape_gets_its_author_looked_up_before_the_handoff_greets_them(e2e):
    """X's post.reply.create example has ``"includes": {}``: the author is an id only. The enrich task
    reads handle, name and followers (GET /2/users/:id) and only then schedules the handoff, so the
    public reply greets the author by handle."""
    e2e.fakes.x.add_user(CUSTOMER, "kabelsalat_kiel", "Jana K.", followers=348)
    reply_id, body = xaa_post("xaa_post_reply_create.json",
                              text="@Telekom_hilft Seit Tagen kein Netz in Kiel, ruft mich an: 0171 2345678")
    assert json.loads(body)["data"]["includes"] == {}
    assert e2e.post_x(body).json()["stored"] == 1
    assert e2e.mention("x", reply_id)["author_handle"] is None
    e2e.wait(lambda: (e2e.mention("x", reply_id) or {}).get("status") == "handed_off", timeout=20,
             what="the handoff after the author lookup")
    doc = e2e.mention("x", reply_id)
    assert (doc["author_handle"], doc["author_name"], doc["author_followers"]) == ("kabelsalat_kiel", "Jana K.", 348)
    assert e2e.fakes.x.user_reads == [CUSTOMER]
    (reply,) = e2e.fakes.x.replies
    assert reply["in_reply_to_tweet_id"] == reply_id and reply["text"].startswith("@kabelsalat_kiel ")
    assert [dm["participant_id"] for dm in e2e.fakes.x.dms] == [CUSTOMER]


def test_an_x_outage_during_the_author_lookup_does_not_hold_the_handoff_back(e2e, tasks_client):
    """X answers the lookup 503: after Cloud Tasks' first few retries the handoff goes without the
    author's name (the personal data leaves public view now, not after the outage) and the lookup
    alone is queued again, with nothing held back."""
    e2e.fakes.x.add_user(CUSTOMER, "kabelsalat_kiel", "Jana K.", followers=348)
    e2e.fakes.x.fail_next(50, 503, path_contains=f"/2/users/{CUSTOMER}")
    reply_id, body = xaa_post("xaa_post_reply_create.json",
                              text="@Telekom_hilft Seit Tagen kein Netz in Kiel, ruft mich an: 0171 2345678")
    assert e2e.post_x(body).json()["stored"] == 1
    e2e.wait(lambda: (e2e.mention("x", reply_id) or {}).get("status") == "handed_off", timeout=20,
             what="the handoff while X's user lookup is down")
    assert e2e.mention("x", reply_id)["author_handle"] is None and e2e.fakes.x.user_reads == []
    (reply,) = e2e.fakes.x.replies
    assert reply["in_reply_to_tweet_id"] == reply_id and "kabelsalat_kiel" not in reply["text"]
    assert [dm["participant_id"] for dm in e2e.fakes.x.dms] == [CUSTOMER]
    lookups = [json.loads(t.http_request.body) for t in tasks_of(tasks_client, "x", reply_id)
               if json.loads(t.http_request.body)["kind"] == "enrich"]
    assert [(t["attempt"], "then" in t) for t in lookups] == [(1, False)]


def test_an_author_x_does_not_know_stays_unknown_and_the_promise_runs(e2e, tasks_client):
    reply_id, body = xaa_post("xaa_post_reply_create.json")
    assert e2e.post_x(body).json()["stored"] == 1
    e2e.wait(lambda: e2e.fakes.x.user_reads == [CUSTOMER], timeout=15, what="the author lookup")
    e2e.wait(lambda: len(tasks_of(tasks_client, "x", reply_id)) == 2, timeout=10, what="only warning and due left")
    doc = e2e.mention("x", reply_id)
    assert doc["status"] == "open" and doc["author_handle"] is None and doc["author_id"] == CUSTOMER


def test_a_brand_reply_named_only_by_in_reply_to_tweet_id_stops_the_clock(e2e, tasks_client):
    """X: "in_reply_to_tweet_id is present on replies, and referenced_tweets indicates quotes and reposts"."""
    post_id, body = aaa_tweet("@Telekom_hilft Seit heute früh kein Internet.")
    assert e2e.post_x(body).json()["stored"] == 1
    answer = documented("xaa_post_create.json")
    payload = answer["data"]["payload"]
    del payload["referenced_tweets"]
    payload.update(id=next_post_id(), created_at=iso(datetime.now(UTC)), in_reply_to_tweet_id=post_id,
                   in_reply_to_user_id=CUSTOMER, conversation_id=post_id)
    payload["edit_history_tweet_ids"] = [payload["id"]]
    assert e2e.post_x(encode(answer)).json()["answered"] == 1
    assert e2e.mention("x", post_id)["status"] == "answered"
    assert tasks_of(tasks_client, "x", post_id) == []


def test_a_repost_is_counted_as_ignored_and_stores_nothing(e2e):
    _, body = xaa_post("xaa_post_repost_create.json")
    assert e2e.post_x(body).json()["ignored"] == 1
    assert e2e.mentions() == []


# -- chat.received (XChat) ---------------------------------------------------------------------


def test_an_encrypted_chat_is_stored_without_text_alerted_when_due_and_answered_by_chat_sent(e2e):
    message_id = f"e2e-{next_post_id()}"
    assert e2e.post_x(chat("xaa_chat_received.json", message_id, datetime.now(UTC))).json()["stored"] == 1
    doc = e2e.mention("x", message_id)
    assert doc["kind"] == "dm" and doc["encrypted"] is True and doc["text"] == "" and doc["pii_kinds"] == []
    rows = board_json(e2e)["items"]
    assert [row["text"] for row in rows] == ["[encrypted message: open it on the platform]"]

    # The promise runs although hilft cannot read the message: the 5 s promise breaks and alerts.
    e2e.wait(lambda: (e2e.mention("x", message_id) or {}).get("status") == "overdue", timeout=20,
             what="the overdue alert of the encrypted message")
    e2e.wait(lambda: e2e.fakes.pagerduty.accepted, timeout=10, what="the alert reaching PagerDuty")

    reply = chat("xaa_chat_sent.json", f"e2e-{next_post_id()}", datetime.now(UTC) + timedelta(seconds=1))
    assert e2e.post_x(reply).json()["answered"] == 1
    assert e2e.mention("x", message_id)["status"] == "answered"
    assert len(e2e.mentions()) == 1


# -- revoked access ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["aaa_user_event_revoke.json", "xaa_oauth_revoke.json"])
def test_revoked_access_is_200_an_operator_alert_on_the_board_and_an_error_line(e2e, name):
    body = (FIXTURES / "x" / "documented" / name).read_bytes()
    response = e2e.post_x(body)
    assert response.status_code == 200, response.text  # never 400: X would redeliver it forever
    assert response.json()["revoked"] == 1
    assert e2e.mentions() == []
    alerts = [d.to_dict() for d in e2e.db.collection("operator_alerts").stream()]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "access_revoked" and alerts[0]["account_id"] == BRAND_X
    assert alerts[0]["platform"] == "x" and alerts[0]["resolved"] is False

    assert e2e.post_x(body).status_code == 200  # a redelivery updates the same alert
    assert len(list(e2e.db.collection("operator_alerts").stream())) == 1
    board = board_json(e2e)
    assert [a["account_id"] for a in board["operator_alerts"]] == [BRAND_X]
    page = e2e.http.get(e2e.url("board"), headers={"Authorization": f"Bearer {STAFF_TOKEN}"}).text
    assert "revoked hilft&#39;s access" in page

    def error_line() -> bool:
        text = stack_log(e2e, "x_webhook")
        return any('"severity": "ERROR"' in line and "platform access revoked" in line and BRAND_X in line
                   for line in text.splitlines())

    e2e.wait(error_line, timeout=5, what="the ERROR line the log-based alert picks up")


def test_a_revoke_with_a_wrong_signature_is_401_and_stores_nothing(e2e):
    body = (FIXTURES / "x" / "documented" / "aaa_user_event_revoke.json").read_bytes()
    assert e2e.post_x(body, signature="sha256=AAAA").status_code == 401
    assert list(e2e.db.collection("operator_alerts").stream()) == []


# -- edits -------------------------------------------------------------------------------------


def test_an_edited_post_replaces_the_text_of_its_first_version_and_keeps_the_promise(e2e, tasks_client):
    original, body = aaa_tweet("Seit heute früh kein Internet, der Router blinkt rot.")
    assert e2e.post_x(body).json()["stored"] == 1
    before = e2e.mention("x", original)
    tasks_before = {t.name for t in tasks_of(tasks_client, "x", original)}
    assert len(tasks_before) == 2

    edit_id = next_post_id()
    _, edited = aaa_tweet("Seit heute früh kein Internet. Ruft mich an: 0171 2345678", post_id=edit_id)
    document = json.loads(edited)
    document["tweet_create_events"][0]["edit_history"] = {"initial_tweet_id": original,
                                                          "edit_tweet_ids": [original, edit_id]}
    result = e2e.post_x(encode(document)).json()
    assert result["edited"] == 1 and result["stored"] == 0
    assert len(e2e.mentions()) == 1  # never a second item to answer
    after = e2e.mention("x", original)
    assert "2345678" not in after["text"] and "⟨phone⟩" in after["text"]  # redacted again
    assert after["pii_kinds"] == ["phone"] and after["latest_post_id"] == edit_id
    assert after["due_at"] == before["due_at"] and after["created_at"] == before["created_at"]
    assert after["edited_at"] is not None
    promise_tasks = {t.name for t in tasks_of(tasks_client, "x", original)
                     if json.loads(t.http_request.body)["kind"] in ("warning", "due")}
    assert promise_tasks <= tasks_before  # no new warning or due: the promise is the first version's

    # The edit brought personal data: the automatic handoff the first version did not need.
    e2e.wait(lambda: (e2e.mention("x", original) or {}).get("status") == "handed_off", timeout=15,
             what="the handoff after the edit")
    assert len(e2e.fakes.x.dms) == 1 and e2e.fakes.x.dms[0]["participant_id"] == CUSTOMER
    assert e2e.post_x(encode(document)).json()["duplicates"] == 1  # a redelivered edit changes nothing


def test_a_brand_reply_to_the_edited_version_answers_the_first_versions_document(e2e):
    original, first = xaa_post("xaa_post_mention_create.json")
    assert e2e.post_x(first).json()["stored"] == 1
    edit_id = next_post_id()
    _, edited = xaa_post("xaa_post_mention_create.json", post_id=edit_id, history=[original, edit_id],
                         text="@Telekom_hilft Nachtrag: auch das Festnetz ist tot.")
    assert e2e.post_x(edited).json()["edited"] == 1
    assert "Festnetz" in e2e.mention("x", original)["text"]

    _, answer = xaa_post("xaa_post_create.json", referenced_tweets=[{"type": "replied_to", "id": edit_id}],
                         in_reply_to_user_id="1688877766655544433")
    assert e2e.post_x(answer).json()["answered"] == 1
    assert e2e.mention("x", original)["status"] == "answered"
    assert e2e.mention("x", edit_id) is None  # no stub under the edit's id


def test_an_edit_arriving_before_its_first_version_is_stored_once_under_the_first_versions_id(e2e):
    original, edit_id = next_post_id(), next_post_id()
    _, edited = xaa_post("xaa_post_mention_create.json", post_id=edit_id, history=[original, edit_id],
                         text="@Telekom_hilft korrigiert: kein DSL seit Montag")
    assert e2e.post_x(edited).json()["stored"] == 1
    _, first = xaa_post("xaa_post_mention_create.json", post_id=original, text="@Telekom_hilft kein DSL")
    assert e2e.post_x(first).json()["duplicates"] == 1
    docs = e2e.mentions()
    assert len(docs) == 1 and docs[0]["post_id"] == original and "korrigiert" in docs[0]["text"]


def test_documented_payload_kinds_hilft_does_not_handle_are_200_and_counted(e2e):
    for name in ("xaa_like_create.json", "xaa_follow_follow.json", "xaa_chat_conversation_join.json",
                 "aaa_favorite_events.json", "aaa_direct_message_mark_read_events.json"):
        body = (FIXTURES / "x" / "documented" / name).read_bytes()
        response = e2e.post_x(body)
        assert response.status_code == 200 and response.json()["ignored"] == 1, name
    assert e2e.mentions() == []


def test_deleting_the_edited_version_forgets_the_first_versions_document(e2e):
    original, first = xaa_post("xaa_post_mention_create.json")
    assert e2e.post_x(first).json()["stored"] == 1
    edit_id = next_post_id()
    _, edited = xaa_post("xaa_post_mention_create.json", post_id=edit_id, history=[original, edit_id],
                         text="@Telekom_hilft Nachtrag: Kundennummer 5566778899")
    assert e2e.post_x(edited).json()["edited"] == 1
    deletion = documented("xaa_post_delete.json")
    deletion["data"]["payload"]["id"] = edit_id
    assert e2e.post_x(encode(deletion)).json()["deleted"] == 1
    doc = e2e.mention("x", original)
    assert doc["status"] == "deleted" and doc["text"] == "" and doc["pii_kinds"] == []
    assert e2e.mention("x", edit_id) is None
