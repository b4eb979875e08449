"""The local Cloud Scheduler (infra/local/scheduler.py): cron matching, the jobs as Terraform defines
them, Cloud Scheduler's retry intervals, and one run's request (headers, token, retries)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import Cron, CronError, Job, Retry, Scheduler, jobs_from_terraform, service_account_email

INFRA = Path(__file__).resolve().parents[2] / "infra"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("expr", "after", "expected"), [
    ("*/5 * * * *", "2026-11-30T02:22:33", "2026-11-30T02:25:00"),
    ("*/5 * * * *", "2026-11-30T02:25:00", "2026-11-30T02:30:00"),  # strictly after
    ("* * * * *", "2026-12-31T23:59:10", "2027-01-01T00:00:00"),
    ("0 9 * * 1-5", "2026-11-28T10:00:00", "2026-11-30T09:00:00"),  # Saturday → Monday
    ("30 8 1 * *", "2026-11-02T00:00:00", "2026-12-01T08:30:00"),
    ("0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),  # the next leap day
    ("15,45 */6 * * *", "2026-11-30T06:20:00", "2026-11-30T06:45:00"),
    ("5/20 * * * *", "2026-11-30T06:26:00", "2026-11-30T06:45:00"),
    ("0 12 * jan,JUL sun", "2026-11-30T00:00:00", "2027-01-03T12:00:00"),
    ("0 0 * * 7", "2026-11-30T00:00:00", "2026-12-06T00:00:00"),  # 7 is Sunday too
    ("@hourly", "2026-11-30T06:20:00", "2026-11-30T07:00:00"),
])
def test_next_run(expr: str, after: str, expected: str) -> None:
    assert Cron.parse(expr).next_after(at(after)) == at(expected)


def test_day_of_month_and_day_of_week_either_matches_when_both_are_restricted() -> None:
    cron = Cron.parse("0 0 13 * 5")  # the 13th, and every Friday
    runs, moment = [], at("2026-11-01T00:00:00")
    for _ in range(4):
        moment = cron.next_after(moment)
        runs.append(moment.day)
    assert runs == [6, 13, 20, 27]  # Fridays, and Friday the 13th once


def test_the_schedule_is_read_in_the_jobs_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert Cron.parse("0 9 * * *").next_after(at("2026-11-30T07:00:00"), berlin) == at("2026-11-30T08:00:00")
    # 02:30 does not exist on the day clocks go forward (29 March 2026): the next day's run comes instead
    assert Cron.parse("30 2 * * *").next_after(at("2026-03-28T12:00:00"), berlin) == at("2026-03-30T00:30:00")


@pytest.mark.parametrize("expr", ["*/5 * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *",
                                  "every 5 minutes please", "0 0 31 2 *"])
def test_unusable_schedules_are_refused(expr: str) -> None:
    with pytest.raises(CronError):
        Cron.parse(expr).next_after(at("2026-01-01T00:00:00"))


def test_the_jobs_are_the_terraform_jobs_with_their_variable_defaults() -> None:
    jobs = {job.name: job for job in jobs_from_terraform(INFRA, environ={})}
    assert set(jobs) == {"sweep", "poll", "rollup"}
    sweep, poll = jobs["sweep"], jobs["poll"]
    rollup = jobs["rollup"]  # the SLA report's daily roll-up: sweep, asked for it in the body
    assert (rollup.schedule, rollup.target, rollup.audience_target, rollup.body) == (
        "30 2 * * *", "sweep", "sweep", b'{"run": "rollup"}')
    assert (sweep.schedule, sweep.time_zone, sweep.target, sweep.audience_target) == ("* * * * *", "Etc/UTC",
                                                                                       "sweep", "sweep")
    assert (sweep.method, sweep.body, dict(sweep.headers)) == ("POST", b"{}", {"Content-Type": "application/json"})
    assert sweep.identity == "scheduler" and sweep.only_if is None
    assert sweep.attempt_deadline == 320 and sweep.retry == Retry(2, 10, 60, 2)
    assert (poll.schedule, poll.target, poll.only_if, poll.retry.retry_count) == ("* * * * *", "poll",
                                                                                   "polling_enabled", 0)


def test_a_tf_var_overrides_the_default_as_in_terraform() -> None:
    jobs = {j.name: j for j in jobs_from_terraform(INFRA, environ={"TF_VAR_sweep_schedule": "*/2 * * * *"})}
    assert jobs["sweep"].schedule == "*/2 * * * *"
    with pytest.raises(CronError):
        jobs_from_terraform(INFRA, environ={"TF_VAR_poll_schedule": "every minute"})


def test_a_new_job_in_any_tf_file_is_picked_up(tmp_path: Path) -> None:
    for source in ("scheduler.tf", "variables.tf"):
        (tmp_path / source).write_text((INFRA / source).read_text())
    (tmp_path / "detector.tf").write_text('''
resource "google_cloud_scheduler_job" "detector" {
  name      = "${var.prefix}-detector"
  schedule  = "*/2 * * * *"
  time_zone = "Europe/Berlin"
  http_target {
    http_method = "GET"
    uri         = local.function_urls.sweep
    oidc_token {
      service_account_email = local.service_account_emails.scheduler
      audience              = local.function_urls.sweep
    }
  }
}
''')
    detector = {j.name: j for j in jobs_from_terraform(tmp_path, environ={})}["detector"]
    assert (detector.schedule, detector.time_zone, detector.method, detector.body) == ("*/2 * * * *",
                                                                                       "Europe/Berlin", "GET", b"")
    assert detector.retry == Retry() and detector.attempt_deadline == 180  # Cloud Scheduler's defaults


def test_retry_intervals_double_then_grow_linearly_up_to_the_cap() -> None:
    retry = Retry(retry_count=8, min_backoff=10, max_backoff=300, max_doublings=3)
    assert [retry.backoff(n) for n in range(1, 9)] == [10, 20, 40, 80, 160, 240, 300, 300]  # Cloud Scheduler's example


def test_the_scheduler_identity_is_named_as_in_terraform() -> None:
    assert service_account_email("scheduler", "hilft-local") == "hilft-scheduler@hilft-local.iam.gserviceaccount.com"


class _Function:
    """A stand-in function on loopback answering the given statuses in turn, recording each request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.requests = list(statuses), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append((dict(self.headers), body))
                self.send_response(owner.statuses.pop(0) if owner.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_run_sends_cloud_schedulers_request_and_retries_a_failure() -> None:
    function = _Function([503, 200])
    minted: list[tuple[str, str]] = []

    def tokens(email: str, audience: str) -> str:
        minted.append((email, audience))
        return "header.payload.sig"

    job = Job(name="sweep", schedule="*/5 * * * *", time_zone="Etc/UTC", target="sweep", audience_target="sweep",
              identity="scheduler", body=b"{}", headers={"Content-Type": "application/json"},
              retry=Retry(retry_count=2, min_backoff=0.05, max_backoff=1, max_doublings=1))
    try:
        attempts = Scheduler([job], {"sweep": function.url}, tokens, "hilft-local", on_attempt=lambda a: None
                             ).run_once(job, at("2026-11-30T02:25:00"))
    finally:
        function.close()

    assert [(a.attempt, a.status) for a in attempts] == [(1, 503), (2, 200)]  # the third is never needed
    assert minted == [("hilft-scheduler@hilft-local.iam.gserviceaccount.com", function.url)] * 2
    headers, body = function.requests[-1]
    assert body == b"{}"
    assert headers["Authorization"] == "Bearer header.payload.sig"
    assert headers["User-Agent"] == "Google-Cloud-Scheduler"
    assert headers["X-CloudScheduler"] == "true"
    assert headers["X-CloudScheduler-JobName"] == "projects/hilft-local/locations/europe-west3/jobs/hilft-sweep"
    assert headers["X-CloudScheduler-ScheduleTime"] == "2026-11-30T02:25:00Z"
    assert headers["Content-Type"] == "application/json"


def test_a_job_whose_flag_is_off_does_not_run_and_one_without_a_url_is_refused() -> None:
    jobs = jobs_from_terraform(INFRA, environ={})
    off = Scheduler(jobs, {"sweep": "http://127.0.0.1:9"}, lambda e, a: "t", "p", flags={"polling_enabled": False})
    assert sorted(j.name for j in off.jobs) == ["rollup", "sweep"] and [j.name for j in off.skipped] == ["poll"]
    with pytest.raises(ValueError, match="poll"):
        Scheduler(jobs, {"sweep": "http://127.0.0.1:9"}, lambda e, a: "t", "p", flags={"polling_enabled": True})


def test_log_lines_never_carry_the_token(caplog: pytest.LogCaptureFixture) -> None:
    function = _Function([401])
    job = Job(name="poll", schedule="* * * * *", time_zone="Etc/UTC", target="poll", audience_target="poll",
              identity="scheduler")
    try:
        with caplog.at_level("INFO", logger="scheduler"):
            Scheduler([job], {"poll": function.url}, lambda e, a: "SECRET.TOKEN.VALUE", "p").run_once(
                job, at("2026-11-30T02:25:00"))
    finally:
        function.close()
    assert "job=poll" in caplog.text and "status=401" in caplog.text
    assert "SECRET" not in caplog.text
    assert json.dumps([r.getMessage() for r in caplog.records]).count("attempt=") == 1  # retry_count 0
