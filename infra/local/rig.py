"""A private local stack for measurements and fault injection: emulators, chosen functions and the
fake outside world (``fakes.world.OutsideWorld``), wired with one policy.

Shared by ``python -m bench``, the fault tests (``tests/fault``) and the load-burst test, which need
a stack of their own (they kill and restart parts, or load it hard) instead of the e2e suite's
shared one. Loopback only. Also here: the few Account Activity / Page bodies they send.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from fakes.world import Credentials, OutsideWorld

ROOT = Path(__file__).resolve().parents[2]

CREDENTIALS = Credentials(prefix="bench", pagerduty_key="R0UT1NGKEY0000000000000000BENCH0")
X_CLIENT_SECRET = CREDENTIALS.x_client_secret
META_APP_SECRET = CREDENTIALS.meta_secret
BRAND_X = CREDENTIALS.brand_x_id
BRAND_HANDLE = "Telekom_hilft"
PAGE_ID = CREDENTIALS.page_id
IG_ID = CREDENTIALS.ig_id
ROUTING_KEY = CREDENTIALS.pagerduty_key
WEBHOOK_SECRET = CREDENTIALS.webhook_secret


@dataclass(frozen=True)
class PolicySpec:
    """The few policy knobs a measurement needs; everything else is the built-in default."""

    promise: str = "60m"
    warning_before: str = "15m"
    realert_every: str = "30m"
    max_level: int = 3
    ladder_sinks: tuple[str, ...] = ("webhook",)
    warning_sinks: tuple[str, ...] = ("webhook",)
    # Off unless a measurement is about outages: a burst of test complaints from one city would
    # otherwise (rightly) open an incident and add its alert to what the measurement counts.
    outage: bool = False

    def toml(self) -> str:
        sinks = json.dumps(list(self.ladder_sinks))
        return "\n".join([
            "[promise]",
            f'first_response = "{self.promise}"',
            f'warning_before = "{self.warning_before}"',
            'timezone = "Europe/Berlin"',
            'hours = "24/7"',
            "",
            "[escalation]",
            f'realert_every = "{self.realert_every}"',
            f"max_level = {self.max_level}",
            f"warning_sinks = {json.dumps(list(self.warning_sinks))}",
            "",
            "[[escalation.ladder]]",
            'after = "0s"',
            f"sinks = {sinks}",
            "",
            "[handoff]",
            "auto = false",
            "",
            "[outage]",
            f"enabled = {'true' if self.outage else 'false'}",
            "",
        ])


@contextlib.contextmanager
def emulator_env(firestore_host: str) -> Iterator[None]:
    """FIRESTORE_EMULATOR_HOST for the duration of a client's construction (it is read only then)."""
    saved = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_host
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = saved


def firestore_client(host: str) -> Any:
    from google.cloud import firestore

    from stack import PROJECT

    with emulator_env(host):
        return firestore.Client(project=PROJECT)


def tasks_client(host: str) -> Any:
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(host)))


