"""Cost: Firestore reads/writes and Cloud Tasks operations per post lifecycle, and USD per 100k posts.

Each lifecycle runs the production services in-process against the emulators, step by step as
the platforms and Cloud Tasks would drive them: the webhook ingests, each task the scheduler
was asked for is delivered by calling ``deadline`` with exactly the payload that was scheduled,
the brand's reply arrives on the webhook. Operations are counted by the adapters' own counters
(``FirestoreStore.ops``, ``TasksScheduler.ops``), which tick once per client call.

Prices are list prices in USD without free tiers, as stated in ``PRICES``; verify them before
budgeting. Compute time (vCPU-/GiB-seconds) is not included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench.harness import BRAND_X, PolicySpec, Rig, firestore_client, x_brand_reply, x_mention

POLICY = PolicySpec(promise="60m", warning_before="15m", realert_every="30m", max_level=3,
                    ladder_sinks=("slack", "pagerduty", "webhook"), warning_sinks=("slack", "webhook"))

PRICES = {
    "source": ("cloud.google.com/firestore/pricing (multi-region eur3/nam5 list price; single regions such "
               "as europe-west3 are cheaper), cloud.google.com/tasks/pricing, cloud.google.com/run/pricing "
               "(requests); read from the stored pricing pages on 2026-11-22 - verify before budgeting"),
    "firestore_read_per_100k": 0.06,
    "firestore_write_per_100k": 0.18,
    "firestore_delete_per_100k": 0.02,
    "tasks_per_million_ops": 0.40,  # API calls and push delivery attempts; first 1M/month free (ignored)
    "run_per_million_requests": 0.40,  # first 2M/month free (ignored); CPU and memory time not included
}


class CountingStore:
    """Wraps ``FirestoreStore`` and also remembers which documents a lifecycle created (TTL deletes)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.created: set[tuple[str, str]] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        created = self.inner.create(collection, doc_id, data)
        if created and "expire_at" in data:
            self.created.add((collection, doc_id))
        return created

    def set(self, collection: str, doc_id: str, data: dict[str, Any], merge: bool = True) -> None:
        self.inner.set(collection, doc_id, data, merge)
        if "expire_at" in data:
            self.created.add((collection, doc_id))


class RecordingScheduler:
    """Wraps ``TasksScheduler``; keeps every payload so the bench can deliver it like Cloud Tasks."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.scheduled: list[dict[str, Any]] = []

    @property
    def ops(self) -> Counter[str]:
        return self.inner.ops

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        self.scheduled.append(dict(payload))
        return bool(self.inner.schedule(task_id, at, payload, now))

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        self.scheduled.extend(dict(payload) for _, _, payload in tasks)
        return list(self.inner.schedule_many(tasks, now))

    def delete(self, task_id: str) -> bool:
        return bool(self.inner.delete(task_id))


class Lifecycle:
    def __init__(self, rig: Rig) -> None:
        from hilft.adapters.firestore_store import FirestoreStore
        from hilft.app import App

        self.app = App(rig.function_settings())
        client = firestore_client(rig.stack.firestore_host)
        self.store = CountingStore(FirestoreStore("hilft-local", client_factory=lambda: client))
        self.scheduler = RecordingScheduler(self.app.scheduler)
        self.app.store = self.store
        self.app.scheduler = self.scheduler
        self.deliveries = 0
        self.invocations = 0
        self.delivered: set[int] = set()

    def webhook(self, body: bytes) -> None:
        from hilft.channels.x import parse as x

        self.invocations += 1
        self.app.ingest_service.ingest(x.parse(body, brand_user_ids=frozenset({BRAND_X})), frozenset({BRAND_X}))

    def deliver(self, kind: str) -> None:
        """Cloud Tasks delivers the (first not yet delivered) task of this kind to ``deadline``."""
        index = next(i for i, p in enumerate(self.scheduler.scheduled) if p.get("kind") == kind
                     and i not in self.delivered)
        self.delivered.add(index)
        self.deliveries += 1
        self.invocations += 1
        self.app.deadline_service.fire(self.scheduler.scheduled[index])

    def deliver_all(self, kind: str) -> None:
        while any(p.get("kind") == kind and i not in self.delivered for i, p in enumerate(self.scheduler.scheduled)):
            self.deliver(kind)

    def counts(self) -> dict[str, int]:
        ops, tasks = self.store.inner.ops, self.scheduler.ops
        return {"firestore_reads": ops["reads"], "firestore_writes": ops["writes"],
                "firestore_queries": ops["queries"], "firestore_ttl_deletes": len(self.store.created),
                "task_creates": tasks["creates"], "task_deletes": tasks["deletes"],
                "task_deliveries": self.deliveries, "invocations": self.invocations}


def answered_before_warning(life: Lifecycle) -> None:
    post_id, body = x_mention("WLAN weg seit dem Update, was tun?")
    life.webhook(body)
    life.webhook(x_brand_reply(post_id))


def warning_then_answered(life: Lifecycle) -> None:
    post_id, body = x_mention("Router blinkt rot, Hotline nicht erreichbar.")
    life.webhook(body)
    life.deliver("warning")
    life.webhook(x_brand_reply(post_id))
    life.deliver_all("resolve")


def overdue_then_answered(life: Lifecycle) -> None:
    post_id, body = x_mention("Seit drei Tagen kein Festnetz, niemand meldet sich.")
    life.webhook(body)
    life.deliver("warning")
    life.deliver("due")
    life.webhook(x_brand_reply(post_id))
    life.deliver_all("resolve")


LIFECYCLES: dict[str, Callable[[Lifecycle], None]] = {
    "mention -> answered (before warning)": answered_before_warning,
    "mention -> warning -> answered": warning_then_answered,
    "mention -> overdue -> answered": overdue_then_answered,
}


def usd_per_100k(counts: dict[str, int]) -> float:
    p = PRICES
    firestore = (counts["firestore_reads"] * p["firestore_read_per_100k"]
                 + counts["firestore_writes"] * p["firestore_write_per_100k"]
                 + counts["firestore_ttl_deletes"] * p["firestore_delete_per_100k"])
    task_ops = counts["task_creates"] + counts["task_deletes"] + counts["task_deliveries"]
    tasks = task_ops * 100_000 * p["tasks_per_million_ops"] / 1_000_000
    requests = counts["invocations"] * 100_000 * p["run_per_million_requests"] / 1_000_000
    return firestore + tasks + requests


def measure(rig: Rig, runs: int) -> dict[str, Any]:
    """Counts are deterministic; the runs check that they are (a differing run is reported)."""
    out: dict[str, Any] = {"prices": PRICES, "lifecycles": {}}
    for name, lifecycle in LIFECYCLES.items():
        seen: list[dict[str, int]] = []
        for _ in range(runs):
            rig.reset()
            life = Lifecycle(rig)
            lifecycle(life)
            seen.append(life.counts())
        counts = seen[0]
        out["lifecycles"][name] = {**counts, "stable_across_runs": all(c == counts for c in seen),
                                   "usd_per_100k_posts": round(usd_per_100k(counts), 4)}
    rig.reset()
    return out
