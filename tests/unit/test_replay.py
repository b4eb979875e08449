"""`make replay`: the window checked against X's replay limits, and the script against the fake X API."""

from __future__ import annotations

import importlib.util
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fakes.base import Response
from fakes.x_api import FakeXApi
from hilft.channels.x.client import ReplayWindowError, parse_replay_time, replay_window

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "scripts" / "replay.py"
APP_TOKEN = "app-token-do-not-print"
USER_TOKEN = "user-token-do-not-print"
SECRET = "consumer-secret"
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


replay = load_script()


# -- the window ------------------------------------------------------------------------------------


def test_times_are_read_in_utc_in_the_forms_operators_type() -> None:
    assert parse_replay_time("2026-11-29T10:00Z") == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert parse_replay_time("2026-11-29 11:00:30+01:00") == datetime(2026, 11, 29, 10, 0, 30, tzinfo=UTC)
    assert parse_replay_time("202611291000") == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    for bad in ("2026-11-29T10:00", "yesterday", "", "202611291099", "2026-13-01T10:00Z"):
        with pytest.raises(ReplayWindowError):
            parse_replay_time(bad)


def test_a_valid_window_becomes_x_query_in_whole_minutes_widened_never_narrowed() -> None:
    window = replay_window(datetime(2026, 11, 29, 10, 0, 40, tzinfo=UTC), datetime(2026, 11, 29, 11, 59, 1, tzinfo=UTC),
                           NOW)
    assert window.query() == {"from_date": "202611291000", "to_date": "202611291200"}
    assert window.notes == ("widened to whole minutes: 2026-11-29T10:00Z … 2026-11-29T12:00Z",)
    exact = replay_window(datetime(2026, 11, 29, 10, tzinfo=UTC), datetime(2026, 11, 29, 12, tzinfo=UTC), NOW)
    assert exact.notes == ()
    long = replay_window(datetime(2026, 11, 29, 10, tzinfo=UTC), datetime(2026, 11, 29, 14, tzinfo=UTC), NOW)
    assert long.notes == ("X advises windows of about 2 hours; this one is 240 minutes (one job, delivered oldest "
                          "first)",)


@pytest.mark.parametrize(("start", "end", "reason"), [
    (NOW - timedelta(hours=2), NOW - timedelta(hours=3), "TO must be after FROM"),
    (NOW - timedelta(days=5, minutes=1), NOW - timedelta(days=4), "more than 5 days ago"),
    (NOW - timedelta(hours=1), NOW - timedelta(minutes=9), "TO must be at least 10 minutes ago; run again after "
                                                           "2026-11-30T03:01Z"),
    (NOW - timedelta(minutes=30), NOW - timedelta(minutes=10), "FROM must be at least 31 minutes ago"),
])
def test_windows_x_would_refuse_are_refused_before_calling(start: datetime, end: datetime, reason: str) -> None:
    with pytest.raises(ReplayWindowError, match=reason):
        replay_window(start, end, NOW)


def test_the_edges_x_allows_are_allowed() -> None:
    window = replay_window(NOW - timedelta(days=5), NOW - timedelta(minutes=10), NOW)
    assert window.query() == {"from_date": "202611250300", "to_date": "202611300250"}
    replay_window(NOW - timedelta(minutes=31), NOW - timedelta(minutes=10), NOW)


# -- the script ------------------------------------------------------------------------------------


class Receiver:
    """A loopback webhook that records what reaches it (the script's test needs no real x_webhook)."""

    def __init__(self) -> None:
        self.bodies: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/x_webhook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def world() -> Iterator[tuple[FakeXApi, Receiver]]:
    x_api = FakeXApi(USER_TOKEN, app_token=APP_TOKEN).start()
    receiver = Receiver()
    try:
        yield x_api, receiver
    finally:
        x_api.stop()
        receiver.close()


def run(x_api: FakeXApi, *args: str, confirm: bool = True, token: str = APP_TOKEN,
        now: datetime | None = None) -> tuple[int, str, str]:
    env = {"X_API_BASE_URL": x_api.url, "X_BEARER_TOKEN": token, **({"CONFIRM": "1"} if confirm else {})}
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        code = replay.main(list(args), env=env, out=out, now=now)
    return code, out.getvalue(), err.getvalue()


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%MZ")


def test_dry_run_checks_the_window_prints_the_request_and_calls_nothing(world: tuple[FakeXApi, Receiver]) -> None:
    x_api, _ = world
    code, out, _ = run(x_api, "--from", "2026-11-29T10:00Z", "--to", "2026-11-29T12:00Z", "--x-webhook-url",
                       "https://x.example/x_webhook", confirm=False, now=NOW)
    assert code == 0
    assert "DRY RUN" in out
    assert f"POST {x_api.url}/2/account_activity/replay/webhooks/<id>/subscriptions/all?from_date=202611291000" \
           "&to_date=202611291200" in out
    assert x_api.requests == []
    code, _, err = run(x_api, "--from", "2026-11-30T02:40Z", "--to", "2026-11-30T02:45Z", confirm=False, now=NOW)
    assert code == 1 and "FROM must be at least 31 minutes ago" in err
    code, _, err = run(x_api, confirm=False, now=NOW)
    assert code == 1 and "make replay FROM=" in err


