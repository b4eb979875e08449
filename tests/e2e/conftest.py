"""The local stack for end-to-end tests (session-scoped; data reset before every test)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES, ROOT

X_SECRET = "e2e-x-client-secret"
X_TOKEN = "e2e-x-user-token"
META_SECRET = "e2e-meta-app-secret"
META_VERIFY = "e2e-meta-verify"
META_TOKEN = "e2e-meta-page-token"
STAFF_TOKEN = "e2e-staff-token"
BRAND_X = "1000000001"
PAGE_ID = "110000000000001"
IG_ID = "17841400000000001"
PD_KEY = "R0UT1NGKEY00000000000000000000E2"
WEBHOOK_SECRET = "e2e-alert-webhook-secret"
PD_WEBHOOK_SECRET = "e2e-pagerduty-webhook-secret"


@dataclass
class Fakes:
    x: Any
    graph: Any
    slack: Any
    chat: Any
    pagerduty: Any
    webhook: Any
    department: Any

    def all(self) -> list[Any]:
        return [self.x, self.graph, self.slack, self.chat, self.pagerduty, self.webhook, self.department]


class Hub:
    """What a test talks to: the stack, the fakes, Firestore, and helpers to post and wait."""

    def __init__(self, stack: Any, fakes: Fakes) -> None:
        from google.cloud import firestore

        self.stack = stack
        self.fakes = fakes
        self.db = firestore.Client(project="hilft-local")
        self.http = httpx.Client(timeout=30)

    def url(self, target: str) -> str:
        return self.stack.url(target)

    def post_x(self, body: bytes, *, signature: str | None = "valid", headers: dict[str, str] | None = None) -> httpx.Response:
        from hilft.platforms import x

        hdrs = {"Content-Type": "application/json"}
        if signature == "valid":
            hdrs["X-Twitter-Webhooks-Signature-OAuth2"] = x.sign(body, X_SECRET)
        elif signature is not None:
            hdrs["X-Twitter-Webhooks-Signature-OAuth2"] = signature
        hdrs.update(headers or {})
        return self.http.post(self.url("x_webhook"), content=body, headers=hdrs)

    def post_meta(self, body: bytes, *, signature: str | None = "valid") -> httpx.Response:
        from hilft.platforms import meta

        hdrs = {"Content-Type": "application/json"}
        if signature == "valid":
            hdrs["X-Hub-Signature-256"] = meta.sign(body, META_SECRET)
        elif signature is not None:
            hdrs["X-Hub-Signature-256"] = signature
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
    from fakes.graph_api import make_graph_api
    from fakes.sinks import make_google_chat, make_pagerduty, make_slack, make_webhook
    from fakes.x_api import make_x_api

    department = FakeServer()
    department.route("POST", r"/departments/(?P<name>[\w-]+)", lambda req, m: Response(202, {"ok": True}))
    fakes = Fakes(x=make_x_api(X_TOKEN), graph=make_graph_api(META_TOKEN), slack=make_slack(),
                  chat=make_google_chat(), pagerduty=make_pagerduty(PD_KEY), webhook=make_webhook(WEBHOOK_SECRET),
                  department=department)
    for fake in fakes.all():
        fake.start()
    return fakes


def _policy(department_url: str, tmp: Path) -> Path:
    text = (FIXTURES / "policy" / "e2e.toml").read_text().replace("{DEPARTMENT_URL}", department_url)
    path = tmp / "policy.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if shutil.which("gcloud") is None or shutil.which("java") is None:
        pytest.fail("the e2e suite needs gcloud with the Firestore emulator and Java (see README: make setup)")
    from fakes.sinks import FAKE_CHAT_KEY, FAKE_CHAT_SPACE, FAKE_CHAT_TOKEN, FAKE_SLACK_PATH
    from stack import LocalStack

    fakes = _start_fakes()
    tmp = tmp_path_factory.mktemp("stack")
    env = {
        "HILFT_CONFIG": str(_policy(fakes.department.url, tmp)),
        "HILFT_STAFF_AUTH": "token",
        "HILFT_STAFF_TOKEN": STAFF_TOKEN,
        "HILFT_CLAIM_TTL_SECONDS": "5",
        "HILFT_SWEEP_GRACE_SECONDS": "1",
        "X_CLIENT_SECRET": X_SECRET,
        "X_CONSUMER_SECRET": "e2e-x-consumer-secret",
        "X_USER_ACCESS_TOKEN": X_TOKEN,
        "X_BRAND_USER_IDS": BRAND_X,
        "X_API_BASE_URL": fakes.x.url,
        "META_APP_SECRET": META_SECRET,
        "META_VERIFY_TOKEN": META_VERIFY,
        "META_PAGE_ACCESS_TOKEN": META_TOKEN,
        "META_PAGE_IDS": PAGE_ID,
        "META_IG_USER_IDS": IG_ID,
        "META_GRAPH_BASE_URL": fakes.graph.url + "/v21.0",
        "SLACK_WEBHOOK_URL": fakes.slack.url + FAKE_SLACK_PATH,
        "GOOGLE_CHAT_WEBHOOK_URL": (fakes.chat.url + f"/v1/spaces/{FAKE_CHAT_SPACE}/messages"
                                    f"?key={FAKE_CHAT_KEY}&token={FAKE_CHAT_TOKEN}"),
        "PAGERDUTY_ROUTING_KEY": PD_KEY,
        "PAGERDUTY_EVENTS_URL": fakes.pagerduty.url + "/v2/enqueue",
        "ALERT_WEBHOOK_URL": fakes.webhook.url + "/hooks/hilft",
        "ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PAGERDUTY_WEBHOOK_SECRET": PD_WEBHOOK_SECRET,
    }
    log_dir = ROOT / "test-artifacts" / "stack-logs"
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
