"""Alert sink adapters against respx: exact bodies, bounded retries, and no secrets in logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from hilft.adapters.sinks import (
    CHAT_REPLY_OPTION,
    GoogleChatSink,
    PagerDutySink,
    RetryPolicy,
    SinkMisconfigured,
    SinkTransport,
    SinkUnavailable,
    SlackSink,
    WebhookSink,
    build_sinks,
)
from hilft.core.alerts import (
    Alert,
    AlertAction,
    delivery_id,
    google_chat_message,
    pagerduty_event,
    slack_message,
    verify_webhook_signature,
    webhook_payload,
)
from hilft.core.errors import TransientSinkError
from hilft.settings import Settings

SLACK_SECRET_PATH = "/services/T0SECRET/B0SECRET/slackSecretToken123"
SLACK_URL = "https://hooks.slack.example" + SLACK_SECRET_PATH
CHAT_BASE = "https://chat.googleapis.example/v1/spaces/AAAA/messages"
CHAT_URL = CHAT_BASE + "?key=chatKeySecret&token=chatTokenSecret"
EVENTS_URL = "https://events.pagerduty.example/v2/enqueue"
ROUTING_KEY = "R0UT1NGKEY0000000000000000000000"
HOOK_URL = "https://receiver.example/hooks/hilft"
HOOK_SECRET = "hookSigningSecret"
DUE = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
WALL_START = 1_741_942_800.0  # 2025-03-14T09:00:00Z


class FakeClock:
    """Monotonic and wall time that only move when the code sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return 500.0 + self.elapsed

    def wall(self) -> float:
        return WALL_START + self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transport(clock: FakeClock):
    shared = SinkTransport(client=httpx.Client(), sleep=clock.sleep, monotonic=clock.monotonic,
                           wall_clock=clock.wall)
    yield shared
    shared.close()


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def make_alert(action: AlertAction = AlertAction.TRIGGER, level: int = 1) -> Alert:
    return Alert(action=action, level=level, platform="instagram", post_id="17900000000000001",
                 doc_id="0f0e0d0c0b0a09080706050403020100ffeeddcc", author_handle="lena.m",
                 excerpt="Die Lieferung ist beschädigt angekommen.", due_at=DUE,
                 now=DUE + timedelta(minutes=40), url="https://www.instagram.com/p/Cabc/",
                 board_url="https://board.example/hilft")


# -- exact requests -------------------------------------------------------------------------------


def test_slack_posts_the_block_kit_message_as_json(mock: respx.MockRouter, transport: SinkTransport) -> None:
    route = mock.post(SLACK_URL).mock(return_value=httpx.Response(200, text="ok"))
    SlackSink(SLACK_URL, transport).send(make_alert())
    request = route.calls.last.request
    assert json.loads(request.content) == slack_message(make_alert())
    assert request.headers["content-type"].startswith("application/json")


def test_chat_adds_the_reply_option_and_keeps_key_and_token(mock: respx.MockRouter,
                                                             transport: SinkTransport) -> None:
    route = mock.post(url__startswith=CHAT_BASE).mock(return_value=httpx.Response(200, json={"name": "m"}))
    GoogleChatSink(CHAT_URL, transport).send(make_alert())
    request = route.calls.last.request
    assert dict(request.url.params) == {"key": "chatKeySecret", "token": "chatTokenSecret",
                                        "messageReplyOption": CHAT_REPLY_OPTION}
    assert json.loads(request.content) == google_chat_message(make_alert())


def test_pagerduty_posts_the_event_with_the_routing_key(mock: respx.MockRouter, transport: SinkTransport) -> None:
    route = mock.post(EVENTS_URL).mock(return_value=httpx.Response(202, json={"status": "success"}))
    PagerDutySink(ROUTING_KEY, EVENTS_URL, transport).send(make_alert(level=3))
    assert json.loads(route.calls.last.request.content) == pagerduty_event(make_alert(level=3), ROUTING_KEY)


def test_webhook_signs_the_exact_bytes_it_sends(mock: respx.MockRouter, transport: SinkTransport,
                                                clock: FakeClock) -> None:
    route = mock.post(HOOK_URL).mock(return_value=httpx.Response(204))
    WebhookSink(HOOK_URL, HOOK_SECRET, transport).send(make_alert(AlertAction.RESOLVE))
    request = route.calls.last.request
    assert json.loads(request.content) == webhook_payload(make_alert(AlertAction.RESOLVE))
    assert request.headers["x-hilft-event"] == "resolved"
    assert request.headers["x-hilft-delivery"] == delivery_id(make_alert(AlertAction.RESOLVE))
    signature = request.headers["x-hilft-signature"]
    assert signature.startswith(f"t={int(clock.wall())},v1=")
    verify_webhook_signature(request.content, signature, HOOK_SECRET, now=int(clock.wall()))


def test_webhook_sink_refuses_to_exist_without_a_secret() -> None:
    with pytest.raises(ValueError):
        WebhookSink(HOOK_URL, "")


# -- retries --------------------------------------------------------------------------------------


