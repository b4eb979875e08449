"""The on-call board's HTML: a Jinja2 template (autoescaped) with the script and style from
static files, inlined under the request's CSP nonce (marked ``|safe`` in the template: they are
ours, never data; the chart SVG escapes its own text in ``board_view.chart_svg``). Staff read it in English or German
(``?lang=de``); every time on the page is on the policy's wall clock, and the page says which.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from hilft.core import board_view

LANGUAGES = ("en", "de")

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "on-call board", "promise": "promise: first answer within", "times_in": "times in",
        "report": "SLA report", "as_of": "as of", "updated": "updated", "refresh_failed": "refresh failed",
        "failed": "failed", "at_risk_tile": "at risk (warned)", "open_tile": "open, on time",
        "hit_rate": "SLA hit rate, last", "first_response": "first response", "clock": "Clock", "state": "State",
        "platform": "Platform", "author": "Author", "post": "Post (redacted)", "level": "Alert level",
        "acknowledged_col": "Acknowledged", "hand_off_to": "Hand off to", "open_post": "open post",
        "acknowledged": "acknowledged", "acknowledge": "Acknowledge", "hand_off": "Hand off",
        "department": "department", "nothing": "Nothing overdue or at risk.",
        "chart": "First response and SLA hit rate, last", "late": "late", "in": "in",
        "no_promise": "radar: no promise",
        "states": {"overdue": "overdue", "at_risk": "at risk", "open": "open"},
        "incident": "outage", "oldest_due": "oldest due", "ack_incident": "Acknowledge all",
        "show_posts": "Show posts", "hide_posts": "Hide posts", "reply_incident": "Known-outage reply to all",
        "reply_confirm": "Acknowledge the incident and send this public reply to each of its open posts?",
        "quiet": "Closing messages: no reply needed (reopen if they do)", "reopen": "Needs a reply",
        "hold": "Holding reply", "hold_prompt": "Public holding reply (check or edit, then OK to send):",
        "actions": {"ack": "acknowledge", "handoff": "hand off", "hold": "holding reply",
                    "ack_incident": "acknowledge incident", "reply_incident": "known-outage reply",
                    "reopen": "reopen"},
        "outcomes": {"queued": "queued, it goes out in a moment", "acknowledged": "acknowledged",
                     "already_answered": "already answered",
                     "reopened": "reopened: the promise runs from now",
                     "already_acknowledged": "already acknowledged"},
    },
    "de": {
        "title": "Bereitschafts-Board", "promise": "Versprechen: erste Antwort innerhalb von", "times_in": "Zeiten in",
        "report": "SLA-Bericht", "as_of": "Stand", "updated": "aktualisiert",
        "refresh_failed": "Aktualisierung fehlgeschlagen",
        "failed": "fehlgeschlagen", "at_risk_tile": "gefährdet (gewarnt)", "open_tile": "offen, im Plan",
        "hit_rate": "SLA-Quote, letzte", "first_response": "erste Antwort", "clock": "Uhr", "state": "Zustand",
        "platform": "Plattform", "author": "Autor", "post": "Beitrag (geschwärzt)", "level": "Alarmstufe",
        "acknowledged_col": "Bestätigt", "hand_off_to": "Übergeben an", "open_post": "Beitrag öffnen",
        "acknowledged": "bestätigt", "acknowledge": "Bestätigen", "hand_off": "Übergeben",
        "department": "Abteilung", "nothing": "Nichts überfällig oder gefährdet.",
        "chart": "Erste Antwort und SLA-Quote, letzte", "late": "überfällig", "in": "noch",
        "no_promise": "Radar: kein Versprechen",
        "states": {"overdue": "überfällig", "at_risk": "gefährdet", "open": "offen"},
        "incident": "Störung", "oldest_due": "älteste Fälligkeit", "ack_incident": "Alle bestätigen",
        "show_posts": "Beiträge zeigen", "hide_posts": "Beiträge ausblenden",
        "reply_incident": "Störungsantwort an alle",
        "reply_confirm": "Störung bestätigen und diese öffentliche Antwort an jeden offenen Beitrag senden?",
        "quiet": "Abschlussnachrichten: keine Antwort nötig (bei Bedarf wieder öffnen)",
        "reopen": "Braucht Antwort",
        "hold": "Zwischenantwort", "hold_prompt": "Öffentliche Zwischenantwort (prüfen oder ändern, OK sendet):",
        "actions": {"ack": "Bestätigen", "handoff": "Übergabe", "hold": "Zwischenantwort",
                    "ack_incident": "Störung bestätigen", "reply_incident": "Störungsantwort",
                    "reopen": "Wieder öffnen"},
        "outcomes": {"queued": "eingereiht, geht gleich raus", "acknowledged": "bestätigt",
                     "already_answered": "schon beantwortet",
                     "reopened": "wieder offen: das Versprechen läuft ab jetzt",
                     "already_acknowledged": "schon bestätigt"},
    },
}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("hilft", "templates"),
                              autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)


@lru_cache(maxsize=2)
def _static(name: str) -> str:
    return resources.files("hilft").joinpath("static", name).read_text(encoding="utf-8")


def pick_language(raw: str | None) -> str:
    return raw if raw in LANGUAGES else "en"


def is_incident(line: Any) -> bool:
    return isinstance(line, board_view.IncidentGroup)


def zone_label(tz: Any, at: datetime) -> str:
    """"Europe/Berlin (CET)": the zone's name and its abbreviation at that instant."""
    return f"{tz.key} ({at.astimezone(tz):%Z})" if hasattr(tz, "key") else str(tz)


def clock_text(seconds_left: float | None, texts: dict[str, Any]) -> str:
    if seconds_left is None:  # a radar item under radar.first_response = "none"
        return str(texts["no_promise"])
    magnitude = abs(int(seconds_left))
    hours, rest = divmod(magnitude, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{texts['late'] if seconds_left < 0 else texts['in']} {text}"


def render_page(board: board_view.Board, *, nonce: str, lang: str | None = None,
                report_href: str = "?view=report") -> str:
    """The whole page (in the board's language unless told); user text is escaped by the template,
    the script carries ``nonce``."""
    lang = pick_language(lang or board.lang)
    texts = TEXTS[lang]
    stats = board.stats
    tz_label = zone_label(board.tz, board.now)
    config = {"lang": lang, "tz": getattr(board.tz, "key", "UTC"), "tz_label": tz_label,
              "incident_reply": board.incident_reply,
              "refresh_ms": board_view.REFRESH_SECONDS * 1000, "texts": texts, "platforms": board_view.PLATFORM_NAMES,
              "departments": [{"name": d.name, "label": d.label} for d in board.departments]}
    return _environment().get_template("board.html").render(
        board=board, lang=lang, t=texts, nonce=nonce, style=_static("board.css"),
        script=_static("board.js"), chart=board.svg(), counts=board.counts(),
        promise=board_view.duration_text(board.promise.total_seconds(), lang), tz_label=tz_label,
        as_of=f"{board.now.astimezone(board.tz):%H:%M:%S}", window=board_view.window_label(board.window),
        hit_rate=board_view.percent_text(stats.hit_rate), p50=board_view.duration_text(stats.p50_seconds, lang),
        p90=board_view.duration_text(stats.p90_seconds, lang), platforms=board_view.PLATFORM_NAMES,
        clock=lambda seconds: clock_text(seconds, texts), config=config, report_href=report_href,
        is_incident=is_incident)
