"""The local Cloud Scheduler against the running stack: on its schedule it calls ``sweep`` with the
scheduler identity's OIDC token, ``sweep`` accepts it and does its job (the backstop alert of a post
whose deadline tasks were lost).

The schedule is the Terraform job's, with ``TF_VAR_sweep_schedule`` set to every minute as an
operator would set it, so the test waits at most a minute for the run; it waits for the run's
effect (the overdue alert), never sleeps to prove anything.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.builders import aaa_tweet
from tests.e2e.conftest import tasks_of

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


@pytest.fixture
def scheduler_log(hub: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start the stack's scheduler (as ``make dev`` does) once the test is ready; stop it after."""
    monkeypatch.setenv("TF_VAR_sweep_schedule", "* * * * *")
    log = hub.stack.log_dir / "scheduler.log"

    def start() -> Any:
        hub.stack.start_scheduler()
        return log

    try:
        yield start
    finally:
        hub.stack.stop_one("scheduler")


def test_the_scheduler_calls_sweep_on_its_schedule_with_a_token_sweep_accepts(e2e: Any, tasks_client: Any,
                                                                               scheduler_log: Any) -> None:
    post_id, body = aaa_tweet("Festnetz seit heute früh tot, niemand meldet sich.")
    assert e2e.post_x(body).status_code == 200
    doc = e2e.wait(lambda: e2e.mention("x", post_id), what="the stored post")
    for task in tasks_of(tasks_client, "x", post_id):
        tasks_client.delete_task(name=task.name)  # its deadline tasks are lost: only the sweep can alert it
    assert tasks_of(tasks_client, "x", post_id) == []
    due = doc["due_at"]
    e2e.wait(lambda: datetime.now(UTC) > due.astimezone(UTC), timeout=15, what="the post to be past due")
    time.sleep(1.2)  # the e2e stack's sweep grace (HILFT_SWEEP_GRACE_SECONDS=1): not a proof, a precondition
    assert e2e.mention("x", post_id)["status"] == "open", "nothing but the sweep may alert it"

    log = scheduler_log()
    def alerted() -> Any:
        doc = e2e.mention("x", post_id) or {}
        return doc if (doc.get("alerts") or {}).get("1", {}).get("state") == "sent" else None

    overdue = e2e.wait(alerted, timeout=75, what="the scheduled sweep's overdue alert (level 1 sent)")
    assert overdue["status"] == "overdue"

    lines = e2e.wait(lambda: [line for line in log.read_text().splitlines() if "job=sweep" in line and "attempt=" in line],
                     timeout=10, what="the scheduler's log line of the sweep run")
    assert re.search(r"job=sweep schedule_time=\S+:00Z attempt=1 status=200 ", lines[0]), lines[0]
    assert "eyJ" not in log.read_text()  # no token in the log
