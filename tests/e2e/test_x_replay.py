"""Recovery after downtime, end to end on the emulators: x_webhook unreachable → X's deliveries lost →
``make replay`` (the script, against the fake X API) → every post stored once, the one that had arrived
before counted as a duplicate, not a second document; and the sweep noticing a gap in X's deliveries.

The fake X API delivers to the real ``x_webhook`` through a loopback proxy the test cuts, so the
webhook is unreachable exactly as it is to X during an outage; X signs with the app's consumer secret.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from fakes.x_api import FakeXApi
from tests.e2e.builders import aaa_tweet
from tests.e2e.conftest import CREDENTIALS, STAFF_TOKEN, X_TOKEN
from tests.e2e.test_outage_incidents import _sweep
from tests.e2e.test_x_events import stack_log
from tests.fault.proxy import CuttableProxy

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "scripts" / "replay.py"
APP_TOKEN = "e2e-x-app-bearer-token"  # noqa: S105 - made up, between this test's fake and its script


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay_script_e2e", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def outage(e2e: Any) -> Iterator[tuple[FakeXApi, CuttableProxy, str]]:
    """X (a fake with the app token) and a registered webhook that reaches x_webhook through a cuttable proxy."""
    target = urlsplit(e2e.url("x_webhook"))
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 80)
    x_api = FakeXApi(X_TOKEN, app_token=APP_TOKEN).start()
    webhook_id = x_api.register_webhook(f"http://127.0.0.1:{proxy.port}/", CREDENTIALS.x_consumer_secret)
    try:
        yield x_api, proxy, webhook_id
    finally:
        x_api.stop()
        proxy.close()


def replay(x_api: FakeXApi, webhook_id: str, start: datetime, end: datetime) -> str:
    out, err = io.StringIO(), io.StringIO()
    env = {"X_API_BASE_URL": x_api.url, "X_BEARER_TOKEN": APP_TOKEN, "CONFIRM": "1"}
    with contextlib.redirect_stderr(err):
        code = load_script().main(["--from", start.strftime("%Y-%m-%dT%H:%MZ"), "--to", end.strftime("%Y-%m-%dT%H:%MZ"),
                                   "--webhook-id", webhook_id], env=env, out=out)
    assert code == 0, err.getvalue()
    assert APP_TOKEN not in out.getvalue() + err.getvalue()
    return out.getvalue()


def test_events_lost_while_x_webhook_was_down_come_back_once_by_replay(e2e: Any, outage: Any) -> None:
    x_api, proxy, webhook_id = outage
    now = datetime.now(UTC)
    times = [now - timedelta(minutes=m) for m in (90, 80, 70)]
    before_id, before = aaa_tweet("Seit heute früh kein Internet, Router blinkt rot.", at=times[0])
    assert x_api.deliver(webhook_id, before, at=times[0].timestamp()) == 200
    stored_before = e2e.wait(lambda: e2e.mention("x", before_id), what="the post delivered before the outage")

    proxy.cut()  # x_webhook unreachable: X's attempts fail
    lost = [aaa_tweet(text, at=at) for text, at in (("Hotline seit 2 Stunden besetzt.", times[1]),
                                                     ("Techniker ist nicht gekommen, was nun?", times[2]))]
    for (_, body), at in zip(lost, times[1:], strict=True):
        assert x_api.deliver(webhook_id, body, at=at.timestamp()) is None
    assert all(e2e.mention("x", post_id) is None for post_id, _ in lost)
    proxy.restore()

    out = replay(x_api, webhook_id, now - timedelta(hours=2), now - timedelta(minutes=15))
    (job_id,) = x_api.replay_jobs
    assert f"job_id {job_id}" in out
    job = x_api.wait_replay(job_id)
    assert (job["delivered"], job["failed"]) == (3, 0)

    for post_id, _ in lost:
        e2e.wait(lambda post_id=post_id: e2e.mention("x", post_id), what=f"replayed post {post_id}")
    docs = [d for d in e2e.mentions() if d.get("platform") == "x"]
    assert sorted(d["post_id"] for d in docs) == sorted([before_id, *(post_id for post_id, _ in lost)])
    again = e2e.mention("x", before_id)
    assert again["received_at"] == stored_before["received_at"]  # the replayed copy was a duplicate
    e2e.wait(lambda: "replay job finished" in stack_log(e2e, "x_webhook"), what="x_webhook logging the job's end")


def test_a_replay_job_x_reports_complete_resolves_the_ended_gap_alert(e2e: Any, outage: Any) -> None:
    x_api, _, webhook_id = outage
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=3), now - timedelta(hours=1)
    marks = e2e.db.collection("delivery_marks").document("x")
    marks.set({"platform": "x", "last_at": now, "gap_from": start, "gap_to": end})  # deliveries resumed an hour ago
    _sweep(e2e, e2e_tasks(e2e))
    (alert,) = [d.to_dict() for d in e2e.db.collection("operator_alerts").stream()]
    assert (alert["kind"], alert["resolved"]) == ("delivery_gap", False)
    assert alert["recovery"] == (f"run make replay FROM={start.strftime('%Y-%m-%dT%H:%MZ')} "
                                 f"TO={(end.replace(second=0, microsecond=0) + timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%MZ')}")

    replay(x_api, webhook_id, start, end)
    x_api.wait_replay(next(iter(x_api.replay_jobs)))
    e2e.wait(lambda: all(d.to_dict()["resolved"] for d in e2e.db.collection("operator_alerts").stream()),
             what="the gap resolved by the finished replay")


def test_the_sweep_raises_one_gap_alert_the_board_shows_when_x_stops_delivering(e2e: Any) -> None:
    now = datetime.now(UTC)
    since = now - timedelta(hours=2, minutes=30)
    e2e.db.collection("delivery_marks").document("x").set({"platform": "x", "last_at": since})
    tasks = e2e_tasks(e2e)

    _sweep(e2e, tasks)
    _sweep(e2e, tasks)  # every minute's sweep: still one alert, one ERROR line

    (alert,) = [d.to_dict() for d in e2e.db.collection("operator_alerts").stream()]
    assert (alert["kind"], alert["platform"], alert["until"]) == ("delivery_gap", "x", None)
    assert alert["replay_from"] == since.strftime("%Y-%m-%dT%H:%MZ")
    line = f"x deliveries gap: no events since {since.strftime('%Y-%m-%dT%H:%MZ')}; run make replay FROM="
    assert stack_log(e2e, "sweep").count(line) == 1
    board = e2e.http.get(e2e.url("board") + "/?format=json", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    assert [a["kind"] for a in board.json()["operator_alerts"]] == ["delivery_gap"]


def e2e_tasks(e2e: Any) -> Any:
    from tests.stack_fixtures import _tasks_client

    return _tasks_client(e2e.stack.tasks_host)
