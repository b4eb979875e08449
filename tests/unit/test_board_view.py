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
          window: timedelta = timedelta(hours=24), **extra: Any) -> board_view.Board:
    return build_board(open_docs=open_docs, recent_docs=recent or [], now=NOW, window=window, promise=PROMISE,
                       departments=[Department("festnetz", "Festnetz & Internet"),
                                    Department("kundenservice", "Kundenservice")],
                       tz=BERLIN, brand="Telekom hilft", **extra)


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
    assert outcome({"platform": "x", "status": "deleted", "due_at": NOW}, NOW) is None


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
    page = render_page(board([("a", post(-754, status="overdue"))], lang="de"), nonce="n")
    assert '<html lang="de">' in page and "Bestätigen" in page and "überfällig 12:34" in page
    assert "Europe/Berlin (CET)" in page  # header clock and chart are labelled with the same zone
    config = json.loads(re.search(r'<script type="application/json" id="board-config">(.*?)</script>', page, re.S)[1])
    assert config["tz"] == "Europe/Berlin" and config["lang"] == "de" and config["texts"]["late"] == "überfällig"


def test_an_unknown_language_falls_back_to_english():
    assert '<html lang="en">' in render_page(board([]), nonce="n", lang="xx")


# -- the due time next to the countdown (issue 18) -----------------------------------------------------
# NOW is Friday 6 March 2026, 19:00 in Berlin (CET).


def test_the_due_time_is_on_the_policy_clock_with_the_day_only_when_not_today():
    def due(at: datetime, lang: str = "en") -> str:
        return board_view.due_text(at, NOW, BERLIN, lang)

    assert due(NOW + timedelta(minutes=5)) == "due 19:05"
    assert due(NOW + timedelta(minutes=5), "de") == "fällig 19:05"
    assert due(datetime(2026, 3, 6, 23, 30, tzinfo=UTC)) == "due Sat 00:30"  # UTC Friday, Berlin Saturday
    monday = datetime(2026, 3, 9, 7, 55, tzinfo=UTC)  # the weekend gap: Monday 08:55 CET
    assert (due(monday), due(monday, "de")) == ("due Mon 08:55", "fällig Mo 08:55")
    assert due(NOW - timedelta(days=1)) == "due Thu 19:00"  # overdue since yesterday
    assert due(datetime(2026, 3, 16, 7, 55, tzinfo=UTC), "de") == "fällig Mo 16.3. 08:55"
    assert due(datetime(2026, 3, 16, 7, 55, tzinfo=UTC)) == "due Mon 16 Mar 08:55"


def test_rows_show_their_due_time_next_to_the_countdown_on_the_page_and_in_json():
    monday = datetime(2026, 3, 9, 7, 55, tzinfo=UTC)
    weekend = post(0, due_at=monday, warn_at=monday - timedelta(minutes=15))
    page = render_page(board([("a", weekend), ("b", post(300))], lang="de"), nonce="n")
    row_a = page[page.index('data-doc-id="a"'):]
    assert '<div class="due">fällig Mo 08:55</div>' in row_a[:row_a.index("</tr>")]
    assert '<div class="due">fällig 19:05</div>' in page
    items = json.loads(board_view.board_json(board([("a", weekend)])))["items"]
    assert items[0]["due_text"] == "due Mon 08:55"


# -- outage incidents: one row, its posts folded under it (issue 17) -------------------------------------

INCIDENT = "a" * 40
INCIDENT_DOC = {"status": "open", "topic_label": "Störung Festnetz", "place_label": "53113 Bonn", "count": 37,
                "first_seen": NOW - timedelta(minutes=20), "last_seen": NOW - timedelta(minutes=8, seconds=30)}
MEMBER = {"incident_id": INCIDENT, "incident_label": "Störung Festnetz, 53113 Bonn"}


def incident_board(**extra: Any) -> board_view.Board:
    monday = datetime(2026, 3, 9, 7, 55, tzinfo=UTC)
    docs = [("m1", post(0, due_at=monday, warn_at=monday, **MEMBER)), ("m2", post(120, **MEMBER)),
            ("lone", post(60)), ("late", post(-600, status="overdue")), ("m3", post(-60, status="overdue", **MEMBER))]
    return board(docs, incident_docs={INCIDENT: INCIDENT_DOC}, **extra)


def test_an_incidents_posts_fold_under_one_row_where_its_most_urgent_post_stands():
    lines = incident_board().lines()
    shown = [line.incident_id if isinstance(line, board_view.IncidentGroup) else line.doc_id for line in lines]
    assert shown == ["late", INCIDENT, "m3", "m2", "m1", "lone"]
    group = lines[1]
    assert group.headline == "Störung Festnetz, 53113 Bonn — 37 posts in 12 min"  # outage.describe
    assert (group.doc_ids, group.overdue, group.state) == (("m3", "m2", "m1"), 1, "overdue")
    assert group.oldest_due_text == "18:59"


def test_the_incident_row_on_the_page_is_expandable_and_its_members_are_folded():
    page = render_page(incident_board(), nonce="n")
    rows = page[page.index('<tbody id="rows">'):page.index("</tbody>")]
    incident_row = rows[rows.index(f'data-incident-id="{INCIDENT}"'):]
    incident_row = incident_row[:incident_row.index("</tr>")]
    assert "Störung Festnetz, 53113 Bonn — 37 posts in 12 min" in incident_row
    assert "3 posts open, 1 overdue" in incident_row and "oldest due 18:59" in incident_row
    assert 'class="expand"' in incident_row and 'class="ack-incident"' in incident_row
    assert 'class="reply-incident"' not in incident_row  # the policy sets no known-outage reply
    for member in ("m1", "m2", "m3"):
        tag = re.search(rf'<tr data-doc-id="{member}"[^>]*>', rows)[0]
        assert f'data-member-of="{INCIDENT}"' in tag and " hidden" in tag
    assert " hidden" not in re.search(r'<tr data-doc-id="lone"[^>]*>', rows)[0]
    assert rows.index('data-doc-id="late"') < rows.index(f'data-incident-id="{INCIDENT}"') < rows.index(
        'data-doc-id="m3"') < rows.index('data-doc-id="lone"')
    assert '<section class="incidents">' not in page  # no second list of the same posts


