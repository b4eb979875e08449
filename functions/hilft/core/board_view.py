"""The on-call board as data and SVG (pure: documents and ``now`` in, values and text out).

Posts are attacker-controlled: the page (``hilft.board_page``: a Jinja2 template with autoescape)
escapes every piece of user text, the SVG here goes through ``html.escape``, and the page's script
uses ``textContent`` only; it runs under a nonce-based CSP (``content_security_policy``).

Definitions shared with the demo's summary (one place, so the two always agree):

- a post's **outcome** in the SLA: ``hit`` answered (or handed off) by its due time, ``miss``
  answered late or still unanswered past due, ``pending`` still open and not yet due; deleted
  posts and tombstones do not count.
- **hit rate** = hits / (hits + misses); **p50/p90** are nearest-rank percentiles of
  ``first_response_seconds`` over the answered posts.

Posts are read as ``core.document.MentionDoc``; every function also takes the stored mapping
(converted on the way in), so callers holding snapshots' data keep working.

Staff read the board in English or German (``lang``): every text made here — the chart, the
placeholders, operator alerts, incident lines, due times — comes from ``TEXTS``. Times are on the
policy's wall clock (``tz``): a row says when it is due ("fällig Mo 08:55", the day only when not
today), not just how long is left.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hilft.core import outage, platform_names
from hilft.core.document import MentionDoc, as_doc
from hilft.core.models import Status
from hilft.core.promise_phrase import MONTHS_EN, WEEKDAYS

Post = MentionDoc | Mapping[str, Any]  # a stored post, typed or as the store returned it
Outcome = Literal["hit", "miss", "pending"]
RowState = Literal["overdue", "at_risk", "open"]

ANSWERED = frozenset({Status.ANSWERED, Status.HANDED_OFF})  # a first response, by a reply or a handoff
PLATFORM_NAMES = platform_names.DISPLAY_NAMES
TEXT_LIMIT = 280
CHART_BUCKETS = 24
MIN_WINDOW = timedelta(minutes=5)
MAX_WINDOW = timedelta(days=7)
DEFAULT_WINDOW = timedelta(hours=24)
REFRESH_SECONDS = 5
LANGUAGES = ("en", "de")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "due": "due", "chart_title": "First response and SLA hit rate, last {window}",
        "bar": "{start}: median {p50}, p90 {p90}, {answered} answered", "promise": "promise {promise}",
        "no_answers": "no answered posts in the last {window}",
        "legend_bars": "median first response (tick: p90)", "legend_rate": "SLA hit rate",
        "encrypted": "[encrypted message: open it on the platform]",
        "unreadable": "[text unavailable from the Graph API: open the post]",
        "fetching": "[text being fetched from the Graph API]",
        "customer": "customer", "unknown": "unknown",
        "revoked": "{platform}: {who} revoked hilft's access, so its posts no longer arrive. Reconnect it.",
        "account": "account {id}", "an_account": "an account",
        "gap": "{platform}: no webhook deliveries{since}; posts of that time may be missing.{step}",
        "gap_since": " since {at}", "recover": " Recover with: {command}",
        "incident_posts": "{open} {noun} open, {overdue} overdue", "post": "post", "posts": "posts",
        "nationwide": "bundesweit",
    },
    "de": {
        "due": "fällig", "chart_title": "Erste Antwort und SLA-Quote, letzte {window}",
        "bar": "{start}: Median {p50}, p90 {p90}, {answered} beantwortet", "promise": "Versprechen {promise}",
        "no_answers": "keine beantworteten Beiträge in den letzten {window}",
        "legend_bars": "Median der ersten Antwort (Strich: p90)", "legend_rate": "SLA-Quote",
        "encrypted": "[verschlüsselte Nachricht: auf der Plattform öffnen]",
        "unreadable": "[Text über die Graph API nicht lesbar: Beitrag öffnen]",
        "fetching": "[Text wird über die Graph API geladen]",
        "customer": "Kunde", "unknown": "unbekannt",
        "revoked": "{platform}: {who} hat hilft den Zugriff entzogen, seine Beiträge kommen nicht mehr an. "
                   "Bitte neu verbinden.",
        "account": "Konto {id}", "an_account": "ein Konto",
        "gap": "{platform}: keine Webhook-Zustellungen{since}; Beiträge aus dieser Zeit fehlen womöglich.{step}",
        "gap_since": " seit {at}", "recover": " Nachholen mit: {command}",
        "incident_posts": "{open} {noun} offen, {overdue} überfällig", "post": "Beitrag", "posts": "Beiträge",
        "nationwide": "bundesweit",
    },
}


def texts_for(lang: str) -> dict[str, str]:
    return TEXTS.get(lang, TEXTS["en"])


def due_clock(at: datetime, now: datetime, tz: tzinfo, lang: str = "en") -> str:
    """When ``at`` is on the wall clock of ``tz``: "08:55" today, "Mo 08:55" / "Mon 08:55" within a
    week either side, "Mo 7.12. 08:55" / "Mon 7 Dec 08:55" further off (weekday names spelt out in
    ``promise_phrase``, not taken from the system locale)."""
    local = at.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    if days == 0:
        return f"{local:%H:%M}"
    german = lang == "de"
    weekday = WEEKDAYS["de" if german else "en"][local.weekday()][: 2 if german else 3]
    if -7 < days < 7:
        return f"{weekday} {local:%H:%M}"
    date = f"{local.day}.{local.month}." if german else f"{local.day} {MONTHS_EN[local.month - 1][:3]}"
    return f"{weekday} {date} {local:%H:%M}"


def due_text(at: datetime, now: datetime, tz: tzinfo, lang: str = "en") -> str:
    """"fällig Mo 08:55" / "due Mon 08:55": the row's due time next to its countdown."""
    return f"{texts_for(lang)['due']} {due_clock(at, now, tz, lang)}"


