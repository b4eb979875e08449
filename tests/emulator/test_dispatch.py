"""Dispatch as Cloud Tasks does it: timing, retries, limits, headers, OIDC, queue states."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2

from cloudtasks_emulator import Emulator
from fakes.base import FakeServer, Request, Response

from .conftest import fast_retry, make_queue

pytestmark = pytest.mark.emulator
SERVICE_ACCOUNT = "tasks@hilft-test.iam.gserviceaccount.com"


def create(client: tasks_v2.CloudTasksClient, queue: str, url: str, task_id: str | None = None,
           in_seconds: float | None = None, **request: object) -> tasks_v2.Task:
    task = tasks_v2.Task(http_request=tasks_v2.HttpRequest(url=url, **request))
    if task_id:
        task.name = f"{queue}/tasks/{task_id}"
    if in_seconds is not None:
        task.schedule_time = datetime.now(UTC) + timedelta(seconds=in_seconds)
    return client.create_task(parent=queue, task=task)


def respond_with(server: FakeServer, handler: object) -> None:
    server._routes.clear()  # the conftest receiver answers 200; these tests script their own answers
    for method in ("GET", "POST", "PUT"):
        server.route(method, r"/.*", handler)  # type: ignore[arg-type]


def gone(client: tasks_v2.CloudTasksClient, name: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.get_task(name=name)
        except exceptions.NotFound:
            return True
        time.sleep(0.02)
    return False


def test_dispatch_carries_production_headers_method_and_body(client: tasks_v2.CloudTasksClient, queue: str,
                                                             receiver: FakeServer) -> None:
    task = create(client, queue, receiver.url + "/deadline?x=1", "hdr", http_method=tasks_v2.HttpMethod.PUT,
                  body=b'{"mention": "m1"}',
                  headers={"Content-Type": "application/json", "X-Custom": "kept", "User-Agent": "forged",
                           "X-CloudTasks-TaskName": "forged"})
    assert receiver.wait_for(lambda reqs: len(reqs) == 1)
    request = receiver.accepted[0]
    assert (request.method, request.path, request.query) == ("PUT", "/deadline", "x=1")
    assert request.body == b'{"mention": "m1"}'
    assert request.header("content-type") == "application/json"
    assert request.header("x-custom") == "kept"
    assert request.header("user-agent") == "Google-Cloud-Tasks"
    assert request.header("x-cloudtasks-queuename") == queue.rsplit("/", 1)[1]
    assert request.header("x-cloudtasks-taskname") == "hdr"
    assert request.header("x-cloudtasks-taskretrycount") == "0"
    assert request.header("x-cloudtasks-taskexecutioncount") == "0"
    assert request.header("x-cloudtasks-taskpreviousresponse") is None
    assert request.header("authorization") is None
    eta = float(request.header("x-cloudtasks-tasketa") or "nan")
    assert eta == pytest.approx(task.schedule_time.timestamp(), abs=1e-5)


def test_schedule_time_is_honoured_not_early(client: tasks_v2.CloudTasksClient, queue: str,
                                             receiver: FakeServer) -> None:
    task = create(client, queue, receiver.url, in_seconds=1.0)
    assert not receiver.wait_for(lambda reqs: len(reqs) > 0, timeout=0.8)
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=2)
    lag = receiver.accepted[0].received_at - task.schedule_time.timestamp()
    assert 0 <= lag < 0.3


def test_task_deleted_before_it_fires_is_never_dispatched(client: tasks_v2.CloudTasksClient, queue: str,
                                                          receiver: FakeServer) -> None:
    doomed = create(client, queue, receiver.url + "/doomed", in_seconds=0.4)
    create(client, queue, receiver.url + "/kept", in_seconds=0.6)
    client.delete_task(name=doomed.name)
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=3)
    time.sleep(0.3)
    assert [r.path for r in receiver.requests] == ["/kept"]


def test_500_is_retried_with_doubling_backoff_until_success(client: tasks_v2.CloudTasksClient,
                                                            receiver: FakeServer) -> None:
    queue = make_queue(client, retry_config=fast_retry(max_attempts=5, min_backoff=0.2))
    receiver.fail_next(2, status=500)
    task = create(client, queue, receiver.url, "flaky")
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=5)
    assert gone(client, task.name)
    attempts = receiver.requests
    assert [r.header("x-cloudtasks-taskretrycount") for r in attempts] == ["0", "1", "2"]
    assert [r.header("x-cloudtasks-taskpreviousresponse") for r in attempts] == [None, "500", "500"]
    # 5xx responses do not count as executions
    assert [r.header("x-cloudtasks-taskexecutioncount") for r in attempts] == ["0", "0", "0"]
    gaps = [later.received_at - earlier.received_at for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert 0.2 <= gaps[0] < 0.45
    assert 0.4 <= gaps[1] < 0.65
    # the ETA of a retry is its new schedule time, not the original one
    etas = [float(r.header("x-cloudtasks-tasketa") or "nan") for r in attempts]
    assert etas[1] - etas[0] == pytest.approx(gaps[0], abs=0.1)


def test_non_5xx_failures_count_as_executions(client: tasks_v2.CloudTasksClient, receiver: FakeServer) -> None:
    queue = make_queue(client, retry_config=fast_retry(max_attempts=5, min_backoff=0.1))
    receiver.fail_next(1, status=404)
    receiver.fail_next(1, status=500)
    create(client, queue, receiver.url)
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=5)
    assert [r.header("x-cloudtasks-taskexecutioncount") for r in receiver.requests] == ["0", "1", "1"]
    assert [r.header("x-cloudtasks-taskpreviousresponse") for r in receiver.requests] == [None, "404", "500"]


def test_failed_attempt_is_recorded_on_the_task(client: tasks_v2.CloudTasksClient, receiver: FakeServer) -> None:
    queue = make_queue(client, retry_config=fast_retry(max_attempts=2, min_backoff=1.0))
    receiver.fail_next(1, status=500)
    task = create(client, queue, receiver.url, "recorded")
    time.sleep(0.4)
    seen = client.get_task(name=task.name)
    assert (seen.dispatch_count, seen.response_count) == (1, 1)
    assert seen.last_attempt.response_status.code == 13  # INTERNAL for HTTP 500
    assert seen.first_attempt.dispatch_time == seen.last_attempt.dispatch_time
    assert seen.schedule_time.timestamp() > time.time() + 0.3  # rescheduled by min_backoff


def test_max_attempts_is_respected(client: tasks_v2.CloudTasksClient, receiver: FakeServer) -> None:
    queue = make_queue(client, retry_config=fast_retry(max_attempts=3, min_backoff=0.1))
    respond_with(receiver, lambda request, match: Response(500, {"error": "always"}))
    task = create(client, queue, receiver.url, "hopeless")
    assert gone(client, task.name)
    time.sleep(0.6)  # a fourth attempt would come 0.4 s after the third
    assert len(receiver.requests) == 3
    with pytest.raises(exceptions.AlreadyExists):  # given up, but its name stays reserved
        create(client, queue, receiver.url, "hopeless")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(client: tasks_v2.CloudTasksClient, receiver: FakeServer, status: int) -> None:
    queue = make_queue(client, retry_config=fast_retry(min_backoff=0.1))
    receiver.fail_next(1, status=status, headers={"Retry-After": "1"})
    create(client, queue, receiver.url)
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=4)
    first, second = receiver.requests
    assert 1.0 <= second.received_at - first.received_at < 1.4


def test_dispatch_deadline_is_enforced_and_retried(client: tasks_v2.CloudTasksClient,
                                                   receiver: FakeServer) -> None:
    queue = make_queue(client, retry_config=fast_retry(min_backoff=0.1))
    calls: list[float] = []

    def slow_once(request: Request, match: object) -> Response:
        calls.append(time.time())
        if len(calls) == 1:
            time.sleep(1.0)
        return Response(200, {})

    respond_with(receiver, slow_once)
    task = tasks_v2.Task(http_request=tasks_v2.HttpRequest(url=receiver.url),
                         dispatch_deadline=timedelta(seconds=0.4))
    client.create_task(parent=queue, task=task)
    assert receiver.wait_for(lambda reqs: len(reqs) == 2, timeout=5)
    assert len(calls) == 2
    assert 0.4 <= calls[1] - calls[0] < 0.9  # timed out at 0.4 s, retried after 0.1 s


def test_task_deleted_while_in_flight_is_not_retried(client: tasks_v2.CloudTasksClient,
                                                     receiver: FakeServer) -> None:
    queue = make_queue(client, retry_config=fast_retry(min_backoff=0.1))
    started = threading.Event()

    def slow_failure(request: Request, match: object) -> Response:
        started.set()
        time.sleep(0.4)
        return Response(500, {})

    respond_with(receiver, slow_failure)
    task = create(client, queue, receiver.url)
    assert started.wait(3)
    client.delete_task(name=task.name)
    time.sleep(0.8)
    assert len(receiver.requests) == 1


def test_paused_queue_holds_tasks_until_resumed(client: tasks_v2.CloudTasksClient, queue: str,
                                                receiver: FakeServer) -> None:
    client.pause_queue(name=queue)
    create(client, queue, receiver.url)
    assert not receiver.wait_for(lambda reqs: len(reqs) > 0, timeout=0.5)
    client.resume_queue(name=queue)
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=2)


def test_purge_deletes_every_task(client: tasks_v2.CloudTasksClient, queue: str, receiver: FakeServer) -> None:
    for _ in range(3):
        create(client, queue, receiver.url, in_seconds=0.3)
    purged = client.purge_queue(name=queue)
    assert purged.purge_time is not None
    assert list(client.list_tasks(parent=queue)) == []
    time.sleep(0.6)
    assert receiver.requests == []
    create(client, queue, receiver.url)  # the queue still works
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=2)


def test_run_task_dispatches_now_even_on_a_paused_queue(client: tasks_v2.CloudTasksClient, queue: str,
                                                        receiver: FakeServer) -> None:
    client.pause_queue(name=queue)
    task = create(client, queue, receiver.url, "forced", in_seconds=3600)
    ran = client.run_task(name=task.name)
    assert ran.dispatch_count == 1
    assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=2)
    assert gone(client, task.name)
    with pytest.raises(exceptions.NotFound):
        client.run_task(name=task.name)


def test_concurrency_is_capped_at_max_concurrent_dispatches(client: tasks_v2.CloudTasksClient,
                                                            receiver: FakeServer) -> None:
    queue = make_queue(client, rate_limits=tasks_v2.RateLimits(max_concurrent_dispatches=2))
    lock = threading.Lock()
    running = peak = 0

    def slow(request: Request, match: object) -> Response:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.2)
        with lock:
            running -= 1
        return Response(200, {})

    respond_with(receiver, slow)
    for _ in range(6):
        create(client, queue, receiver.url)
    assert receiver.wait_for(lambda reqs: len(reqs) == 6, timeout=5)
    assert peak == 2


def test_dispatch_rate_is_capped_at_max_dispatches_per_second(client: tasks_v2.CloudTasksClient,
                                                              receiver: FakeServer) -> None:
    queue = make_queue(client, rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=5))
    for _ in range(6):
        create(client, queue, receiver.url)
    assert receiver.wait_for(lambda reqs: len(reqs) == 6, timeout=5)
    times = sorted(r.received_at for r in receiver.accepted)
    assert times[-1] - times[0] >= 5 / 5 - 0.05  # burst of 1, then one every 0.2 s


def test_oidc_token_verifies_against_the_published_jwks(client: tasks_v2.CloudTasksClient, queue: str,
                                                        receiver: FakeServer, emulator: Emulator) -> None:
    create(client, queue, receiver.url + "/deadline", oidc_token=tasks_v2.OidcToken(
        service_account_email=SERVICE_ACCOUNT))
    create(client, queue, receiver.url + "/other", oidc_token=tasks_v2.OidcToken(
        service_account_email=SERVICE_ACCOUNT, audience="https://deadline.hilft.example"))
    assert receiver.wait_for(lambda reqs: len(reqs) == 2, timeout=3)
    by_path = {r.path: r for r in receiver.accepted}
    jwks = jwt.PyJWKClient(emulator.jwks_url)
    expected_audiences = {"/deadline": receiver.url + "/deadline", "/other": "https://deadline.hilft.example"}
    subjects = set()
    for path, audience in expected_audiences.items():
        scheme, token = (by_path[path].header("authorization") or "").split(" ", 1)
        assert scheme == "Bearer"
        assert jwt.get_unverified_header(token)["kid"]
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=audience,
                            issuer="https://accounts.google.com")
        assert claims["email"] == SERVICE_ACCOUNT and claims["email_verified"] is True
        assert claims["sub"].isdigit() and claims["azp"] == claims["sub"]
        assert claims["exp"] - claims["iat"] == 3600
        subjects.add(claims["sub"])
        with pytest.raises(jwt.InvalidAudienceError):
            jwt.decode(token, key.key, algorithms=["RS256"], audience="https://someone-else.example")
    assert len(subjects) == 1  # stable per service account


def test_openid_configuration_points_at_the_jwks(emulator: Emulator) -> None:
    base = emulator.jwks_url.rsplit("/", 1)[0]
    config = httpx.get(base + "/.well-known/openid-configuration", trust_env=False).json()
    assert config["jwks_uri"] == emulator.jwks_url
    assert config["issuer"] == "https://accounts.google.com"
    keys = httpx.get(emulator.jwks_url, trust_env=False).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert keys[0]["n"] and keys[0]["e"] and keys[0]["kid"]


def test_stop_leaves_no_thread_behind(receiver: FakeServer) -> None:
    before = {t.ident for t in threading.enumerate()}
    with Emulator(port=0, jwks_port=0) as emulator:
        client = emulator.client()
        queue = make_queue(client)
        create(client, queue, receiver.url)
        create(client, queue, receiver.url, in_seconds=60)
        assert receiver.wait_for(lambda reqs: len(reqs) == 1, timeout=3)
        client.transport.close()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        leftover = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not leftover:
            break
        time.sleep(0.05)
    assert leftover == []
