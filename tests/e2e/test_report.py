"""The SLA report from the board, against a seeded Firestore emulator: its numbers, its roll-ups."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.stack_fixtures import STAFF_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


def _seed(e2e) -> dict[str, int]:
    """Three closed days: on each, 6 X posts answered in 5 min, 2 high-priority Facebook posts
    answered after 2 h (breaches, alert level 1), 1 X post handed off to "technik" in 10 min; their
    hour is 09:00 UTC (10:00 in Berlin). Incidents: 2 opened 3 days ago, 1 opened 4 days ago."""
    batch = e2e.db.batch()
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    for days_ago in (3, 4, 5):
        received = today - timedelta(days=days_ago)
        due = received + timedelta(hours=1)
        for n in range(9):
            platform, answered, status = ("facebook", 7200, "answered") if n < 2 else (
                ("x", 600, "handed_off") if n == 2 else ("x", 300, "answered"))
            doc = {"platform": platform, "post_id": f"{days_ago}-{n}", "priority": "high" if n < 2 else "normal",
                   "department": "technik" if n == 2 else "kundenservice", "status": status,
                   "received_at": received, "created_at": received,
                   "due_at": due, "answered_at": received + timedelta(seconds=answered),
                   "first_response_seconds": float(answered), "breached": answered > 3600,
                   "alert_level": 1 if answered > 3600 else None}
            batch.set(e2e.db.collection("mentions").document(f"seed{days_ago}n{n}".ljust(40, "0")), doc)
    for n, days_ago in enumerate((3, 3, 4)):
        batch.set(e2e.db.collection("incidents").document(f"incident{n}"), {
            "status": "resolved", "opened_at": today - timedelta(days=days_ago, hours=1), "key": f"k{n}"})
    batch.commit()
    return {"days": 3, "posts": 27}


def _breach_cell(days_ago: int) -> str:
    """The heatmap cell (policy time zone) of the seeded breaches' due time on that day."""
    due = (datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
           - timedelta(days=days_ago)).astimezone(ZoneInfo("Europe/Berlin"))
    return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[due.weekday()]} {due.hour:02d}:00"


def _report(e2e, **params):
    first = (datetime.now(UTC) - timedelta(days=6)).date().isoformat()
    last = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    return e2e.http.get(e2e.url("board"), params={"view": "report", "from": first, "to": last, **params},
                        headers={"Authorization": f"Bearer {STAFF_TOKEN}"})


def test_report_numbers_match_the_seeded_posts_and_its_rollups_are_stored(e2e):
    _seed(e2e)
    response = _report(e2e, format="csv")
    assert response.status_code == 200, response.text
    rows = {(r["dimension"], r["key"]): r for r in csv.DictReader(io.StringIO(response.text))}
    total = rows[("all", "all")]
    assert (total["posts"], total["hits"], total["misses"]) == ("27", "21", "6")
    assert total["hit_rate"] == f"{21 / 27:.4f}"
    assert rows[("platform", "facebook")]["misses"] == "6" and rows[("platform", "x")]["hit_rate"] == "1.0000"
    assert rows[("platform", "x")]["p50_upper_seconds"] == "300"
    assert rows[("platform", "facebook")]["p90_upper_seconds"] == "7200"
    assert (rows[("priority", "high")]["posts"], rows[("priority", "high")]["misses"]) == ("6", "6")
    assert (rows[("priority", "normal")]["posts"], rows[("priority", "normal")]["hits"]) == ("21", "21")
    assert (rows[("department", "technik")]["posts"], rows[("department", "kundenservice")]["posts"]) == ("3", "24")
    heatmap = {key: int(r["count"]) for (dimension, key), r in rows.items() if dimension == "breaches"}
    expected: dict[str, int] = {}
    for days_ago in (3, 4, 5):
        expected[_breach_cell(days_ago)] = expected.get(_breach_cell(days_ago), 0) + 2
    assert heatmap == expected
    assert rows[("alerts_by_level", "1")]["count"] == "6" and rows[("handoffs", "all")]["count"] == "3"
    assert rows[("incidents", "all")]["count"] == "3"  # counted from the incident store by opened_at
    stored = list(e2e.db.collection("rollups").stream())
    assert len(stored) == 5 and all(s.to_dict()["final"] for s in stored)  # one per closed day of the period
    assert sorted(s.to_dict()["total"]["posts"] for s in stored) == [0, 0, 9, 9, 9]
    assert sorted(s.to_dict()["incidents"] for s in stored) == [0, 0, 0, 1, 2]

    page = _report(e2e, lang="de")
    assert page.status_code == 200
    assert "77.8 %" in page.text and "Europe/Berlin" in page.text
    assert "script-src" not in page.headers["Content-Security-Policy"]