# --- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    name: str
    label: str


@dataclass(frozen=True)
class BoardRow:
    doc_id: str
    platform: str
    author: str
    text: str
    url: str | None
    status: str
    state: RowState
    due_at: datetime | None  # None: a radar item under radar.first_response = "none" (no countdown)
    seconds_left: float | None  # negative: late by that much; None: no promise
    alert_level: int
    acknowledged: bool
    acknowledged_by: str | None
    department: str | None
    holding_text: str | None = None  # the holding reply's template text, None: no public reply (DMs)
    incident_id: str | None = None  # the outage incident the post belongs to (issue 17)
    due_text: str = ""  # "fällig Mo 08:55": the due time on the policy's wall clock
    radar: bool = False  # a post that did not address the brand (issue 17)
    received_at: datetime | None = None  # orders rows without a due time

    def as_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "platform": self.platform, "author": self.author,
                "holding_text": self.holding_text,
                "text": self.text, "url": self.url, "status": self.status, "state": self.state,
                "due_at": self.due_at.isoformat() if self.due_at else None, "due_text": self.due_text,
                "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
                "alert_level": self.alert_level,
                "acknowledged": self.acknowledged, "acknowledged_by": self.acknowledged_by,
                "department": self.department, "incident_id": self.incident_id, "radar": self.radar}


