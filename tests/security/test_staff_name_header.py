"""Attack: in token mode the staff name is the caller's word (``X-Hilft-User``), and hilft records it
(``acknowledged_by``, ``requested_by``) and shows it on the board. ``ack``'s ``by`` is bounded to 120
characters; the header was not: a name of many kilobytes, or one carrying control characters (an
ANSI escape, a line break that fakes a second line, a C1 control) or format characters (a
zero-width space that slips ``pagerduty`` past the reserved-name check), was stored as sent.

The header now gets what ``by`` gets: one line of visible text (control characters become spaces,
format characters go) of at most 120 characters; longer is a 400 and nothing is acknowledged.
Headers are sent raw (``environ``: Latin-1, as a WSGI server decodes them), so the test controls
every byte; a UTF-8 name ("Jürgen") is read as UTF-8.
"""

from __future__ import annotations

import json

import pytest

from tests.security.inprocess import STAFF, answer, app_with_post

DOORS = [
    ("ack", "", {}, {}),
    ("handoff", "", {}, {}),
    ("board", "?action=ack", {"X-Hilft-Board": "1"}, {}),
    ("board", "?action=handoff", {"X-Hilft-Board": "1"}, {"department": "kundenservice"}),
]
DOOR_IDS = ["ack", "handoff", "board-ack", "board-handoff"]


def _raw(value: str) -> dict[str, str]:
    """The header as a WSGI server hands it over: its bytes decoded as Latin-1."""
    return {"HTTP_X_HILFT_USER": value.encode("utf-8").decode("latin-1")}


def _call(app, door, query, headers, body, doc_id, name):
    return answer(app, door, path="/" + query, body=json.dumps({"doc_id": doc_id, **body}).encode(),
                  headers={**STAFF, **headers}, environ=_raw(name))


@pytest.mark.parametrize("length", [121, 4096, 60_000])
@pytest.mark.parametrize(("door", "query", "headers", "body"), DOORS, ids=DOOR_IDS)
def test_a_name_longer_than_ack_allows_is_refused_and_nothing_happens(door, query, headers, body, length):
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    scheduled = len(app.scheduler.calls)
    response = _call(app, door, query, headers, body, doc_id, "a" * length)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "aaaa" not in response.get_data(as_text=True)  # the answer never echoes the name
    assert not app.store.get(MENTIONS, doc_id).data.get("acknowledged_at")
    assert len(app.scheduler.calls) == scheduled


def test_a_name_of_exactly_120_characters_is_recorded():
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    response = _call(app, "ack", "", {}, {}, doc_id, "b" * 120)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert app.store.get(MENTIONS, doc_id).data["acknowledged_by"] == "b" * 120


@pytest.mark.parametrize(("sent", "recorded"), [
    ("anna\x1b[31m root", "anna [31m root"),  # an ANSI escape: the ESC goes
    ("anna\r\nacknowledged_by: ciso", "anna acknowledged_by: ciso"),  # no second line
    ("anna\x00\x07\x7f", "anna"),  # NUL, BEL, DEL
    ("anna\u0085x", "anna x"),  # C1 control (NEL)
    ("an\u200bna\u202e", "anna"),  # zero-width space, right-to-left override
    ("  anna   berg  ", "anna berg"),
    ("Jürgen Weiß", "Jürgen Weiß"),  # a UTF-8 name is read as UTF-8
])
@pytest.mark.parametrize(("door", "query", "headers", "body"), DOORS[:1] + DOORS[2:3], ids=["ack", "board-ack"])
def test_a_recorded_name_is_one_line_of_visible_text(door, query, headers, body, sent, recorded):
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    response = _call(app, door, query, headers, body, doc_id, sent)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert app.store.get(MENTIONS, doc_id).data["acknowledged_by"] == recorded


def test_a_format_character_does_not_slip_a_reserved_name_past_the_check():
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    response = _call(app, "ack", "", {}, {}, doc_id, "pager\u200bduty")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert not app.store.get(MENTIONS, doc_id).data.get("acknowledged_at")


@pytest.mark.parametrize("blank", [
    "\u200b\x00\u202e",  # zero-width space, NUL, right-to-left override
    "\u3164",  # Hangul filler: a letter to Unicode, blank on screen
    "\u2800\u2800",  # braille blank
    "\u115f\u034f",  # Hangul choseong filler, combining grapheme joiner
    " \u0301\u20dd",  # marks with nothing to sit on
])
def test_a_name_of_only_invisible_characters_is_refused(blank):
    app, doc_id = app_with_post()
    assert _call(app, "ack", "", {}, {}, doc_id, blank).status_code == 400


def test_a_by_longer_than_the_limit_is_refused_not_replaced_by_the_caller():
    """A too-long ``by`` was silently swapped for the caller's identity; it is a 400 like the header."""
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    response = answer(app, "ack", body=json.dumps({"doc_id": doc_id, "by": "c" * 121}).encode(), headers=STAFF)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert not app.store.get(MENTIONS, doc_id).data.get("acknowledged_at")


@pytest.mark.parametrize(("by", "recorded"), [("anna\x1b[2J", "anna [2J"), ("pa\u200bgerduty", None)])
def test_acks_by_gets_the_same_cleaning(by, recorded):
    from hilft.service.ports import MENTIONS

    app, doc_id = app_with_post()
    response = answer(app, "ack", body=json.dumps({"doc_id": doc_id, "by": by}).encode(), headers=STAFF)
    data = app.store.get(MENTIONS, doc_id).data
    if recorded is None:
        assert response.status_code == 400 and not data.get("acknowledged_at")
    else:
        assert response.status_code == 200 and data["acknowledged_by"] == recorded
