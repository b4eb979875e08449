"""The Cloud Tasks emulator dies while posts come in, and is restarted.

While it is down the webhook must answer 503 (X redelivers) and store nothing: the deadline is
enqueued before the document is written, so a stored post always has its deadline. After the
restart X's redeliveries are accepted and those posts are alerted by their tasks.

The emulator keeps tasks in memory, so the tasks of posts accepted before the kill die with it
(production Cloud Tasks keeps its queue). That is the lost-task case the ``sweep`` exists for:
the test runs it, as Cloud Scheduler would, and every post ends up alerted exactly once.
"""

from __future__ import annotations

import signal

import pytest

from rig import PolicySpec, Rig, x_mention
from tests.fault.helpers import (
    deliver,
    log_dir,
    overdue_alerts,
    pagerduty_triggers,
    redeliver_until_accepted,
    require_emulators,
    run_sweep,
    wait_for,
    wait_until_queue_empty,
)

pytestmark = [pytest.mark.slow, pytest.mark.emulator, pytest.mark.timeout(180)]

PROMISE_SECONDS = 45
POLICY = PolicySpec(promise=f"{PROMISE_SECONDS}s", warning_before="10s", max_level=1,
                    ladder_sinks=("webhook", "pagerduty"), warning_sinks=("slack",))
BEFORE, DURING = 40, 16


def test_tasks_emulator_down_means_503_and_nothing_stored_then_every_post_alerted_once() -> None:
    from hilft.core.ids import mention_doc_id

    require_emulators()
    with Rig(targets=("x_webhook", "deadline", "sweep"), policy=POLICY, log_dir=log_dir("tasks_outage")) as rig:
        before = [x_mention(f"Vor dem Ausfall {i}: Router tot.") for i in range(BEFORE)]
        statuses = deliver(rig, [b for _, b in before], range(BEFORE))
        assert set(statuses.values()) == {200}

        rig.stack.stop_one("cloudtasks", signal.SIGKILL)
        during = [x_mention(f"Während des Ausfalls {i}: kein Netz.") for i in range(DURING)]
        bodies = [b for _, b in during]
        statuses = deliver(rig, bodies, range(DURING))
        assert set(statuses.values()) == {503}, f"expected 503 while Cloud Tasks is down: {statuses}"
        stored = {d.id for d in rig.db.collection("mentions").stream()}
        assert stored == {mention_doc_id("x", p) for p, _ in before}, "a post was stored without its deadline"

        rig.stack.start_tasks()
        statuses = redeliver_until_accepted(rig, bodies, statuses, attempts=10)
        assert set(statuses.values()) == {200}, statuses

        later = {mention_doc_id("x", p) for p, _ in during}
        earlier = {mention_doc_id("x", p) for p, _ in before}
        wait_for(lambda: set(overdue_alerts(rig)) >= later and set(pagerduty_triggers(rig)) >= later,
                 timeout=PROMISE_SECONDS + 30, what="the redelivered posts' alerts from their own tasks")

        run_sweep(rig)  # the earlier posts' tasks died with the emulator
        everyone = earlier | later
        wait_for(lambda: set(overdue_alerts(rig)) >= everyone and set(pagerduty_triggers(rig)) >= everyone,
                 timeout=30, what="the sweep's alerts for the posts whose tasks were lost")
        wait_until_queue_empty(rig, timeout=60)  # a duplicate would have arrived by now
        webhook, pagerduty = overdue_alerts(rig), pagerduty_triggers(rig)
        assert set(webhook) == everyone and set(pagerduty) == everyone
        assert max(webhook.values()) == 1 and max(pagerduty.values()) == 1, "a post was alerted twice"
        assert rig.mention_count() == BEFORE + DURING