def test_confirmed_it_finds_the_webhook_starts_one_job_and_prints_its_id(world: tuple[FakeXApi, Receiver]) -> None:
    x_api, receiver = world
    webhook_id = x_api.register_webhook(receiver.url, SECRET)
    x_api.route("GET", r"/2/webhooks", lambda req, _: Response(200, {"data": [
        {"id": "1", "url": "https://other.example/hook", "valid": True},
        {"id": webhook_id, "url": receiver.url, "valid": True}]}) if req.header("authorization") ==
        f"Bearer {APP_TOKEN}" else Response(401, {"title": "Unauthorized"}))
    now = datetime.now(UTC)
    lost = {"for_user_id": "1000000001", "tweet_create_events": [{"id_str": "1"}]}
    body = json.dumps(lost).encode()
    x_api.deliver(webhook_id, body, at=(now - timedelta(hours=1)).timestamp())
    x_api.deliver(webhook_id, b'{"outside": "the window"}', at=(now - timedelta(hours=3)).timestamp())
    receiver.bodies.clear()

    code, out, err = run(x_api, "--from", stamp(now - timedelta(hours=2)), "--to", stamp(now - timedelta(minutes=15)),
                         "--x-webhook-url", receiver.url)

    assert code == 0, err
    (job_id,) = x_api.replay_jobs
    assert f"X replay job started: job_id {job_id} (webhook {webhook_id}" in out
    assert x_api.wait_replay(job_id)["delivered"] == 1
    (headers, replayed), (_, done) = receiver.bodies
    assert replayed == body
    from deliveries import x_signature

    assert headers["x-twitter-webhooks-signature"] == x_signature(body, SECRET)
    assert json.loads(done)["replay_job_status"]["job_id"] == job_id
    assert APP_TOKEN not in out + err


def test_x_refusals_reach_the_operator_without_the_token(world: tuple[FakeXApi, Receiver]) -> None:
    x_api, receiver = world
    webhook_id = x_api.register_webhook(receiver.url, SECRET)
    now = datetime.now(UTC)
    window = ["--from", stamp(now - timedelta(hours=2)), "--to", stamp(now - timedelta(minutes=15)),
              "--webhook-id", webhook_id]

    code, out, err = run(x_api, *window, token="wrong-token-do-not-print")
    assert code == 1 and "X rejected the app bearer token (403" in err
    assert "do-not-print" not in out + err

    x_api.fail_next(1, 429, headers={"x-rate-limit-reset": str(int((now + timedelta(minutes=15)).timestamp()))},
                    path_contains="/replay/")
    code, _, err = run(x_api, *window)
    assert code == 1 and "X rate limit reached; try again after" in err

    code, _, err = run(x_api, *window[:4], "--webhook-id", "123")
    assert code == 1 and "X refused the replay (404: Not Found Error" in err

    x_api.fail_next(1, 409, body={"title": "Conflict", "detail": "A replay job is already running for this webhook."},
                    path_contains="/replay/")
    code, _, err = run(x_api, *window)
    assert code == 1 and "already running" in err


def test_the_fake_checks_token_and_window_itself(world: tuple[FakeXApi, Receiver]) -> None:
    import httpx

    x_api, receiver = world
    webhook_id = x_api.register_webhook(receiver.url, SECRET)
    path = f"{x_api.url}/2/account_activity/replay/webhooks/{webhook_id}/subscriptions/all"
    now = datetime.now(UTC)
    good = {"from_date": (now - timedelta(hours=2)).strftime("%Y%m%d%H%M"),
            "to_date": (now - timedelta(minutes=15)).strftime("%Y%m%d%H%M")}
    app = {"Authorization": f"Bearer {APP_TOKEN}"}

    assert httpx.post(path, params=good, headers={"Authorization": f"Bearer {USER_TOKEN}"}).status_code == 403
    assert httpx.post(path, params={"from_date": good["from_date"]}, headers=app).status_code == 400
    too_recent = {**good, "to_date": (now - timedelta(minutes=5)).strftime("%Y%m%d%H%M")}
    assert "10 minutes" in httpx.post(path, params=too_recent, headers=app).text
    too_old = {**good, "from_date": (now - timedelta(days=6)).strftime("%Y%m%d%H%M")}
    assert "5 days" in httpx.post(path, params=too_old, headers=app).text
    first = httpx.post(path, params=good, headers=app)
    assert first.status_code == 200 and set(first.json()) == {"created_at", "job_id"}
    x_api.wait_replay(first.json()["job_id"])
    assert httpx.post(path, params=good, headers=app).status_code == 200  # the first job is over


def test_the_fake_runs_one_job_per_webhook_at_a_time(world: tuple[FakeXApi, Receiver]) -> None:
    import httpx

    x_api, _ = world
    slow = FakeXApi(USER_TOKEN, app_token=APP_TOKEN)  # a webhook that takes its time
    gate = threading.Event()
    slow.route("POST", r"/hook", lambda req, _: (gate.wait(10), Response(200, {}))[1])
    slow.start()
    try:
        webhook_id = x_api.register_webhook(slow.url + "/hook", SECRET)
        now = datetime.now(UTC)
        gate.set()
        x_api.deliver(webhook_id, b'{"a": 1}', at=(now - timedelta(hours=1)).timestamp())
        gate.clear()
        path = f"{x_api.url}/2/account_activity/replay/webhooks/{webhook_id}/subscriptions/all"
        params = {"from_date": (now - timedelta(hours=2)).strftime("%Y%m%d%H%M"),
                  "to_date": (now - timedelta(minutes=15)).strftime("%Y%m%d%H%M")}
        app = {"Authorization": f"Bearer {APP_TOKEN}"}
        first = httpx.post(path, params=params, headers=app)
        assert first.status_code == 200
        second = httpx.post(path, params=params, headers=app)
        assert second.status_code == 409
        gate.set()
        assert x_api.wait_replay(first.json()["job_id"])["delivered"] == 1
    finally:
        gate.set()
        slow.stop()