def test_report_needs_staff_auth_and_valid_dates(e2e):
    assert e2e.http.get(e2e.url("board"), params={"view": "report"}).status_code == 401
    bad = e2e.http.get(e2e.url("board"), params={"view": "report", "from": "yesterday"},
                       headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    assert bad.status_code == 400
    too_long = e2e.http.get(e2e.url("board"), params={"view": "report", "from": "2020-01-01", "to": "2026-01-01"},
                            headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    assert too_long.status_code == 400


def test_make_report_writes_the_same_numbers_to_html_and_csv(e2e, tmp_path, monkeypatch):
    import report_cli

    _seed(e2e)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", e2e.stack.firestore_host)
    first = (datetime.now(UTC) - timedelta(days=6)).date().isoformat()
    assert report_cli.main(["--from", first, "--out", str(tmp_path / "report")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text())))
    assert rows[0]["posts"] == "27" and rows[0]["misses"] == "6"
    assert "77.8 %" in (tmp_path / "report.html").read_text()


def _run_rollup_job(e2e, tasks_client) -> None:
    """Play Cloud Scheduler's daily job (infra/rollup.tf): sweep, asked for the roll-up in its body."""
    from google.api_core import exceptions as gexc
    from google.cloud import tasks_v2

    from stack import QUEUE, SCHEDULER_SA

    task = tasks_client.create_task(parent=QUEUE, task={"http_request": {
        "url": e2e.url("sweep"), "http_method": tasks_v2.HttpMethod.POST, "body": b'{"run": "rollup"}',
        "headers": {"Content-Type": "application/json"},
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": e2e.url("sweep")}}})

    def done() -> bool:
        try:
            tasks_client.get_task(name=task.name)
        except gexc.NotFound:
            return True
        return False
    e2e.wait(done, timeout=30, what="the roll-up run")


def test_the_daily_job_rolls_up_ended_days_and_keeps_open_posts_ids(e2e, tasks_client):
    _seed(e2e)
    yesterday = datetime.now(UTC).replace(hour=12, minute=0) - timedelta(days=1)  # yesterday in Berlin too
    e2e.db.collection("mentions").document("open".ljust(40, "0")).set({
        "platform": "x", "post_id": "open", "priority": "normal", "department": "kundenservice", "status": "open",
        "received_at": yesterday, "created_at": yesterday, "due_at": yesterday + timedelta(days=3)})
    _run_rollup_job(e2e, tasks_client)
    stored: dict[str, Any] = {s.id: s.to_dict() for s in e2e.db.collection("rollups").stream()}
    assert len(stored) == 8  # every ended day of the last week
    partial = stored[yesterday.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()]
    assert partial["final"] is False and partial["open_ids"] == ["open".ljust(40, "0")]
    assert sum(r["total"]["posts"] for r in stored.values()) == 27  # the open post is not counted yet
    assert sum(r["incidents"] for r in stored.values()) == 3


# -- a staff reopen while the nightly roll-up computes the same day (forced interleaving) ----------

def _post(status: str, received: datetime, due: datetime | None) -> dict[str, Any]:
    return {"platform": "x", "post_id": f"{status}-{received.timestamp()}", "priority": "normal",
            "department": "kundenservice", "status": status, "received_at": received, "created_at": received,
            "due_at": due}


def _reopen_while_rolling_up(e2e, after_reading: str) -> tuple[Any, Any]:
    """The roll-up job on the emulator, with a staff reopen of ``thanks`` (through the Cloud Tasks
    emulator) right after the job has read the post ``after_reading`` and before it writes."""
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.adapters.tasks_scheduler import TasksScheduler
    from hilft.core.policy import Policy
    from hilft.service.closing import ReopenService
    from hilft.service.report import ReportService
    from stack import QUEUE

    class ReopenAfterReading(FirestoreStore):
        during: Any = None

        def _interleave(self, read: Any) -> None:
            if self.during is not None and after_reading in read:
                during, self.during = self.during, None
                during()

        def received_between(self, start: datetime, end: datetime, page: int = 1000) -> list[Any]:
            snaps = super().received_between(start, end, page)
            self._interleave([s.id for s in snaps])
            return snaps

        def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Any]:
            found = super().get_many(collection, doc_ids)
            if collection == "mentions":
                self._interleave(found)
            return found

    store = ReopenAfterReading("hilft-local")
    scheduler = TasksScheduler(QUEUE, e2e.url("deadline"), None, emulator_host=e2e.stack.tasks_host)
    reopen = ReopenService(store=store, scheduler=scheduler, policy=Policy.default(), clock=lambda: datetime.now(UTC))
    store.during = lambda: reopen.reopen("thanks", "staff@example.com")
    return store, ReportService(store=store, policy=Policy.default(), clock=lambda: datetime.now(UTC))


def test_a_post_reopened_while_the_job_rolls_up_its_day_is_rolled_up_again_on_firestore(e2e):
    received = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)
    day = received.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    mentions = e2e.db.collection("mentions")
    mentions.document("thanks").set(_post("no_reply_needed", received, None))
    mentions.document("waiting").set(_post("open", received, received + timedelta(days=5)))
    _, service = _reopen_while_rolling_up(e2e, after_reading="thanks")
    service.roll_up()  # the day's first roll-up: its create meets the reopen's stub, the day is read again
    stored = e2e.db.collection("rollups").document(day).get().to_dict()
    assert sorted(stored["open_ids"]) == ["thanks", "waiting"] and stored["day"] == day

    mentions.document("waiting").update({"status": "answered", "answered_at": received + timedelta(hours=1),
                                         "first_response_seconds": 3600.0, "breached": False})
    mentions.document("thanks").set(_post("no_reply_needed", received, None))  # closed again, for the next case
    e2e.db.collection("rollups").document(day).update({"open_ids": ["waiting"]})
    _, service = _reopen_while_rolling_up(e2e, after_reading="waiting")
    service.roll_up()  # a partial day: the reopen lands between the job's read and its conditional write
    stored = e2e.db.collection("rollups").document(day).get().to_dict()
    assert stored["open_ids"] == ["thanks"] and stored["total"]["hits"] == 1 and stored["final"] is False
