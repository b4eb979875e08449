"""The SLA report, without I/O: one roll-up per day, merged into a period's figures.

A 90-day report must not read every post (at 10,000 posts a day that is 900k reads), so each
day is reduced once to a ``DayRollup`` — counts per channel, priority and department, a
histogram of first-response times, breaches by weekday and hour, alerts by level, handoffs —
and the report merges roll-ups. A day's roll-up is *final* once none of its posts is still
unanswered. Until then the stored roll-up is *partial*: the counts of its posts that have their
outcome, plus the ids of the posts still open (``open_ids``); a later report or roll-up reads only
those posts (``split_open``, ``DayRollup.absorb``).

Percentiles come from the merged histogram: the reported value is the upper edge of the bin the
percentile falls in ("p90 ≤ 45 min"), so p50/p90 are never understated and read as people
quote times. They are bounds, and say so: "≤ 45 min" on the page (``percentile_label``), columns
``p50_upper_seconds``/``p90_upper_seconds`` in the CSV.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hilft.core.board_view import Post, outcome
from hilft.core.document import as_doc
from hilft.core.models import Status

# Upper bin edges in seconds, at times people quote: 1, 2, 3, 5, 7, 10, 15, 20, 30, 45 min, then
# 1 h … 72 h, 5 d, 7 d; a value above 7 days falls in a last, open bin.
BIN_EDGES: tuple[float, ...] = tuple(
    [60.0 * m for m in (1, 2, 3, 5, 7, 10, 15, 20, 30, 45)]
    + [3600.0 * h for h in (1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 72)]
    + [86400.0 * d for d in (5, 7)])
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DIMENSIONS = ("platform", "priority", "department")
# The days a report may cover: every day hilft can have seen posts on, and far from the ends of
# ``datetime`` (``day_bounds`` of 0001-01-01 or 9999-12-31 overflows in any time zone but UTC).
FIRST_REPORT_DAY = date(2000, 1, 1)
LAST_REPORT_DAY = date(2999, 12, 31)


def _bin(seconds: float) -> int:
    return bisect.bisect_left(BIN_EDGES, seconds)


@dataclass
class Counts:
    """Posts of one group on one day: how they stand against the promise."""

    posts: int = 0
    hits: int = 0
    misses: int = 0
    pending: int = 0
    histogram: Counter[int] = field(default_factory=Counter)  # first-response bin -> posts

    def add(self, result: str | None, first_response: float | None) -> None:
        self.posts += 1
        if result == "hit":
            self.hits += 1
        elif result == "miss":
            self.misses += 1
        elif result == "pending":
            self.pending += 1
        if first_response is not None:
            self.histogram[_bin(first_response)] += 1

    def merge(self, other: Counts) -> None:
        self.posts += other.posts
        self.hits += other.hits
        self.misses += other.misses
        self.pending += other.pending
        self.histogram.update(other.histogram)

    @property
    def hit_rate(self) -> float | None:
        decided = self.hits + self.misses
        return self.hits / decided if decided else None

    def percentile(self, q: float) -> float | None:
        total = sum(self.histogram.values())
        if not total:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                return BIN_EDGES[index] if index < len(BIN_EDGES) else math.inf
        return math.inf  # pragma: no cover - rank never exceeds total

    def as_json(self) -> dict[str, Any]:
        return {"posts": self.posts, "hits": self.hits, "misses": self.misses, "pending": self.pending,
                "histogram": {str(k): v for k, v in sorted(self.histogram.items())}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counts:
        return cls(posts=int(data.get("posts", 0)), hits=int(data.get("hits", 0)),
                   misses=int(data.get("misses", 0)), pending=int(data.get("pending", 0)),
                   histogram=Counter({int(k): int(v) for k, v in (data.get("histogram") or {}).items()}))


@dataclass
class DayRollup:
    day: date
    total: Counts = field(default_factory=Counts)
    groups: dict[str, dict[str, Counts]] = field(default_factory=lambda: {d: {} for d in DIMENSIONS})
    breaches: Counter[str] = field(default_factory=Counter)  # "weekday:hour" of the post's due time
    alerts_by_level: Counter[str] = field(default_factory=Counter)  # highest level a post reached
    handoffs: int = 0
    incidents: int = 0

    unresolved: int = 0  # posts still open or overdue: their first response may still come
    # A partial roll-up: the still-open posts it does not count yet (their document ids).
    open_ids: list[str] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.unresolved == 0 and not self.open_ids

    def absorb(self, other: DayRollup) -> None:
        """Add another roll-up of the same day (a partial roll-up's still-open posts, counted now)."""
        self.total.merge(other.total)
        for dimension in DIMENSIONS:
            for key, counts in other.groups[dimension].items():
                self.groups[dimension].setdefault(key, Counts()).merge(counts)
        self.breaches.update(other.breaches)
        self.alerts_by_level.update(other.alerts_by_level)
        self.handoffs += other.handoffs
        self.incidents += other.incidents
        self.unresolved += other.unresolved

    def as_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "total": self.total.as_json(),
                "groups": {d: {k: c.as_json() for k, c in g.items()} for d, g in self.groups.items()},
                "breaches": dict(self.breaches), "alerts_by_level": dict(self.alerts_by_level),
                "handoffs": self.handoffs, "incidents": self.incidents, "unresolved": self.unresolved,
                "open_ids": list(self.open_ids), "final": self.final, "schema": 2}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DayRollup:
        groups = {d: {k: Counts.from_json(v) for k, v in (data.get("groups") or {}).get(d, {}).items()}
                  for d in DIMENSIONS}
        return cls(day=date.fromisoformat(str(data["day"])), total=Counts.from_json(data.get("total") or {}),
                   groups=groups, breaches=Counter({str(k): int(v) for k, v in (data.get("breaches") or {}).items()}),
                   alerts_by_level=Counter({str(k): int(v) for k, v in (data.get("alerts_by_level") or {}).items()}),
                   handoffs=int(data.get("handoffs", 0)), incidents=int(data.get("incidents", 0)),
                   unresolved=int(data.get("unresolved", 0)),
                   open_ids=[str(i) for i in data.get("open_ids") or ()])


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a calendar day of the policy's time zone starts and ends (DST-correct)."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def rollup_day(day: date, docs: Iterable[Post], *, tz: ZoneInfo, now: datetime,
               incidents: int = 0) -> DayRollup:
    """Reduce the posts received on ``day`` (policy time zone) to their counts at ``now``
    (``MentionDoc`` or the stored mappings)."""
    rollup = DayRollup(day=day, incidents=incidents)
    for post in docs:
        _add(rollup, post, tz=tz, now=now)
    return rollup


