"""Ingest: webhook throughput and ack latency on one functions-framework instance, next to a raw
loop doing the same Firestore and Cloud Tasks calls at the same concurrency, in the same run.

Per post ``x_webhook`` does: two task creates (warning, due; issued concurrently), then one
Firestore ``create()`` of the mention (see ``bench.cost``). The raw loop does exactly those calls,
the same way, with the plain Google clients and nothing else: no HTTP, no signature check, no
parsing, no policy. ratio = webhook throughput / raw throughput.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import Rig, meta_comment, new_post_id, percentile, x_mention


@dataclass
class LoadResult:
    """One run: how many, how fast, how slow the slowest were."""

    count: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("nan")

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


def closed_loop(work: Callable[[int, Any], bool], count: int, concurrency: int,
                make_context: Callable[[], Any] = lambda: None) -> LoadResult:
    """``concurrency`` workers run ``work(i, context)`` for i in 0..count-1 as fast as they can."""
    next_index = iter(range(count))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0

    def worker() -> None:
        nonlocal errors
        context = make_context()
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                started = time.perf_counter()
                ok = work(index, context)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += 0 if ok else 1
        finally:
            if isinstance(context, httpx.Client):
                context.close()

    threads = [threading.Thread(target=worker, name=f"load-{i}") for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(count, time.perf_counter() - started, latencies, errors)


def open_loop(work: Callable[[int, Any], bool], count: int, rate: float, workers: int,
              make_context: Callable[[], Any] = lambda: None) -> LoadResult:
    """Requests start on a fixed schedule (``rate`` per second); latency counts from the scheduled
    start, so a backlog shows up in the numbers instead of slowing the sender (no coordinated omission)."""
    next_index = iter(range(count))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    origin = time.perf_counter() + 0.2

    def worker() -> None:
        nonlocal errors
        context = make_context()
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                scheduled = origin + index / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                ok = work(index, context)
                elapsed = time.perf_counter() - scheduled
                with lock:
                    latencies.append(elapsed)
                    errors += 0 if ok else 1
        finally:
            if isinstance(context, httpx.Client):
                context.close()

    threads = [threading.Thread(target=worker, name=f"open-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(count, time.perf_counter() - origin, latencies, errors)


def _client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0))


def webhook_work(rig: Rig, platform: str, bodies: Sequence[bytes]) -> Callable[[int, Any], bool]:
    post = rig.post_x if platform == "x" else rig.post_meta

    def work(index: int, client: httpx.Client) -> bool:
        response = post(bodies[index], client)
        return response.status_code == 200 and response.json().get("stored") == 1

    return work


def x_bodies(count: int) -> list[bytes]:
    return [x_mention(f"Bench-Post {i}: Internet seit heute Morgen weg, Router blinkt rot.")[1]
            for i in range(count)]


def meta_bodies(count: int) -> list[bytes]:
    return [meta_comment(f"Bench-Kommentar {i}: kein Empfang in Kiel seit gestern Abend.")[1]
            for i in range(count)]


def raw_work(rig: Rig) -> Callable[[int, Any], bool]:
    """The same calls per post as the webhook makes, with the bare clients."""
    from google.cloud import tasks_v2
    from google.protobuf import timestamp_pb2

    from stack import QUEUE

    db, tasks = rig.db, rig.tasks
    url = rig.stack.url("deadline")
    pool = ThreadPoolExecutor(max_workers=8)

    def task(name: str, at: datetime) -> dict[str, Any]:
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(at)
        return {"name": f"{QUEUE}/tasks/{name}", "schedule_time": ts,
                "http_request": {"http_method": tasks_v2.HttpMethod.POST, "url": url,
                                 "headers": {"Content-Type": "application/json"},
                                 "body": b'{"doc_id":"x","kind":"due","level":1}',
                                 "oidc_token": {"service_account_email": "bench@hilft-local.iam.gserviceaccount.com",
                                                "audience": url}}}

    def work(index: int, _context: Any) -> bool:
        post_id = new_post_id()
        doc_id = hashlib.sha256(f"raw\x1f{post_id}".encode()).hexdigest()[:40]
        now = datetime.now(UTC)
        due = now + timedelta(hours=1)
        warning = pool.submit(tasks.create_task, parent=QUEUE, task=task(
            hashlib.sha256(f"{doc_id}w".encode()).hexdigest()[:48], due - timedelta(minutes=15)))
        tasks.create_task(parent=QUEUE, task=task(hashlib.sha256(f"{doc_id}d".encode()).hexdigest()[:48], due))
        warning.result()
        db.collection("mentions").document(doc_id).create({
            "platform": "x", "post_id": post_id, "kind": "mention", "conversation_id": post_id,
            "in_reply_to": None, "author_id": "1472583690", "author_handle": "kunde_bench", "author_name": "Kunde",
            "author_followers": 120, "brand_account_id": "1000000001",
            "text": f"@Telekom_hilft Bench-Post {index}: Internet seit heute Morgen weg, Router blinkt rot.",
            "pii_kinds": [], "lang": "de", "url": None, "radar": False, "priority": None,
            "department": None, "status": "open", "created_at": now, "received_at": now, "due_at": due,
            "warn_at": due - timedelta(minutes=15), "promise_seconds": 3600.0, "answered_at": None,
            "alert_level": None, "next_alert_at": None, "acknowledged": False, "handoff_pending": False,
            "alerts": {}, "expire_at": now + timedelta(days=90), "schema": 1})
        return True

    return work


def measure(rig: Rig, *, runs: int, count: int, concurrency: int,
            half_load_count: int) -> dict[str, Any]:
    """Alternates webhook (X), raw and webhook (Meta) runs so drift hits all alike; then measures
    the X webhook's latency at half its saturating throughput."""
    x_runs: list[LoadResult] = []
    meta_runs: list[LoadResult] = []
    raw_runs: list[LoadResult] = []
    raw = raw_work(rig)
    for _ in range(runs):
        rig.reset()
        x_runs.append(closed_loop(webhook_work(rig, "x", x_bodies(count)), count, concurrency, _client))
        rig.reset()
        raw_runs.append(closed_loop(raw, count, concurrency))
        rig.reset()
        meta_runs.append(closed_loop(webhook_work(rig, "meta", meta_bodies(count)), count, concurrency, _client))
    saturating = _median([r.throughput for r in x_runs])
    half_rate = saturating / 2
    half_runs: list[LoadResult] = []
    for _ in range(runs):
        rig.reset()
        half_runs.append(open_loop(webhook_work(rig, "x", x_bodies(half_load_count)), half_load_count,
                                   half_rate, workers=max(2 * concurrency, 16), make_context=_client))
    rig.reset()
    ratios = [x.throughput / r.throughput for x, r in zip(x_runs, raw_runs, strict=True)]
    return {
        "concurrency": concurrency, "posts_per_run": count, "runs": runs,
        "x_webhook": _summary(x_runs), "meta_webhook": _summary(meta_runs), "raw_loop": _summary(raw_runs),
        "ratio_x_to_raw": round(_median(ratios), 3), "ratio_x_to_raw_runs": [round(r, 3) for r in ratios],
        "ratio_meta_to_raw": round(_median([m.throughput / r.throughput
                                            for m, r in zip(meta_runs, raw_runs, strict=True)]), 3),
        "half_load": {"rate_per_s": round(half_rate, 1), "posts_per_run": half_load_count,
                      **_summary(half_runs)},
    }


def _median(values: Sequence[float]) -> float:
    from bench.harness import median

    return median(values)


def _summary(results: Sequence[LoadResult]) -> dict[str, Any]:
    return {
        "throughput_per_s": round(_median([r.throughput for r in results]), 1),
        "p50_ms": round(_median([r.ms(0.50) for r in results]), 1),
        "p99_ms": round(_median([r.ms(0.99) for r in results]), 1),
        "errors": sum(r.errors for r in results),
        "throughput_runs": [round(r.throughput, 1) for r in results],
    }
