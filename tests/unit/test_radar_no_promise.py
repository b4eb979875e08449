"""Issue 17: a brand may say radar items carry no promise (``radar.first_response = "none"``).

Such an item is an open post with no due time: no warning or due task, never overdue, never
alerted, outside the SLA hit rate, on the board without a countdown; staff can still answer it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hilft.board_page import render_page
from hilft.channels.x import stream as x_stream
from hilft.core import board_view
from hilft.core.errors import PolicyError
from hilft.core.ids import mention_doc_id
from hilft.core.models import ParsedBatch
from hilft.core.policy import parse_policy
from hilft.service.holding import default_text
from tests.unit.test_services import World

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x" / "documented"
BRAND = frozenset({"1000000001"})
NO_PROMISE = """
[promise]
first_response = "60m"
warning_before = "15m"
[escalation]
realert_every = "30m"
max_level = 3
warning_sinks = ["slack"]
[radar]
keywords = ["telekom"]
first_response = "none"
"""


# --- policy -----------------------------------------------------------------------------------------


def test_none_switches_the_radar_promise_off_and_the_default_stays_four_hours_without_warning() -> None:
    assert parse_policy('[radar]\nfirst_response = "none"\n').radar.first_response is None
    assert not parse_policy('[radar]\nfirst_response = "none"\n').radar.promises
    default = parse_policy("").radar
    assert default.first_response == timedelta(hours=4) and default.warning is False and default.promises


@pytest.mark.parametrize(("text", "message"), [
    ('first_response = "None"', 'radar.first_response: write "none" in lower case'),
    ('first_response = "0s"', "radar.first_response: must be longer than 0s"),
    ("first_response = false", 'radar.first_response: expected a duration such as "4h" or "none"'),
    ('first_response = "soon"', 'radar.first_response: invalid duration "soon"'),
    ('first_response = "none"\nwarning = true', "radar.warning: needs a promise to warn before"),
])
def test_a_wrong_radar_promise_names_its_key(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(")):
        parse_policy(f"[radar]\n{text}\n")


# --- ingest, sweep, answer --------------------------------------------------------------------------


def stream_post(world: World, post_id: str = "2080770000000000001", text: str | None = None) -> Any:
    (post,) = x_stream.parse((FIXTURES / "stream_post_radar.json").read_bytes(), brand_user_ids=BRAND).events
    update: dict[str, Any] = {"created_at": world.clock(), "post_id": post_id}
    if text is not None:
        update["text"] = text
    return post.model_copy(update=update)


def test_a_radar_item_without_a_promise_is_open_with_no_due_time_and_no_tasks_and_the_sweep_skips_it() -> None:
    world = World(NO_PROMISE)
    post = stream_post(world)
    assert world.ingest.ingest(ParsedBatch(events=(post,)), BRAND).stored == 1
    doc = world.doc(post.post_id)
    assert doc["radar"] is True and doc["status"] == "open"
    assert doc["due_at"] is None and doc["warn_at"] is None and doc["promise_seconds"] is None
    assert not world.scheduler.tasks  # no warning, no due task
    world.clock.advance(days=3)
    assert world.run_due_tasks() == []
    world.deadlines.sweep()
    doc = world.doc(post.post_id)
    assert doc["status"] == "open" and doc.get("alert_level") is None
    assert all(not sink.sent for sink in world.sinks.values())
    # staff can still answer it: the brand's reply closes it, never as a breach
    world.deliver(world.mention("b1", "Wir schauen uns das an", author="1000000001", brand=True,
                                in_reply_to=post.post_id))
    doc = world.doc(post.post_id)
    assert doc["status"] == "answered" and doc["breached"] is False
    assert board_view.outcome(doc, world.clock()) is None  # outside the SLA hit rate


def test_a_radar_item_without_a_promise_still_hands_personal_data_off() -> None:
    world = World(NO_PROMISE + '[departments.kundenservice]\nlabel = "Kundenservice"\n')
    post = stream_post(world, text="Telekom kein Netz, meine Nummer ist 0171 2345678")
    assert world.ingest.ingest(ParsedBatch(events=(post,)), BRAND).stored == 1
    assert world.doc(post.post_id)["due_at"] is None
    kinds = [t.payload["kind"] for t in world.scheduler.tasks.values()]
    assert kinds == ["handoff"]
    assert "due_at" not in next(iter(world.scheduler.tasks.values())).payload


def test_the_default_radar_promise_is_unchanged() -> None:
    world = World(NO_PROMISE.replace('first_response = "none"\n', ""))
    post = stream_post(world)
    world.ingest.ingest(ParsedBatch(events=(post,)), BRAND)
    assert world.doc(post.post_id)["due_at"] - world.clock() == timedelta(hours=4)
    assert sorted(t.payload["kind"] for t in world.scheduler.tasks.values()) == ["due"]


# --- board ------------------------------------------------------------------------------------------


def test_the_board_shows_a_radar_item_without_a_countdown_after_the_promised_posts() -> None:
    world = World(NO_PROMISE)
    radar = stream_post(world)
    world.ingest.ingest(ParsedBatch(events=(radar,)), BRAND)
    world.deliver(world.mention("1", "@Telekom_hilft kein Internet"))
    world.clock.advance(minutes=90)  # the promised post is overdue by now
    now = world.clock()
    open_docs = [(doc_id, data) for doc_id, data in world.store.data["mentions"].items()]
    board = board_view.build_board(open_docs=open_docs, recent_docs=[], now=now, window=timedelta(hours=24),
                                   promise=timedelta(minutes=60), departments=[], tz=world.policy.calendar.tz,
                                   holding_texts={mention_doc_id("x", radar.post_id): "Wir melden uns"})
    assert [row.doc_id for row in board.rows] == [mention_doc_id("x", "1"), mention_doc_id("x", radar.post_id)]
    row = board.rows[1]
    assert row.due_at is None and row.seconds_left is None and row.radar and row.state == "open"
    assert board.counts() == {"overdue": 1, "at_risk": 0, "open": 1}
    page = render_page(board, nonce="n", lang="de")
    radar_tr = page.split(f'data-doc-id="{row.doc_id}"')[1].split("</tr>")[0]
    assert "data-due" not in radar_tr and "Radar: kein Versprechen" in radar_tr and "hold-btn" in radar_tr
    item = json.loads(board_view.board_json(board))["items"][1]
    assert item["due_at"] is None and item["seconds_left"] is None and item["radar"] is True


def test_a_holding_reply_for_a_radar_item_without_a_promise_names_a_fresh_time() -> None:
    from hilft.core.document import MentionDoc

    world = World(NO_PROMISE)
    radar = stream_post(world)
    world.ingest.ingest(ParsedBatch(events=(radar,)), BRAND)
    doc = MentionDoc.from_store(world.doc(radar.post_id))
    text = default_text(world.policy, doc, world.clock())
    assert text  # the board offers a holding reply; its promise is the platform's ordinary one
