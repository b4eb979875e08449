"""Cloud Tasks adapter: named, delayed HTTP tasks to the ``deadline`` function, with OIDC.

Task names are deterministic hashes, so a redelivered webhook hits ALREADY_EXISTS, which is
success here. When ``CLOUD_TASKS_EMULATOR_HOST`` is set the same production client talks to the
local emulator over an insecure channel; nothing else differs.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2

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
_RETRY = Retry(predicate=lambda exc: isinstance(exc, gexc.ServiceUnavailable | gexc.DeadlineExceeded),
               initial=0.05, maximum=0.5, multiplier=2.0, timeout=4.0)


class TasksScheduler:
    def __init__(self, queue: str, target_url: str, service_account: str | None,
                 emulator_host: str | None = None) -> None:
        self.queue = queue
        self.target_url = target_url
        self.service_account = service_account
        self._emulator_host = emulator_host
        self._client: tasks_v2.CloudTasksClient | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hilft-tasks")
        self.ops: Counter[str] = Counter()

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

    def schedule(self, task_id: str, at: datetime, payload: dict[str, Any], now: datetime) -> bool:
        """Create the task; True if new, False if that name already exists (redelivery).

        A time beyond Cloud Tasks' 30-day horizon is clamped; the payload carries the real
        target so ``deadline`` re-schedules when it fires early.
        """
        fire_at, not_before = clamp_to_horizon(at, now)
        body = dict(payload)
        if not_before is not None:
            body["not_before"] = not_before.isoformat()
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(fire_at.astimezone(UTC))
        http_request: dict[str, Any] = {
            "http_method": tasks_v2.HttpMethod.POST,
            "url": self.target_url,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body, separators=(",", ":")).encode(),
        }
        if self.service_account:
            http_request["oidc_token"] = {"service_account_email": self.service_account,
                                          "audience": self.target_url}
        task = tasks_v2.Task(name=self.task_name(task_id), schedule_time=ts,
                             http_request=tasks_v2.HttpRequest(**http_request))
        self.ops["creates"] += 1
        try:
            self.client.create_task(parent=self.queue, task=task, retry=_RETRY, timeout=5.0)
        except gexc.AlreadyExists:
            return False
        except _TRANSIENT as exc:
            raise TransientSchedulerError(f"cloud tasks unavailable ({type(exc).__name__})") from exc
        return True

    def schedule_many(self, tasks: list[tuple[str, datetime, dict[str, Any]]], now: datetime) -> list[bool]:
        """Create several tasks at once (a post's warning, due and handoff): one round trip of latency."""
        if len(tasks) <= 1:
            return [self.schedule(task_id, at, payload, now) for task_id, at, payload in tasks]
        futures = [self._pool.submit(self.schedule, task_id, at, payload, now) for task_id, at, payload in tasks]
        return [future.result() for future in futures]  # re-raises TransientSchedulerError

    def delete(self, task_id: str) -> bool:
        """Best effort: correctness never depends on a deletion succeeding."""
        self.ops["deletes"] += 1
        try:
            self.client.delete_task(name=self.task_name(task_id), timeout=5.0)
        except (gexc.NotFound, *_TRANSIENT):
            return False
        except gexc.GoogleAPICallError:
            return False
        return True
