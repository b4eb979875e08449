"""Builds the SLA report from daily roll-ups, computing (and storing) a day's roll-up only when
it is missing or was not final yet. Reads per report: one roll-up per day of the period, plus the
posts of days that are not final (today, and days with posts still waiting for an answer)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hilft.core.document import MentionDoc
from hilft.core.errors import MalformedPayload
from hilft.core.policy import Policy
from hilft.core.report import DayRollup, Report, day_bounds, merge, rollup_day
from hilft.logs import get_logger
from hilft.service.ports import Clock, ReportStore

log = get_logger("hilft.report")

ROLLUPS = "rollups"
MAX_DAYS = 366  # the longest period one report covers
SETTLED_AFTER = timedelta(days=7)  # a post unanswered this long after its day is a miss for good


class ReportService:
    def __init__(self, *, store: ReportStore, policy: Policy, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.policy.promise.timezone)

    def build(self, start: date, end: date) -> Report:
        if end < start:
            raise MalformedPayload("the report's end is before its start")
        if (end - start).days + 1 > MAX_DAYS:
            raise MalformedPayload(f"a report covers at most {MAX_DAYS} days")
        now = self.clock()
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        days = [d for d in days if day_bounds(d, self.tz)[0] <= now]
        stored = self.store.get_many(ROLLUPS, [d.isoformat() for d in days])  # one round trip
        reads = len(days)
        rollups: list[DayRollup] = []
        for day in days:
            snap = stored.get(day.isoformat())
            if snap is not None and snap.data.get("final"):
                rollups.append(DayRollup.from_json(snap.data))
                continue
            rollup, used = self._compute(day, now)
            reads += used
            rollups.append(rollup)
        report = merge(start, end, rollups, self.policy.promise.timezone)
        report.reads = reads
        log.info("report built", days=len(rollups), reads=reads)
        return report

    def _compute(self, day: date, now: datetime) -> tuple[DayRollup, int]:
        """Roll the day up from its posts; store it once it can no longer change."""
        first, after = day_bounds(day, self.tz)
        docs = [MentionDoc.from_snapshot(snap) for snap in self.store.received_between(first, min(after, now))]
        rollup = rollup_day(day, docs, tz=self.tz, now=now)
        settled = now >= after + SETTLED_AFTER
        if after <= now and (rollup.final or settled):
            if not rollup.final:
                rollup.unresolved = 0  # what is still unanswered now counts as a miss for good
            self.store.set(ROLLUPS, day.isoformat(), rollup.as_json(), merge=False)
        return rollup, len(docs)
