"""``python -m demo`` (``make demo``): hilft keeping a brand's promise, locally, in about two minutes.

Starts fake X / Meta / Threads / Bluesky / Mastodon / Slack / Google Chat / PagerDuty servers and
the local stack (Firestore emulator, Cloud Tasks emulator, every function, the Cloud Scheduler
jobs), replays a scripted day of social care on five channels — signed webhooks for X, Meta and
Threads, posts in the fake Bluesky and Mastodon that ``poll`` fetches — shows it live with the
outage incident its evening burst opens, prints a summary from Firestore and stops everything.
Offline.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.live import Live

from demo.replay import Event, Replay
from demo.scenario import DAY_FILE, ROOT, load_day
from demo.view import LiveView, log_line, policy_line, print_summary
from hilft.core.policy import load_policy
from hilft.core.promise_phrase import promise_phrase

WEEKDAY_POLICY = ROOT / "tests" / "fixtures" / "policy" / "weekday_hours.toml"


def friday_evening_line(today: datetime) -> str:
    """The business-hours case, computed by the same calendar code the functions use."""
    policy = load_policy(WEEKDAY_POLICY)
    tz = ZoneInfo(policy.promise.timezone)
    local = today.astimezone(tz)
    friday = (local + timedelta(days=(4 - local.weekday()) % 7)).replace(hour=19, minute=55, second=0,
                                                                       microsecond=0)
    promise = policy.promise_for("x")
    due = policy.calendar.add_business_time(friday, promise).astimezone(tz)
    told = promise_phrase(due, friday, tz, "de").text  # what every DM, note and alert says
    return (f"with weekday hours ({WEEKDAY_POLICY.relative_to(ROOT)}: Mon–Fri 08:00–20:00, German holidays), "
            f"a post on {friday:%a %d %b %H:%M} with the {int(promise.total_seconds() // 60)}-minute promise "
            f"is due {due:%a %d %b %H:%M}, and the customer is told: \"Wir melden uns {told}.\"")


def friday_evening_dm_line(replay: Replay) -> str:
    """The Friday-evening post for real: ingested and handed off by hilft's services under weekday
    hours on a clock at Friday 19:55 (``demo/friday.py``); the promise its DM gave."""
    from demo import friday

    assert replay.fakes is not None
    result = friday.run(replay.fakes, datetime.now(UTC))
    return (f"Friday-evening post through ingest (weekday hours, clock at {result.posted_at:%a %d %b %H:%M}): "
            f"due {result.due_at:%a %d %b %H:%M}; the DM it got says \"Wir melden uns "
            f"{friday.promise_in(result.dm_text)}.\"")


def write_report(replay: Replay) -> Path:
    """The day's SLA report as HTML and CSV (test-artifacts/demo-report.*), from the demo's Firestore."""
    import os

    from hilft import report_page
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.core.report import to_csv
    from hilft.service.report import ReportService

    os.environ["FIRESTORE_EMULATOR_HOST"] = replay.stack.firestore_host
    store = FirestoreStore("hilft-local")
    now = datetime.now(ZoneInfo(replay.policy.promise.timezone))
    report = ReportService(store=store, policy=replay.policy, clock=lambda: datetime.now(UTC)).build(
        now.date() - timedelta(days=1), now.date())
    out = ROOT / "test-artifacts" / "demo-report"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".html").write_text(report_page.render_html(report, csv_href=out.name + ".csv"), encoding="utf-8")
    out.with_suffix(".csv").write_text(to_csv(report), encoding="utf-8")
    return out.with_suffix(".html")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo",
                                     description="hilft keeping a brand's promise, locally, in about two minutes.")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="replay this many times faster; the promise shrinks with it (default 1: ~2 min)")
    parser.add_argument("--scenario", choices=("day", "short"), default="day",
                        help="the whole day (60 posts) or a short one (19 posts, for smoke tests)")
    parser.add_argument("--limit", type=int, default=None, help="replay only the first N posts")
    parser.add_argument("--no-live", action="store_true", help="plain log lines instead of the live view")
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the stack up after the replay to browse the board, until Ctrl-C")
    parser.add_argument("--port-base", type=int, default=None,
                        help="fixed ports laid out as make dev's from this base (default: free ports, "
                             "so it never clashes with make dev)")
    parser.add_argument("--summary-json", type=Path, default=None, help="also write the summary here as JSON")
    parser.add_argument("--day", type=Path, default=DAY_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(highlight=False)
    live_mode = not args.no_live and console.is_terminal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Both, explicitly: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    day = load_day(args.day, scenario=args.scenario, limit=args.limit)

    def on_event(event: Event) -> None:
        if not live_mode:
            console.print(log_line(event), markup=False, highlight=False, soft_wrap=True)

    replay = Replay(day, speed=args.speed, port_base=args.port_base, on_event=on_event)
    try:
        console.print(f"[bold]hilft demo[/]: {len(day.posts)} posts, speed {args.speed:g}×")
        console.print(policy_line(replay))
        console.print(friday_evening_line(datetime.now(ZoneInfo("Europe/Berlin"))))
        started = time.monotonic()
        replay.start(progress=lambda text: console.print(text))
        console.print(f"stack ready in {time.monotonic() - started:.0f} s · board {replay.board_url} · "
                      f"Firestore emulator {replay.stack.firestore_host}", soft_wrap=True)
        if live_mode:
            view = LiveView(replay, console)
            with Live(view, console=console, refresh_per_second=4, vertical_overflow="crop") as live:
                summary = replay.run(tick=live.refresh)
        else:
            summary = replay.run()
        print_summary(console, summary)
        joiner = "&" if "?" in summary.board_url else "?"
        console.print(f"SLA report: {write_report(replay)} (and {summary.board_url}{joiner}view=report)",
                      soft_wrap=True)
        console.print(friday_evening_dm_line(replay), soft_wrap=True, markup=False)
        if args.summary_json:
            args.summary_json.write_text(json.dumps(summary.as_json(), indent=2), encoding="utf-8")
        if args.keep_running:
            console.print(f"the stack stays up: open {summary.board_url} · Ctrl-C stops everything", soft_wrap=True)
            sys.stdout.flush()
            while all(proc.poll() is None for proc in replay.stack.procs.values()):
                time.sleep(0.5)
            console.print("a process of the stack exited; stopping (see .dev/demo-logs)")
            return 1
        return 0
    except (RuntimeError, TimeoutError) as exc:  # LocalStack: a part did not come up
        console.print(f"the local stack did not start: {exc} (logs in {replay.log_dir}; is `make setup` done?)",
                      markup=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        console.print("\nstopping…")
        return 0 if args.keep_running else 130
    finally:
        # A second Ctrl-C must not interrupt the clean-up half way and strand a process.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        replay.close()
        console.print("stopped: no process or port of the demo is left running")


if __name__ == "__main__":
    raise SystemExit(main())
