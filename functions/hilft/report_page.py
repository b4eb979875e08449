"""The SLA report as a page (Jinja2, autoescaped, inline SVG — no CDN) and as CSV.

Served by the board (``?view=report``) and written to a file by ``make report``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import jinja2

from hilft.core.errors import MalformedPayload
from hilft.core.report import FIRST_REPORT_DAY, LAST_REPORT_DAY, WEEKDAYS, Report, percentile_label

TEXTS = {
    "en": {"title": "SLA report", "timezone": "time zone", "days": "days", "reads": "documents read",
           "hit_rate": "Promise kept", "first_response": "First response", "posts": "Posts", "misses": "Breaches",
           "pending": "Pending", "handoffs": "Handoffs", "incidents": "Incidents", "csv": "CSV export",
           "heatmap": "Breaches by weekday and hour (due time)", "weekly": "Promise kept per week",
           "alerts": "Alerts by highest level", "level": "Level", "platform": "Channel", "priority": "Priority",
           "department": "Department"},
    "de": {"title": "SLA-Bericht", "timezone": "Zeitzone", "days": "Tage", "reads": "gelesene Dokumente",
           "hit_rate": "Versprechen gehalten", "first_response": "Erste Antwort", "posts": "Beiträge",
           "misses": "Verstöße", "pending": "Offen", "handoffs": "Übergaben", "incidents": "Störungen",
           "csv": "CSV-Export", "heatmap": "Verstöße nach Wochentag und Stunde (Fälligkeit)",
           "weekly": "Versprechen gehalten pro Woche", "alerts": "Alarme nach höchster Stufe", "level": "Stufe",
           "platform": "Kanal", "priority": "Priorität", "department": "Abteilung"},
}
WEEKDAYS_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
DEFAULT_DAYS = 28


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("hilft", "templates"),
                              autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)


def period(raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """``from``/``to`` as ISO dates (inclusive); default: the last 28 days up to today (not before
    ``FIRST_REPORT_DAY``). A day outside ``FIRST_REPORT_DAY``..``LAST_REPORT_DAY`` is 400."""
    try:
        end = date.fromisoformat(raw_to) if raw_to else today
        start = date.fromisoformat(raw_from) if raw_from else None
    except ValueError as exc:
        raise MalformedPayload("from and to must be dates such as 2026-11-01") from exc
    if any(not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY for day in (start or end, end)):
        raise MalformedPayload(f"from and to must lie between {FIRST_REPORT_DAY} and {LAST_REPORT_DAY}")
    return start or max(FIRST_REPORT_DAY, end - timedelta(days=DEFAULT_DAYS - 1)), end


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def _heatmap(report: Report, lang: str) -> dict[str, Any]:
    cell, x0, y0 = 22, 34, 18
    peak = max((max(row) for row in report.heatmap), default=0) or 1
    labels = WEEKDAYS_DE if lang == "de" else WEEKDAYS
    rows = []
    for weekday, counts in enumerate(report.heatmap):
        cells = []
        for hour, count in enumerate(counts):
            share = count / peak
            fill = "#f1f3f6" if count == 0 else f"rgb({255},{int(220 - 180 * share)},{int(210 - 180 * share)})"
            cells.append({"x": x0 + hour * cell, "hour": hour, "count": count, "fill": fill})
        rows.append({"label": labels[weekday], "y": y0 + weekday * cell, "cells": cells})
    return {"cell": cell, "x0": x0, "rows": rows, "width": x0 + 24 * cell, "height": y0 + 7 * cell}


def _trend(report: Report) -> dict[str, Any]:
    top, base, width = 10, 130, max(200, 60 + 34 * len(report.weekly))
    bars = []
    for index, (week, counts) in enumerate(report.weekly):
        rate = counts.hit_rate
        height = 0 if rate is None else round((base - top) * rate)
        bars.append({"x": 44 + index * 34, "y": base - height, "w": 26, "h": height, "rate": rate,
                     "posts": counts.posts, "label": week, "short": week.split("-")[-1],
                     "fill": "#3b7d4f" if (rate or 0) >= 0.95 else "#c2572b"})
    return {"top": top, "base": base, "width": width, "height": base + 20, "bars": bars}


def render_html(report: Report, *, lang: str = "en", nonce: str = "", csv_href: str = "?format=csv",
                target: float = 0.95) -> str:
    lang = lang if lang in TEXTS else "en"
    texts = TEXTS[lang]
    return _environment().get_template("report.html").render(
        report=report, lang=lang, t=texts, nonce=nonce, csv_href=csv_href, target=target,
        pct=_pct, upto=percentile_label,
        dimensions=[(d, texts[d]) for d in ("platform", "priority", "department")],
        heat=_heatmap(report, lang), trend=_trend(report))
