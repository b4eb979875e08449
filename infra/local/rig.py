"""A private local stack for measurements and fault injection: emulators, chosen functions and the
fake outside world (``fakes.world.OutsideWorld``), wired with one policy.

Shared by ``python -m bench``, the fault tests (``tests/fault``) and the load-burst test, which need
a stack of their own (they kill and restart parts, or load it hard) instead of the e2e suite's
shared one. Loopback only. Also here: the bench customer's few Account Activity / Page bodies,
built and signed by ``deliveries``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import deliveries
from fakes.world import Credentials, OutsideWorld

ROOT = Path(__file__).resolve().parents[2]

CREDENTIALS = Credentials(prefix="bench", pagerduty_key="R0UT1NGKEY0000000000000000BENCH0")
X_CLIENT_SECRET = CREDENTIALS.x_client_secret
META_APP_SECRET = CREDENTIALS.meta_secret
BRAND_X = CREDENTIALS.brand_x_id
BRAND_HANDLE = deliveries.BRAND_X_HANDLE
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
    # radar.first_response ("4h", or "none": radar items carry no promise); None: the default
    radar_first_response: str | None = None

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
            *(["[radar]", f"first_response = {json.dumps(self.radar_first_response)}", ""]
              if self.radar_first_response is not None else []),
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
            "HILFT_CLAIM_TTL_SECONDS": "30",
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
        return (client or self.http).post(self.stack.url("x_webhook"), content=body,
                                          headers=deliveries.x_headers(body, X_CLIENT_SECRET))

    def post_meta(self, body: bytes, client: httpx.Client | None = None) -> httpx.Response:
        return (client or self.http).post(self.stack.url("meta_webhook"), content=body,
                                          headers=deliveries.meta_headers(body, META_APP_SECRET))

    def mention_count(self) -> int:
        result = self.db.collection("mentions").count().get()
        return int(result[0][0].value)

    def task_count(self) -> int:
        from stack import QUEUE

        return sum(1 for _ in self.tasks.list_tasks(request={"parent": QUEUE, "page_size": 1000}))


# -- bodies (the bench's customer; shapes and signatures: deliveries) -------------------------------

CUSTOMER = deliveries.Author("1472583690", "kunde_bench", "Kunde")
new_post_id = deliveries.new_x_id


def x_mention(text: str, *, post_id: str | None = None, user_id: str = CUSTOMER.id,
              handle: str = str(CUSTOMER.handle), at: datetime | None = None) -> tuple[str, bytes]:
    """An Account Activity ``tweet_create_events`` body mentioning the brand."""
    post_id = post_id or new_post_id()
    author = deliveries.Author(user_id, handle, CUSTOMER.name)
    return post_id, deliveries.x_tweet(post_id, author, text, at or datetime.now(UTC))


def x_brand_reply(to_post_id: str, to_user_id: str = CUSTOMER.id, at: datetime | None = None) -> bytes:
    """The brand's public reply to a customer post (marks it answered)."""
    return deliveries.x_tweet(new_post_id(), deliveries.BRAND_X, "Das schauen wir uns an. ^an",
                              at or datetime.now(UTC), reply_to=to_post_id, reply_to_user=to_user_id)


def meta_comment(text: str, *, comment_id: str | None = None, at: datetime | None = None) -> tuple[str, bytes]:
    """A Facebook Page ``feed`` comment by a customer."""
    comment_id = comment_id or f"820000000000001_{new_post_id()}"
    author = deliveries.Author("7300000000000101", name="Kundin")
    return comment_id, deliveries.facebook_comment(comment_id, author, text, at or datetime.now(UTC))
