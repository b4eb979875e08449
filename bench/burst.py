"""Load burst: thousands of X posts as fast as one ``x_webhook`` instance takes them, with every
tenth delivery a redelivery of an earlier post (platforms retry), then a check that every post
is stored once and has its deadlines scheduled. Bounded by count and by a hard time limit."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.harness import Rig, median, percentile, x_mention


@dataclass
class BurstResult:
    posts: int
    sends: int
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)
    stored: int = 0
    duplicates_reported: int = 0
    unsent: int = 0
    latencies: list[float] = field(default_factory=list)
    documents: int = -1
    tasks: int = -1

    @property
    def rate(self) -> float:
        return (self.sends - self.unsent) / self.seconds if self.seconds else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"posts": self.posts, "sends": self.sends, "seconds": round(self.seconds, 1),
                "rate_per_s": round(self.rate, 1), "statuses": self.statuses, "stored": self.stored,
                "duplicates_reported": self.duplicates_reported, "unsent": self.unsent,
                "p50_ms": round(percentile(self.latencies, 0.5) * 1000, 1),
                "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 1),
                "documents": self.documents, "tasks": self.tasks}


def plan(posts: int, redeliver_every: int = 10) -> list[bytes]:
    """``posts`` distinct bodies; after every ``redeliver_every``-th, a copy of an earlier one."""
    bodies: list[bytes] = []
    distinct: list[bytes] = []
    for i in range(posts):
        body = x_mention(f"Burst {i}: Störung im Festnetz, bitte melden.")[1]
        distinct.append(body)
        bodies.append(body)
        if redeliver_every and (i + 1) % redeliver_every == 0:
            bodies.append(distinct[(i * 7919) % len(distinct)])
    return bodies


def run(rig: Rig, posts: int, *, concurrency: int = 16, time_limit: float = 180.0,
        count_tasks: bool = True) -> BurstResult:
    bodies = plan(posts)
    result = BurstResult(posts=posts, sends=len(bodies), seconds=0.0)
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    stop_at = time.monotonic() + time_limit

    def worker() -> None:
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                if time.monotonic() > stop_at:
                    with lock:
                        result.unsent += 1
                    continue
                started = time.perf_counter()
                try:
                    response = rig.post_x(bodies[index], client)
                    status, answer = response.status_code, (response.json() if response.status_code == 200 else {})
                except httpx.HTTPError:
                    status, answer = 0, {}
                elapsed = time.perf_counter() - started
                with lock:
                    result.latencies.append(elapsed)
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    result.stored += int(answer.get("stored", 0))
                    result.duplicates_reported += int(answer.get("duplicates", 0))

    threads = [threading.Thread(target=worker, name=f"burst-{i}") for i in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    result.documents = rig.mention_count()
    if count_tasks:
        result.tasks = rig.task_count()
    return result


def whole(result: BurstResult) -> bool:
    """Every post stored once with both its tasks, every delivery answered 200."""
    return (result.documents == result.posts and result.tasks == 2 * result.posts and result.unsent == 0
            and result.stored == result.posts and set(result.statuses) == {200})


def measure(rig: Rig, posts: int, *, runs: int, concurrency: int = 16, time_limit: float = 180.0) -> dict[str, Any]:
    """``runs`` bursts on a wiped stack each: medians of time, rate and p99; counts of the median run."""
    results: list[BurstResult] = []
    for _ in range(runs):
        rig.reset()
        results.append(run(rig, posts, concurrency=concurrency, time_limit=time_limit))
    rig.reset()
    middle = sorted(results, key=lambda r: r.seconds)[len(results) // 2]
    return {**middle.as_dict(), "runs": runs,
            "seconds": round(median([r.seconds for r in results]), 1),
            "rate_per_s": round(median([r.rate for r in results]), 1),
            "p99_ms": round(median([percentile(r.latencies, 0.99) for r in results]) * 1000, 1),
            "seconds_runs": [round(r.seconds, 1) for r in results],
            "whole_every_run": all(whole(r) for r in results)}