def split_open(day: date, docs: Iterable[tuple[str, Post]], *, tz: ZoneInfo, now: datetime,
               incidents: int = 0) -> tuple[DayRollup, DayRollup]:
    """A day's posts (document id, post) as a partial roll-up of the posts that have their outcome
    (with the ids of the others in ``open_ids``) and a roll-up of the still-open posts at ``now``.
    Their ``absorb`` is ``rollup_day`` of all of them."""
    settled = DayRollup(day=day, incidents=incidents)
    still_open = DayRollup(day=day)
    for doc_id, post in docs:
        doc = as_doc(post)
        if doc.unanswered and not doc.stub and outcome(post, now) is not None:
            settled.open_ids.append(doc_id)
            _add(still_open, post, tz=tz, now=now)
        else:
            _add(settled, post, tz=tz, now=now)
    return settled, still_open


def _add(rollup: DayRollup, post: Post, *, tz: ZoneInfo, now: datetime) -> None:
    result = outcome(post, now)  # None for deleted posts and closing messages
    if result is None:
        return
    doc = as_doc(post)
    if doc.stub:
        return
    first = doc.first_response_seconds
    rollup.total.add(result, first)
    for dimension in DIMENSIONS:
        key = str(getattr(doc, dimension) or "none")
        rollup.groups[dimension].setdefault(key, Counts()).add(result, first)
    if result == "miss" and doc.due_at is not None:
        local = doc.due_at.astimezone(tz)
        rollup.breaches[f"{local.weekday()}:{local.hour}"] += 1
    if doc.unanswered:
        rollup.unresolved += 1
    if doc.alert_level is not None:  # level 0, the warning, counts too
        rollup.alerts_by_level[str(doc.alert_level)] += 1
    if doc.status == Status.HANDED_OFF or doc.handoff_pending:
        rollup.handoffs += 1


