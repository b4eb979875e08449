"""Queues, tasks and reserved names, behind one lock.

Every RPC is O(log n) in the queue's task count (a dict lookup plus a heap push), except the
listing, purge and delete calls that by nature touch every task. Each queue keeps a heap of
(schedule_time, seq, task, generation); entries made stale by a delete, a reschedule or a
RunTask are skipped lazily when they reach the top.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.cloud import tasks_v2
from google.protobuf import field_mask_pb2

from . import names
from .errors import RpcError, already_exists, invalid, not_found
from .retry import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_CONCURRENT_DISPATCHES,
    DEFAULT_MAX_DISPATCHES_PER_SECOND,
    DEFAULT_MAX_DOUBLINGS,
    DEFAULT_MIN_BACKOFF,
    MAX_CONCURRENT_DISPATCHES,
    MAX_DISPATCHES_PER_SECOND,
    RatePolicy,
    RetryPolicy,
)

# Raw protobuf classes: the store works on them directly (presence checks, FieldMask merging).
QueuePb = tasks_v2.Queue.pb()
TaskPb = tasks_v2.Task.pb()
HttpRequestPb = tasks_v2.HttpRequest.pb()

MAX_SCHEDULE_AHEAD = 30 * 86400.0
DEFAULT_DISPATCH_DEADLINE = 600.0
MAX_DISPATCH_DEADLINE = 1800.0
MAX_TASK_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 80 * 1024
MAX_URL_LENGTH = 2083
MAX_LIST_TASKS_PAGE = 1000
MAX_LIST_QUEUES_PAGE = 9800
BODY_METHODS = {tasks_v2.HttpMethod.POST, tasks_v2.HttpMethod.PUT, tasks_v2.HttpMethod.PATCH}
# Headers Cloud Tasks computes itself or reserves; a task's own values for them are dropped.
_RESERVED_HEADER = re.compile(
    r"(?i)^(host|content-length|user-agent|x-cloudtasks-.*|x-google-.*|x-appengine-.*)$")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_MASKABLE_QUEUE_FIELDS = {"rate_limits", "retry_config", "http_target", "stackdriver_logging_config",
                          "app_engine_routing_override"}
_STATE_FILTER = re.compile(r"\s*state\s*[:=]\s*(RUNNING|PAUSED|DISABLED)\s*")

# google.rpc.Code for an HTTP status, as in google/rpc/code.proto.
_HTTP_TO_RPC = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 501: 12, 503: 14, 504: 4}


def rpc_code_for_http(status: int) -> int:
    if 200 <= status < 300:
        return 0
    if status in _HTTP_TO_RPC:
        return _HTTP_TO_RPC[status]
    return 9 if status < 500 else 13  # FAILED_PRECONDITION / INTERNAL


@dataclass(slots=True)
class AttemptRecord:
    schedule_time: float
    dispatch_time: float
    response_time: float | None = None
    response_code: int | None = None  # google.rpc.Code
    response_message: str = ""


@dataclass(slots=True, eq=False)
class TaskRecord:
    name: str
    task_id: str
    queue: QueueState
    http_request: bytes  # serialized HttpRequest as created (for GetTask/ListTasks)
    url: str
    method: str
    headers: dict[str, str]
    body: bytes
    oidc: tuple[str, str] | None  # (service account email, audience)
    oauth: tuple[str, str] | None  # (service account email, scope)
    schedule_time: float
    create_time: float
    dispatch_deadline: float
    named: bool
    dispatch_count: int = 0
    response_count: int = 0
    execution_count: int = 0  # responses that were not 5xx, as X-CloudTasks-TaskExecutionCount counts
    previous_response: int | None = None
    first_dispatch_time: float | None = None
    last_attempt: AttemptRecord | None = None
    generation: int = 0
    in_flight: bool = False
    attempt_seq: int = 0
    removed: bool = False


@dataclass(slots=True, eq=False)
class QueueState:
    name: str
    config: Any  # a google.cloud.tasks.v2.Queue protobuf message
    retry: RetryPolicy
    rate: RatePolicy
    paused: bool = False
    deleted: bool = False
    purge_time: float | None = None
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    heap: list[tuple[float, int, TaskRecord, int]] = field(default_factory=list)
    wake: Callable[[], None] = lambda: None  # set by the dispatcher; nudges this queue's runner

    @property
    def queue_id(self) -> str:
        return names.short_id(self.name)


@dataclass(slots=True, frozen=True)
class Attempt:
    """Everything one dispatch needs, copied under the lock so it can run without it."""

    task: TaskRecord
    seq: int
    url: str
    method: str
    headers: dict[str, str]
    body: bytes
    deadline: float
    oidc: tuple[str, str] | None
    oauth: tuple[str, str] | None


@dataclass(slots=True, frozen=True)
class Outcome:
    status: int | None  # HTTP status, None when no response arrived
    retry_after: float | None = None
    error_code: int = 0  # google.rpc.Code when no response arrived
    error_message: str = ""


class Store:
    """All emulator state. Public methods take the lock; ``_``-methods expect it held."""

    def __init__(self, *, reservation_window: float = 3600.0, queue_reservation_window: float = 7 * 86400.0,
                 min_dispatch_deadline: float = 15.0, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.Lock()
        self.reservation_window = reservation_window
        self.queue_reservation_window = queue_reservation_window
        self.min_dispatch_deadline = min_dispatch_deadline
        self.clock = clock
        self.on_queue_created: Callable[[QueueState], None] = lambda queue: None
        self._queues: dict[str, QueueState] = {}
        self._task_tombstones: dict[str, float] = {}
        self._tombstone_order: deque[tuple[float, str]] = deque()
        self._queue_tombstones: dict[str, float] = {}
        self._seq = itertools.count()

    # -- queues ----------------------------------------------------------------------------
    def create_queue(self, parent: str, queue: Any) -> Any:
        names.check_location(parent)
        name = names.parse_queue(queue.name)
        if name.parent != parent:
            raise invalid(f"Queue name {queue.name!r} is not under parent {parent!r}")
        config, retry, rate = _normalized_config(queue)
        now = self.clock()
        with self.lock:
            if queue.name in self._queues:
                raise already_exists(f"Queue {queue.name} already exists")
            reserved_until = self._queue_tombstones.get(queue.name)
            if reserved_until is not None and reserved_until > now:
                raise already_exists(f"Queue {queue.name} was deleted recently; its name is reserved")
            state = QueueState(queue.name, config, retry, rate)
            self._queues[queue.name] = state
            response = self._queue_pb(state)
        self.on_queue_created(state)
        return response

    def get_queue(self, name: str) -> Any:
        with self.lock:
            return self._queue_pb(self._queue(name))

    def update_queue(self, queue: Any, mask: field_mask_pb2.FieldMask) -> Any:
        """Update the masked fields (all when the mask is empty); like production, creates a missing queue."""
        names.parse_queue(queue.name)
        for path in mask.paths:
            if path.split(".", 1)[0] not in _MASKABLE_QUEUE_FIELDS:
                raise invalid(f"update_mask path {path!r} cannot be updated")
        if mask.paths and not mask.IsValidForDescriptor(QueuePb.DESCRIPTOR):
            raise invalid(f"update_mask {list(mask.paths)} does not name fields of Queue")
        with self.lock:
            existing = self._queues.get(queue.name)
            if existing is None:
                merged = QueuePb()
                merged.CopyFrom(queue)
            else:
                merged = QueuePb()
                merged.CopyFrom(existing.config)
                if mask.paths:
                    mask.MergeMessage(queue, merged, replace_message_field=True, replace_repeated_field=True)
                else:
                    for name in _MASKABLE_QUEUE_FIELDS:
                        merged.ClearField(name)
                        if queue.HasField(name):
                            getattr(merged, name).CopyFrom(getattr(queue, name))
            merged.rate_limits.ClearField("max_burst_size")
            config, retry, rate = _normalized_config(merged)
            if existing is None:
                if self._queue_tombstones.get(queue.name, 0.0) > self.clock():
                    raise already_exists(f"Queue {queue.name} was deleted recently; its name is reserved")
                state = QueueState(queue.name, config, retry, rate)
                self._queues[queue.name] = state
                created = True
            else:
                state = existing
                state.config, state.retry, state.rate = config, retry, rate
                created = False
            response = self._queue_pb(state)
        if created:
            self.on_queue_created(state)
        else:
            state.wake()
        return response

    def list_queues(self, parent: str, filter_: str, page_size: int,
                    page_token: str) -> tuple[list[Any], str]:
        names.check_location(parent)
        wanted_state: str | None = None
        if filter_.strip():
            match = _STATE_FILTER.fullmatch(filter_)
            if not match:
                raise invalid(f"Unsupported filter {filter_!r}; only 'state: RUNNING|PAUSED' is understood")
            wanted_state = match[1]
        size = _page_size(page_size, MAX_LIST_QUEUES_PAGE)
        after = _decode_token(page_token)
        with self.lock:
            matching = sorted(
                n for n, q in self._queues.items()
                if n.startswith(parent + "/queues/") and n > after
                and (wanted_state is None or wanted_state == ("PAUSED" if q.paused else "RUNNING")))
            page = matching[:size]
            result = [self._queue_pb(self._queues[n]) for n in page]
        token = _encode_token(page[-1]) if len(matching) > size else ""
        return result, token

    def delete_queue(self, name: str) -> None:
        with self.lock:
            queue = self._queue(name)
            del self._queues[name]
            queue.deleted = True
            now = self.clock()
            for task in queue.tasks.values():
                self._retire(task, now)
            queue.tasks.clear()
            queue.heap.clear()
            self._queue_tombstones[name] = now + self.queue_reservation_window
        queue.wake()

    def set_paused(self, name: str, paused: bool) -> Any:
        with self.lock:
            queue = self._queue(name)
            queue.paused = paused
            response = self._queue_pb(queue)
        queue.wake()
        return response

    def purge_queue(self, name: str) -> Any:
        with self.lock:
            queue = self._queue(name)
            now = self.clock()
            for task in queue.tasks.values():
                self._retire(task, now)
            queue.tasks.clear()
            queue.heap.clear()
            queue.purge_time = now
            return self._queue_pb(queue)

    # -- tasks -----------------------------------------------------------------------------
    def create_task(self, parent: str, task: Any, view: int) -> Any:
        names.parse_queue(parent)
        now = self.clock()
        if task.name:
            queue_name, task_id = names.parse_task(task.name)
            if queue_name != parent:
                raise invalid(f"Task name {task.name!r} is not under queue {parent!r}")
        else:
            task_id = names.generated_task_id()
        record_args = self._validated_task_fields(task, now)
        with self.lock:
            queue = self._queue(parent)
            name = f"{parent}/tasks/{task_id}"
            self._expire_tombstones(now)
            if name in queue.tasks or name in self._task_tombstones:
                raise already_exists(f"Requested entity already exists: task {task_id} exists, or ran or "
                                     "was deleted within the reservation window")
            record = TaskRecord(name=name, task_id=task_id, queue=queue, create_time=now,
                                named=bool(task.name), **record_args)
            queue.tasks[name] = record
            wake = self._push(record)
            response = self._task_pb(record, view)
        if wake:
            queue.wake()
        return response

    def get_task(self, name: str, view: int) -> Any:
        with self.lock:
            return self._task_pb(self._task(name), view)

    def delete_task(self, name: str) -> None:
        with self.lock:
            task = self._task(name)
            del task.queue.tasks[name]
            self._retire(task, self.clock())
            self._compact(task.queue)

    def list_tasks(self, parent: str, view: int, page_size: int,
                   page_token: str) -> tuple[list[Any], str]:
        names.parse_queue(parent)
        size = _page_size(page_size, MAX_LIST_TASKS_PAGE)
        after = _decode_token(page_token)
        with self.lock:
            queue = self._queue(parent)
            matching = sorted(n for n in queue.tasks if n > after)
            page = matching[:size]
            result = [self._task_pb(queue.tasks[n], view) for n in page]
        token = _encode_token(page[-1]) if len(matching) > size else ""
        return result, token

    def run_task(self, name: str, view: int) -> tuple[Any, Attempt]:
        """Dispatch now, regardless of schedule, pause or rate limits (production's RunTask)."""
        with self.lock:
            task = self._task(name)
            now = self.clock()
            task.generation += 1  # its heap entry, if any, is now stale
            task.schedule_time = now
            attempt = self._begin_attempt(task, now)
            return self._task_pb(task, view), attempt

    # -- dispatcher side -------------------------------------------------------------------
    def seconds_until_due(self, queue: QueueState) -> float | None:
        """0 when a task is due, None when nothing is (or the queue is paused or gone)."""
        with self.lock:
            if queue.paused or queue.deleted:
                return None
            head = self._valid_head(queue)
            if head is None:
                return None
            return max(0.0, head[0] - self.clock())

    def begin_due_attempt(self, queue: QueueState) -> Attempt | None:
        with self.lock:
            if queue.paused or queue.deleted:
                return None
            head = self._valid_head(queue)
            now = self.clock()
            if head is None or head[0] > now:
                return None
            heapq.heappop(queue.heap)
            return self._begin_attempt(head[2], now)

    def finish_attempt(self, attempt: Attempt, outcome: Outcome) -> None:
        task = attempt.task
        queue = task.queue
        wake = False
        with self.lock:
            if task.removed or task.attempt_seq != attempt.seq:
                return  # deleted, purged or superseded by RunTask while in flight: never retried
            now = self.clock()
            record = task.last_attempt
            assert record is not None
            record.response_time = now if outcome.status is not None else None
            if outcome.status is not None:
                record.response_code = rpc_code_for_http(outcome.status)
                record.response_message = f"HTTP status code {outcome.status}"
                task.response_count += 1
                task.previous_response = outcome.status
                if outcome.status < 500:
                    task.execution_count += 1
            else:
                record.response_code = outcome.error_code
                record.response_message = outcome.error_message
            task.in_flight = False
            if outcome.status is not None and 200 <= outcome.status < 300:
                self._remove(task, now)
                return
            first = task.first_dispatch_time if task.first_dispatch_time is not None else now
            if queue.retry.exhausted(task.dispatch_count, now - first):
                self._remove(task, now)
                return
            delay = queue.retry.backoff(task.dispatch_count)
            if outcome.status in (429, 503) and outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
            task.schedule_time = now + delay
            task.generation += 1
            wake = self._push(task)
        if wake:
            queue.wake()

    # -- internals -------------------------------------------------------------------------
    def _queue(self, name: str) -> QueueState:
        queue = self._queues.get(name)
        if queue is None:
            names.parse_queue(name)
            raise not_found(f"Queue {name} does not exist")
        return queue

    def _task(self, name: str) -> TaskRecord:
        queue_name, _ = names.parse_task(name)
        task = self._queue(queue_name).tasks.get(name)
        if task is None:
            raise not_found(f"Task {name} does not exist")
        return task

    def _validated_task_fields(self, task: Any, now: float) -> dict[str, Any]:
        if task.HasField("app_engine_http_request"):
            raise RpcError(grpc.StatusCode.UNIMPLEMENTED,
                           "App Engine tasks are not emulated; use http_request")
        if not task.HasField("http_request"):
            raise invalid("Task has no target: set http_request")
        request = task.http_request
        url = request.url
        if not url.startswith(("http://", "https://")) or len(url) > MAX_URL_LENGTH:
            raise invalid("HttpRequest.url must begin with http:// or https:// "
                          "and be at most 2083 characters")
        method = request.http_method or tasks_v2.HttpMethod.POST
        if request.body and method not in BODY_METHODS:
            raise invalid("A request body is allowed only for POST, PUT and PATCH")
        for key, value in request.headers.items():
            if not _HEADER_NAME.fullmatch(key) or "\r" in value or "\n" in value:
                raise invalid("HttpRequest.headers holds an invalid header name or value")
        header_bytes = sum(len(k) + len(v) for k, v in request.headers.items())
        if header_bytes >= MAX_HEADER_BYTES:
            raise invalid("HttpRequest headers must be smaller than 80KB")
        if task.ByteSize() > MAX_TASK_BYTES:
            raise invalid("The maximum task size is 1MB")
        oidc = oauth = None
        if request.HasField("oidc_token"):
            if not request.oidc_token.service_account_email:
                raise invalid("oidc_token.service_account_email is required")
            oidc = (request.oidc_token.service_account_email, request.oidc_token.audience or url)
        elif request.HasField("oauth_token"):
            if not request.oauth_token.service_account_email:
                raise invalid("oauth_token.service_account_email is required")
            oauth = (request.oauth_token.service_account_email,
                     request.oauth_token.scope or "https://www.googleapis.com/auth/cloud-platform")
        schedule_time = now
        if task.HasField("schedule_time"):
            requested = task.schedule_time.ToNanoseconds() / 1e9
            if requested - now > MAX_SCHEDULE_AHEAD:
                raise invalid("schedule_time is more than 30 days in the future")
            schedule_time = max(requested, now)
        deadline = DEFAULT_DISPATCH_DEADLINE
        if task.HasField("dispatch_deadline"):
            deadline = task.dispatch_deadline.ToNanoseconds() / 1e9
            if not self.min_dispatch_deadline <= deadline <= MAX_DISPATCH_DEADLINE:
                raise invalid(f"dispatch_deadline must be between {self.min_dispatch_deadline:g}s "
                              "and 30 minutes")
        stored = HttpRequestPb()
        stored.CopyFrom(request)
        stored.http_method = method
        headers = {k: v for k, v in request.headers.items() if not _RESERVED_HEADER.match(k)}
        return {
            "http_request": stored.SerializeToString(),
            "url": url,
            "method": tasks_v2.HttpMethod(method).name,
            "headers": headers,
            "body": bytes(request.body),
            "oidc": oidc,
            "oauth": oauth,
            "schedule_time": schedule_time,
            "dispatch_deadline": deadline,
        }

    def _push(self, task: TaskRecord) -> bool:
        """Queue the task for dispatch; True when it became the earliest (the runner must re-arm)."""
        heap = task.queue.heap
        becomes_head = not heap or task.schedule_time < heap[0][0]
        heapq.heappush(heap, (task.schedule_time, next(self._seq), task, task.generation))
        return becomes_head

    @staticmethod
    def _is_live(entry: tuple[float, int, TaskRecord, int]) -> bool:
        task = entry[2]
        return not task.removed and not task.in_flight and task.generation == entry[3]

    def _valid_head(self, queue: QueueState) -> tuple[float, int, TaskRecord, int] | None:
        heap = queue.heap
        while heap and not self._is_live(heap[0]):
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _compact(self, queue: QueueState) -> None:
        """Drop stale entries once they dominate, so deletions do not leak heap memory."""
        if len(queue.heap) > 2 * len(queue.tasks) + 1024:
            queue.heap = [entry for entry in queue.heap if self._is_live(entry)]
            heapq.heapify(queue.heap)

    def _begin_attempt(self, task: TaskRecord, now: float) -> Attempt:
        queue = task.queue
        headers = dict(task.headers)
        headers.update({
            "User-Agent": "Google-Cloud-Tasks",
            "X-CloudTasks-QueueName": queue.queue_id,
            "X-CloudTasks-TaskName": task.task_id,
            "X-CloudTasks-TaskRetryCount": str(task.dispatch_count),
            "X-CloudTasks-TaskExecutionCount": str(task.execution_count),
            "X-CloudTasks-TaskETA": f"{task.schedule_time:.6f}",
        })
        if task.previous_response is not None:
            headers["X-CloudTasks-TaskPreviousResponse"] = str(task.previous_response)
        task.in_flight = True
        task.attempt_seq += 1
        task.dispatch_count += 1
        if task.first_dispatch_time is None:
            task.first_dispatch_time = now
        task.last_attempt = AttemptRecord(schedule_time=task.schedule_time, dispatch_time=now)
        return Attempt(task=task, seq=task.attempt_seq, url=task.url, method=task.method, headers=headers,
                       body=task.body, deadline=task.dispatch_deadline, oidc=task.oidc, oauth=task.oauth)

    def _remove(self, task: TaskRecord, now: float) -> None:
        task.queue.tasks.pop(task.name, None)
        self._retire(task, now)

    def _retire(self, task: TaskRecord, now: float) -> None:
        """Mark a task gone; a named task's name stays reserved for the reservation window."""
        task.removed = True
        if task.named and self.reservation_window > 0:
            expires = now + self.reservation_window
            self._task_tombstones[task.name] = expires
            self._tombstone_order.append((expires, task.name))

    def _expire_tombstones(self, now: float) -> None:
        order = self._tombstone_order
        while order and order[0][0] <= now:
            expires, name = order.popleft()
            if self._task_tombstones.get(name) == expires:
                del self._task_tombstones[name]

    def _queue_pb(self, queue: QueueState) -> Any:
        pb = QueuePb()
        pb.CopyFrom(queue.config)
        pb.name = queue.name
        pb.state = tasks_v2.Queue.State.PAUSED if queue.paused else tasks_v2.Queue.State.RUNNING
        if queue.purge_time is not None:
            _set_time(pb.purge_time, queue.purge_time)
        return pb

    def _task_pb(self, task: TaskRecord, view: int) -> Any:
        view = view or tasks_v2.Task.View.BASIC
        pb = TaskPb(name=task.name, dispatch_count=task.dispatch_count, response_count=task.response_count,
                    view=view)
        pb.http_request.ParseFromString(task.http_request)
        if view != tasks_v2.Task.View.FULL:
            pb.http_request.ClearField("body")
        _set_time(pb.schedule_time, task.schedule_time)
        _set_time(pb.create_time, task.create_time)
        pb.dispatch_deadline.FromNanoseconds(round(task.dispatch_deadline * 1e9))
        if task.first_dispatch_time is not None:
            _set_time(pb.first_attempt.dispatch_time, task.first_dispatch_time)
        last = task.last_attempt
        if last is not None:
            _set_time(pb.last_attempt.schedule_time, last.schedule_time)
            _set_time(pb.last_attempt.dispatch_time, last.dispatch_time)
            if last.response_time is not None:
                _set_time(pb.last_attempt.response_time, last.response_time)
            if last.response_code is not None:
                pb.last_attempt.response_status.code = last.response_code
                pb.last_attempt.response_status.message = last.response_message
        return pb


def _normalized_config(queue: Any) -> tuple[Any, RetryPolicy, RatePolicy]:
    """Validate a queue's settings and fill in production's defaults for the unset ones."""
    config = QueuePb()
    config.CopyFrom(queue)
    for output_only in ("name", "state", "purge_time"):
        config.ClearField(output_only)
    limits = config.rate_limits
    rate = limits.max_dispatches_per_second or DEFAULT_MAX_DISPATCHES_PER_SECOND
    if not 0 < rate <= MAX_DISPATCHES_PER_SECOND:
        raise invalid("rate_limits.max_dispatches_per_second must be in (0, 500]")
    concurrent = limits.max_concurrent_dispatches or DEFAULT_MAX_CONCURRENT_DISPATCHES
    if not 0 < concurrent <= MAX_CONCURRENT_DISPATCHES:
        raise invalid("rate_limits.max_concurrent_dispatches must be in [1, 5000]")
    rate_policy = RatePolicy(rate, concurrent)
    limits.max_dispatches_per_second = rate
    limits.max_concurrent_dispatches = concurrent
    limits.max_burst_size = rate_policy.max_burst_size

    retry = config.retry_config
    max_attempts = retry.max_attempts or DEFAULT_MAX_ATTEMPTS
    if max_attempts < -1:
        raise invalid("retry_config.max_attempts must be >= -1")
    min_backoff = _seconds(retry, "min_backoff", DEFAULT_MIN_BACKOFF)
    max_backoff = float(int(_seconds(retry, "max_backoff", DEFAULT_MAX_BACKOFF)))  # truncated to seconds
    max_retry_duration = float(int(_seconds(retry, "max_retry_duration", 0.0)))
    max_doublings = retry.max_doublings or DEFAULT_MAX_DOUBLINGS
    if min(min_backoff, max_backoff, max_retry_duration) < 0 or max_doublings < 0:
        raise invalid("retry_config durations and max_doublings must not be negative")
    if min_backoff > max_backoff:
        raise invalid("retry_config.min_backoff must not exceed max_backoff (truncated to whole seconds)")
    retry.max_attempts = max_attempts
    retry.max_doublings = max_doublings
    retry.min_backoff.FromNanoseconds(round(min_backoff * 1e9))
    retry.max_backoff.FromNanoseconds(round(max_backoff * 1e9))
    retry.max_retry_duration.FromNanoseconds(round(max_retry_duration * 1e9))
    policy = RetryPolicy(max_attempts, min_backoff, max_backoff, max_doublings, max_retry_duration)
    return config, policy, rate_policy


def _seconds(message: object, field_name: str, default: float) -> float:
    if not message.HasField(field_name):  # type: ignore[attr-defined]
        return default
    return getattr(message, field_name).ToNanoseconds() / 1e9


def _set_time(timestamp: object, seconds: float) -> None:
    timestamp.FromNanoseconds(round(seconds * 1e9))  # type: ignore[attr-defined]


def _page_size(requested: int, maximum: int) -> int:
    if requested < 0:
        raise invalid("page_size must not be negative")
    return min(requested or maximum, maximum)


def _encode_token(last_name: str) -> str:
    return base64.urlsafe_b64encode(last_name.encode()).decode()


def _decode_token(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("Invalid page_token") from exc
