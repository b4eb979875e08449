"""Cloud Tasks adapter: named, delayed HTTP tasks to the ``deadline`` function, with OIDC.

Task names are deterministic hashes, so a redelivered webhook hits ALREADY_EXISTS, which is
success here. When ``CLOUD_TASKS_EMULATOR_HOST`` is set the same production client talks to the
local emulator over an insecure channel; nothing else differs.

CPU per task (bench/ingest.py): the request is built as the plain protobuf message (no proto-plus
marshalling of a nested dict), and several tasks of one post are sent at once as gRPC futures on
the client's own channel (same RPC, same metadata as ``create_task``) instead of through a thread
pool, whose hand-offs cost more CPU than the calls; a retryable failure of a future is retried by
the ordinary ``create_task`` with its retry policy.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.api_core import gapic_v1
from google.api_core.retry import Retry
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports.base import DEFAULT_CLIENT_INFO
from google.cloud.tasks_v2.types import cloudtasks

from hilft.core.errors import TransientSchedulerError

# Cloud Tasks refuses schedule_time more than 30 days ahead.
MAX_SCHEDULE_AHEAD = timedelta(days=30) - timedelta(minutes=5)


def clamp_to_horizon(at: datetime, now: datetime) -> tuple[datetime, datetime | None]:
    """When to fire a task meant for ``at``: ``(fire_at, not_before)``.

    Within Cloud Tasks' horizon the task fires at ``at`` and ``not_before`` is None. Beyond it the
    task fires at the horizon and ``not_before`` is ``at`` (UTC), which the payload carries so
    ``deadline`` re-schedules the rest of the way when the task arrives early.
    """
    if at.tzinfo is None or now.tzinfo is None:
        raise ValueError("schedule time must be timezone-aware")
    horizon = now + MAX_SCHEDULE_AHEAD
    if at <= horizon:
        return at, None
    return horizon, at.astimezone(UTC)


_TRANSIENT = (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError,
              gexc.RetryError, gexc.Unknown, gexc.ResourceExhausted, gexc.Aborted)
_RETRYABLE = (gexc.ServiceUnavailable, gexc.DeadlineExceeded)
_RETRY = Retry(predicate=lambda exc: isinstance(exc, _RETRYABLE), initial=0.05, maximum=0.5, multiplier=2.0,
               timeout=4.0)
_TIMEOUT = 5.0
_REQUEST_PB = cloudtasks.CreateTaskRequest.pb()  # the plain protobuf class under the proto-plus type
_POST = int(tasks_v2.HttpMethod.POST)


class TasksScheduler:
    def __init__(self, queue: str, target_url: str, service_account: str | None,
                 emulator_host: str | None = None) -> None:
        self.queue = queue
        self.target_url = target_url
        self.service_account = service_account
        self._emulator_host = emulator_host
        self._client: tasks_v2.CloudTasksClient | None = None
        self._lock = threading.Lock()
        self.ops: Counter[str] = Counter()
        # What create_task sends besides the request: the routing header and the client's own header.
        self._metadata = (gapic_v1.routing_header.to_grpc_metadata((("parent", queue),)),
                          DEFAULT_CLIENT_INFO.to_grpc_metadata())

    @property
    def client(self) -> tasks_v2.CloudTasksClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> tasks_v2.CloudTasksClient:
        if self._emulator_host:
            import grpc
            from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

            channel = grpc.insecure_channel(self._emulator_host)
            return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        return tasks_v2.CloudTasksClient()

    def task_name(self, task_id: str) -> str:
        return f"{self.queue}/tasks/{task_id}"

    def request(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> Any:
        """The ``CreateTaskRequest`` for one task (a proto-plus wrapper around the protobuf built here).

        A time beyond Cloud Tasks' 30-day horizon is clamped; the payload carries the real
        target so ``deadline`` re-schedules when it fires early.
        """
        fire_at, not_before = clamp_to_horizon(at, now)
        body = dict(payload)
        if not_before is not None:
            body["not_before"] = not_before.isoformat()
        pb = _REQUEST_PB(parent=self.queue)
        task = pb.task
        task.name = self.task_name(task_id)
        task.schedule_time.FromDatetime(fire_at.astimezone(UTC))
        http = task.http_request
        http.http_method = _POST
        http.url = self.target_url
        http.headers["Content-Type"] = "application/json"
        http.body = json.dumps(body, separators=(",", ":")).encode()
        if self.service_account:
            http.oidc_token.service_account_email = self.service_account
            http.oidc_token.audience = self.target_url
        return cloudtasks.CreateTaskRequest.wrap(pb)

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        """Create the task; True if new, False if that name already exists (redelivery)."""
        return self._create(self.request(task_id, at, payload, now))

    def _create(self, request: Any) -> bool:
        self.ops["creates"] += 1
        try:
            self.client.create_task(request=request, retry=_RETRY, timeout=_TIMEOUT)
        except gexc.AlreadyExists:
            return False
        except _TRANSIENT as exc:
            raise TransientSchedulerError(f"cloud tasks unavailable ({type(exc).__name__})") from exc
        return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        """Create several tasks at once (a post's warning, due and handoff): one round trip of latency.

        All but the last go out as gRPC futures, the last as an ordinary call meanwhile; a future
        that failed in a retryable way is sent again the ordinary way (with its retry policy).
        """
        requests = [self.request(task_id, at, payload, now) for task_id, at, payload in tasks]
        stub: Any = getattr(getattr(self.client, "transport", None), "create_task", None)
        if len(requests) <= 1 or not hasattr(stub, "future"):
            return [self._create(request) for request in requests]
        futures = []
        for request in requests[:-1]:
            self.ops["creates"] += 1
            futures.append(stub.future(request, timeout=_TIMEOUT, metadata=self._metadata))
        last = self._create(requests[-1])
        return [*(self._outcome(future, request) for future, request in zip(futures, requests, strict=False)), last]

    def _outcome(self, future: Any, request: Any) -> bool:
        try:
            future.result()
        except grpc.RpcError as rpc_error:
            exc = gexc.from_grpc_error(rpc_error)
            if isinstance(exc, gexc.AlreadyExists):
                return False
            if isinstance(exc, _RETRYABLE):
                self.ops["creates"] -= 1  # counted again by the retry
                return self._create(request)
            if isinstance(exc, _TRANSIENT):
                raise TransientSchedulerError(f"cloud tasks unavailable ({type(exc).__name__})") from exc
            raise exc from rpc_error
        return True

    def delete(self, task_id: str) -> bool:
        """Best effort: correctness never depends on a deletion succeeding."""
        self.ops["deletes"] += 1
        try:
            self.client.delete_task(name=self.task_name(task_id), timeout=_TIMEOUT)
        except (gexc.NotFound, *_TRANSIENT):
            return False
        except gexc.GoogleAPICallError:
            return False
        return True