def test_server_errors_are_retried_until_one_is_accepted(mock: respx.MockRouter, transport: SinkTransport,
                                                         clock: FakeClock) -> None:
    route = mock.post(EVENTS_URL).mock(side_effect=[httpx.Response(500), httpx.Response(500),
                                                    httpx.Response(202, json={"status": "success"})])
    PagerDutySink(ROUTING_KEY, EVENTS_URL, transport).send(make_alert())
    assert route.call_count == 3
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff when the sink gives no Retry-After
    bodies = {call.request.content for call in route.calls}
    assert len(bodies) == 1  # every attempt sends the same event


def test_retry_after_seconds_is_honoured(mock: respx.MockRouter, transport: SinkTransport,
                                         clock: FakeClock) -> None:
    route = mock.post(SLACK_URL).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "2"}, text="rate_limited"),
        httpx.Response(200, text="ok"),
    ])
    SlackSink(SLACK_URL, transport).send(make_alert())
    assert route.call_count == 2
    assert clock.sleeps == [2.0]


def test_retry_after_as_an_http_date_is_honoured(mock: respx.MockRouter, transport: SinkTransport,
                                                 clock: FakeClock) -> None:
    when = datetime.fromtimestamp(WALL_START + 3, UTC)
    mock.post(SLACK_URL).mock(side_effect=[
        httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        httpx.Response(200, text="ok"),
    ])
    SlackSink(SLACK_URL, transport).send(make_alert())
    assert clock.sleeps == [3.0]


