"""The Firestore emulator dies in the middle of a burst of posts and comes back.

The functions reach Firestore through a proxy the test cuts at the moment of the kill, so every
call in flight fails as it would against a crashed backend. Committed data is kept across the
restart (exported the instant the proxy is cut, imported on start), as production Firestore keeps
it; the emulator would otherwise forget everything and no test could tell loss from amnesia.
What X does is played faithfully: every delivery not answered 2xx is delivered again.

Posts: ``HILFT_FAULT_POSTS`` (default 500, the issue's number).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from rig import PolicySpec, Rig, x_mention
from tests.fault.helpers import (
    deliver,
    export_firestore,
    log_dir,
    overdue_alerts,
    pagerduty_triggers,
    redeliver_until_accepted,
    require_emulators,
    restart_firestore,
    run_sweep,
    wait_for,
    wait_until_queue_empty,
)
from tests.fault.proxy import CuttableProxy

pytestmark = [pytest.mark.slow, pytest.mark.emulator, pytest.mark.timeout(240)]

POSTS = int(os.environ.get("HILFT_FAULT_POSTS", "500"))
MIN_OUTAGE_SECONDS = 8.0
PROMISE_SECONDS = 40
POLICY = PolicySpec(promise=f"{PROMISE_SECONDS}s", warning_before="20s", max_level=1,
                    ladder_sinks=("webhook", "pagerduty"), warning_sinks=("slack",))


def test_firestore_killed_mid_burst_then_restarted_loses_nothing_and_alerts_each_post_once(tmp_path: Path) -> None:
    from hilft.core.ids import mention_doc_id

    require_emulators()
    rig = Rig(targets=("x_webhook", "deadline", "sweep"), policy=POLICY, log_dir=log_dir("firestore_outage"))
    proxy = CuttableProxy("127.0.0.1", rig.stack.ports.firestore)
    rig.env["FIRESTORE_EMULATOR_HOST"] = proxy.host
    try:
        rig.start()
        posts = [x_mention(f"Störung {i}: seit heute früh kein Internet.") for i in range(POSTS)]
        bodies = [body for _, body in posts]
        expected = {mention_doc_id("x", post_id) for post_id, _ in posts}
        outage: dict[str, float] = {}
        started = threading.Event()

        def kill_and_restart() -> None:
            outage["start"] = time.monotonic()
            proxy.cut()  # from here on the functions see a dead Firestore
            snapshot = export_firestore(rig, tmp_path / "export")
            rig.stack.stop_one("firestore", signal.SIGKILL)
            restart_firestore(rig, snapshot)
            # Longer than the store's in-process retry budget (4 s), or a quick restart would be
            # bridged by retries and the run would prove nothing.
            time.sleep(max(0.0, MIN_OUTAGE_SECONDS - (time.monotonic() - outage["start"])))
            proxy.restore()
            outage["seconds"] = time.monotonic() - outage["start"]

        killer = threading.Thread(target=kill_and_restart, name="kill-firestore")

        def on_answer(answered: int) -> None:
            if answered >= POSTS // 3 and not started.is_set():
                started.set()
                killer.start()

        statuses = deliver(rig, bodies, range(POSTS), on_answer=on_answer)
        killer.join(timeout=120)
        assert "seconds" in outage, "the emulator did not come back"
        failed_first = sum(1 for status in statuses.values() if not 200 <= status < 300)
        assert failed_first > 0, "the outage hit no delivery: this run proved nothing"
        assert all(status in (0, 200, 503) for status in statuses.values()), sorted(set(statuses.values()))

        statuses = redeliver_until_accepted(rig, bodies, statuses)
        assert all(status == 200 for status in statuses.values()), "some posts were never accepted"

        docs = [d.to_dict() | {"_id": d.id} for d in rig.db.collection("mentions").stream()]
        ids = [d["_id"] for d in docs]
        assert len(ids) == len(set(ids)) == POSTS, f"{len(ids)} documents for {POSTS} posts"
        assert set(ids) == expected, "lost or foreign documents"
        post_ids = [d["post_id"] for d in docs]
        assert len(post_ids) == len(set(post_ids)), "a post stored twice"

        def all_alerted() -> bool:
            return set(overdue_alerts(rig)) >= expected and set(pagerduty_triggers(rig)) >= expected

        try:
            wait_for(all_alerted, timeout=PROMISE_SECONDS + 30, what="every post's overdue alert")
            via_sweep = 0
        except AssertionError:
            # A task that came due while its post was not yet stored found nothing to alert; the
            # sweep (Cloud Scheduler, every few minutes in production) is the backstop for that.
            via_sweep = len(expected - set(overdue_alerts(rig)))
            run_sweep(rig)
            wait_for(all_alerted, timeout=30, what="the sweep's alerts")
        wait_until_queue_empty(rig, timeout=60)  # a duplicate would have arrived by now
        webhook, pagerduty = overdue_alerts(rig), pagerduty_triggers(rig)
        assert set(webhook) == expected and set(pagerduty) == expected
        assert max(webhook.values()) == 1, f"alerted twice: {[d for d, n in webhook.items() if n > 1][:5]}"
        assert max(pagerduty.values()) == 1, f"paged twice: {[d for d, n in pagerduty.items() if n > 1][:5]}"
        print(f"\n{POSTS} posts, {failed_first} first deliveries failed during a {outage['seconds']:.1f} s outage, "
              f"{via_sweep} alerted by the sweep")
    finally:
        rig.stop()
        proxy.close()