def _aware(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


def _author(doc: MentionDoc, lang: str = "en") -> str:
    handle, name, author_id = doc.author_handle, doc.author_name, doc.author_id
    if handle:
        return platform_names.display_handle(doc.platform, handle) + (f" ({name})" if name and name != handle else "")
    if name:
        return str(name)
    # Messenger and Instagram DMs name nobody: the page-scoped id's tail tells two customers apart.
    texts = texts_for(lang)
    return f"{texts['customer']} …{str(author_id)[-4:]}" if author_id else texts["unknown"]


def safe_link(url: Any) -> str | None:
    """Only http(s) links reach an href: a ``javascript:`` URL in a payload stays text."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")) and len(url) <= 2048:
        return url
    return None


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _placeholder(doc: MentionDoc, lang: str = "en") -> str:
    """Why a post shows no text: encrypted on the platform, or still being read from Meta's Graph API."""
    texts = texts_for(lang)
    if doc.encrypted:
        return texts["encrypted"]
    if doc.needs_enrichment:
        return texts["unreadable"] if doc.enrichment == "unreadable" else texts["fetching"]
    return ""


@dataclass(frozen=True)
class QuietRow:
    """A closing message ("Danke, läuft wieder") that started no promise; staff can reopen it."""

    doc_id: str
    platform: str
    author: str
    text: str
    received_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "platform": self.platform, "author": self.author, "text": self.text,
                "received_at": self.received_at.isoformat() if self.received_at else None}


def quiet_rows(docs: Iterable[tuple[str, Post]], lang: str = "en") -> list[QuietRow]:
    typed = ((doc_id, as_doc(post)) for doc_id, post in docs)
    rows = [QuietRow(doc_id=doc_id, platform=d.platform.value, author=_author(d, lang), text=_clip(d.text),
                     received_at=d.received_at)
            for doc_id, d in typed if d.status == Status.NO_REPLY_NEEDED]
    return sorted(rows, key=lambda r: (r.received_at or datetime.min.replace(tzinfo=UTC)), reverse=True)


@dataclass(frozen=True)
class OperatorAlert:
    """Something only an operator can fix, e.g. a platform account that revoked hilft's access."""

    kind: str
    platform: str
    account_id: str | None
    since: datetime | None
    recovery: str | None = None  # the operator's next step, e.g. the ``make replay`` command

    def message(self, lang: str = "en", tz: tzinfo = UTC) -> str:
        """The operator's line in ``lang``, times on the page's clock (``tz``, labelled)."""
        texts = texts_for(lang)
        if self.kind == "access_revoked":
            who = texts["account"].format(id=self.account_id) if self.account_id else texts["an_account"]
            return texts["revoked"].format(platform=self.platform, who=who)
        if self.kind == "delivery_gap":
            local = self.since.astimezone(tz) if self.since else None
            since = texts["gap_since"].format(at=f"{local:%Y-%m-%d %H:%M %Z}") if local else ""
            step = texts["recover"].format(command=self.recovery) if self.recovery else ""
            return texts["gap"].format(platform=self.platform, since=since, step=step)
        return f"{self.platform}: {self.kind}"

    def as_json(self, lang: str = "en", tz: tzinfo = UTC) -> dict[str, Any]:
        return {"kind": self.kind, "platform": self.platform, "account_id": self.account_id,
                "since": self.since.isoformat() if self.since else None, "message": self.message(lang, tz)}


def operator_alerts(docs: Iterable[Mapping[str, Any]]) -> list[OperatorAlert]:
    alerts = [OperatorAlert(kind=str(d.get("kind") or "?"), platform=str(d.get("platform") or "?"),
                            account_id=d.get("account_id") if isinstance(d.get("account_id"), str) else None,
                            since=_aware(d.get("revoked_at")) or _aware(d.get("since")) or _aware(d.get("received_at")),
                            recovery=d.get("recovery") if isinstance(d.get("recovery"), str) else None)
              for d in docs if not d.get("resolved")]
    return sorted(alerts, key=lambda a: (a.platform, a.account_id or "", a.kind))


