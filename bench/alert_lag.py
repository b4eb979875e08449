"""Alert lag: N pending deadlines coming due together; due_at → alert received at a fake sink.

Seeding goes through the real ``IngestService`` in-process (same code as the webhook after
parsing) against the emulators, so each post has its mention document and its named due task in
the Cloud Tasks emulator. Creation times are back-dated so the due times fall ``due_rate`` per
second into a window that starts only after seeding has finished; the ``deadline`` function
under functions-framework (one instance) then alerts the webhook sink, whose receive time is
compared with the ``due_at`` in the alert.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import BRAND_X, PolicySpec, Rig, firestore_client, median, new_post_id, percentile

PROMISE_SECONDS = 3600
# The warning would fire an hour before due (long past), so no warning tasks; one level only.
POLICY = PolicySpec(promise=f"{PROMISE_SECONDS}s", warning_before=f"{PROMISE_SECONDS - 1}s", max_level=1,
                    ladder_sinks=("webhook",), warning_sinks=("webhook",), realert_every="1h")


def seed(rig: Rig, due_times: list[datetime], workers: int = 16) -> tuple[float, dict[str, datetime]]:
    """Ingest one X mention per due time; returns the seconds it took and each document's due time
    (alerts carry due_at to the second only, too coarse to measure lag against)."""
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.app import App
    from hilft.core.ids import mention_doc_id
    from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform

    app = App(rig.function_settings())
    client = firestore_client(rig.stack.firestore_host)
    app.store = FirestoreStore("hilft-local", client_factory=lambda: client)
    service = app.ingest_service
    brand_ids = frozenset({BRAND_X})
    due_by_doc: dict[str, datetime] = {}

    def one(due: datetime) -> None:
        post_id = new_post_id()
        mention = Mention(platform=Platform.X, post_id=post_id, kind=Kind.MENTION,
                          author=Author(id="1472583690", handle="kunde_bench", followers=120),
                          text="@Telekom_hilft Bench: kein Netz seit heute Morgen.",
                          created_at=due - timedelta(seconds=PROMISE_SECONDS), conversation_id=post_id,
                          brand_account_id=BRAND_X, mentioned_user_ids=(BRAND_X,), lang="de")
        result = service.ingest(ParsedBatch(events=(mention,)), brand_ids)
        if result.stored != 1:
            raise RuntimeError("seeding stored nothing")
        due_by_doc[mention_doc_id("x", post_id)] = due

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, due_times))
    return time.monotonic() - started, due_by_doc


def run_once(rig: Rig, deadlines: int, due_rate: float, seed_rate_guess: float) -> dict[str, Any]:
    rig.reset()
    seed_budget = 5.0 + deadlines / seed_rate_guess
    first_due = datetime.now(UTC) + timedelta(seconds=seed_budget)
    due_times = [first_due + timedelta(seconds=i / due_rate) for i in range(deadlines)]
    seed_seconds, due_by_doc = seed(rig, due_times)
    seeded_at = datetime.now(UTC)
    overran = seeded_at > first_due
    last_due = due_times[-1]
    deadline = time.monotonic() + max(0.0, (last_due - datetime.now(UTC)).total_seconds()) + 60
    webhook = rig.webhook
    while time.monotonic() < deadline:
        if len(webhook.accepted) >= deadlines:
            break
        time.sleep(0.2)
    lags: list[float] = []
    seen: set[str] = set()
    duplicates = 0
    for request in list(webhook.accepted):
        body = request.json()
        if body.get("event") != "triggered" or body.get("level") != 1:
            continue
        if body["doc_id"] in seen:
            duplicates += 1
            continue
        seen.add(body["doc_id"])
        lags.append(request.received_at - due_by_doc[body["doc_id"]].timestamp())
    return {
        "deadlines": deadlines, "alerted": len(lags), "duplicates": duplicates,
        "seed_seconds": round(seed_seconds, 1), "seed_overran_window": overran,
        "lag_p50_ms": round(percentile(lags, 0.50) * 1000, 1),
        "lag_p99_ms": round(percentile(lags, 0.99) * 1000, 1),
        "lag_max_ms": round(max(lags) * 1000, 1) if lags else None,
        "early": sum(1 for lag in lags if lag < 0),
    }


def measure(rig: Rig, *, runs: int, deadlines: int, due_rate: float) -> dict[str, Any]:
    """Median over runs; the first run's seeding speed sizes the next runs' seeding budget."""
    results: list[dict[str, Any]] = []
    seed_rate_guess = 60.0
    for _ in range(runs):
        result = run_once(rig, deadlines, due_rate, seed_rate_guess)
        seed_rate_guess = max(10.0, 0.7 * deadlines / max(result["seed_seconds"], 0.1))
        results.append(result)
    rig.reset()
    return {
        "deadlines": deadlines, "due_rate_per_s": due_rate, "window_s": round(deadlines / due_rate, 1), "runs": runs,
        "lag_p50_ms": round(median([r["lag_p50_ms"] for r in results]), 1),
        "lag_p99_ms": round(median([r["lag_p99_ms"] for r in results]), 1),
        "lag_max_ms": max((r["lag_max_ms"] or 0) for r in results),
        "alerted_min": min(r["alerted"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "early": sum(r["early"] for r in results),
        "seed_overran_window": any(r["seed_overran_window"] for r in results),
        "per_run": results,
    }

