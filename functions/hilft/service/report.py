"""Builds the SLA report from daily roll-ups, and rolls up the days a report will need.

``roll_up`` is the daily job (Cloud Scheduler calls ``sweep`` with ``{"run": "rollup"}``, see
infra/scheduler.tf): it rolls up every ended day of the last ``SETTLED_AFTER`` days that has no
final roll-up yet — yesterday from its posts, older days from their partial roll-up and the
posts still open on them. So every day is rolled up before its posts expire (90 days), whether
or not anyone opens a report, and a report reads:

* one roll-up per day of the period (one ``BatchGetDocuments``),
* for a day whose roll-up is partial: only its still-open posts (by id),
* for today (and a day the job has not rolled up yet): that day's posts, and its incidents.

A day's roll-up is stored once the day has ended: final when no post of it is still open, else
partial with the open posts' ids; it becomes final when they are answered, or ``SETTLED_AFTER``
after the day (what is still unanswered then counts as a miss for good). A closing message
reopened later (by staff, or by an edit) joins its day's ``open_ids`` (``count_again_in_rollup``),
so a final day becomes partial again and the report reads that post.

The two compose: a roll-up is written only if its document is still as the job read it (created
if there was none), and a reopen always changes that document (it leaves a stub without ``day``
when the day has no roll-up yet). A reopen that lands while the job computes a day makes the
job's write fail, and the job computes that day again, now with the reopened post.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hilft.core.document import MentionDoc
from hilft.core.errors import MalformedPayload, TransientStoreError
from hilft.core.policy import Policy
from hilft.core.report import DayRollup, Report, day_bounds, merge, split_open
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, ROLLUPS, Clock, ReportStore, Snapshot, Store

log = get_logger("hilft.report")

MAX_DAYS = 366  # the longest period one report covers
SETTLED_AFTER = timedelta(days=7)  # a post unanswered this long after its day is a miss for good
# A partial roll-up keeps its open posts' ids; beyond this many (Firestore's 1 MiB document) it is
# not stored and the day is read from its posts again.
MAX_OPEN_IDS = 15_000
# A roll-up that changed while it was computed (a post of its day was reopened) is computed again,
# at most this often per run; after that it is left to the next report or run (nothing is lost).
ROLLUP_ATTEMPTS = 4


def count_again_in_rollup(store: Store, policy: Policy, doc_id: str, received_at: datetime | None) -> None:
    """A closing message (counted nowhere) now needs an answer: add it to its day's roll-up
    ``open_ids`` so the roll-up is partial again and the next report or roll-up reads the post.

    A day with no roll-up yet gets a stub holding just that id: a roll-up job that read the day
    before the stub existed then fails its conditional write and reads the day again."""
    if received_at is None:
        return
    key = received_at.astimezone(ZoneInfo(policy.promise.timezone)).date().isoformat()

    def decide(snap: Snapshot | None) -> dict[str, Any] | None:
        if snap is None:
            return None
        open_ids = [str(i) for i in snap.data.get("open_ids") or ()]
        if doc_id in open_ids:
            return None
        return {"open_ids": [*open_ids, doc_id], "final": False}

    for _ in range(ROLLUP_ATTEMPTS):
        if store.mutate(ROLLUPS, key, decide) is not None:
            return
        if store.create(ROLLUPS, key, {"open_ids": [doc_id], "final": False}):
            return
        # the job stored the day between our read and our create: add the id to that roll-up
    raise TransientStoreError("roll-up contended, retry later")


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
        rollups, reads = self._rollups(days, now)
        report = merge(start, end, rollups, self.policy.promise.timezone)
        report.reads = reads
        log.info("report built", days=len(rollups), reads=reads)
        return report

    def roll_up(self) -> dict[str, Any]:
        """The daily job: roll up (or bring up to date) every ended day of the last week."""
        now = self.clock()
        today = now.astimezone(self.tz).date()
        days = [today - timedelta(days=n) for n in range(SETTLED_AFTER.days + 1, 0, -1)]
        rollups, reads = self._rollups(days, now)
        finals = sum(1 for r in rollups if r.final)
        log.info("daily roll-up", days=len(rollups), final=finals, reads=reads)
        return {"rollup_days": len(rollups), "rollup_final": finals, "rollup_reads": reads}

    def _rollups(self, days: list[date], now: datetime) -> tuple[list[DayRollup], int]:
        """Each day's figures as of ``now``, and the documents read to get them."""
        stored = self.store.get_many(ROLLUPS, [d.isoformat() for d in days])  # one round trip
        reads = len(days)
        rollups: list[DayRollup] = []
        for day in days:
            snap = stored.get(day.isoformat())
            for _ in range(ROLLUP_ATTEMPTS):
                rollup, used, kept = self._day(day, snap, now)
                reads += used
                if kept:
                    break
                # A post of this day was reopened meanwhile (count_again_in_rollup): read the day again.
                snap = self.store.get(ROLLUPS, day.isoformat())
                reads += 1
            else:
                log.warning("roll-up changed while computed, left for the next run", day=day.isoformat())
            rollups.append(rollup)
        return rollups, reads

    def _day(self, day: date, snap: Snapshot | None, now: datetime) -> tuple[DayRollup, int, bool]:
        """The day's figures from its stored roll-up ``snap`` (or its posts), the reads, and whether
        what had to be stored was stored (False: the roll-up changed since ``snap``)."""
        saved = DayRollup.from_json(snap.data) if snap is not None and "day" in snap.data else None
        if saved is not None and saved.final:
            return saved, 0, True
        if saved is not None:
            return self._update(day, saved, snap, now)
        return self._compute(day, snap, now)

    def _compute(self, day: date, read: Snapshot | None, now: datetime) -> tuple[DayRollup, int, bool]:
        """Roll the day up from its posts; once the day has ended, store it (final or partial)."""
        first, after = day_bounds(day, self.tz)
        until = min(after, now)
        snaps = self.store.received_between(first, until)
        incidents = self.store.incidents_opened_between(first, until)
        settled, still_open = split_open(day, [(s.id, MentionDoc.from_snapshot(s)) for s in snaps], tz=self.tz,
                                         now=now, incidents=incidents)
        figures, kept = self._keep(day, read, settled, still_open, now)
        return figures, max(1, len(snaps)) + max(1, incidents), kept

    def _update(self, day: date, partial: DayRollup, read: Snapshot | None,
                now: datetime) -> tuple[DayRollup, int, bool]:
        """A partial roll-up: read only its still-open posts, count the ones answered since."""
        waiting = partial.open_ids
        found = self.store.get_many(MENTIONS, waiting)
        settled, still_open = split_open(day, [(i, MentionDoc.from_snapshot(s)) for i, s in found.items()],
                                         tz=self.tz, now=now)
        partial.open_ids = []
        partial.absorb(settled)  # answered since; a deleted or expired post is counted nowhere
        partial.open_ids = settled.open_ids
        figures, kept = self._keep(day, read, partial, still_open, now, changed=partial.open_ids != waiting)
        return figures, max(1, len(waiting)), kept

    def _keep(self, day: date, read: Snapshot | None, settled: DayRollup, still_open: DayRollup, now: datetime,
              changed: bool = True) -> tuple[DayRollup, bool]:
        """Store the ended day (settled for good after ``SETTLED_AFTER``) if its roll-up is still as
        ``read``; the day's figures now, and False when the roll-up changed meanwhile."""
        after = day_bounds(day, self.tz)[1]
        if now >= after + SETTLED_AFTER and settled.open_ids:
            changed = True
            settled.open_ids = []
            still_open.unresolved = 0  # what is still unanswered now counts as a miss for good
            settled.absorb(still_open)
            still_open = DayRollup(day=day)
        kept = True
        if after <= now and changed and len(settled.open_ids) <= MAX_OPEN_IDS:
            kept = self._store_if_unchanged(day, read, settled.as_json())
        figures = DayRollup.from_json(settled.as_json())
        figures.open_ids = []
        figures.absorb(still_open)
        return figures, kept

    def _store_if_unchanged(self, day: date, read: Snapshot | None, data: dict[str, Any]) -> bool:
        """Replace the day's roll-up only if it is still the one read (create it if there was none)."""
        if read is None:
            return self.store.create(ROLLUPS, day.isoformat(), data)
        unchanged = False

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            nonlocal unchanged
            unchanged = current is not None and current.update_time == read.update_time
            return data if unchanged else None

        self.store.mutate(ROLLUPS, day.isoformat(), decide)
        return unchanged