def board_rows(docs: Iterable[tuple[str, Post]], now: datetime, *, tz: tzinfo = UTC,
               lang: str = "en") -> list[BoardRow]:
    """Unanswered posts, the latest first (earliest due time), with their state at ``now``; radar
    items that carry no promise (no due time) after them, newest first, without a countdown."""
    rows = []
    for doc_id, post in docs:
        doc = as_doc(post)
        due = doc.due_at
        if not doc.unanswered or (due is None and not doc.radar):
            continue
        if due is None:  # radar.first_response = "none": nothing runs, nothing to count down
            rows.append(BoardRow(
                doc_id=doc_id, platform=doc.platform.value, author=_author(doc, lang),
                text=_clip(doc.text or _placeholder(doc, lang)), url=safe_link(doc.url),
                status=doc.status.value, state="open", due_at=None, seconds_left=None,
                alert_level=doc.alert_level or 0, acknowledged=doc.acknowledged,
                acknowledged_by=doc.acknowledged_by, department=doc.department, radar=True,
                received_at=doc.started_at))
            continue
        warn = doc.warn_at or due
        state: RowState = "overdue" if (doc.status == Status.OVERDUE or now >= due) else (
            "at_risk" if now >= warn else "open")
        rows.append(BoardRow(
            doc_id=doc_id, platform=doc.platform.value, author=_author(doc, lang),
            text=_clip(doc.text or _placeholder(doc, lang)), url=safe_link(doc.url),
            status=doc.status.value,
            state=state, due_at=due, seconds_left=(due - now).total_seconds(),
            alert_level=doc.alert_level or 0,
            acknowledged=doc.acknowledged, acknowledged_by=doc.acknowledged_by,
            department=doc.department, incident_id=doc.incident_id, due_text=due_text(due, now, tz, lang),
            radar=doc.radar))
    rows.sort(key=_row_order)
    return rows


def _row_order(row: BoardRow) -> tuple[int, float, str]:
    """Earliest due first; rows without a due time last, the newest of them first."""
    if row.due_at is not None:
        return (0, row.due_at.timestamp(), row.doc_id)
    return (1, -(row.received_at.timestamp() if row.received_at else 0.0), row.doc_id)


# --- response statistics ----------------------------------------------------------------------------


def outcome(post: Post, now: datetime) -> Outcome | None:
    """Where one post stands against the promise (see the module docstring); None: not counted."""
    doc = as_doc(post)
    if doc.radar and doc.due_at is None:
        return None  # radar.first_response = "none": no promise to keep or break
    if doc.status in ANSWERED and doc.first_response_seconds is not None:
        return "miss" if doc.breached else "hit"
    if doc.unanswered and doc.due_at is not None:
        return "miss" if now >= doc.due_at else "pending"
    return None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1): always one of the values, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class ResponseStats:
    posts: int
    answered: int
    hits: int
    misses: int
    pending: int
    p50_seconds: float | None
    p90_seconds: float | None

    @property
    def hit_rate(self) -> float | None:
        decided = self.hits + self.misses
        return self.hits / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {"posts": self.posts, "answered": self.answered, "hits": self.hits, "misses": self.misses,
                "pending": self.pending, "hit_rate": self.hit_rate, "p50_seconds": self.p50_seconds,
                "p90_seconds": self.p90_seconds}


def response_stats(docs: Iterable[Post], now: datetime) -> ResponseStats:
    counts = {"hit": 0, "miss": 0, "pending": 0}
    seconds: list[float] = []
    posts = 0
    for post in docs:
        result = outcome(post, now)
        if result is None:
            continue
        doc = as_doc(post)
        posts += 1
        counts[result] += 1
        if doc.status in ANSWERED and doc.first_response_seconds is not None:
            seconds.append(doc.first_response_seconds)
    return ResponseStats(posts=posts, answered=len(seconds), hits=counts["hit"], misses=counts["miss"],
                         pending=counts["pending"], p50_seconds=percentile(seconds, 0.5),
                         p90_seconds=percentile(seconds, 0.9))


@dataclass(frozen=True)
class ChartBucket:
    start: datetime
    stats: ResponseStats


