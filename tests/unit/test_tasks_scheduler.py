"""The production Cloud Tasks adapter: its 30-day clamp as a pure function, and the real
``TasksScheduler`` against the in-process Cloud Tasks emulator, which refuses a ``schedule_time``
more than 30 days ahead exactly as Cloud Tasks does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from cloudtasks_emulator import Emulator
from hilft.adapters.tasks_scheduler import MAX_SCHEDULE_AHEAD, TasksScheduler, clamp_to_horizon

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
QUEUE = "projects/hilft-test/locations/europe-west3/queues/deadlines"
TARGET = "http://127.0.0.1:9/deadline"  # never called: every task here lies in the future
SA = "hilft-tasks@hilft-test.iam.gserviceaccount.com"


# -- the clamp, pure ------------------------------------------------------------------------------


def test_the_horizon_is_inside_cloud_tasks_thirty_days():
    assert timedelta(days=29) < MAX_SCHEDULE_AHEAD < timedelta(days=30)


def test_a_time_within_the_horizon_fires_as_asked():
    for ahead in (timedelta(0), timedelta(seconds=5), timedelta(days=7), MAX_SCHEDULE_AHEAD):
        assert clamp_to_horizon(NOW + ahead, NOW) == (NOW + ahead, None)


def test_a_past_time_fires_as_asked():
    assert clamp_to_horizon(NOW - timedelta(hours=1), NOW) == (NOW - timedelta(hours=1), None)


def test_a_time_beyond_the_horizon_fires_at_the_horizon_and_carries_the_real_target():
    at = NOW + MAX_SCHEDULE_AHEAD + timedelta(microseconds=1)
    assert clamp_to_horizon(at, NOW) == (NOW + MAX_SCHEDULE_AHEAD, at)
    far = NOW + timedelta(days=400)
    assert clamp_to_horizon(far, NOW) == (NOW + MAX_SCHEDULE_AHEAD, far)


def test_the_real_target_is_given_in_utc():
    berlin = timezone(timedelta(hours=1))
    at = datetime(2027, 3, 1, 9, 0, tzinfo=berlin)
    fire_at, not_before = clamp_to_horizon(at, NOW)
    assert fire_at == NOW + MAX_SCHEDULE_AHEAD
    assert not_before == at and not_before is not None and not_before.utcoffset() == timedelta(0)
    assert not_before.isoformat() == "2027-03-01T08:00:00+00:00"


@pytest.mark.parametrize("at, now", [(datetime(2026, 12, 1), NOW), (NOW, datetime(2026, 11, 30))])
def test_naive_times_are_refused(at, now):
    with pytest.raises(ValueError):
        clamp_to_horizon(at, now)


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=4000)))
def test_never_beyond_the_horizon_never_later_than_asked_and_the_target_is_kept(ahead):
    at = NOW + ahead
    fire_at, not_before = clamp_to_horizon(at, NOW)
    assert fire_at <= NOW + MAX_SCHEDULE_AHEAD
    assert fire_at <= at
    assert (not_before is None) == (fire_at == at)
    assert not_before in (None, at)


# -- the real adapter against the Cloud Tasks emulator ---------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0, jwks_port=0, queues=[QUEUE]) as server:
        yield server


@pytest.fixture
def scheduler(emulator: Emulator) -> TasksScheduler:
    return TasksScheduler(QUEUE, TARGET, SA, emulator_host=emulator.grpc_target)


def stored(emulator: Emulator, scheduler: TasksScheduler, task_id: str) -> tasks_v2.Task:
    return emulator.client().get_task(request={"name": scheduler.task_name(task_id),
                                               "response_view": tasks_v2.Task.View.FULL})



@pytest.mark.emulator
def test_a_task_beyond_thirty_days_is_accepted_at_the_horizon_with_its_real_target(emulator, scheduler):
    now = datetime.now(UTC)
    at = now + timedelta(days=45)
    payload = {"doc_id": "d" * 40, "kind": "due", "level": 1, "due_at": at.isoformat()}
    assert scheduler.schedule("clamp-far", at, payload, now) is True

    task = stored(emulator, scheduler, "clamp-far")
    assert abs(task.schedule_time - (now + MAX_SCHEDULE_AHEAD)) < timedelta(milliseconds=1)
    body = json.loads(task.http_request.body)
    assert body == {**payload, "not_before": at.astimezone(UTC).isoformat()}
    assert task.http_request.url == TARGET
    assert task.http_request.oidc_token.service_account_email == SA
    assert task.http_request.oidc_token.audience == TARGET


@pytest.mark.emulator
def test_without_the_clamp_cloud_tasks_would_refuse_that_task(emulator):
    # The same request unclamped: the emulator, like Cloud Tasks, answers INVALID_ARGUMENT. So the
    # test above passes only because the adapter clamps.
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) + timedelta(days=45))
    with pytest.raises(gexc.InvalidArgument):
        emulator.client().create_task(parent=QUEUE, task=tasks_v2.Task(
            name=f"{QUEUE}/tasks/unclamped", schedule_time=ts,
            http_request=tasks_v2.HttpRequest(url=TARGET, http_method=tasks_v2.HttpMethod.POST, body=b"{}")))


@pytest.mark.emulator
def test_a_task_within_the_horizon_keeps_its_time_and_carries_no_not_before(emulator, scheduler):
    now = datetime.now(UTC)
    at = now + timedelta(days=29)
    payload = {"doc_id": "e" * 40, "kind": "warning", "level": 0}
    assert scheduler.schedule("clamp-near", at, payload, now) is True
    task = stored(emulator, scheduler, "clamp-near")
    assert abs(task.schedule_time - at) < timedelta(milliseconds=1)
    assert json.loads(task.http_request.body) == payload


@pytest.mark.emulator
def test_a_redelivered_task_name_is_not_created_twice_and_deletion_is_best_effort(emulator, scheduler):
    now = datetime.now(UTC)
    at = now + timedelta(days=60)
    assert scheduler.schedule("clamp-twice", at, {"doc_id": "f" * 40}, now) is True
    assert scheduler.schedule("clamp-twice", at, {"doc_id": "f" * 40}, now) is False
    assert scheduler.delete("clamp-twice") is True
    assert scheduler.delete("clamp-twice") is False
    assert scheduler.ops == {"creates": 2, "deletes": 2}


@pytest.mark.emulator
def test_a_posts_tasks_go_out_at_once_and_a_redelivery_creates_none_of_them_again(emulator, scheduler):
    # schedule_many sends all but the last as gRPC futures on the client's channel: same request,
    # same answers (ALREADY_EXISTS is "not new"), every task stored as schedule() would store it.
    now = datetime.now(UTC)
    at = now + timedelta(hours=1)
    tasks = [(f"many-{kind}", at - timedelta(minutes=15 * (2 - i)), {"doc_id": "a" * 40, "kind": kind})
             for i, kind in enumerate(("warning", "handoff", "due"))]
    assert scheduler.schedule_many(tasks, now) == [True, True, True]
    assert scheduler.schedule_many(tasks, now) == [False, False, False]
    assert scheduler.ops == {"creates": 6}
    for task_id, when, payload in tasks:
        task = stored(emulator, scheduler, task_id)
        assert abs(task.schedule_time - when) < timedelta(milliseconds=1)
        assert json.loads(task.http_request.body) == payload
        assert task.http_request.headers["Content-Type"] == "application/json"
        assert task.http_request.oidc_token.audience == TARGET


@pytest.mark.emulator
def test_a_refused_task_among_several_raises_as_schedule_does(emulator, scheduler):
    now = datetime.now(UTC)
    bad = TasksScheduler(QUEUE + "-missing", TARGET, SA, emulator_host=emulator.grpc_target)
    tasks = [(f"missing-{i}", now + timedelta(hours=1), {"doc_id": "b" * 40}) for i in range(2)]
    with pytest.raises(gexc.GoogleAPICallError) as many:
        bad.schedule_many(tasks, now)
    with pytest.raises(gexc.GoogleAPICallError) as one:
        bad.schedule(*tasks[0], now)
    assert type(many.value) is type(one.value)


@pytest.mark.emulator
@pytest.mark.parametrize("ahead", [timedelta(days=2), timedelta(days=45)])
def test_the_in_memory_scheduler_of_the_service_tests_schedules_as_the_real_adapter(emulator, scheduler, ahead):
    """tests/unit/memory.py's scheduler runs the production clamp: same fire time, same body (the
    real target in UTC even when asked in Berlin time)."""
    from tests.unit.memory import MemoryScheduler

    berlin = timezone(timedelta(hours=1))
    now = datetime.now(UTC)
    at = (now + ahead).astimezone(berlin)
    payload = {"doc_id": "a" * 40, "kind": "due", "level": 1}
    name = f"same-{ahead.days}"
    assert scheduler.schedule(name, at, payload, now) is True
    memory = MemoryScheduler()
    assert memory.schedule(name, at, payload, now) is True
    real = stored(emulator, scheduler, name)
    assert json.loads(real.http_request.body) == memory.tasks[name].payload
    assert abs(real.schedule_time - memory.tasks[name].at) < timedelta(milliseconds=1)