class Rig:
    """The fake outside world + a ``LocalStack`` running ``targets``, wired with one policy.

    ``env`` is the functions' extra environment; change it before ``start()`` (a fault test points
    FIRESTORE_EMULATOR_HOST at a proxy it can cut). The alert sinks a measurement reads are
    ``webhook``, ``slack`` and ``pagerduty`` (the world's).
    """

    def __init__(self, *, targets: Sequence[str], policy: PolicySpec = PolicySpec(),
                 extra_env: Mapping[str, str] | None = None, log_dir: Path | None = None) -> None:
        from stack import LocalStack

        self._tmp = tempfile.TemporaryDirectory(prefix="hilft-rig-")
        policy_path = Path(self._tmp.name) / "policy.toml"
        policy_path.write_text(policy.toml())
        self.world = OutsideWorld.start(CREDENTIALS)
        self.env: dict[str, str] = {
            **self.world.env(),
            "HILFT_CONFIG": str(policy_path),
            "HILFT_STAFF_AUTH": "off",
            "HILFT_CLAIM_TTL_SECONDS": "5",
            "HILFT_SWEEP_GRACE_SECONDS": "1",
            "GUNICORN_LOG_LEVEL": "error",
            **(extra_env or {}),
        }
        self.stack = LocalStack(env=self.env, log_dir=log_dir, targets=tuple(targets))
        self.http = httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0))
        self._db: Any = None
        self._tasks: Any = None

    @property
    def webhook(self) -> Any:
        return self.world.webhook

    @property
    def slack(self) -> Any:
        return self.world.slack

    @property
    def pagerduty(self) -> Any:
        return self.world.pagerduty

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> Rig:
        try:
            self.stack.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.stack.stop()
        self.world.stop()
        self.http.close()
        self._tmp.cleanup()

    def __enter__(self) -> Rig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients ------------------------------------------------------------------------------------
    @property
    def db(self) -> Any:
        if self._db is None:
            self._db = firestore_client(self.stack.firestore_host)
        return self._db

    @property
    def tasks(self) -> Any:
        if self._tasks is None:
            self._tasks = tasks_client(self.stack.tasks_host)
        return self._tasks

    def function_settings(self) -> Any:
        """Settings exactly as the functions see them, for in-process services."""
        from hilft.settings import Settings

        return Settings.from_env(self.stack.function_env())

    def reset(self) -> None:
        """Empty Firestore and the queue, forget what the fakes received."""
        from stack import QUEUE

        self.stack.reset_firestore()
        self.tasks.purge_queue(name=QUEUE)
        self.world.reset()

    # -- traffic ------------------------------------------------------------------------------------
    def post_x(self, body: bytes, client: httpx.Client | None = None) -> httpx.Response:
        from hilft.channels.x import parse as x

        return (client or self.http).post(self.stack.url("x_webhook"), content=body, headers={
            "Content-Type": "application/json", "X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, X_CLIENT_SECRET)})

    def post_meta(self, body: bytes, client: httpx.Client | None = None) -> httpx.Response:
        from hilft.channels.meta import parse as meta

        return (client or self.http).post(self.stack.url("meta_webhook"), content=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(body, META_APP_SECRET)})

    def mention_count(self) -> int:
        result = self.db.collection("mentions").count().get()
        return int(result[0][0].value)

    def task_count(self) -> int:
        from stack import QUEUE

        return sum(1 for _ in self.tasks.list_tasks(request={"parent": QUEUE, "page_size": 1000}))


# -- bodies -----------------------------------------------------------------------------------------

_id_lock = threading.Lock()
_next_id = int(time.time() * 1000) << 22


def new_post_id() -> str:
    """Tweet-like ids (time-ordered, as X's are); unique within and across runs."""
    global _next_id
    with _id_lock:
        _next_id += 1
        return str(_next_id)


def x_mention(text: str, *, post_id: str | None = None, user_id: str = "1472583690",
              handle: str = "kunde_bench", at: datetime | None = None) -> tuple[str, bytes]:
    """An Account Activity ``tweet_create_events`` body mentioning the brand."""
    post_id = post_id or new_post_id()
    at = at or datetime.now(UTC)
    tweet = {
        "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"), "id": int(post_id), "id_str": post_id,
        "text": f"@{BRAND_HANDLE} {text}", "truncated": False,
        "in_reply_to_status_id": None, "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None, "in_reply_to_user_id_str": None,
        "user": {"id": int(user_id), "id_str": user_id, "name": "Kunde", "screen_name": handle,
                 "followers_count": 120},
        "entities": {"hashtags": [], "urls": [], "symbols": [], "user_mentions": [
            {"screen_name": BRAND_HANDLE, "name": "Telekom hilft", "id": int(BRAND_X), "id_str": BRAND_X,
             "indices": [0, len(BRAND_HANDLE) + 1]}]},
        "lang": "de", "timestamp_ms": str(int(at.timestamp() * 1000)),
    }
    body = {"for_user_id": BRAND_X, "user_has_blocked": "false", "tweet_create_events": [tweet]}
    return post_id, json.dumps(body, separators=(",", ":")).encode()


def x_brand_reply(to_post_id: str, to_user_id: str = "1472583690", at: datetime | None = None) -> bytes:
    """The brand's public reply to a customer post (marks it answered)."""
    reply_id = new_post_id()
    at = at or datetime.now(UTC)
    tweet = {
        "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"), "id": int(reply_id), "id_str": reply_id,
        "text": "Das schauen wir uns an. ^an", "truncated": False,
        "in_reply_to_status_id": int(to_post_id), "in_reply_to_status_id_str": to_post_id,
        "in_reply_to_user_id": int(to_user_id), "in_reply_to_user_id_str": to_user_id,
        "user": {"id": int(BRAND_X), "id_str": BRAND_X, "name": "Telekom hilft", "screen_name": BRAND_HANDLE,
                 "followers_count": 112804},
        "entities": {"hashtags": [], "urls": [], "symbols": [], "user_mentions": []},
        "lang": "de", "timestamp_ms": str(int(at.timestamp() * 1000)),
    }
    body = {"for_user_id": BRAND_X, "user_has_blocked": "false", "tweet_create_events": [tweet]}
    return json.dumps(body, separators=(",", ":")).encode()


def meta_comment(text: str, *, comment_id: str | None = None, at: datetime | None = None) -> tuple[str, bytes]:
    """A Facebook Page ``feed`` comment by a customer."""
    comment_id = comment_id or f"820000000000001_{new_post_id()}"
    at = at or datetime.now(UTC)
    value = {"from": {"id": "7300000000000101", "name": "Kundin"},
             "post": {"id": f"{PAGE_ID}_820000000000001", "status_type": "added_photos", "is_published": True},
             "message": text, "post_id": f"{PAGE_ID}_820000000000001", "comment_id": comment_id,
             "created_time": int(at.timestamp()), "item": "comment",
             "parent_id": f"{PAGE_ID}_820000000000001", "verb": "add"}
    body = {"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp()),
                                         "changes": [{"field": "feed", "value": value}]}]}
    return comment_id, json.dumps(body, separators=(",", ":")).encode()