def chart_buckets(docs: Iterable[Post], now: datetime, window: timedelta = DEFAULT_WINDOW,
                  count: int = CHART_BUCKETS) -> list[ChartBucket]:
    """``count`` equal slices of the window ending at ``now``, posts placed by ``received_at``."""
    width = window / count
    start = now - window
    grouped: list[list[Post]] = [[] for _ in range(count)]
    for post in docs:
        received = as_doc(post).received_at
        if received is None or not start <= received <= now:
            continue
        grouped[min(count - 1, int((received - start) / width))].append(post)
    return [ChartBucket(start + i * width, response_stats(group, now)) for i, group in enumerate(grouped)]


# --- the chart --------------------------------------------------------------------------------------

_W, _H = 760, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 48, 28, 36
_CHAR_WIDTH = 5.8  # an average character at font-size 11, to place the legend's second entry
_BAR, _P90, _RATE, _PROMISE, _GRID, _INK = "#5b8def", "#1f3f8f", "#1a9e5a", "#d9480f", "#e3e6eb", "#4a5260"


def _seconds_label(seconds: float, lang: str = "en") -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    hours = f"{seconds / 3600:.1f}"
    return f"{hours.replace('.', ',') if lang == 'de' else hours} h"


_TICK_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 14400, 28800, 86400)


def _tick_step(at_least: float) -> float:
    """A round step for the seconds axis (1 s, 2 s, 5 s, … 1 min, 2 min, 5 min, … 1 h, …)."""
    return float(next((step for step in _TICK_STEPS if step >= at_least), _TICK_STEPS[-1]))


def _window_label(window: timedelta) -> str:
    minutes = window.total_seconds() / 60
    return f"{minutes / 60:.0f} h" if minutes >= 120 else f"{minutes:.0f} min"


