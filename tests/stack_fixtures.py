"""The local stack for end-to-end and security tests (session-scoped; data reset before every test).

Loaded once as a pytest plugin by ``tests/conftest.py`` so every folder that needs the stack
(``tests/e2e``, ``tests/security``) shares one running stack per session.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import httpx
import pytest

import deliveries
from fakes.world import Credentials, OutsideWorld
from tests.conftest import FIXTURES, ROOT

CREDENTIALS = Credentials(prefix="e2e", pagerduty_key="R0UT1NGKEY00000000000000000000E2")
X_SECRET = CREDENTIALS.x_client_secret
X_TOKEN = CREDENTIALS.x_token
META_SECRET = CREDENTIALS.meta_secret
META_VERIFY = CREDENTIALS.meta_verify
META_TOKEN = CREDENTIALS.meta_token
STAFF_TOKEN = "e2e-staff-token"  # noqa: S105
BRAND_X = CREDENTIALS.brand_x_id
PAGE_ID = CREDENTIALS.page_id
IG_ID = CREDENTIALS.ig_id
PD_KEY = CREDENTIALS.pagerduty_key
WEBHOOK_SECRET = CREDENTIALS.webhook_secret
PD_WEBHOOK_SECRET = CREDENTIALS.pagerduty_webhook_secret

# One folder per test session (two sessions on one machine must not audit each other's logs).
STACK_LOG_DIR = ROOT / "test-artifacts" / f"stack-logs-{os.getpid()}"

__all__ = [
    "STACK_LOG_DIR",
    "BRAND_X", "CREDENTIALS", "IG_ID", "META_SECRET", "META_TOKEN", "META_VERIFY", "PAGE_ID", "PD_KEY",
    "PD_WEBHOOK_SECRET", "STAFF_TOKEN", "WEBHOOK_SECRET", "X_SECRET", "X_TOKEN", "Fakes", "Hub", "as_json",
    "fresh", "meta_fixture", "tasks_of", "x_fixture",
]


@dataclass
class Fakes(OutsideWorld):
    """The outside world plus a department's webhook receiver (handoff notifications)."""

    department: Any = None

    def all(self) -> list[Any]:
        return [*super().all(), self.department]

    @property
    def world(self) -> OutsideWorld:
        return self


