"""Personal data never stays in public, end to end: a Facebook comment under the Page's post with a
phone number → the automatic handoff hides the comment through the (fake) Graph API before the
private reply, records it, and the private reply carries no delete hint; a comment the brand may
not hide gets the hint instead."""

from __future__ import annotations

import pytest

from tests.e2e.test_meta_channel import comment_body
from tests.stack_fixtures import PAGE_ID

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

HINT = "Sie können ihn jederzeit löschen"


def handed_off(e2e, comment_id: str) -> dict:
    e2e.wait(lambda: (e2e.mention("facebook", comment_id) or {}).get("status") == "handed_off", timeout=15,
             what="the private reply handoff")
    return next(d.to_dict() for d in e2e.db.collection("handoffs").stream() if d.to_dict()["post_id"] == comment_id)


def test_a_phone_number_in_a_page_comment_is_hidden_before_the_private_reply(e2e):
    comment_id = "820000000000001_930000000000555"
    e2e.fakes.graph.add_comment(comment_id, on=PAGE_ID, message="…", **{"from": {"id": "7300000000000101"}})
    assert e2e.post_meta(comment_body("Bitte ruft mich an: 0171 2345678", comment_id)).status_code == 200
    record = handed_off(e2e, comment_id)

    graph = e2e.fakes.graph
    assert comment_id in graph.hidden and graph.hidden[comment_id].platform == "facebook"
    assert graph.hidden[comment_id].account_id == PAGE_ID
    hide = next(r for r in graph.requests if r.method == "POST" and r.path.endswith(f"/{comment_id}"))
    reply = next(r for r in graph.requests if r.path.endswith("/messages"))
    assert graph.requests.index(hide) < graph.requests.index(reply), "hidden before the private reply"
    assert b"2345678" not in hide.body
    (private,) = graph.private_replies
    assert private.comment_id == comment_id and "2345678" not in private.text and HINT not in private.text
    assert record["public_hidden"] is True and record["status"] == "dm_sent" and "hide_refused" not in record


def test_a_comment_the_brand_may_not_hide_gets_the_delete_hint_in_the_private_reply(e2e):
    comment_id = "820000000000001_930000000000556"  # the fake Graph API does not know it: not hideable
    assert e2e.post_meta(comment_body("Meine Nummer: 0171 2345679", comment_id)).status_code == 200
    record = handed_off(e2e, comment_id)
    assert e2e.fakes.graph.hidden == {}
    (private,) = e2e.fakes.graph.private_replies
    assert HINT in private.text and "2345679" not in private.text
    assert record["hide_refused"] and "public_hidden" not in record and record["delete_hint"] is True