def chart_svg(buckets: Sequence[ChartBucket], *, promise: timedelta, window: timedelta, tz: tzinfo,
              lang: str = "en") -> str:
    """First response (median bar, p90 tick) per slice, the promise as a line, hit rate on the right."""
    texts = texts_for(lang)
    window_text = _window_label(window)

    def label(seconds: float) -> str:
        return _seconds_label(seconds, lang)

    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    promise_s = promise.total_seconds()
    highest = max([promise_s] + [b.stats.p90_seconds or 0.0 for b in buckets])
    step = _tick_step(highest * 1.1 / 4)
    y_max = step * max(1, math.ceil(highest * 1.1 / step))
    slot = plot_w / max(1, len(buckets))

    def y_of(seconds: float) -> float:
        return _TOP + plot_h - seconds / y_max * plot_h

    def y_of_rate(rate: float) -> float:
        return _TOP + plot_h - rate * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="chart" viewBox="0 0 {_W} {_H}" width="100%" '
             f'role="img" aria-labelledby="chart-title" font-family="system-ui, sans-serif" font-size="11">',
             f'<title id="chart-title">{html.escape(texts["chart_title"].format(window=window_text))}</title>']
    for tick in range(round(y_max / step) + 1):
        y = y_of(tick * step)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="{_GRID}"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{_INK}">'
                     f'{html.escape(label(tick * step))}</text>')
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{_W - _RIGHT + 6}" y="{y_of_rate(fraction) + 4:.1f}" fill="{_RATE}">'
                     f'{fraction * 100:.0f} %</text>')
    rate_points = []
    for index, bucket in enumerate(buckets):
        x = _LEFT + index * slot
        stats = bucket.stats
        if stats.p50_seconds is not None:
            top = y_of(stats.p50_seconds)
            title = texts["bar"].format(start=f"{bucket.start.astimezone(tz):%H:%M}", p50=label(stats.p50_seconds),
                                        p90=label(stats.p90_seconds or 0), answered=stats.answered)
            parts.append(f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{top:.1f}" '
                         f'width="{slot * 0.7:.1f}" height="{_TOP + plot_h - top:.1f}" fill="{_BAR}" rx="2">'
                         f'<title>{html.escape(title)}</title></rect>')
        if stats.p90_seconds is not None:
            y90 = y_of(stats.p90_seconds)
            parts.append(f'<line x1="{x + slot * 0.25:.1f}" y1="{y90:.1f}" x2="{x + slot * 0.75:.1f}" '
                         f'y2="{y90:.1f}" stroke="{_P90}" stroke-width="2"/>')
        if stats.hit_rate is not None:
            rate_points.append((x + slot / 2, y_of_rate(stats.hit_rate)))
        if index % max(1, len(buckets) // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{_H - _BOTTOM + 16}" fill="{_INK}">'
                         f'{bucket.start.astimezone(tz):%H:%M}</text>')
    y_promise = y_of(promise_s)
    parts.append(f'<line x1="{_LEFT}" y1="{y_promise:.1f}" x2="{_W - _RIGHT}" y2="{y_promise:.1f}" '
                 f'stroke="{_PROMISE}" stroke-dasharray="6 4" stroke-width="1.5"/>')
    parts.append(f'<text x="{_LEFT + 4}" y="{y_promise - 5:.1f}" fill="{_PROMISE}">'
                 f'{html.escape(texts["promise"].format(promise=label(promise_s)))}</text>')
    if rate_points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in rate_points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{_RATE}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{_RATE}"/>' for x, y in rate_points)
    else:
        parts.append(f'<text x="{_W / 2:.0f}" y="{_TOP + plot_h / 2:.0f}" text-anchor="middle" fill="{_INK}">'
                     f'{html.escape(texts["no_answers"].format(window=window_text))}</text>')
    legend_y = 16
    bars_legend = texts["legend_bars"]
    rate_x = _LEFT + 14 + len(bars_legend) * _CHAR_WIDTH + 16  # the second entry after the first's text
    parts.append(f'<rect x="{_LEFT}" y="{legend_y - 9}" width="10" height="10" fill="{_BAR}"/>'
                 f'<text x="{_LEFT + 14}" y="{legend_y}" fill="{_INK}">{html.escape(bars_legend)}</text>'
                 f'<line x1="{rate_x:.0f}" y1="{legend_y - 4}" x2="{rate_x + 20:.0f}" y2="{legend_y - 4}" '
                 f'stroke="{_RATE}" stroke-width="2"/>'
                 f'<text x="{rate_x + 24:.0f}" y="{legend_y}" fill="{_INK}">'
                 f'{html.escape(texts["legend_rate"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- the board --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    now: datetime
    rows: list[BoardRow]
    stats: ResponseStats
    buckets: list[ChartBucket]
    window: timedelta
    promise: timedelta
    departments: list[Department]
    tz: ZoneInfo
    brand: str = "hilft"
    alerts: tuple[OperatorAlert, ...] = ()
    quiet: tuple[QuietRow, ...] = ()
    incidents: tuple[IncidentGroup, ...] = ()
    lang: str = "en"
    incident_reply: str | None = None  # the policy's "known outage" reply: the incident row offers it

    def counts(self) -> dict[str, int]:
        states = ("overdue", "at_risk", "open")
        return {state: sum(1 for row in self.rows if row.state == state) for state in states}

    def lines(self) -> list[BoardRow | IncidentGroup]:
        """The rows in the order the page shows them: an incident's posts folded under its row,
        which stands where its most urgent post would."""
        groups = {group.incident_id: group for group in self.incidents}
        shown: set[str] = set()
        out: list[BoardRow | IncidentGroup] = []
        for row in self.rows:
            group = groups.get(row.incident_id or "")
            if group is None:
                out.append(row)
            elif group.incident_id not in shown:
                shown.add(group.incident_id)
                out.append(group)
                out.extend(r for r in self.rows if r.incident_id == group.incident_id)
        return out

    def as_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "lang": self.lang, "window_seconds": self.window.total_seconds(),
                "promise_seconds": self.promise.total_seconds(), "counts": self.counts(),
                "items": [row.as_json() for row in self.rows], "stats": self.stats.as_json(),
                "chart": [{"start": b.start.isoformat(), **b.stats.as_json()} for b in self.buckets],
                "departments": [{"name": d.name, "label": d.label} for d in self.departments],
                "operator_alerts": [a.as_json(self.lang, self.tz) for a in self.alerts],
                "no_reply_needed": [q.as_json() for q in self.quiet],
                "incidents": [g.as_json(self.lang) for g in self.incidents],
                "incident_reply": self.incident_reply}

    def svg(self) -> str:
        return chart_svg(self.buckets, promise=self.promise, window=self.window, tz=self.tz, lang=self.lang)