def test_the_incident_row_offers_the_known_outage_reply_when_the_policy_has_one():
    reply = "Uns ist eine Störung in Ihrer Region bekannt."
    page = render_page(incident_board(incident_reply=reply), nonce="n")
    assert page.count('class="reply-incident"') == 1
    config = json.loads(re.search(r'<script type="application/json" id="board-config">(.*?)</script>', page, re.S)[1])
    assert config["incident_reply"] == reply
    data = json.loads(board_view.board_json(incident_board(incident_reply=reply)))
    assert data["incident_reply"] == reply
    (group,) = data["incidents"]
    assert group["headline"] == "Störung Festnetz, 53113 Bonn — 37 posts in 12 min"
    assert group["doc_ids"] == ["m3", "m2", "m1"] and group["oldest_due_text"] == "18:59"


def test_the_incident_label_is_escaped():
    member = {"incident_id": INCIDENT, "incident_label": "Störung Festnetz, 53113 <b>Bonn</b>"}
    page = render_page(board([("d1", post(-60, status="overdue", **member))]), nonce="n")
    assert "&lt;b&gt;Bonn&lt;/b&gt;" in page and "<b>Bonn</b>" not in page


def test_an_incidents_oldest_due_time_has_its_day():
    monday = datetime(2026, 3, 9, 7, 55, tzinfo=UTC)
    docs = [("m1", post(0, due_at=monday, warn_at=monday, **MEMBER))]
    (group,) = board(docs, incident_docs={INCIDENT: INCIDENT_DOC}, lang="de").incidents
    assert group.oldest_due_text == "Mo 08:55"
    page = render_page(board(docs, incident_docs={INCIDENT: INCIDENT_DOC}, lang="de"), nonce="n")
    assert "älteste Fälligkeit Mo 08:55" in page


# -- the German staff UI: everything the core writes, too -------------------------------------------------

ENGLISH = re.compile(r"\b(first response|hit rate|promise|answered|posts?|overdue|encrypted|account|"
                     r"revoked|deliveries|customer|unknown|fetched)\b", re.I)


def test_the_german_chart_has_no_english_text():
    recent = [answered(120, breached=False, received_ago=3 * 3600), answered(5400, breached=True, received_ago=600)]
    root = ET.fromstring(board([], recent, lang="de").svg())
    texts = [t.text or "" for t in root.iter(f"{SVG}text")] + [t.text or "" for t in root.iter(f"{SVG}title")]
    assert "Versprechen 60 min" in texts and "SLA-Quote" in texts
    assert "Erste Antwort und SLA-Quote, letzte 24 h" in texts
    assert any(t.endswith("1 beantwortet") and "Median 1,5 h" in t for t in texts)  # decimal comma
    assert not [t for t in texts if ENGLISH.search(t)]
    empty = ET.fromstring(board([], lang="de").svg())
    assert "keine beantworteten Beiträge in den letzten 24 h" in [t.text for t in empty.iter(f"{SVG}text")]


def test_german_placeholders_authors_incidents_and_operator_alerts():
    docs = [("enc", post(60, text="", encrypted=True, platform="messenger", author_handle=None, author_name=None,
                         author_id="99887766")),
            ("meta", post(90, text="", needs_enrichment=True, platform="facebook")),
            ("m1", post(-30, status="overdue", **MEMBER))]
    alerts = [{"kind": "access_revoked", "platform": "instagram", "account_id": "178"},
              {"kind": "delivery_gap", "platform": "x", "since": NOW, "recovery": "make replay FROM=…"}]
    built = board(docs, alert_docs=alerts, incident_docs={INCIDENT: INCIDENT_DOC}, lang="de")
    texts = {row.doc_id: row.text for row in built.rows}
    assert texts["enc"] == "[verschlüsselte Nachricht: auf der Plattform öffnen]"
    assert texts["meta"] == "[Text wird über die Graph API geladen]"
    assert next(r.author for r in built.rows if r.doc_id == "enc") == "Kunde …7766"
    (group,) = built.incidents
    assert group.headline == "Störung Festnetz, 53113 Bonn — 37 Beiträge in 12 Min."
    assert group.summary("de") == "Störung Festnetz, 53113 Bonn — 1 Beitrag offen, 1 überfällig"
    messages = [a.message("de", BERLIN) for a in built.alerts]
    assert messages[0] == ("instagram: Konto 178 hat hilft den Zugriff entzogen, seine Beiträge kommen nicht "
                           "mehr an. Bitte neu verbinden.")
    assert messages[1] == ("x: keine Webhook-Zustellungen seit 2026-03-06 19:00 CET; Beiträge aus dieser Zeit "
                           "fehlen womöglich. Nachholen mit: make replay FROM=…")
    data = json.loads(board_view.board_json(built))
    assert [a["message"] for a in data["operator_alerts"]] == messages
    assert data["incidents"][0]["summary"] == group.summary("de")
    page = render_page(built, nonce="n")
    assert "Konto 178 hat hilft den Zugriff entzogen" in page and "Kunde …7766" in page
    assert not ENGLISH.search(" ".join(messages + [group.headline, group.summary("de"), *texts.values()]))
