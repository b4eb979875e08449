"""The SLA report's cost: documents read to build a 90-day report, first from posts (no roll-ups
yet) and then from the stored daily roll-ups, against the real Firestore emulator.

Posts per day are kept small here (``posts_per_day``) so the seed stays quick; the reads scale
as "days + posts of days without a final roll-up", which the row extrapolates to 10,000/day."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.harness import Rig, median

DAYS = 90


def _seed(rig: Rig, posts_per_day: int, today: date) -> int:
    db = rig.db
    batch, pending, written = db.batch(), 0, 0
    for back in range(1, DAYS + 1):
        day = datetime(today.year, today.month, today.day, 9, tzinfo=UTC) - timedelta(days=back)
        for n in range(posts_per_day):
            received = day + timedelta(minutes=n)
            answered = 300 if n % 5 else 5400
            batch.set(db.collection("mentions").document(f"b{back:03d}n{n:05d}".ljust(40, "0")), {
                "platform": ("x", "facebook", "instagram")[n % 3], "priority": "normal", "department": "kundenservice",
                "status": "answered", "received_at": received, "created_at": received,
                "due_at": received + timedelta(hours=1), "answered_at": received + timedelta(seconds=answered),
                "first_response_seconds": float(answered), "breached": answered > 3600})
            pending += 1
            written += 1
            if pending == 400:
                batch.commit()
                batch, pending = db.batch(), 0
    if pending:
        batch.commit()
    return written


def measure(rig: Rig, runs: int, posts_per_day: int = 40) -> dict[str, Any]:
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.core.policy import Policy
    from hilft.service.report import ReportService

    first_reads, later_reads, first_s, later_s = [], [], [], []
    for _ in range(runs):
        rig.reset()
        now = datetime.now(UTC)
        today = now.date()
        posts = _seed(rig, posts_per_day, today)
        store = FirestoreStore("hilft-local")
        service = ReportService(store=store, policy=Policy.default(), clock=lambda: datetime.now(UTC))
        start, end = today - timedelta(days=DAYS), today - timedelta(days=1)
        t0 = time.perf_counter()
        first = service.build(start, end)
        first_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        later = service.build(start, end)
        later_s.append(time.perf_counter() - t0)
        assert first.total.posts == posts == later.total.posts, "the report lost posts"
        first_reads.append(first.reads)
        later_reads.append(later.reads)
    return {"runs": runs, "days": DAYS, "posts": DAYS * posts_per_day,
            "first_reads": int(median(first_reads)), "later_reads": int(median(later_reads)),
            "first_ms": round(median(first_s) * 1000, 1), "later_ms": round(median(later_s) * 1000, 1),
            "later_reads_at_10k_per_day": DAYS, "first_reads_at_10k_per_day": DAYS + DAYS * 10_000}