def build_board(*, open_docs: Iterable[tuple[str, Post]],
                recent_docs: Iterable[Post], now: datetime, window: timedelta,
                promise: timedelta, departments: Sequence[Department], tz: ZoneInfo,
                brand: str = "hilft", alert_docs: Iterable[Mapping[str, Any]] = (),
                holding_texts: Mapping[str, str] | None = None,
                quiet_docs: Iterable[tuple[str, Post]] = (), lang: str = "en",
                incident_docs: Mapping[str, Mapping[str, Any]] | None = None,
                incident_reply: str | None = None) -> Board:
    """The board at ``now``. Posts may be ``MentionDoc`` or stored mappings; each is read once.
    ``incident_docs`` (``incidents/{id}`` by id) give the incident rows their headline."""
    lang = lang if lang in LANGUAGES else "en"
    typed_recent = (as_doc(post) for post in recent_docs)
    recent = [doc for doc in typed_recent if (doc.received_at or now) >= now - window]
    open_docs = [(doc_id, as_doc(post)) for doc_id, post in open_docs]
    rows = [replace(row, holding_text=(holding_texts or {}).get(row.doc_id))
            for row in board_rows(open_docs, now, tz=tz, lang=lang)]
    groups = incident_groups(rows, open_docs, incidents=incident_docs or {}, now=now, tz=tz, lang=lang)
    return Board(now=now, rows=rows, stats=response_stats(recent, now),
                 buckets=chart_buckets(recent, now, window), window=window, promise=promise,
                 departments=list(departments), tz=tz, brand=brand, alerts=tuple(operator_alerts(alert_docs)),
                 quiet=tuple(quiet_rows(quiet_docs, lang)), incidents=tuple(groups), lang=lang,
                 incident_reply=incident_reply)


# --- outage incidents (issue 17): the open posts of one incident, grouped -----------------------------


@dataclass(frozen=True)
class IncidentGroup:
    """One row per incident, its posts folded under it: the headline ("Störung Festnetz, 53113 Bonn —
    37 posts in 12 min", ``outage.describe``), its open posts, the oldest due time; acknowledge
    them together with ``ack_incident`` ``{"incident_id": …}`` (``"reply": true`` also sends the
    policy's known-outage reply to each)."""

    incident_id: str
    label: str  # "Störung Festnetz, 53113 Bonn"
    doc_ids: tuple[str, ...]
    overdue: int
    oldest_due: datetime
    headline: str = ""  # from the incident document; the label when it could not be read
    status: str = "open"  # the incident's: open, acknowledged, resolved
    state: RowState = "open"  # its most urgent post's
    seconds_left: float = 0.0  # of its most urgent post
    oldest_due_text: str = ""  # "Mo 08:55" on the policy's wall clock
    alert_level: int = 0
    acknowledged: bool = False  # every open post of it acknowledged

    def open_text(self, lang: str = "en") -> str:
        """"3 posts open, 1 overdue": the line under the headline."""
        texts = texts_for(lang)
        posts = len(self.doc_ids)
        return texts["incident_posts"].format(open=posts, noun=texts["post" if posts == 1 else "posts"],
                                              overdue=self.overdue)

    def summary(self, lang: str = "en") -> str:
        return f"{self.label} — {self.open_text(lang)}"

    def as_json(self, lang: str = "en") -> dict[str, Any]:
        return {"incident_id": self.incident_id, "label": self.label, "headline": self.headline or self.label,
                "summary": self.summary(lang), "open_text": self.open_text(lang), "status": self.status,
                "state": self.state,
                "doc_ids": list(self.doc_ids), "posts": len(self.doc_ids), "overdue": self.overdue,
                "oldest_due": self.oldest_due.isoformat(), "oldest_due_text": self.oldest_due_text,
                "seconds_left": round(self.seconds_left, 1), "alert_level": self.alert_level,
                "acknowledged": self.acknowledged}


