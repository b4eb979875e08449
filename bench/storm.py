"""Storm: ``posts`` posts of one incident come due in the same second. Messages per sink, first-message lag.

In process, on the real Firestore emulator and the fake sinks over HTTP (the rig's world), with the
services as ``deadline`` runs them: an open incident is made by a burst and one evaluation, then
``posts`` more posts of it are stored, all due at one instant, and their ``due`` tasks are fired
together by ``concurrency`` threads (one instance taking Cloud Tasks' deliveries; the emulator's
dispatch lag is its own row). Time in the services is a fake clock set to the due second; the lag
is wall time from the first delivery to each sink's first accepted message.

The comparison in the same run is the same storm with ``outage.fold_alerts = false``: one
message per post and sink, as before incidents existed.
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import BRAND_X, Rig, firestore_client, new_post_id, percentile

SINKS = ("slack", "google_chat", "pagerduty", "webhook")
POLICY = """
[promise]
first_response = "60m"
warning_before = "15m"
hours = "24/7"
[escalation]
realert_every = "30m"
max_level = 3
warning_sinks = ["slack"]
[[escalation.ladder]]
after = "0s"
sinks = ["slack", "google_chat", "pagerduty", "webhook"]
[departments.festnetz]
label = "Festnetz"
keywords = ["dsl", "internet", "festnetz"]
[departments.kundenservice]
label = "Kundenservice"
[outage]
fold_alerts = {fold}
"""
TEXT = "Störung: kein Internet in 53113 Bonn, DSL seit einer Stunde weg."


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def set(self, now: datetime) -> None:
        with self._lock:
            self.now = now


class Recorder:
    """The scheduler: tasks are kept to be fired by the benchmark (no dispatch to a stopped deadline)."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        with self._lock:
            if task_id in self.tasks:
                return False
            self.tasks[task_id] = (at, dict(payload))
            return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        return [self.schedule(task_id, at, payload, now) for task_id, at, payload in tasks]

    def delete(self, task_id: str) -> bool:
        with self._lock:
            return self.tasks.pop(task_id, None) is not None


def _sink_fakes(rig: Rig) -> dict[str, Any]:
    world = rig.world
    return {"slack": world.slack, "google_chat": world.chat, "pagerduty": world.pagerduty, "webhook": world.webhook}


def _app(rig: Rig, fold: bool, clock: Clock, tmp: Path) -> Any:
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.app import App
    from hilft.settings import Settings

    policy = tmp / f"policy-{fold}.toml"
    policy.write_text(POLICY.format(fold="true" if fold else "false"))
    env = {**rig.stack.function_env(), "HILFT_CONFIG": str(policy)}
    app = App(Settings.from_env(env), clock=clock)
    client = firestore_client(rig.stack.firestore_host)
    app.__dict__["store"] = FirestoreStore("hilft-local", client_factory=lambda: client)
    app.__dict__["scheduler"] = Recorder()
    return app


def _post(app: Any, clock: Clock) -> None:
    from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform

    post_id = new_post_id()
    mention = Mention(platform=Platform.X, post_id=post_id, kind=Kind.MENTION,
                      author=Author(id="1472583690", handle="kunde_sturm", followers=50),
                      text=f"@Telekom_hilft {TEXT}", created_at=clock(), mentioned_user_ids=(BRAND_X,), lang="de")
    if app.ingest_service.ingest(ParsedBatch(events=(mention,)), frozenset({BRAND_X})).stored != 1:
        raise RuntimeError("seeding stored nothing")


def one_round(rig: Rig, *, fold: bool, posts: int, concurrency: int, tmp: Path) -> dict[str, Any]:
    rig.reset()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    clock = Clock(start)
    app = _app(rig, fold, clock, tmp)
    with ThreadPoolExecutor(max_workers=16) as pool:  # the burst that opens the incident
        list(pool.map(lambda _: _post(app, clock), range(12)))
    clock.set(start + timedelta(seconds=45))
    opened = app.incident_service.evaluate()
    if opened.get("opened") != 1:
        raise RuntimeError(f"the burst opened no incident: {opened}")
    clock.set(start + timedelta(seconds=60))
    with ThreadPoolExecutor(max_workers=16) as pool:  # the storm's posts: all due at one instant
        list(pool.map(lambda _: _post(app, clock), range(posts)))
    clock.set(start + timedelta(seconds=100))
    app.incident_service.evaluate()  # the evaluation marks them as the incident's
    due = start + timedelta(seconds=60) + timedelta(minutes=60)
    recorder: Recorder = app.scheduler
    storm = [payload for at, payload in recorder.tasks.values() if payload.get("kind") == "due" and at == due]
    if len(storm) != posts:
        raise RuntimeError(f"{len(storm)} due tasks at the instant, expected {posts}")
    fakes = _sink_fakes(rig)
    before = {name: len(fake.accepted) for name, fake in fakes.items()}
    clock.set(due)
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = list(pool.map(app.deadline_service.fire, storm))
    seconds = time.time() - t0
    followups = [payload for at, payload in recorder.tasks.values() if payload.get("kind") == "incident_fold"]
    clock.set(due + timedelta(seconds=31))
    for payload in followups:  # the follow-up with the final count, fold_window later
        app.incident_service.run_task(payload)
    time.sleep(0.3)
    per_sink = {name: len(fake.accepted) - before[name] for name, fake in fakes.items()}
    first = {name: min((r.received_at for r in list(fake.accepted)[before[name]:]), default=float("nan")) - t0
             for name, fake in fakes.items()}
    return {"per_sink": per_sink, "first_s": first, "fire_seconds": seconds,
            "alerted": sum(1 for o in outcomes if o.outcome == "alerted")}


def measure(rig: Rig, *, runs: int, posts: int = 300, concurrency: int = 16) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hilft-storm-") as tmp:
        folded = [one_round(rig, fold=True, posts=posts, concurrency=concurrency, tmp=Path(tmp)) for _ in range(runs)]
        unfolded = [one_round(rig, fold=False, posts=posts, concurrency=concurrency, tmp=Path(tmp))
                    for _ in range(runs)]

    def firsts(rounds: list[dict[str, Any]]) -> list[float]:
        return [value for r in rounds for name, value in r["first_s"].items() if name in SINKS and value == value]

    return {
        "posts": posts, "concurrency": concurrency, "runs": runs,
        "folded_max_per_sink": max(max(r["per_sink"].values()) for r in folded),
        "folded_per_sink_last": folded[-1]["per_sink"],
        "unfolded_min_per_sink": min(min(r["per_sink"].values()) for r in unfolded),
        "folded_first_ms_p99": round(percentile(firsts(folded), 0.99) * 1000, 1),
        "unfolded_first_ms_p99": round(percentile(firsts(unfolded), 0.99) * 1000, 1),
        "folded_fire_s_median": round(sorted(r["fire_seconds"] for r in folded)[len(folded) // 2], 2),
        "unfolded_fire_s_median": round(sorted(r["fire_seconds"] for r in unfolded)[len(unfolded) // 2], 2),
    }
