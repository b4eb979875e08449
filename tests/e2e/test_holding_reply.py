"""A holding reply from the board: staff check the text (with the real time filled in), it goes
out once through the platform API, counts as the first response, and records who sent it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hilft.core.promise_phrase import promise_phrase
from tests.alert_proof import doc_id_of
from tests.e2e.builders import aaa_tweet
from tests.e2e.test_board_browser import browser  # noqa: F401  (the module's Chromium fixture)
from tests.stack_fixtures import STAFF_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

BOARD_HEADERS = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Hilft-Board": "1"}


def _hold(e2e, doc_id: str, text: str):
    return e2e.http.post(e2e.url("board") + "?action=hold", json={"doc_id": doc_id, "text": text},
                         headers=BOARD_HEADERS)


def test_holding_reply_goes_out_once_and_is_the_first_response(e2e):
    post_id, body = aaa_tweet("Router blinkt rot seit heute Morgen")
    assert e2e.post_x(body).status_code == 200
    items = e2e.http.get(e2e.url("board"), params={"format": "json"}, headers=BOARD_HEADERS).json()["items"]
    text = next(i["holding_text"] for i in items if i["doc_id"] == doc_id_of(post_id))
    assert "melden uns" in text  # the template, with the concrete time of the promise

    first = _hold(e2e, doc_id_of(post_id), text)
    again = _hold(e2e, doc_id_of(post_id), text)
    assert first.status_code == 202 and first.json()["outcome"] == "queued"
    assert again.status_code in (200, 202)
    answered = e2e.wait(lambda: (m := e2e.mention("x", post_id)) and m["status"] == "answered" and m,
                        what="the holding reply to count as the first response")
    assert answered["answered_by"] == "staff" and answered["holding_reply_id"]
    # The post's warning task is gone with the answer: wait for a later event that must happen —
    # a second post's own reply — then count the replies to the first one.
    other_id, other = aaa_tweet("Und bei mir auch")
    assert e2e.post_x(other).status_code == 200
    assert _hold(e2e, doc_id_of(other_id), "Wir schauen uns das an.").status_code == 202
    e2e.wait(lambda: any(r["in_reply_to_tweet_id"] == other_id for r in e2e.fakes.x.replies), what="second reply")
    mine = [r for r in e2e.fakes.x.replies if r["in_reply_to_tweet_id"] == post_id]
    assert len(mine) == 1 and mine[0]["text"].endswith(text)


@pytest.mark.parametrize("text", ["", " ", "x" * 281, "Rufen Sie mich an: 0170 1234567"])
def test_holding_reply_refuses_empty_long_or_personal_text(e2e, text):
    post_id, body = aaa_tweet("Kein Netz")
    assert e2e.post_x(body).status_code == 200
    response = _hold(e2e, doc_id_of(post_id), text)
    assert response.status_code == 400
    assert e2e.mention("x", post_id)["status"] == "open"


@pytest.mark.browser
def test_holding_reply_from_the_page_after_staff_edit_it(e2e, browser):  # noqa: F811
    post_id, body = aaa_tweet("Seit gestern kein DSL in Köln")
    assert e2e.post_x(body).status_code == 200
    # Due in three hours (the e2e policy's 5 s would be "innerhalb der nächsten Minute"): the text
    # must name that clock time, as the customer will read it.
    due = datetime.now(UTC) + timedelta(hours=3)
    e2e.db.collection("mentions").document(doc_id_of(post_id)).update({"due_at": due})
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    page = context.new_page()
    shown: list[str] = []

    def answer(dialog: Any) -> None:
        shown.append(dialog.default_value)
        dialog.accept(dialog.default_value.replace("Danke für Ihre Geduld!", "Danke, Jana!"))

    page.on("dialog", answer)
    try:
        assert page.goto(e2e.url("board") + "/?lang=de").status == 200
        page.locator(f'tr[data-doc-id="{doc_id_of(post_id)}"] button.hold-btn').click()
        e2e.wait(lambda: (e2e.mention("x", post_id) or {}).get("status") == "answered", what="answered")
    finally:
        context.close()
    told = promise_phrase(due, datetime.now(UTC), ZoneInfo("Europe/Berlin"), "de").text  # "bis heute, 14:30 Uhr"
    assert shown and f"melden uns {told}." in shown[0], shown
    assert told.startswith("bis ") and "Uhr" in told
    sent = [r["text"] for r in e2e.fakes.x.replies if r["in_reply_to_tweet_id"] == post_id]
    assert len(sent) == 1 and "Danke, Jana!" in sent[0]