@dataclass
class Report:
    start: date
    end: date  # inclusive
    timezone: str
    total: Counts
    groups: dict[str, dict[str, Counts]]
    heatmap: list[list[int]]  # [weekday][hour] breaches
    weekly: list[tuple[str, Counts]]  # ISO week label -> counts
    alerts_by_level: dict[str, int]
    handoffs: int
    incidents: int
    days: int
    reads: int = 0  # documents read to build it (roll-ups + live posts)

    def rows(self) -> list[dict[str, Any]]:
        """The report's numbers as flat rows: what the CSV export holds. Rows of posts fill the
        counts (percentiles as their histogram bin's upper edge: ``p50_upper_seconds``); the
        heatmap (one row per weekday and hour with breaches, key "Fri 20:00"), alerts by level,
        handoffs and incidents fill ``count``."""
        out = []
        blank = {"posts": "", "hits": "", "misses": "", "pending": "", "hit_rate": "", "p50_upper_seconds": "",
                 "p90_upper_seconds": ""}

        def row(dimension: str, key: str, counts: Counts) -> dict[str, Any]:
            return {"dimension": dimension, "key": key, "posts": counts.posts, "hits": counts.hits,
                    "misses": counts.misses, "pending": counts.pending,
                    "hit_rate": _fmt_rate(counts.hit_rate),
                    "p50_upper_seconds": _fmt_seconds(counts.percentile(0.5)),
                    "p90_upper_seconds": _fmt_seconds(counts.percentile(0.9)), "count": ""}

        def count(dimension: str, key: str, value: int) -> dict[str, Any]:
            return {"dimension": dimension, "key": key, **blank, "count": value}

        out.append(row("all", "all", self.total))
        for dimension in DIMENSIONS:
            for key, counts in sorted(self.groups[dimension].items()):
                out.append(row(dimension, key, counts))
        for week, counts in self.weekly:
            out.append(row("week", week, counts))
        for weekday, hours in enumerate(self.heatmap):
            for hour, breaches in enumerate(hours):
                if breaches:
                    out.append(count("breaches", f"{WEEKDAYS[weekday]} {hour:02d}:00", breaches))
        for level, alerts in sorted(self.alerts_by_level.items()):
            out.append(count("alerts_by_level", level, alerts))
        out.append(count("handoffs", "all", self.handoffs))
        out.append(count("incidents", "all", self.incidents))
        return out


def _fmt_rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.4f}"


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return "inf" if math.isinf(seconds) else f"{seconds:.0f}"


def merge(start: date, end: date, rollups: Iterable[DayRollup], timezone: str) -> Report:
    total = Counts()
    groups: dict[str, dict[str, Counts]] = {d: {} for d in DIMENSIONS}
    heatmap = [[0] * 24 for _ in range(7)]
    weekly: dict[str, Counts] = {}
    alerts: Counter[str] = Counter()
    handoffs = incidents = days = 0
    for rollup in rollups:
        days += 1
        total.merge(rollup.total)
        for dimension in DIMENSIONS:
            for key, counts in rollup.groups[dimension].items():
                groups[dimension].setdefault(key, Counts()).merge(counts)
        for cell, count in rollup.breaches.items():
            weekday, hour = (int(part) for part in cell.split(":"))
            heatmap[weekday][hour] += count
        year, week, _ = rollup.day.isocalendar()
        weekly.setdefault(f"{year}-W{week:02d}", Counts()).merge(rollup.total)
        alerts.update(rollup.alerts_by_level)
        handoffs += rollup.handoffs
        incidents += rollup.incidents
    return Report(start=start, end=end, timezone=timezone, total=total, groups=groups, heatmap=heatmap,
                  weekly=sorted(weekly.items()), alerts_by_level=dict(sorted(alerts.items())),
                  handoffs=handoffs, incidents=incidents, days=days)


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    rows = report.rows()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def duration_label(seconds: float | None) -> str:
    """"42 min", "3 h 12 min", "2 d 4 h", "—" for none."""
    if seconds is None:
        return "—"
    if math.isinf(seconds):
        return "> 7 d"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{max(minutes, 1)} min" if seconds >= 30 else f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percentile_label(seconds: float | None) -> str:
    """A percentile as the bound it is: "≤ 1 h" (the upper edge of its bin), "> 7 d", "—" for none."""
    if seconds is None or math.isnan(seconds):
        return "—"
    return duration_label(seconds) if math.isinf(seconds) else f"≤ {duration_label(seconds)}"