class Hub:
    """What a test talks to: the stack, the fakes, Firestore, and helpers to post and wait."""

    def __init__(self, stack: Any, fakes: Fakes) -> None:
        from google.cloud import firestore

        self.stack = stack
        self.fakes = fakes
        self.db = firestore.Client(project="hilft-local")
        self.http = httpx.Client(timeout=30)

    @property
    def world(self) -> OutsideWorld:
        """The fake outside world (the shape ``rig.Rig`` has too: ``tests.alert_proof`` reads either)."""
        return self.fakes

    def url(self, target: str) -> str:
        return self.stack.url(target)

    def post_x(self, body: bytes, *, signature: str | None = "valid", headers: dict[str, str] | None = None) -> httpx.Response:
        hdrs = {"Content-Type": "application/json"}
        if signature == "valid":
            hdrs[deliveries.X_SIGNATURE_HEADER] = deliveries.x_signature(body, X_SECRET)
        elif signature is not None:
            hdrs[deliveries.X_SIGNATURE_HEADER] = signature
        hdrs.update(headers or {})
        return self.http.post(self.url("x_webhook"), content=body, headers=hdrs)

    def post_meta(self, body: bytes, *, signature: str | None = "valid") -> httpx.Response:
        hdrs = {"Content-Type": "application/json"}
        if signature == "valid":
            hdrs[deliveries.HUB_SIGNATURE_HEADER] = deliveries.hub_signature(body, META_SECRET)
        elif signature is not None:
            hdrs[deliveries.HUB_SIGNATURE_HEADER] = signature
        return self.http.post(self.url("meta_webhook"), content=body, headers=hdrs)

    def staff(self, target: str, payload: dict[str, Any]) -> httpx.Response:
        return self.http.post(self.url(target), json=payload, headers={"Authorization": f"Bearer {STAFF_TOKEN}"})

    def mentions(self) -> list[dict[str, Any]]:
        return [d.to_dict() | {"_id": d.id} for d in self.db.collection("mentions").stream()]

    def mention(self, platform: str, post_id: str) -> dict[str, Any] | None:
        from hilft.core.ids import mention_doc_id

        snap = self.db.collection("mentions").document(mention_doc_id(platform, post_id)).get()
        return snap.to_dict() if snap.exists else None

    def wait(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _start_fakes() -> Fakes:
    from fakes.base import FakeServer, Response

    world = OutsideWorld.start(CREDENTIALS)
    department = FakeServer()
    department.route("POST", r"/departments/(?P<name>[\w-]+)", lambda req, m: Response(202, {"ok": True}))
    department.start()
    return Fakes(**{f.name: getattr(world, f.name) for f in fields(world)}, department=department)


def _policy(department_url: str, tmp: Path) -> Path:
    text = (FIXTURES / "policy" / "e2e.toml").read_text().replace("{DEPARTMENT_URL}", department_url)
    path = tmp / "policy.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if shutil.which("gcloud") is None or shutil.which("java") is None:
        pytest.fail("the e2e suite needs gcloud with the Firestore emulator and Java (see README: make setup)")
    from stack import LocalStack

    fakes = _start_fakes()
    tmp = tmp_path_factory.mktemp("stack")
    env = {
        **fakes.world.env(),
        "HILFT_CONFIG": str(_policy(fakes.department.url, tmp)),
        "HILFT_STAFF_AUTH": "token",
        "HILFT_STAFF_TOKEN": STAFF_TOKEN,
        "HILFT_CLAIM_TTL_SECONDS": "30",
        "HILFT_SWEEP_GRACE_SECONDS": "1",
    }
    log_dir = STACK_LOG_DIR
    shutil.rmtree(log_dir, ignore_errors=True)  # the log audit reads this session's lines only
    stack = LocalStack(env=env, log_dir=log_dir)
    stack.start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = stack.firestore_host
    os.environ["CLOUD_TASKS_EMULATOR_HOST"] = stack.tasks_host
    try:
        yield Hub(stack, fakes)
    finally:
        stack.stop()
        for fake in fakes.all():
            fake.stop()


@pytest.fixture
def e2e(hub: Hub) -> Hub:
    """A clean slate: empty Firestore, empty queue, fakes forgotten."""
    from google.cloud import tasks_v2

    from stack import QUEUE

    client = _tasks_client(hub.stack.tasks_host)
    client.purge_queue(name=QUEUE)
    hub.stack.reset_firestore()
    for fake in hub.fakes.all():
        fake.reset()
    for attr in ("closed_dms",):
        if hasattr(hub.fakes.x, attr):
            getattr(hub.fakes.x, attr).clear()
    del tasks_v2
    return hub


def _tasks_client(host: str) -> Any:
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(host)))


@pytest.fixture
def tasks_client(hub: Hub) -> Any:
    return _tasks_client(hub.stack.tasks_host)


def tasks_of(tasks_client: Any, platform: str, post_id: str) -> list[Any]:
    """The queued tasks of one post (a previous test's in-flight handler may still add its own)."""
    from google.cloud import tasks_v2

    from hilft.core.ids import mention_doc_id
    from stack import QUEUE

    doc_id = mention_doc_id(platform, post_id)
    listed = tasks_client.list_tasks(request={"parent": QUEUE, "response_view": tasks_v2.Task.View.FULL})
    return [t for t in listed if t.http_request.body and json.loads(t.http_request.body).get("doc_id") == doc_id]


def x_fixture(name: str) -> bytes:
    return (FIXTURES / "x" / name).read_bytes()


def meta_fixture(name: str) -> bytes:
    return (FIXTURES / "meta" / name).read_bytes()


def as_json(body: bytes) -> Any:
    return json.loads(body)


def fresh(body: bytes, *, shift: float = 0.0) -> bytes:
    """The fixture with every timestamp set to now (+shift seconds), as a live delivery would be.

    Fixtures carry the dates they were written with; the promise counts from the post's time.
    """
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC) + timedelta(seconds=shift)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "created_at" and isinstance(value, str):
                    out[key] = (now.strftime("%a %b %d %H:%M:%S +0000 %Y") if "+0000" in value
                                else now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
                elif key in ("timestamp_ms", "created_timestamp") and isinstance(value, str):
                    out[key] = str(int(now.timestamp() * 1000))
                elif key == "created_time" and isinstance(value, int):
                    out[key] = int(now.timestamp())
                elif key in ("timestamp", "time") and isinstance(value, int):
                    out[key] = int(now.timestamp() * 1000) if value > 10**11 else int(now.timestamp())
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(json.loads(body)), separators=(",", ":")).encode()
