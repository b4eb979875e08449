"""An in-process emulator, the production client bound to it, and a local HTTP receiver."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from google.cloud import tasks_v2
from google.protobuf import duration_pb2

from cloudtasks_emulator import Emulator
from fakes.base import FakeServer, Request, Response

LOCATION = "projects/hilft-test/locations/europe-west3"
_queue_numbers = itertools.count()


def _ok(request: Request, match: object) -> Response:
    return Response(200, {"ok": True})


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    # Production's 1 h reservation window; the dispatch-deadline floor is lowered so the timeout
    # test does not have to wait 15 s.
    with Emulator(port=0, jwks_port=0, min_dispatch_deadline=0.3) as server:
        yield server


@pytest.fixture(scope="session")
def client(emulator: Emulator) -> tasks_v2.CloudTasksClient:
    return emulator.client()


def fast_retry(max_attempts: int = 5, min_backoff: float = 0.2, max_doublings: int = 16) -> tasks_v2.RetryConfig:
    return tasks_v2.RetryConfig(
        max_attempts=max_attempts,
        min_backoff=duration_pb2.Duration(nanos=int(min_backoff * 1e9)),
        max_backoff=duration_pb2.Duration(seconds=1),
        max_doublings=max_doublings,
    )


def make_queue(client: tasks_v2.CloudTasksClient, **settings: object) -> str:
    name = f"{LOCATION}/queues/q-{next(_queue_numbers)}"
    settings.setdefault("retry_config", fast_retry())
    client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=name, **settings))
    return name


@pytest.fixture
def queue(client: tasks_v2.CloudTasksClient) -> str:
    return make_queue(client)


@pytest.fixture
def receiver() -> Iterator[FakeServer]:
    with FakeServer() as server:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            server.route(method, r"/.*", _ok)
        yield server
