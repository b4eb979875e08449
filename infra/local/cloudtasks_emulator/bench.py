"""Dispatch-lag benchmark: ``python -m cloudtasks_emulator.bench [--tasks 10000]``.

Starts the emulator as the local stack does (``python -m cloudtasks_emulator`` in its own
process), creates tasks with the production client at a steady pace, each scheduled
``--ahead`` seconds after its creation, and measures on a local HTTP receiver how late each
dispatch arrives relative to its X-CloudTasks-TaskETA. The default pace is 500/s, the highest
max_dispatches_per_second production allows for one queue. Prints a JSON line, then a
human line. Loopback only; bounded by --tasks and a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

QUEUE = "projects/bench/locations/local/queues/bench"
_ETA_HEADER = b"x-cloudtasks-tasketa:"


class Receiver(asyncio.Protocol):
    """A minimal keep-alive HTTP/1.1 server that records (arrival, ETA) per request."""

    def __init__(self, arrivals: list[tuple[float, float]]) -> None:
        self._arrivals = arrivals
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self._buffer[:head_end].lower()
            length_match = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
            total = head_end + 4 + (int(length_match[1]) if length_match else 0)
            if len(self._buffer) < total:
                return
            self._buffer = self._buffer[total:]
            arrived = time.time()
            eta_start = head.find(_ETA_HEADER)
            if eta_start >= 0:
                eta_end = head.find(b"\r\n", eta_start)
                self._arrivals.append((arrived, float(head[eta_start + len(_ETA_HEADER):eta_end])))
            assert self._transport is not None
            self._transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def start_receiver(
    arrivals: list[tuple[float, float]],
) -> tuple[int, asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    ready: list[int] = []
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(loop.create_server(lambda: Receiver(arrivals), "127.0.0.1", 0))
        ready.append(server.sockets[0].getsockname()[1])
        started.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, name="bench-receiver", daemon=True)
    thread.start()
    started.wait()
    return ready[0], loop, thread


def create_paced(client: tasks_v2.CloudTasksClient, url: str, tasks: int, rate: float, ahead: float,
                 workers: int) -> tuple[float, int]:
    """Create ``tasks`` tasks at ``rate`` per second; returns (seconds taken, failures)."""
    counter = iter(range(tasks))
    lock = threading.Lock()
    failures = 0
    start = time.monotonic()

    def work() -> None:
        nonlocal failures
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            task = tasks_v2.Task(http_request=tasks_v2.HttpRequest(url=url),
                                 schedule_time=datetime.now(UTC) + timedelta(seconds=ahead))
            try:
                client.create_task(parent=QUEUE, task=task, timeout=10)
            except Exception:  # counted and reported; the benchmark goes on
                with lock:
                    failures += 1

    threads = [threading.Thread(target=work, name=f"bench-create-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - start, failures


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudtasks_emulator.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0, help="tasks created (and due) per second")
    parser.add_argument("--ahead", type=float, default=2.0, help="seconds between creation and schedule_time")
    parser.add_argument("--workers", type=int, default=4, help="client threads creating tasks")
    args = parser.parse_args(argv)

    arrivals: list[tuple[float, float]] = []
    port, receiver_loop, receiver_thread = start_receiver(arrivals)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    emulator = subprocess.Popen(
        [sys.executable, "-m", "cloudtasks_emulator", "--port", "0", "--jwks-port", "0", "--queue", QUEUE],
        stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = emulator.stdout.readline() if emulator.stdout else ""
        match = re.search(r"listening on (\S+)", line)
        if not match:
            raise SystemExit(f"emulator did not start: {line!r}")
        channel = grpc.insecure_channel(match[1])
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        client.update_queue(queue=tasks_v2.Queue(name=QUEUE, rate_limits=tasks_v2.RateLimits(
            max_dispatches_per_second=500, max_concurrent_dispatches=1000)))
        url = f"http://127.0.0.1:{port}/bench"
        create_seconds, failures = create_paced(client, url, args.tasks, args.rate, args.ahead, args.workers)
        expected = args.tasks - failures
        deadline = time.monotonic() + args.ahead + 30
        while len(arrivals) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        channel.close()
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=15)
        receiver_loop.call_soon_threadsafe(receiver_loop.stop)
        receiver_thread.join()

    received = list(arrivals)
    lags_ms = sorted((arrived - eta) * 1000 for arrived, eta in received)
    span = (max(a for a, _ in received) - min(a for a, _ in received)) if len(received) > 1 else 0.0
    result = {
        "tasks": args.tasks,
        "received": len(received),
        "create_failures": failures,
        "create_rate_per_s": round(args.tasks / create_seconds, 1),
        "lag_ms_p50": round(percentile(lags_ms, 0.50), 2) if lags_ms else None,
        "lag_ms_p99": round(percentile(lags_ms, 0.99), 2) if lags_ms else None,
        "lag_ms_max": round(lags_ms[-1], 2) if lags_ms else None,
        "lag_ms_mean": round(statistics.fmean(lags_ms), 2) if lags_ms else None,
        "early": sum(1 for lag in lags_ms if lag < 0),
        "throughput_per_s": round(len(received) / span, 1) if span else None,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result), flush=True)
    print(f"{result['received']}/{args.tasks} dispatched, lag p50 {result['lag_ms_p50']} ms, "
          f"p99 {result['lag_ms_p99']} ms, max {result['lag_ms_max']} ms, "
          f"throughput {result['throughput_per_s']}/s (created at {result['create_rate_per_s']}/s), "
          f"{result['early']} early", flush=True)
    return 0 if len(received) == expected and result["early"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
