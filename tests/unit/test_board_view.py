"""The board's rendering, pure: escaping, ordering by lateness, the SLA numbers, the chart."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hilft.board_page import render_page
from hilft.core import board_view
from hilft.core.board_view import Department, build_board, outcome, percentile, response_stats

NOW = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
PROMISE = timedelta(minutes=60)
SVG = "{http://www.w3.org/2000/svg}"


def post(due_in: float, *, status: str = "open", text: str = "Kein Netz in Bonn", handle: str = "jana",
         warn_before: float = 900, **extra: Any) -> dict[str, Any]:
    due = NOW + timedelta(seconds=due_in)
    return {"platform": "x", "post_id": "1", "author_handle": handle, "author_name": "Jana K.", "text": text,
            "url": "https://x.com/jana/status/1", "status": status, "due_at": due,
            "warn_at": due - timedelta(seconds=warn_before), "received_at": due - PROMISE,
            "alert_level": None, "acknowledged": False, **extra}


def answered(seconds: float, *, breached: bool, received_ago: float = 600) -> dict[str, Any]:
    received = NOW - timedelta(seconds=received_ago)
    return {"platform": "facebook", "status": "answered", "received_at": received,
            "due_at": received + PROMISE, "first_response_seconds": seconds, "breached": breached}


def board(open_docs: list[tuple[str, dict[str, Any]]], recent: list[dict[str, Any]] | None = None,
          window: timedelta = timedelta(hours=24)) -> board_view.Board:
    return build_board(open_docs=open_docs, recent_docs=recent or [], now=NOW, window=window, promise=PROMISE,
                       departments=[Department("festnetz", "Festnetz & Internet"),
                                    Department("kundenservice", "Kundenservice")],
                       tz=BERLIN, brand="Telekom hilft")


def test_script_in_a_post_is_escaped_not_markup():
    attack = '<script>window.pwned = 1</script><img src=x onerror="window.pwned=2">'
    page = render_page(board([("d1", post(-60, text=attack, handle='"><script>x()</script>'))]), nonce="n0nce")
    assert attack not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;img src=x onerror=&#34;window.pwned=2&#34;&gt;" in page
    assert "@&#34;&gt;&lt;script&gt;x()&lt;/script&gt;" in page
    # The only scripts on the page are ours, and they carry the nonce the CSP allows.
    # One executable script, with the nonce; the other tag is a JSON data block browsers never run.
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json" id="board-config">',
                                                  '<script nonce="n0nce">']


def test_only_http_links_become_hrefs():
    page = render_page(board([("d1", post(-5, url="javascript:alert(1)")), ("d2", post(-4))]), nonce="n")
    assert "javascript:" not in page
    assert 'href="https://x.com/jana/status/1"' in page
    assert board_view.safe_link("JavaScript:alert(1)") is None


def test_rows_are_sorted_by_lateness_with_their_state():
    docs = [("on-time", post(1800)), ("late-1m", post(-60, status="overdue", alert_level=1)),
            ("at-risk", post(300)), ("late-10m", post(-600, status="overdue", alert_level=2)),
            ("answered", post(-900, status="answered")), ("late-no-task-yet", post(-1))]
    rows = board(docs).rows
    assert [r.doc_id for r in rows] == ["late-10m", "late-1m", "late-no-task-yet", "at-risk", "on-time"]
    assert [r.state for r in rows] == ["overdue", "overdue", "overdue", "at_risk", "open"]
    assert rows[0].seconds_left == -600 and rows[0].alert_level == 2


def test_page_rows_follow_the_same_order_and_show_the_clock():
    page = render_page(board([("b", post(300)), ("a", post(-754, status="overdue"))]), nonce="n")
    assert page.index('data-doc-id="a"') < page.index('data-doc-id="b"')
    assert "late 12:34" in page and "in 5:00" in page


def test_outcome_counts_answered_late_and_unanswered_past_due_as_misses():
    assert outcome(answered(30, breached=False), NOW) == "hit"
    assert outcome(answered(4000, breached=True), NOW) == "miss"
    assert outcome(post(-1), NOW) == "miss"
    assert outcome(post(10), NOW) == "pending"
    assert outcome({"status": "deleted", "due_at": NOW}, NOW) is None


def test_response_stats_hit_rate_and_nearest_rank_percentiles():
    docs = [answered(s, breached=s > 3600) for s in (60, 120, 180, 240, 300, 360, 420, 480, 540, 4000)]
    docs += [post(-30), post(30)]
    stats = response_stats(docs, NOW)
    assert (stats.hits, stats.misses, stats.pending, stats.answered) == (9, 2, 1, 10)
    assert stats.hit_rate == 9 / 11
    assert (stats.p50_seconds, stats.p90_seconds) == (300, 540)
    assert percentile([], 0.5) is None and percentile([7.0], 0.9) == 7.0


def test_chart_is_an_svg_with_bars_the_promise_and_the_hit_rate():
    recent = [answered(120, breached=False, received_ago=3 * 3600), answered(5400, breached=True, received_ago=600)]
    page = render_page(board([], recent), nonce="n")
    svg_text = page[page.index("<svg"): page.index("</svg>") + 6]
    root = ET.fromstring(svg_text)  # well-formed XML, not just a string that looks like SVG
    assert root.tag == f"{SVG}svg"
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 2
    assert any("promise 60 min" in (t.text or "") for t in root.iter(f"{SVG}text"))
    assert root.find(f"{SVG}polyline") is not None  # the hit rate line


def test_chart_without_answers_says_so():
    svg = board([]).svg()
    assert "no answered posts in the last 24 h" in svg


def test_json_carries_the_same_rows_and_numbers():
    data = json.loads(board_view.board_json(board([("a", post(-60, status="overdue", acknowledged=True,
                                                              acknowledged_by="oncall@example.com"))],
                                                  [answered(100, breached=False)])))
    assert data["counts"] == {"overdue": 1, "at_risk": 0, "open": 0}
    assert data["items"][0]["doc_id"] == "a" and data["items"][0]["seconds_left"] == -60
    assert data["items"][0]["acknowledged"] is True
    assert data["stats"]["hits"] == 1 and data["stats"]["p50_seconds"] == 100
    assert [d["name"] for d in data["departments"]] == ["festnetz", "kundenservice"]
    assert len(data["chart"]) == board_view.CHART_BUCKETS


def test_acknowledged_rows_show_no_acknowledge_button():
    page = render_page(board([("a", post(-60, acknowledged=True)), ("b", post(-30))]), nonce="n")
    assert page.count('class="ack"') == 1 and "acknowledged</span>" in page


def test_csp_allows_only_the_nonce():
    csp = board_view.content_security_policy("abc")
    assert "script-src 'nonce-abc'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp


def test_the_page_speaks_german_and_names_the_policy_zone_everywhere():
    page = render_page(board([("a", post(-754, status="overdue"))]), nonce="n", lang="de")
    assert '<html lang="de">' in page and "Bestätigen" in page and "überfällig 12:34" in page
    assert "Europe/Berlin (CET)" in page  # header clock and chart are labelled with the same zone
    config = json.loads(re.search(r'<script type="application/json" id="board-config">(.*?)</script>', page, re.S)[1])
    assert config["tz"] == "Europe/Berlin" and config["lang"] == "de" and config["texts"]["late"] == "überfällig"


def test_an_unknown_language_falls_back_to_english():
    assert '<html lang="en">' in render_page(board([]), nonce="n", lang="xx")


def test_an_incident_is_one_group_on_the_page_with_one_acknowledge_for_all_its_posts():
    incident = "a" * 40
    member = {"incident_id": incident, "incident_label": "Störung Festnetz, 53113 <b>Bonn</b>"}
    page = render_page(board([("d1", post(-60, status="overdue", **member)), ("d2", post(120, **member)),
                              ("d3", post(300))]), nonce="n")
    section = page[page.index('<section class="incidents">'):page.index("</section>")]
    assert f'<tr data-incident-id="{incident}">' in section and 'class="ack-incident"' in section
    assert "2 posts open, 1 overdue" in section
    assert "&lt;b&gt;Bonn&lt;/b&gt;" in section and "<b>Bonn</b>" not in section  # labels are escaped