def incident_headline(data: Mapping[str, Any], now: datetime, lang: str = "en") -> str | None:
    """An incident document's line, by ``outage.describe``: how many posts over how long, from its
    first to its latest post, in the board's language. None: the document lacks its facts."""
    first, last = data.get("first_seen"), data.get("last_seen")
    if not isinstance(first, datetime):
        return None
    until = last if isinstance(last, datetime) and last >= first else max(now, first)
    topic, place = str(data.get("topic_label") or "Störung"), str(data.get("place_label") or "")
    count = int(data.get("count") or 0)
    return _clip(outage.describe(topic, place, count, first, until, lang), 160)


def incident_groups(rows: Sequence[BoardRow], docs: Iterable[tuple[str, Post]], *,
                    incidents: Mapping[str, Mapping[str, Any]] | None = None, now: datetime | None = None,
                    tz: tzinfo = UTC, lang: str = "en") -> list[IncidentGroup]:
    """The rows that belong to an incident, one group per incident, the most overdue first."""
    typed = (as_doc(post) for _, post in docs)
    labels = {doc.incident_id: doc.incident_label for doc in typed if doc.incident_id and doc.incident_label}
    members: dict[str, list[BoardRow]] = {}
    for row in rows:
        if row.incident_id:
            members.setdefault(row.incident_id, []).append(row)
    groups = []
    for incident_id, grouped in members.items():
        data = (incidents or {}).get(incident_id) or {}
        first = min(grouped, key=_row_order)  # members carry a due time (board_rows groups no other)
        oldest_due, left = first.due_at, first.seconds_left or 0.0
        if oldest_due is None:
            continue
        at = now or oldest_due - timedelta(seconds=left)
        label = _clip(labels.get(incident_id) or _incident_label(data) or "Störung", 120)
        state: RowState = ("overdue" if any(r.state == "overdue" for r in grouped) else
                           "at_risk" if any(r.state == "at_risk" for r in grouped) else "open")
        groups.append(IncidentGroup(
            incident_id, label, tuple(r.doc_id for r in grouped), sum(1 for r in grouped if r.state == "overdue"),
            oldest_due, headline=incident_headline(data, at, lang) or label,
            status=str(data.get("status") or "open"), state=state, seconds_left=left,
            oldest_due_text=due_clock(oldest_due, at, tz, lang),
            alert_level=max(r.alert_level for r in grouped), acknowledged=all(r.acknowledged for r in grouped)))
    return sorted(groups, key=lambda g: (g.oldest_due, g.incident_id))


def _incident_label(data: Mapping[str, Any]) -> str | None:
    topic = data.get("topic_label")
    return f"{topic}, {data.get('place_label') or 'bundesweit'}" if topic else None


def content_security_policy(nonce: str) -> str:
    """Only our own nonce'd script and style run; the page may only talk to its own origin."""
    return ("default-src 'none'; "
            f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def percent_text(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f} %"


def duration_text(seconds: float | None, lang: str = "en") -> str:
    return "–" if seconds is None else _seconds_label(seconds, lang)


def window_label(window: timedelta) -> str:
    return _window_label(window)


def board_json(board: Board) -> str:
    return json.dumps(board.as_json(), ensure_ascii=False)