def test_retry_after_beyond_the_budget_gives_up_at_once(mock: respx.MockRouter, transport: SinkTransport,
                                                        clock: FakeClock) -> None:
    route = mock.post(SLACK_URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(SinkUnavailable) as caught:
        SlackSink(SLACK_URL, transport).send(make_alert())
    assert route.call_count == 1
    assert clock.sleeps == []
    assert caught.value.retry_after == 30.0


def test_persistent_server_errors_raise_a_transient_sink_error(mock: respx.MockRouter,
                                                               transport: SinkTransport) -> None:
    route = mock.post(EVENTS_URL).mock(return_value=httpx.Response(503))
    with pytest.raises(SinkUnavailable) as caught:
        PagerDutySink(ROUTING_KEY, EVENTS_URL, transport).send(make_alert())
    assert route.call_count == 3
    assert isinstance(caught.value, TransientSinkError)
    assert caught.value.http_status == 503
    assert caught.value.sink == "pagerduty"


def test_timeouts_and_refused_connections_are_retried(mock: respx.MockRouter, transport: SinkTransport) -> None:
    route = mock.post(HOOK_URL).mock(side_effect=[httpx.ConnectTimeout("slow"), httpx.ConnectError("refused"),
                                                  httpx.Response(200)])
    WebhookSink(HOOK_URL, HOOK_SECRET, transport).send(make_alert())
    assert route.call_count == 3


def test_the_time_budget_bounds_all_attempts(mock: respx.MockRouter, clock: FakeClock) -> None:
    def slow_failure(request: httpx.Request) -> httpx.Response:
        clock.elapsed += 2.0  # each attempt takes 2 s
        return httpx.Response(502)

    route = mock.post(EVENTS_URL).mock(side_effect=slow_failure)
    transport = SinkTransport(client=httpx.Client(), policy=RetryPolicy(max_attempts=5, budget_seconds=5.0),
                              sleep=clock.sleep, monotonic=clock.monotonic, wall_clock=clock.wall)
    with pytest.raises(SinkUnavailable):
        PagerDutySink(ROUTING_KEY, EVENTS_URL, transport).send(make_alert())
    assert route.call_count == 2  # 2 s + 0.5 s + 2 s, then 1 s more would pass 5 s
    assert clock.elapsed <= 5.0


def test_each_attempt_timeout_is_capped_by_the_remaining_budget(mock: respx.MockRouter,
                                                                 transport: SinkTransport) -> None:
    route = mock.post(SLACK_URL).mock(return_value=httpx.Response(200, text="ok"))
    SlackSink(SLACK_URL, transport).send(make_alert())
    timeout = route.calls.last.request.extensions["timeout"]
    assert 0 < timeout["read"] <= RetryPolicy().request_timeout


# -- misconfiguration -----------------------------------------------------------------------------


def test_client_error_is_misconfigured_without_retries(mock: respx.MockRouter, transport: SinkTransport,
                                                       clock: FakeClock) -> None:
    route = mock.post(SLACK_URL).mock(return_value=httpx.Response(400, text="invalid_payload"))
    with pytest.raises(SinkMisconfigured) as caught:
        SlackSink(SLACK_URL, transport).send(make_alert())
    assert route.call_count == 1
    assert clock.sleeps == []
    assert (caught.value.sink, caught.value.status, caught.value.reason) == ("slack", 400, "invalid_payload")
    assert not isinstance(caught.value, TransientSinkError)


def test_pagerduty_rejection_names_its_errors(mock: respx.MockRouter, transport: SinkTransport) -> None:
    errors = ["Length of 'routing_key' is incorrect (should be 32 characters)"]
    mock.post(EVENTS_URL).mock(return_value=httpx.Response(
        400, json={"status": "invalid event", "message": "Event object is invalid", "errors": errors}))
    with pytest.raises(SinkMisconfigured) as caught:
        PagerDutySink("short", EVENTS_URL, transport).send(make_alert())
    assert caught.value.reason == errors[0]


def test_chat_rejection_keeps_only_the_status_code_name(mock: respx.MockRouter, transport: SinkTransport) -> None:
    mock.post(url__startswith=CHAT_BASE).mock(return_value=httpx.Response(
        403, json={"error": {"code": 403, "message": "echo of Die Lieferung", "status": "PERMISSION_DENIED"}}))
    with pytest.raises(SinkMisconfigured) as caught:
        GoogleChatSink(CHAT_URL, transport).send(make_alert())
    assert caught.value.reason == "PERMISSION_DENIED"
    assert "Lieferung" not in str(caught.value)


def test_webhook_receiver_rejecting_the_signature_is_misconfigured(mock: respx.MockRouter,
                                                                   transport: SinkTransport) -> None:
    mock.post(HOOK_URL).mock(return_value=httpx.Response(401, json={"error": "invalid signature"}))
    with pytest.raises(SinkMisconfigured) as caught:
        WebhookSink(HOOK_URL, HOOK_SECRET, transport).send(make_alert())
    assert caught.value.status == 401


def test_an_unusable_url_is_misconfigured(transport: SinkTransport) -> None:
    with pytest.raises(SinkMisconfigured):
        SlackSink("ftp://hooks.slack.example/services/x", transport).send(make_alert())


def test_secrets_in_urls_never_reach_logs_or_exceptions(mock: respx.MockRouter, transport: SinkTransport,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    mock.post(SLACK_URL).mock(side_effect=httpx.ConnectError(f"cannot reach {SLACK_URL}"))
    mock.post(url__startswith=CHAT_BASE).mock(return_value=httpx.Response(500))
    raised: list[Exception] = []
    with caplog.at_level(logging.DEBUG, logger="hilft"):
        for sink in (SlackSink(SLACK_URL, transport), GoogleChatSink(CHAT_URL, transport)):
            with pytest.raises(SinkUnavailable) as caught:
                sink.send(make_alert())
            raised.append(caught.value)
    assert caplog.records, "the retries should have been logged"
    logged = caplog.text + " ".join(str(getattr(r, "fields", "")) for r in caplog.records)
    seen = logged + " ".join(str(exc) for exc in raised)
    for secret in ("slackSecretToken123", "chatKeySecret", "chatTokenSecret", "lena.m", "Lieferung"):
        assert secret not in seen
    assert all(exc.__cause__ is None and exc.__context__ is None for exc in raised)


# -- wiring ---------------------------------------------------------------------------------------


def test_unset_sinks_are_simply_absent() -> None:
    assert build_sinks(Settings.from_env({})) == {}
    assert set(build_sinks(Settings.from_env({"SLACK_WEBHOOK_URL": SLACK_URL, "PAGERDUTY_ROUTING_KEY": "  "}))) == {
        "slack"}


def test_build_sinks_reads_settings_and_shares_one_transport(transport: SinkTransport) -> None:
    settings = Settings.from_env({
        "SLACK_WEBHOOK_URL": SLACK_URL,
        "GOOGLE_CHAT_WEBHOOK_URL": CHAT_URL,
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "ALERT_WEBHOOK_URL": HOOK_URL,
        "ALERT_WEBHOOK_SECRET": HOOK_SECRET,
    })
    sinks = build_sinks(settings, transport=transport)
    assert set(sinks) == {"slack", "google_chat", "pagerduty", "webhook"}
    assert {name: sink.name for name, sink in sinks.items()} == {name: name for name in sinks}
    assert all(sink._transport is transport for sink in sinks.values())  # type: ignore[attr-defined]


def test_build_sinks_honours_a_custom_pagerduty_events_url(mock: respx.MockRouter,
                                                           transport: SinkTransport) -> None:
    route = mock.post("http://127.0.0.1:9/v2/enqueue").mock(return_value=httpx.Response(202, json={}))
    sinks = build_sinks(Settings.from_env({"PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
                                           "PAGERDUTY_EVENTS_URL": "http://127.0.0.1:9/v2/enqueue"}),
                        transport=transport)
    sinks["pagerduty"].send(make_alert())
    assert route.call_count == 1


def test_a_webhook_without_secret_is_disabled_loudly_and_the_rest_still_work(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="hilft"):
        sinks = build_sinks(Settings.from_env({"ALERT_WEBHOOK_URL": HOOK_URL, "SLACK_WEBHOOK_URL": SLACK_URL}))
    assert set(sinks) == {"slack"}
    assert any("ALERT_WEBHOOK_SECRET" in record.getMessage() for record in caplog.records)
    assert HOOK_URL not in caplog.text
