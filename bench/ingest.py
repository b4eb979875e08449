"""Ingest: what one functions-framework instance costs and answers, next to a raw loop doing the
same Firestore and Cloud Tasks calls at the same concurrency, in the same run, interleaved.

Per post ``x_webhook`` does: two task creates (warning, due; issued concurrently: the warning as a
gRPC future on the client's channel, the due task meanwhile by ``create_task``), then one Firestore
``create()`` of the mention (see ``bench.cost``). The raw loop does exactly those calls, the same
way, with the plain Google clients and nothing else: no HTTP, no signature check, no parsing, no
policy.

The figure Cloud Run bills is CPU time: ``cpu_ms_per_post`` of a webhook is the CPU (user +
system) the function's process used during a run, read from /proc from outside (production code
is untouched), divided by the posts; the raw loop's is ``time.process_time()`` of the bench
process around its run (the load generator's threads are idle then). Throughput and latency are
reported too; on two cores shared with both emulators they say more about the machine. Next to
them: an empty function (``bench/sources/empty.py``: read the body, answer) under the same load,
the framework's floor (functions-framework, gunicorn, Flask) that no change in hilft can remove,
and the raw loop's calls behind that framework (``bench/sources/raw_calls.py``): the function
process minus hilft, so x_webhook minus it is what hilft itself costs per post.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Rig, cpu_seconds, meta_comment, new_post_id, percentile, x_mention

CPU_GOAL_RATIO = 1.5  # a webhook's CPU per post at most 1.5x the raw loop's
WARM_UP = 200  # posts per kind before the measured runs


@dataclass
class LoadResult:
    """One run: how many, how fast, how slow the slowest were."""

    count: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu_seconds: float = float("nan")  # CPU of the process doing the work, during the run

    @property
    def cpu_ms_per_post(self) -> float:
        return self.cpu_seconds * 1000 / self.count if self.count else float("nan")

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
    """The same calls per post as the webhook makes, with the bare clients (bench/sources/raw_ingest.py)."""
    from bench.sources.raw_ingest import raw_ingest
    from stack import QUEUE

    ingest = raw_ingest(rig.db, rig.tasks, QUEUE, rig.stack.url("deadline"))

    def work(index: int, _context: Any) -> bool:
        ingest(new_post_id(), f"@Telekom_hilft Bench-Post {index}: Internet seit heute Morgen weg, Router blinkt rot.")
        return True

    return work


def webhook_run(rig: Rig, platform: str, count: int, concurrency: int) -> LoadResult:
    """A closed-loop run against the function, with the CPU its process used meanwhile."""
    bodies = x_bodies(count) if platform == "x" else meta_bodies(count)
    pid = rig.stack.procs[f"{platform}_webhook"].pid
    before = cpu_seconds(pid)
    result = closed_loop(webhook_work(rig, platform, bodies), count, concurrency, _client)
    result.cpu_seconds = cpu_seconds(pid) - before
    return result


class SourceFunction:
    """A source of bench/sources/ under functions-framework, as the stack runs a function."""

    def __init__(self, name: str, env: dict[str, str] | None = None) -> None:
        from stack import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        source = Path(__file__).resolve().parent / "sources" / f"{name}.py"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", name, "--source", str(source),
             "--host", "127.0.0.1", "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, **(env or {}), "GUNICORN_LOG_LEVEL": "error"})
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"bench/sources/{name}.py did not start")
            time.sleep(0.1)

    def run(self, count: int, concurrency: int) -> LoadResult:
        bodies = x_bodies(count)

        def work(index: int, client: httpx.Client) -> bool:
            return client.post(self.url, content=bodies[index], headers={"Content-Type": "application/json"}
                               ).status_code == 200

        before = cpu_seconds(self.proc.pid)
        result = closed_loop(work, count, concurrency, _client)
        result.cpu_seconds = cpu_seconds(self.proc.pid) - before
        return result

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def raw_run(raw: Callable[[int, Any], bool], count: int, concurrency: int) -> LoadResult:
    before = time.process_time()
    result = closed_loop(raw, count, concurrency)
    result.cpu_seconds = time.process_time() - before
    return result


def measure(rig: Rig, *, runs: int, count: int, concurrency: int,
            half_load_count: int) -> dict[str, Any]:
    """Alternates webhook (X), raw and webhook (Meta) runs so drift hits all alike; then measures
    the X webhook's latency at half its saturating throughput. Alongside: an empty function (the
    framework's floor) and the raw loop's calls behind the framework (bench/sources/raw_calls.py)."""
    raw = raw_work(rig)
    empty = SourceFunction("empty")
    try:
        raw_calls = SourceFunction("raw_calls", rig.stack.function_env("x_webhook"))
        try:
            return _measure(rig, raw, empty, raw_calls, runs=runs, count=count, concurrency=concurrency,
                            half_load_count=half_load_count)
        finally:
            raw_calls.stop()
    finally:
        empty.stop()


def _measure(rig: Rig, raw: Callable[[int, Any], bool], empty: SourceFunction, raw_calls: SourceFunction, *,
             runs: int, count: int, concurrency: int, half_load_count: int) -> dict[str, Any]:
    x_runs: list[LoadResult] = []
    meta_runs: list[LoadResult] = []
    raw_runs: list[LoadResult] = []
    empty_runs: list[LoadResult] = []
    raw_calls_runs: list[LoadResult] = []
    # Steady state, as a warm instance is billed: gunicorn's threads, the gRPC channels and the caches
    # of both sides are warmed by a run of each kind that is not measured (cold start is its own row).
    rig.reset()
    webhook_run(rig, "x", WARM_UP, concurrency)
    raw_run(raw, WARM_UP, concurrency)
    webhook_run(rig, "meta", WARM_UP, concurrency)
    empty.run(WARM_UP, concurrency)
    raw_calls.run(WARM_UP, concurrency)
    for _ in range(runs):
        rig.reset()
        x_runs.append(webhook_run(rig, "x", count, concurrency))
        rig.reset()
        raw_runs.append(raw_run(raw, count, concurrency))
        rig.reset()
        meta_runs.append(webhook_run(rig, "meta", count, concurrency))
        empty_runs.append(empty.run(count, concurrency))
        rig.reset()
        raw_calls_runs.append(raw_calls.run(count, concurrency))
    saturating = _median([r.throughput for r in x_runs])
    half_rate = saturating / 2
    half_runs: list[LoadResult] = []
    for _ in range(runs):
        rig.reset()
        half_runs.append(open_loop(webhook_work(rig, "x", x_bodies(half_load_count)), half_load_count,
                                   half_rate, workers=max(2 * concurrency, 16), make_context=_client))
    rig.reset()

    def cpu_ratio(runs_: Sequence[LoadResult]) -> float:
        return round(_median([w.cpu_ms_per_post / r.cpu_ms_per_post for w, r in zip(runs_, raw_runs, strict=True)]), 2)

    return {
        "concurrency": concurrency, "posts_per_run": count, "runs": runs,
        "x_webhook": _summary(x_runs), "meta_webhook": _summary(meta_runs), "raw_loop": _summary(raw_runs),
        "empty_function": _summary(empty_runs), "raw_calls_function": _summary(raw_calls_runs),
        "cpu_ratio_raw_calls_to_raw": cpu_ratio(raw_calls_runs),
        "cpu_ratio_x_to_raw": cpu_ratio(x_runs), "cpu_ratio_meta_to_raw": cpu_ratio(meta_runs),
        "cpu_goal_ratio": CPU_GOAL_RATIO,
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
        "cpu_ms_per_post": round(_median([r.cpu_ms_per_post for r in results]), 2),
        "cpu_ms_per_post_runs": [round(r.cpu_ms_per_post, 2) for r in results],
        "throughput_runs": [round(r.throughput, 1) for r in results],
    }
