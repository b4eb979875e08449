#!/usr/bin/env python3
"""Replay X's Account Activity events of a window to x_webhook, after it was down longer than X retries.

``make replay FROM=2026-11-29T10:00Z TO=2026-11-29T14:00Z`` — a DRY RUN by default: it checks the
window against X's limits and prints the request it would make. With CONFIRM=1 it calls X's API v2
with the app-only bearer token:

1. ``GET /2/webhooks``: the id of the webhook registered for x_webhook's URL (``terraform output
   x_webhook_url``, or ``--x-webhook-url``; skipped with ``--webhook-id``).
2. ``POST /2/account_activity/replay/webhooks/{id}/subscriptions/all?from_date=…&to_date=…``: X
   starts one replay job and answers its ``job_id``, which is printed.

X then redelivers the window's events to x_webhook, oldest first, signed like live deliveries, and
ends with a ``replay_job_status`` delivery (x_webhook logs it and resolves the ended
``delivery_gap`` alerts). Posts hilft already stored are not stored twice: every post's document is
created once (``create()``), a replayed copy counts as a duplicate.

X's limits (checked here before calling, https://docs.x.com/x-api/account-activity/create-replay-job
and https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/api-reference/replay-api):
times in UTC, whole minutes (FROM inclusive, TO exclusive; the window is widened to whole minutes);
within the last 5 days; FROM at least 31 and TO at least 10 minutes ago; about two hours per window
advised; one replay job per webhook at a time; 5 requests per 15 minutes. Replay only redelivers
events X tried to deliver before, never from before the subscription existed.

Environment: X_BEARER_TOKEN (app-only, as ``make register-webhooks``), X_API_BASE_URL (default
https://api.x.com), CONFIRM. The token is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

INFRA_DIR = Path(__file__).resolve().parents[1]
DEFAULT_X_API = "https://api.x.com"
if str(INFRA_DIR.parent / "functions") not in sys.path:
    sys.path.insert(0, str(INFRA_DIR.parent / "functions"))

from hilft.channels.x.client import (  # noqa: E402 - needs the path above
    ReplayWindowError,
    XApiError,
    XReplayClient,
    parse_replay_time,
    replay_stamp,
    replay_window,
)


class ReplayError(Exception):
    """The replay cannot start; the message says why (never containing a token)."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--from", dest="start", default="", help="start of the window, UTC: 2026-11-29T10:00Z")
    parser.add_argument("--to", dest="end", default="", help="end of the window (exclusive), UTC")
    parser.add_argument("--webhook-id", help="X's id of the webhook (default: looked up by x_webhook's URL)")
    parser.add_argument("--x-webhook-url", help="default: terraform output x_webhook_url")
    return parser.parse_args(argv)


def webhook_url(args: argparse.Namespace) -> str:
    if args.x_webhook_url:
        return str(args.x_webhook_url)
    from register_webhooks import RegistrationError, terraform_outputs

    try:
        return str(terraform_outputs(INFRA_DIR)["x_webhook_url"])
    except (RegistrationError, KeyError) as exc:
        raise ReplayError("cannot read terraform output x_webhook_url: deploy first, or pass --x-webhook-url "
                          "or --webhook-id") from exc


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, out: TextIO = sys.stdout,
         client: httpx.Client | None = None, now: datetime | None = None) -> int:
    env = os.environ if env is None else env
    args = parse_args(argv)
    try:
        if not args.start or not args.end:
            raise ReplayError("give the window: make replay FROM=2026-11-29T10:00Z TO=2026-11-29T14:00Z (UTC)")
        window = replay_window(parse_replay_time(args.start, "FROM"), parse_replay_time(args.end, "TO"),
                               now or datetime.now(UTC))
        base_url = (env.get("X_API_BASE_URL") or DEFAULT_X_API).rstrip("/")
        query = "&".join(f"{key}={value}" for key, value in window.query().items())
        print(f"Window: {replay_stamp(window.start)} … {replay_stamp(window.end)} (UTC, TO exclusive)", file=out)
        for note in window.notes:
            print(f"  note: {note}", file=out)
        if env.get("CONFIRM") != "1":
            hook = args.webhook_id or "<id>"
            print("DRY RUN (set CONFIRM=1 to do it). Would call X:", file=out)
            if not args.webhook_id:
                print(f"  GET  {base_url}/2/webhooks  (app bearer token): the id of "
                      f"{args.x_webhook_url or 'terraform output x_webhook_url'}", file=out)
            print(f"  POST {base_url}/2/account_activity/replay/webhooks/{hook}/subscriptions/all?{query}"
                  "  (app bearer token)", file=out)
            return 0
        token = env.get("X_BEARER_TOKEN")
        if not token:
            raise ReplayError("set X_BEARER_TOKEN (X developer portal: the app's bearer token) to replay")
        url = None if args.webhook_id else webhook_url(args)
        with client or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0)) as http:
            x = XReplayClient(base_url, token, http=http)
            webhook_id = args.webhook_id or x.webhook_id_for(str(url))
            job_id, created_at = x.create_replay_job(webhook_id, window)
        print(f"X replay job started: job_id {job_id} (webhook {webhook_id}, created {created_at or 'now'})", file=out)
        print("X redelivers the window's events to x_webhook, oldest first; posts already stored count as "
              "duplicates. Its end arrives as a replay_job_status delivery (x_webhook logs it).", file=out)
    except (ReplayError, ReplayWindowError, XApiError) as exc:
        print(f"replay: {_message(exc)}", file=sys.stderr)
        return 1
    return 0


def _message(exc: Exception) -> Any:
    text = getattr(exc, "message", None) or str(exc)
    reset = getattr(exc, "reset_at", None)
    if isinstance(reset, datetime):  # X allows 5 replay requests per 15 minutes
        text += f"; try again after {reset.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"
    return text


if __name__ == "__main__":
    sys.exit(main())
