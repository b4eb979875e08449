"""The RPC surface through the production client: resources, status codes, views, names."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2
from google.protobuf import field_mask_pb2

from cloudtasks_emulator import Emulator
from fakes.base import FakeServer

from .conftest import LOCATION, make_queue

pytestmark = pytest.mark.emulator


def http_task(url: str, name: str | None = None, *, body: bytes = b"", in_seconds: float | None = None,
              **request: object) -> tasks_v2.Task:
    task = tasks_v2.Task(http_request=tasks_v2.HttpRequest(url=url, body=body, **request))
    if name:
        task.name = name
    if in_seconds is not None:
        task.schedule_time = datetime.now(UTC) + timedelta(seconds=in_seconds)
    return task


def test_create_get_list_delete(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    created = client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/x", f"{queue}/tasks/a",
                                                              in_seconds=600))
    assert created.name == f"{queue}/tasks/a"
    assert created.dispatch_count == 0 and created.response_count == 0
    assert created.http_request.http_method == tasks_v2.HttpMethod.POST
    assert created.dispatch_deadline == timedelta(minutes=10)
    assert created.create_time <= created.schedule_time

    fetched = client.get_task(name=created.name)
    assert fetched.schedule_time == created.schedule_time
    client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/y", f"{queue}/tasks/b", in_seconds=600))
    assert sorted(t.name for t in client.list_tasks(parent=queue)) == [f"{queue}/tasks/a", f"{queue}/tasks/b"]

    client.delete_task(name=created.name)
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=created.name)
    with pytest.raises(exceptions.NotFound):
        client.delete_task(name=created.name)
    assert [t.name for t in client.list_tasks(parent=queue)] == [f"{queue}/tasks/b"]


def test_list_tasks_pages(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    for i in range(5):
        client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", f"{queue}/tasks/t{i}",
                                                        in_seconds=600))
    pager = client.list_tasks(request=tasks_v2.ListTasksRequest(parent=queue, page_size=2))
    pages = [len(page.tasks) for page in pager.pages]
    assert pages == [2, 2, 1]


def test_duplicate_name_is_already_exists(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    task = http_task("http://127.0.0.1:9/", f"{queue}/tasks/dup", in_seconds=600)
    client.create_task(parent=queue, task=task)
    with pytest.raises(exceptions.AlreadyExists):
        client.create_task(parent=queue, task=task)


def test_unnamed_tasks_get_distinct_generated_ids(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    names = {client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", in_seconds=600)).name
             for _ in range(20)}
    assert len(names) == 20
    assert all(n.startswith(f"{queue}/tasks/") and n.rsplit("/", 1)[1].isdigit() for n in names)


def test_name_stays_reserved_after_delete_and_after_run(client: tasks_v2.CloudTasksClient, queue: str,
                                                        receiver: FakeServer) -> None:
    deleted = http_task(receiver.url, f"{queue}/tasks/deleted", in_seconds=600)
    client.create_task(parent=queue, task=deleted)
    client.delete_task(name=deleted.name)
    with pytest.raises(exceptions.AlreadyExists):
        client.create_task(parent=queue, task=deleted)

    ran = http_task(receiver.url + "/ran", f"{queue}/tasks/ran")
    client.create_task(parent=queue, task=ran)
    assert receiver.wait_for(lambda reqs: any(r.path == "/ran" for r in reqs), timeout=5)
    _wait_until_gone(client, ran.name)
    with pytest.raises(exceptions.AlreadyExists):
        client.create_task(parent=queue, task=ran)


def test_name_is_free_again_after_the_reservation_window(receiver: FakeServer) -> None:
    window = 0.6
    with Emulator(port=0, jwks_port=0, reservation_window=window) as emulator:
        client = emulator.client()
        queue = make_queue(client)
        task = http_task(receiver.url, f"{queue}/tasks/again", in_seconds=600)
        client.create_task(parent=queue, task=task)
        client.delete_task(name=task.name)
        deleted_at = time.monotonic()
        with pytest.raises(exceptions.AlreadyExists):
            client.create_task(parent=queue, task=task)
        time.sleep(max(0.0, window - (time.monotonic() - deleted_at)) + 0.1)
        assert client.create_task(parent=queue, task=task).name == task.name


def test_schedule_more_than_30_days_ahead_is_invalid(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", in_seconds=30 * 86400 + 60))
    # 29 days is fine
    client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", in_seconds=29 * 86400))


@pytest.mark.parametrize("task_id", ["has space", "slash/inside", "dot.inside", "ü", "x" * 501, ""])
def test_bad_task_id_is_invalid(client: tasks_v2.CloudTasksClient, queue: str, task_id: str) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", f"{queue}/tasks/{task_id}"))


def test_longest_legal_task_id_is_accepted(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    name = f"{queue}/tasks/{'A-_9' * 125}"
    assert client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", name, in_seconds=60)).name == name


def test_task_name_under_another_queue_is_invalid(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    other = make_queue(client)
    with pytest.raises(exceptions.InvalidArgument):
        client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", f"{other}/tasks/a"))


@pytest.mark.parametrize("request_fields", [
    {"url": "ftp://127.0.0.1/"},
    {"url": "http://127.0.0.1/", "http_method": tasks_v2.HttpMethod.GET, "body": b"no body on GET"},
    {"url": "http://127.0.0.1/", "headers": {"X-Split": "a\r\nInjected: 1"}},
    {"url": "http://127.0.0.1/", "headers": {"Bad Name": "x"}},
])
def test_bad_http_request_is_invalid(client: tasks_v2.CloudTasksClient, queue: str,
                                     request_fields: dict[str, object]) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        client.create_task(parent=queue, task=tasks_v2.Task(http_request=tasks_v2.HttpRequest(**request_fields)))


def test_dispatch_deadline_outside_production_range_is_invalid(client: tasks_v2.CloudTasksClient,
                                                               queue: str) -> None:
    task = http_task("http://127.0.0.1:9/")
    task.dispatch_deadline = timedelta(minutes=31)
    with pytest.raises(exceptions.InvalidArgument):
        client.create_task(parent=queue, task=task)


def test_unknown_queue_and_task_are_not_found(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    missing = f"{LOCATION}/queues/missing"
    with pytest.raises(exceptions.NotFound):
        client.create_task(parent=missing, task=http_task("http://127.0.0.1:9/"))
    with pytest.raises(exceptions.NotFound):
        client.get_queue(name=missing)
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=f"{queue}/tasks/never")


def test_basic_view_omits_the_body_and_full_view_returns_it(client: tasks_v2.CloudTasksClient,
                                                            queue: str) -> None:
    name = f"{queue}/tasks/with-body"
    created = client.create_task(parent=queue, task=http_task("http://127.0.0.1:9/", name, body=b"secret",
                                                              in_seconds=600))
    assert created.view == tasks_v2.Task.View.BASIC and created.http_request.body == b""
    assert client.get_task(name=name).http_request.body == b""
    full = client.get_task(request=tasks_v2.GetTaskRequest(name=name, response_view=tasks_v2.Task.View.FULL))
    assert full.view == tasks_v2.Task.View.FULL and full.http_request.body == b"secret"
    listed = client.list_tasks(request=tasks_v2.ListTasksRequest(parent=queue,
                                                                  response_view=tasks_v2.Task.View.FULL))
    assert [t.http_request.body for t in listed] == [b"secret"]


def test_queue_lifecycle(client: tasks_v2.CloudTasksClient) -> None:
    name = make_queue(client)
    with pytest.raises(exceptions.AlreadyExists):
        client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=name))
    assert name in [q.name for q in client.list_queues(parent=LOCATION)]
    assert client.pause_queue(name=name).state == tasks_v2.Queue.State.PAUSED
    paused = list(client.list_queues(request={"parent": LOCATION, "filter": "state: PAUSED"}))
    assert name in [q.name for q in paused]
    assert {q.state for q in paused} == {tasks_v2.Queue.State.PAUSED}
    assert client.resume_queue(name=name).state == tasks_v2.Queue.State.RUNNING
    client.delete_queue(name=name)
    with pytest.raises(exceptions.NotFound):
        client.get_queue(name=name)
    with pytest.raises(exceptions.AlreadyExists):  # production reserves a deleted queue's name for 7 days
        client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=name))


def test_queue_gets_production_defaults(client: tasks_v2.CloudTasksClient) -> None:
    name = f"{LOCATION}/queues/defaults"
    queue = client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=name))
    assert queue.rate_limits.max_dispatches_per_second == 500
    assert queue.rate_limits.max_concurrent_dispatches == 1000
    assert queue.rate_limits.max_burst_size == 100
    assert queue.retry_config.max_attempts == 100
    assert queue.retry_config.min_backoff == timedelta(milliseconds=100)
    assert queue.retry_config.max_backoff == timedelta(hours=1)
    assert queue.retry_config.max_doublings == 16


@pytest.mark.parametrize("queue_fields", [
    {"rate_limits": tasks_v2.RateLimits(max_dispatches_per_second=501)},
    {"rate_limits": tasks_v2.RateLimits(max_concurrent_dispatches=5001)},
    {"retry_config": tasks_v2.RetryConfig(max_attempts=-2)},
    {"retry_config": tasks_v2.RetryConfig(min_backoff=timedelta(seconds=20), max_backoff=timedelta(seconds=10))},
])
def test_out_of_range_queue_settings_are_invalid(client: tasks_v2.CloudTasksClient,
                                                 queue_fields: dict[str, object]) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=f"{LOCATION}/queues/bad", **queue_fields))


def test_update_queue_changes_only_masked_fields(client: tasks_v2.CloudTasksClient, queue: str) -> None:
    before = client.get_queue(name=queue)
    change = tasks_v2.Queue(name=queue, rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=7,
                                                                          max_concurrent_dispatches=3),
                            retry_config=tasks_v2.RetryConfig(max_attempts=42))
    updated = client.update_queue(queue=change,
                                  update_mask=field_mask_pb2.FieldMask(paths=["rate_limits.max_dispatches_per_second"]))
    assert updated.rate_limits.max_dispatches_per_second == 7
    assert updated.rate_limits.max_concurrent_dispatches == before.rate_limits.max_concurrent_dispatches
    assert updated.retry_config.max_attempts == before.retry_config.max_attempts

    updated = client.update_queue(queue=change, update_mask=field_mask_pb2.FieldMask(paths=["retry_config"]))
    assert updated.retry_config.max_attempts == 42
    assert updated.retry_config.min_backoff == timedelta(milliseconds=100)  # replaced whole: default again
    assert client.get_queue(name=queue).retry_config.max_attempts == 42

    with pytest.raises(exceptions.InvalidArgument):
        client.update_queue(queue=change, update_mask=field_mask_pb2.FieldMask(paths=["state"]))


def test_update_queue_creates_a_missing_queue(client: tasks_v2.CloudTasksClient) -> None:
    name = f"{LOCATION}/queues/upserted"
    client.update_queue(queue=tasks_v2.Queue(name=name, retry_config=tasks_v2.RetryConfig(max_attempts=3)))
    assert client.get_queue(name=name).retry_config.max_attempts == 3


def _wait_until_gone(client: tasks_v2.CloudTasksClient, name: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.get_task(name=name)
        except exceptions.NotFound:
            return
        time.sleep(0.02)
    raise AssertionError(f"{name} still exists after {timeout}s")
