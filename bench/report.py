"""The SLA report's cost: documents read to build a 90-day report (today included) against the real
Firestore emulator, three ways:

* ``first``: nobody ever rolled anything up — every post of the period is read;
* ``steady``: after the daily roll-up job ran every night (``ReportService.roll_up`` with the clock
  at 02:30 UTC of each day, as infra/rollup.tf schedules it): one roll-up per ended day, the posts
  still open on the last days (read by id), and today's posts and incidents;
* ``again``: the same report a second time (nothing changed): the same reads as ``steady``.

The seed is realistic in what costs reads: each ended day has answered posts, the last two days
also posts still open (10 %), and today has posts, half of them open. Posts per day are kept small
(``posts_per_day``) so the seed stays quick; the row extrapolates to 10,000 posts a day with the
formula the reads follow: days + open posts of the last days + today's posts + 1 (today's incidents).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.harness import Rig, median

DAYS = 90  # the report's period, today included
OPEN_SHARE_RECENT = 0.1  # of the posts of the two days before today, still unanswered


def _post(received: datetime, n: int, *, answered: bool) -> dict[str, Any]:
    doc = {"platform": ("x", "facebook", "instagram")[n % 3], "priority": "normal", "department": "kundenservice",
           "status": "open", "received_at": received, "created_at": received,
           "due_at": received + timedelta(days=2)}
    if answered:
        seconds = 300 if n % 5 else 5400
        doc |= {"status": "answered", "due_at": received + timedelta(hours=1),
                "answered_at": received + timedelta(seconds=seconds), "first_response_seconds": float(seconds),
                "breached": seconds > 3600}
    return doc


def _seed(rig: Rig, posts_per_day: int, now: datetime) -> dict[str, int]:
    db = rig.db
    batch, pending = db.batch(), 0
    counts = {"posts": 0, "open_recent": 0, "today": 0}
    for back in range(0, DAYS):
        day = datetime(now.year, now.month, now.day, 9, tzinfo=UTC) - timedelta(days=back)
        for n in range(posts_per_day):
            received = day + timedelta(minutes=n)
            if back == 0:
                received = min(received, now - timedelta(seconds=1))
                answered = n % 2 == 0
                counts["today"] += 1
            else:
                answered = not (back <= 2 and n < posts_per_day * OPEN_SHARE_RECENT)
                counts["open_recent"] += not answered
            batch.set(db.collection("mentions").document(f"b{back:03d}n{n:05d}".ljust(40, "0")),
                      _post(received, n, answered=answered))
            pending += 1
            counts["posts"] += 1
            if pending == 400:
                batch.commit()
                batch, pending = db.batch(), 0
    if pending:
        batch.commit()
    return counts


def _nightly_jobs(service: Any, clock: dict[str, datetime], start: date, today: date) -> int:
    """Run the daily roll-up job as Cloud Scheduler would have, every night of the period."""
    reads = 0
    day = start + timedelta(days=1)
    while day <= today:
        clock["now"] = datetime(day.year, day.month, day.day, 2, 30, tzinfo=UTC)
        reads += service.roll_up()["rollup_reads"]
        day += timedelta(days=1)
    return reads


def measure(rig: Rig, runs: int, posts_per_day: int = 40) -> dict[str, Any]:
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.core.policy import Policy
    from hilft.service.report import ReportService

    first_reads, steady_reads, again_reads, job_reads, first_s, steady_s = [], [], [], [], [], []
    seeded: dict[str, int] = {}
    for _ in range(runs):
        rig.reset()
        now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
        if now > datetime.now(UTC):
            now -= timedelta(days=1)  # "today" is a day with posts until 15:00 UTC
        today = now.date()
        seeded = _seed(rig, posts_per_day, now)
        start = today - timedelta(days=DAYS - 1)
        clock = {"now": now}
        service = ReportService(store=FirestoreStore("hilft-local"), policy=Policy.default(),
                                clock=lambda clock=clock: clock["now"])
        t0 = time.perf_counter()
        first = service.build(start, today)
        first_s.append(time.perf_counter() - t0)
        for snap in rig.db.collection("rollups").stream():  # as if the report had never been opened
            snap.reference.delete()
        job_reads.append(_nightly_jobs(service, clock, start, today))
        clock["now"] = now
        t0 = time.perf_counter()
        steady = service.build(start, today)
        steady_s.append(time.perf_counter() - t0)
        again = service.build(start, today)
        assert first.total.posts == seeded["posts"] == steady.total.posts == again.total.posts, "lost posts"
        first_reads.append(first.reads)
        steady_reads.append(steady.reads)
        again_reads.append(again.reads)
    open_at_10k = int(10_000 * OPEN_SHARE_RECENT) * 2
    return {"runs": runs, "days": DAYS, "posts": seeded["posts"], "posts_per_day": posts_per_day,
            "open_recent": seeded["open_recent"], "today_posts": seeded["today"],
            "first_reads": int(median(first_reads)), "steady_reads": int(median(steady_reads)),
            "again_reads": int(median(again_reads)), "nightly_job_reads": int(median(job_reads)),
            "first_ms": round(median(first_s) * 1000, 1), "steady_ms": round(median(steady_s) * 1000, 1),
            # what the same report reads at 10,000 posts a day, by the formula the measured reads follow
            "steady_reads_at_10k_per_day": DAYS + open_at_10k + 10_000 + 1,
            "budget": DAYS + seeded["open_recent"] + seeded["today"] + 1}
