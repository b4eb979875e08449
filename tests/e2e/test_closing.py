"""A customer's "Danke, läuft wieder" after the brand answered starts no promise; staff see it on
the board and reopen it with one click, and then the promise runs from that moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.builders import BRAND_ID, aaa_tweet, brand_reply
from tests.stack_fixtures import STAFF_TOKEN, tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

BOARD = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Hilft-Board": "1"}


def _conversation(e2e, closing_text: str) -> str:
    post_id, body = aaa_tweet("Seit heute früh kein Internet in Kiel", user_id="3300000001")
    assert e2e.post_x(body).status_code == 200
    reply_id, reply = brand_reply(post_id, "3300000001")
    assert e2e.post_x(reply).status_code == 200
    thanks_id, thanks = aaa_tweet(closing_text, user_id="3300000001", reply_to=reply_id, reply_to_user=BRAND_ID)
    assert e2e.post_x(thanks).status_code == 200
    return thanks_id


def test_thanks_after_the_brand_answered_needs_no_reply_and_can_be_reopened(e2e, tasks_client):
    from hilft.core.ids import mention_doc_id

    thanks_id = _conversation(e2e, "Danke, läuft wieder!")
    doc = e2e.mention("x", thanks_id)
    assert doc["status"] == "no_reply_needed" and doc["due_at"] is None
    assert tasks_of(tasks_client, "x", thanks_id) == []

    board = e2e.http.get(e2e.url("board"), params={"format": "json"}, headers=BOARD).json()
    assert [q["doc_id"] for q in board["no_reply_needed"]] == [mention_doc_id("x", thanks_id)]
    page = e2e.http.get(e2e.url("board"), headers=BOARD).text
    assert "Needs a reply" in page

    reopened = e2e.http.post(e2e.url("board") + "?action=reopen", json={"doc_id": mention_doc_id("x", thanks_id)},
                             headers=BOARD)
    assert reopened.status_code == 200 and reopened.json()["outcome"] == "reopened"
    doc = e2e.mention("x", thanks_id)
    assert doc["status"] == "open" and doc["reopened_by"] == "staff" and doc["due_at"] is not None
    kinds = sorted(json.loads(t.http_request.body)["kind"] for t in tasks_of(tasks_client, "x", thanks_id))
    assert "due" in kinds


@pytest.mark.parametrize("text", ["Danke, aber es geht immer noch nicht", "Danke! Wann kommt der Techniker?",
                                  "Danke, meine Nummer ist 0170 1234567", "Danke für nichts",
                                  "Super, danke. Router tot."])
def test_thanks_with_a_complaint_a_question_or_personal_data_keeps_its_promise(e2e, tasks_client, text):
    post_id = _conversation(e2e, text)
    assert e2e.mention("x", post_id)["status"] == "open"
    assert tasks_of(tasks_client, "x", post_id)


def test_thanks_under_a_brand_post_that_answered_someone_else_keeps_its_promise(e2e, tasks_client):
    """A reply to the brand's answer to another customer (or to an ad) starts a new conversation."""
    post_id, body = aaa_tweet("Seit heute früh kein Internet in Kiel", user_id="3300000002")
    assert e2e.post_x(body).status_code == 200
    reply_id, reply = brand_reply(post_id, "3300000002")
    assert e2e.post_x(reply).status_code == 200
    thanks_id, thanks = aaa_tweet("Danke, läuft wieder!", user_id="3300000003", reply_to=reply_id,
                                  reply_to_user=BRAND_ID)
    assert e2e.post_x(thanks).status_code == 200
    assert e2e.mention("x", thanks_id)["status"] == "open"
    assert tasks_of(tasks_client, "x", thanks_id)


def test_an_edit_reopen_queues_its_tasks_before_the_instance_dies_and_the_redelivery_writes_it(e2e, tasks_client):
    """Enqueue before commit for a reopen, as for a new post: the instance taking the edit (a closing
    message edited into a complaint) dies between queueing the reopened post's warning and due and
    writing the post; the tasks are queued, and X's redelivery writes the post (same task names)."""
    from pathlib import Path

    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.adapters.tasks_scheduler import TasksScheduler
    from hilft.channels.x import parse as x
    from hilft.core.policy import load_policy
    from hilft.service.ingest import IngestService
    from hilft.settings import Settings
    from stack import QUEUE

    class Crash(BaseException):
        """The instance died here (no handler may swallow it)."""

    class CrashOnReopenCommit(FirestoreStore):
        def update_if_unchanged(self, collection: str, snap: Any, updates: dict[str, Any]) -> None:
            if collection == "mentions" and updates.get("status") == "open":
                raise Crash(snap.id)
            super().update_if_unchanged(collection, snap, updates)

    thanks_id = _conversation(e2e, "Danke, läuft wieder!")
    assert e2e.mention("x", thanks_id)["status"] == "no_reply_needed"
    edit_id, edited = aaa_tweet("Danke, geht doch nicht, der Router blinkt rot", user_id="3300000001")
    document = json.loads(edited)
    document["tweet_create_events"][0]["edit_history"] = {"initial_tweet_id": thanks_id,
                                                          "edit_tweet_ids": [thanks_id, edit_id]}
    body = json.dumps(document).encode()

    settings = Settings.from_env(e2e.fakes.world.env())
    policy = load_policy(Path(e2e.stack.env["HILFT_CONFIG"]))  # the stack's policy: the same promise
    ingest = IngestService(store=CrashOnReopenCommit("hilft-local"), policy=policy, clock=lambda: datetime.now(UTC),
                           scheduler=TasksScheduler(QUEUE, e2e.url("deadline"), None, emulator_host=e2e.stack.tasks_host),
                           claim_ttl=settings.claim_ttl)
    with pytest.raises(Crash):
        ingest.ingest(x.parse(body, brand_user_ids=settings.x_brand_user_ids), frozenset({BRAND_ID}))
    assert e2e.mention("x", thanks_id)["status"] == "no_reply_needed"  # never written...
    queued = {t.name for t in tasks_of(tasks_client, "x", thanks_id)}
    kinds = sorted(json.loads(t.http_request.body)["kind"] for t in tasks_of(tasks_client, "x", thanks_id))
    assert kinds == ["due", "warning"]  # ...but its promise is queued

    assert e2e.post_x(body).json()["edited"] == 1  # X redelivers: the crashed delivery got no 2xx
    doc = e2e.mention("x", thanks_id)
    assert doc["status"] == "open" and doc["reopened_by"] == "edit"
    assert {t.name for t in tasks_of(tasks_client, "x", thanks_id)} == queued  # deduplicated by name
