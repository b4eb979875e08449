"""Alert lag: due_at → alert received at a fake sink, with N deadlines pending in the queue.

Seeding goes through the real ``IngestService`` in-process (the webhook's code after parsing)
against the emulators: every post gets its mention document and its named due task in the Cloud
Tasks emulator. ``pending`` posts are due hours later and only sit in the queue and in Firestore;
on top of them, rounds of posts come due while the ``deadline`` function (one functions-framework
instance) alerts the webhook sink:

- steady rounds: ``steady_count`` posts due ``steady_rate`` per second;
- spike rounds: ``spike_count`` posts due at the same instant (the queue dispatches at most 500/s
  in production, and one instance drains them at its own speed: this shows that speed).

Each spike round is followed by a floor round: the same spike for ``bench/sources/raw_deadline.py``,
deadline's Firestore calls and POST in functions-framework with nothing of hilft — what one
instance on this machine can do at best, measured in the same run.

Creation times are back-dated so due times fall where planned, after seeding has finished. The
lag of each alert is its arrival at the sink minus the post's exact due time.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import BRAND_X, PolicySpec, Rig, cpu_seconds, firestore_client, median, new_post_id, percentile

PROMISE = timedelta(hours=10)
# Back-dated posts have their warning time long past (no warning task); the pending ones' warnings
# are hours away. One level: no escalation tasks. Only the webhook sink is on.
POLICY = PolicySpec(promise="10h", warning_before="1h", max_level=1, ladder_sinks=("webhook",),
                    warning_sinks=("webhook",), realert_every="1h")


@dataclass(frozen=True)
class Rounds:
    steady: int = 3
    steady_count: int = 250
    steady_rate: float = 25.0
    spike: int = 3
    spike_count: int = 300
    gap_seconds: float = 5.0

    @property
    def posts(self) -> int:
        return self.steady * self.steady_count + self.spike * self.spike_count


class Seeder:
    """The webhook's ingest service in-process, against the rig's emulators."""

    def __init__(self, rig: Rig, deadline_url: str | None = None) -> None:
        from hilft.adapters.firestore_store import FirestoreStore
        from hilft.app import App
        from hilft.settings import Settings

        env = rig.stack.function_env()
        app = App(Settings.from_env({**env, "HILFT_DEADLINE_URL": deadline_url}) if deadline_url
                  else rig.function_settings())
        client = firestore_client(rig.stack.firestore_host)
        app.store = FirestoreStore("hilft-local", client_factory=lambda: client)
        self.service = app.ingest_service

    def one(self, created_at: datetime) -> str:
        from hilft.core.ids import mention_doc_id
        from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform

        post_id = new_post_id()
        mention = Mention(platform=Platform.X, post_id=post_id, kind=Kind.MENTION,
                          author=Author(id="1472583690", handle="kunde_bench", followers=120),
                          text="@Telekom_hilft Bench: kein Netz seit heute Morgen.", created_at=created_at,
                          conversation_id=post_id, brand_account_id=BRAND_X, mentioned_user_ids=(BRAND_X,),
                          lang="de")
        result = self.service.ingest(ParsedBatch(events=(mention,)), frozenset({BRAND_X}))
        if result.stored != 1:
            raise RuntimeError("seeding stored nothing")
        return mention_doc_id("x", post_id)

    def many(self, created: list[datetime], workers: int = 16) -> tuple[float, list[str]]:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            doc_ids = list(pool.map(self.one, created))
        return time.monotonic() - started, doc_ids


def measure(rig: Rig, *, pending: int, rounds: Rounds = Rounds()) -> dict[str, Any]:
    """Each spike round is followed by the same spike for ``bench/sources/raw_deadline.py`` (the
    floor: deadline's Firestore calls and POST with nothing of hilft), so drift hits both alike."""
    from bench.ingest import SourceFunction

    floor = SourceFunction("raw_deadline", rig.stack.function_env("deadline"))
    try:
        return _measure(rig, floor, pending=pending, rounds=rounds)
    finally:
        floor.stop()


def _measure(rig: Rig, floor: Any, *, pending: int, rounds: Rounds) -> dict[str, Any]:
    rig.reset()
    seeder = Seeder(rig)
    floor_seeder = Seeder(rig, deadline_url=floor.url)
    now = datetime.now(UTC)
    pending_seconds, _ = seeder.many([now] * pending) if pending else (0.0, [])
    seed_rate = pending / pending_seconds if pending_seconds > 0 else 100.0

    # Plan every round's due times from the end of seeding, at the measured seeding speed.
    seeded = rounds.posts + rounds.spike * rounds.spike_count  # + the floor spikes
    first_due = datetime.now(UTC) + timedelta(seconds=3 + 1.5 * seeded / seed_rate)
    plan: list[tuple[str, int, datetime]] = []  # (round name, index, due)
    at = first_due
    for r in range(rounds.steady):
        plan += [(f"steady{r}", i, at + timedelta(seconds=i / rounds.steady_rate)) for i in range(rounds.steady_count)]
        at += timedelta(seconds=rounds.steady_count / rounds.steady_rate + rounds.gap_seconds)
    floor_plan: list[tuple[str, int, datetime]] = []
    spike_windows: list[tuple[datetime, datetime]] = []  # a second before each spike and its floor spike
    for r in range(rounds.spike):
        plan += [(f"spike{r}", i, at) for i in range(rounds.spike_count)]
        spike_windows.append((at - timedelta(seconds=1), at + timedelta(seconds=rounds.spike_count / 40
                                                                        + rounds.gap_seconds - 1)))
        at += timedelta(seconds=rounds.spike_count / 40 + rounds.gap_seconds)
        floor_plan += [(f"floor{r}", i, at) for i in range(rounds.spike_count)]
        at += timedelta(seconds=rounds.spike_count / 40 + rounds.gap_seconds)
    deadline_pid = rig.stack.procs["deadline"].pid
    cpu_before = cpu_seconds(deadline_pid)  # the deadline function is idle until the first round is due
    round_seconds, doc_ids = seeder.many([due - PROMISE for _, _, due in plan])
    floor_seconds, floor_ids = floor_seeder.many([due - PROMISE for _, _, due in floor_plan])
    overran = datetime.now(UTC) > first_due
    due_by_doc = {doc_id: (name, due) for doc_id, (name, _, due) in zip(doc_ids, plan, strict=True)}
    floor_due = {doc_id: (name, due) for doc_id, (name, _, due) in zip(floor_ids, floor_plan, strict=True)}

    # CPU of each function over its own spike rounds only: the deadline from a second before its
    # spike to a second before the floor's, the floor from then on for as long (one sample each 50 ms).
    marks = sorted([(start, "deadline") for start, _ in spike_windows] + [(end, "floor") for _, end in spike_windows])
    spike_cpu = {"deadline": 0.0, "floor": 0.0}
    open_since: dict[str, float] = {}
    deadline = time.monotonic() + max(0.0, (at - datetime.now(UTC)).total_seconds()) + 60
    while time.monotonic() < deadline and (len(rig.webhook.accepted) < len(plan) + len(floor_plan) or marks):
        while marks and datetime.now(UTC) >= marks[0][0]:
            _, starting = marks.pop(0)
            cpu = {"deadline": cpu_seconds(deadline_pid), "floor": cpu_seconds(floor.proc.pid)}
            for name in list(open_since):  # the other one's window closes where this one opens
                spike_cpu[name] += cpu[name] - open_since.pop(name)
            open_since[starting] = cpu[starting]
        time.sleep(0.05)
    cpu = {"deadline": cpu_seconds(deadline_pid), "floor": cpu_seconds(floor.proc.pid)}
    for name, since in open_since.items():
        spike_cpu[name] += cpu[name] - since
    time.sleep(1.0)  # anything arriving twice arrives now
    deadline_cpu = cpu_seconds(deadline_pid) - cpu_before

    lags: dict[str, list[float]] = {}
    seen: set[str] = set()
    seen_floor: set[str] = set()
    duplicates = stray = 0
    for request in list(rig.webhook.accepted):
        body = request.json()
        if body.get("event") != "triggered":
            continue
        if body["doc_id"] in floor_due:
            if body["doc_id"] in seen_floor:
                continue
            seen_floor.add(body["doc_id"])
            name, due = floor_due[body["doc_id"]]
            lags.setdefault(name, []).append(request.received_at - due.timestamp())
            continue
        if body["doc_id"] not in due_by_doc:
            stray += 1  # a pending post alerted: must not happen
            continue
        if body["doc_id"] in seen:
            duplicates += 1
            continue
        seen.add(body["doc_id"])
        name, due = due_by_doc[body["doc_id"]]
        lags.setdefault(name, []).append(request.received_at - due.timestamp())
    rig.reset()

    def kind(prefix: str) -> dict[str, Any]:
        per_round = {name: values for name, values in lags.items() if name.startswith(prefix)}
        return {
            "lag_p50_ms": round(median([percentile(v, 0.50) for v in per_round.values()]) * 1000, 1),
            "lag_p99_ms": round(median([percentile(v, 0.99) for v in per_round.values()]) * 1000, 1),
            "lag_max_ms": round(max((max(v) for v in per_round.values()), default=float("nan")) * 1000, 1),
            "alerted": sum(len(v) for v in per_round.values()),
            "rounds": len(per_round),
        }

    return {
        "pending": pending, "seed_rate_per_s": round(seed_rate, 1),
        "seed_seconds": round(pending_seconds + round_seconds + floor_seconds, 1), "seed_overran_first_due": overran,
        "steady": {"posts_per_round": rounds.steady_count, "due_rate_per_s": rounds.steady_rate, **kind("steady")},
        "spike": {"posts_per_round": rounds.spike_count, **kind("spike"),
                  "cpu_ms_per_alert": round(spike_cpu["deadline"] * 1000 / (rounds.spike * rounds.spike_count), 2)},
        "spike_floor": {"posts_per_round": rounds.spike_count, **kind("floor"),
                        "expected": len(floor_plan),
                        "cpu_ms_per_alert": round(spike_cpu["floor"] * 1000 / len(seen_floor), 2)
                        if seen_floor else None},
        "expected": len(plan), "alerted": len(seen), "duplicates": duplicates, "stray_alerts": stray,
        "early": sum(1 for name, values in lags.items() if not name.startswith("floor") for lag in values if lag < 0),
        "deadline_cpu_ms_per_alert": round(deadline_cpu * 1000 / len(seen), 2) if seen else None,
    }
