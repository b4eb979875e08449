"""Meta events beyond comments and messages, end to end through meta_webhook on the emulators:
mentions filled from the (fake) Graph API by the enrich task, edits, Messenger and Instagram standby, a
Chat Plugin guest named by ``user_ref`` only, the Instagram Login shape, numeric ids, and what is counted
as ignored.

Bodies are the documented payloads of ``tests/fixtures/meta/documented/`` with fresh times.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.e2e.conftest import IG_ID, PAGE_ID, fresh, tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

PHONE = "0221 9876543"


def documented(name: str) -> bytes:
    return (FIXTURES / "meta" / "documented" / name).read_bytes()


def value_of(name: str) -> dict[str, Any]:
    return json.loads(documented(name))["entry"][0]["changes"][0]["value"]


# -- mentions sent as ids only: the enrich task ---------------------------------------------------


def test_a_page_mention_is_filled_from_the_graph_api_redacted_and_handed_off(e2e):
    post_id = value_of("page_mention_post.json")["post_id"]
    e2e.fakes.graph.add_comment(post_id, message=f"@Telko hilft seit Montag kein Festnetz, ruft mich an: {PHONE}",
                                created_time="2026-11-30T08:00:00+0000",
                                **{"from": {"id": "7300000000000104", "name": "Kai Müller"}})
    result = e2e.post_meta(fresh(documented("page_mention_post.json"))).json()
    assert result["stored"] == 1
    stored = e2e.mention("facebook", post_id)
    assert stored["text"] == "" and stored["needs_enrichment"] is True  # the webhook does not wait for Graph
    due = stored["due_at"]

    doc = e2e.wait(lambda: (d := e2e.mention("facebook", post_id)) and not d.get("needs_enrichment") and d,
                   timeout=15, what="the enrich task filling the mention")
    assert "9876543" not in doc["text"] and "⟨phone⟩" in doc["text"] and "Festnetz" in doc["text"]
    assert doc["pii_kinds"] == ["phone"] and doc["author_name"] == "Kai Müller"
    assert doc["department"] == "festnetz" and doc["due_at"] == due  # routed; the promise is unchanged
    assert post_id in e2e.fakes.graph.reads

    # Personal data found only now: the automatic handoff runs after the enrichment.
    e2e.wait(lambda: (e2e.mention("facebook", post_id) or {}).get("status") == "handed_off", timeout=15,
             what="the handoff after the enrichment")
    assert [r.comment_id for r in e2e.fakes.graph.private_replies] == [post_id]
    assert PHONE not in e2e.fakes.graph.private_replies[0].text


def test_an_instagram_caption_mention_is_read_through_the_brand_account(e2e):
    media_id = value_of("instagram_mentions_caption.json")["media_id"]
    e2e.fakes.graph.add_mentioned("mentioned_media", media_id, caption="@telkohilft Hotspot-Login klappt nicht",
                                  username="lena_loewenzahn", timestamp="2026-11-30T08:00:00+0000")
    assert e2e.post_meta(fresh(documented("instagram_mentions_caption.json"))).json()["stored"] == 1
    doc = e2e.wait(lambda: (d := e2e.mention("instagram", media_id)) and not d.get("needs_enrichment") and d,
                   timeout=15, what="the enrich task reading mentioned_media")
    assert doc["text"] == "@telkohilft Hotspot-Login klappt nicht" and doc["author_handle"] == "lena_loewenzahn"
    assert doc["status"] == "open" and doc["pii_kinds"] == []
    assert e2e.fakes.graph.reads == [f"mentioned_media:{media_id}"]


def test_a_graph_error_leaves_the_mention_open_and_its_promise_alerts(e2e):
    comment_id = value_of("instagram_mentions_comment.json")["comment_id"]  # Graph does not know it
    assert e2e.post_meta(fresh(documented("instagram_mentions_comment.json"))).json()["stored"] == 1
    e2e.wait(lambda: (e2e.mention("instagram", comment_id) or {}).get("enrichment") == "unreadable", timeout=15,
             what="the enrich task giving up on a post Graph refuses")
    e2e.wait(lambda: (e2e.mention("instagram", comment_id) or {}).get("status") == "overdue", timeout=20,
             what="the promise breaking and alerting although the text is unknown")
    e2e.wait(lambda: e2e.fakes.pagerduty.accepted, timeout=10, what="the alert reaching PagerDuty")
    assert e2e.mention("instagram", comment_id)["text"] == ""


# -- edits --------------------------------------------------------------------------------------


def test_an_edited_comment_replaces_the_text_redacted_and_records_when(e2e):
    comment_id = value_of("page_feed_comment_add.json")["comment_id"]
    assert e2e.post_meta(fresh(documented("page_feed_comment_add.json"))).json()["stored"] == 1
    before = e2e.mention("facebook", comment_id)
    assert before["pii_kinds"] == []

    result = e2e.post_meta(fresh(documented("page_feed_comment_edited.json"), shift=2)).json()
    assert result["edited"] == 1 and result["stored"] == 0
    after = e2e.mention("facebook", comment_id)
    assert "9876543" not in after["text"] and "⟨phone⟩" in after["text"]  # the edit's personal data is redacted
    assert after["pii_kinds"] == ["phone"] and after["edited_at"] is not None
    assert after["due_at"] == before["due_at"] and len(e2e.mentions()) == 1
    e2e.wait(lambda: e2e.fakes.graph.private_replies, timeout=15, what="the handoff the edit called for")
    assert [r.comment_id for r in e2e.fakes.graph.private_replies] == [comment_id]


def test_an_edited_page_mention_keeps_its_text_and_the_edit_is_fetched_redacted_and_handed_off(e2e):
    post_id = value_of("page_mention_post.json")["post_id"]
    author = {"from": {"id": "7300000000000104", "name": "Kai Müller"}}
    e2e.fakes.graph.add_comment(post_id, message="@Telko hilft seit Montag kein Festnetz",
                                created_time="2026-11-30T08:00:00+0000", **author)
    assert e2e.post_meta(fresh(documented("page_mention_post.json"))).json()["stored"] == 1
    first = e2e.wait(lambda: (d := e2e.mention("facebook", post_id)) and not d.get("needs_enrichment") and d,
                     timeout=15, what="the enrich task filling the mention")
    assert first["text"] == "@Telko hilft seit Montag kein Festnetz" and first["pii_kinds"] == []

    # The author edits the post: Meta again sends ids only (verb edited); Graph has the new words.
    e2e.fakes.graph.add_comment(post_id, message=f"@Telko hilft seit Montag kein Festnetz, ruft an: {PHONE}",
                                created_time="2026-11-30T08:00:00+0000", **author)
    result = e2e.post_meta(fresh(documented("page_mention_post_edited.json"), shift=2)).json()
    assert result["edited"] == 1 and result["stored"] == 0
    assert e2e.mention("facebook", post_id)["text"] != ""  # never wiped while the edit is being read

    doc = e2e.wait(lambda: (d := e2e.mention("facebook", post_id)) and "⟨phone⟩" in d["text"] and d,
                   timeout=15, what="a new enrich task reading the edited mention")
    assert "9876543" not in doc["text"] and doc["pii_kinds"] == ["phone"] and doc["needs_enrichment"] is False
    assert doc["due_at"] == first["due_at"] and doc["edited_at"] is not None and len(e2e.mentions()) == 1
    assert e2e.fakes.graph.reads.count(post_id) == 2
    e2e.wait(lambda: e2e.fakes.graph.private_replies, timeout=15, what="the handoff the edit called for")
    assert [r.comment_id for r in e2e.fakes.graph.private_replies] == [post_id]


def test_a_resent_instagram_comment_with_new_words_is_one_item_one_promise_one_handoff(e2e, tasks_client):
    comment_id = value_of("instagram_comments.json")["id"]
    assert e2e.post_meta(fresh(documented("instagram_comments.json"))).json()["stored"] == 1
    before = e2e.mention("instagram", comment_id)

    body = json.loads(documented("instagram_comments.json"))
    body["entry"][0]["changes"][0]["value"]["text"] = f"Seit gestern kein mobiles Internet. Ruft an: {PHONE}"
    result = e2e.post_meta(fresh(json.dumps(body).encode(), shift=120)).json()
    assert result["edited"] == 1 and result["stored"] == 0
    after = e2e.mention("instagram", comment_id)
    assert "9876543" not in after["text"] and after["pii_kinds"] == ["phone"]
    assert after["due_at"] == before["due_at"] and len(e2e.mentions()) == 1
    kinds = [json.loads(t.http_request.body)["kind"] for t in tasks_of(tasks_client, "instagram", comment_id)]
    assert kinds.count("due") == 1  # no second promise with the re-send's later due time
    assert kinds.count("handoff") <= 1
    e2e.wait(lambda: e2e.fakes.graph.private_replies, timeout=15, what="the handoff the new words called for")
    assert [r.comment_id for r in e2e.fakes.graph.private_replies] == [comment_id]


# -- Messenger standby, Instagram Login, numeric ids ------------------------------------------------


def test_a_standby_message_is_an_item_and_the_owning_apps_echo_answers_it(e2e):
    assert e2e.post_meta(fresh(documented("messenger_standby.json"))).json()["stored"] == 1
    mid = json.loads(documented("messenger_standby.json"))["entry"][0]["standby"][0]["message"]["mid"]
    doc = e2e.mention("messenger", mid)
    assert doc["kind"] == "dm" and doc["status"] == "open" and "immer noch" in doc["text"]
    result = e2e.post_meta(fresh(documented("messenger_standby_echo.json"), shift=1)).json()
    assert result["answered"] == 1 and result["brand"] == 1
    assert e2e.mention("messenger", mid)["status"] == "answered"


def test_an_instagram_standby_message_is_an_item_and_the_brands_echo_answers_it(e2e):
    """Instagram delivers standby[] too (``standby`` is an Instagram Messaging webhook field): a customer
    writing while another app holds the thread still waits for an answer."""
    result = e2e.post_meta(fresh(documented("instagram_standby.json"))).json()
    assert result["stored"] == 1 and result["ignored"] == 0
    mid = json.loads(documented("instagram_standby.json"))["entry"][0]["standby"][0]["message"]["mid"]
    doc = e2e.mention("instagram", mid)
    assert doc["kind"] == "dm" and doc["status"] == "open" and "gesperrt" in doc["text"]
    assert doc["brand_account_id"] == IG_ID and doc["conversation_id"] == "6140000000000103"
    echo = json.loads(documented("instagram_messages_echo.json"))
    echo["entry"][0]["messaging"][0]["message"]["mid"] = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDk5"
    result = e2e.post_meta(fresh(json.dumps(echo).encode(), shift=1)).json()
    assert result["answered"] == 1 and e2e.mention("instagram", mid)["status"] == "answered"


def test_a_chat_plugin_guest_known_by_user_ref_only_is_a_dm_answered_through_the_send_api_user_ref(e2e):
    """Meta names a Chat Plugin person by ``sender.user_ref`` alone (no PSID): once a 400 that Meta
    redelivered for hours; now a DM item, and the handoff's message goes to ``recipient.user_ref``."""
    response = e2e.post_meta(fresh(documented("messenger_messages_user_ref.json")))
    assert response.status_code == 200 and response.json()["stored"] == 1, response.text
    mid = json.loads(documented("messenger_messages_user_ref.json"))["entry"][0]["messaging"][0]["message"]["mid"]
    doc = e2e.mention("messenger", mid)
    assert doc["kind"] == "dm" and doc["author_id"] == doc["conversation_id"] == "user_ref:UR-chatplugin-24000000000000107"
    assert doc["department"] == "rechnung"  # a private department: the automatic handoff writes to the guest
    e2e.wait(lambda: (e2e.mention("messenger", mid) or {}).get("status") == "handed_off", timeout=15,
             what="the handoff message to the guest's user_ref")
    (sent,) = e2e.fakes.graph.messages
    assert (sent.account_id, sent.recipient_id, sent.user_ref) == (PAGE_ID, None, "UR-chatplugin-24000000000000107")
    assert sent.messaging_type == "RESPONSE"


def test_a_body_shaped_like_metas_instagram_examples_a_top_level_array_is_stored(e2e):
    body = b"[" + fresh(documented("instagram_comments_instagram_login.json")) + b"]"
    result = e2e.post_meta(body).json()
    assert result["stored"] == 1 and result["ignored"] == 0
    assert e2e.mention("instagram", "17950000000000102")["author_handle"] == "tom_tegernsee"


def test_an_instagram_login_comment_in_the_flat_shape_is_stored(e2e):
    result = e2e.post_meta(fresh(documented("instagram_comments_instagram_login.json"))).json()
    assert result["stored"] == 1 and result["ignored"] == 0
    doc = e2e.mention("instagram", "17950000000000102")
    assert doc["kind"] == "reply" and doc["author_handle"] == "tom_tegernsee" and doc["brand_account_id"] == IG_ID


def test_numeric_ids_of_older_messenger_deliveries_are_accepted_as_strings(e2e):
    response = e2e.post_meta(fresh(documented("messenger_messages_numeric_ids.json")))
    assert response.status_code == 200 and response.json()["stored"] == 1
    (doc,) = e2e.mentions()
    assert doc["author_id"] == "24000000000000101" and doc["brand_account_id"] == PAGE_ID


def test_numeric_feed_and_mention_ids_are_accepted_as_strings(e2e):
    feed = json.loads(documented("page_feed_comment_add.json"))
    feed["entry"][0]["changes"][0]["value"]["from"]["id"] = 7300000000000101
    mention = json.loads(documented("page_mention_post.json"))
    mention["entry"][0]["changes"][0]["value"]["sender_id"] = 7300000000000104
    for body in (feed, mention):
        response = e2e.post_meta(fresh(json.dumps(body).encode()))
        assert response.status_code == 200 and response.json()["stored"] == 1, response.text
    comment = e2e.mention("facebook", feed["entry"][0]["changes"][0]["value"]["comment_id"])
    assert comment["author_id"] == "7300000000000101"


def test_what_hilft_does_not_handle_is_counted_by_type_never_skipped(e2e):
    for name in ("instagram_story_insights.json", "messenger_message_reads.json", "page_feed_share.json"):
        response = e2e.post_meta(fresh(documented(name)))
        assert response.status_code == 200 and response.json()["ignored"] == 1, name
    odd = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1786528800, "hop_context": [{"app_id": 1}]}]}
    assert e2e.post_meta(json.dumps(odd).encode()).json()["ignored"] == 1
    assert e2e.mentions() == []


def test_a_standby_body_with_a_wrong_signature_is_401_and_stores_nothing(e2e):
    assert e2e.post_meta(fresh(documented("messenger_standby.json")), signature="sha256=" + "0" * 64).status_code == 401
    assert e2e.mentions() == []
