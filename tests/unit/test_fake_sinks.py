"""The fake sink servers check what the real services check, and the real adapters pass them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest

from fakes.sinks import (
    FAKE_ROUTING_KEY,
    GoogleChatFake,
    PagerDutyFake,
    SinkFake,
    SlackFake,
    WebhookFake,
    make_google_chat,
    make_pagerduty,
    make_slack,
    make_webhook,
    stop_all,
)
from hilft.adapters.sinks import (
    GoogleChatSink,
    PagerDutySink,
    SinkMisconfigured,
    SinkTransport,
    SlackSink,
    WebhookSink,
    build_sinks,
)
from hilft.core.alerts import Alert, AlertAction, alert_key, sign_webhook
from hilft.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DUE = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
SECRET = "loopback-webhook-secret"


def make_alert(action: AlertAction = AlertAction.TRIGGER, level: int = 1, doc_id: str = "d" * 40) -> Alert:
    return Alert(action=action, level=level, platform="facebook", post_id="1234567890_987654321",
                 doc_id=doc_id, author_handle="Max Mustermann", excerpt="Kundennummer [redacted], bitte melden",
                 due_at=DUE, now=DUE + timedelta(minutes=5 + 30 * level),
                 url="https://www.facebook.com/1234567890_987654321", board_url="http://127.0.0.1:8708/")


@pytest.fixture
def transport() -> Iterator[SinkTransport]:
    shared = SinkTransport(sleep=lambda _: None)  # real HTTP, no real waiting between retries
    yield shared
    shared.close()


# One server per fake for the module, reset before each test: stopping a FakeServer takes ~0.5 s.
@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, SinkFake]]:
    fakes: dict[str, SinkFake] = {"slack": make_slack(), "chat": make_google_chat(),
                                  "pagerduty": make_pagerduty(), "webhook": make_webhook(SECRET)}
    for fake in fakes.values():
        fake.start()
    yield fakes
    stop_all(list(fakes.values()))


@pytest.fixture(autouse=True)
def fresh_servers(servers: dict[str, SinkFake]) -> None:
    for fake in servers.values():
        fake.reset()


@pytest.fixture
def slack(servers: dict[str, SinkFake]) -> SlackFake:
    return cast(SlackFake, servers["slack"])


@pytest.fixture
def chat(servers: dict[str, SinkFake]) -> GoogleChatFake:
    return cast(GoogleChatFake, servers["chat"])


@pytest.fixture
def pagerduty(servers: dict[str, SinkFake]) -> PagerDutyFake:
    return cast(PagerDutyFake, servers["pagerduty"])


@pytest.fixture
def webhook(servers: dict[str, SinkFake]) -> WebhookFake:
    return cast(WebhookFake, servers["webhook"])


def test_fake_routing_key_is_32_characters_like_pagerduty_keys() -> None:
    assert len(FAKE_ROUTING_KEY) == 32


# -- Slack ----------------------------------------------------------------------------------------


def test_slack_fake_accepts_the_adapters_block_kit_message(slack: SlackFake, transport: SinkTransport) -> None:
    SlackSink(slack.webhook_url, transport).send(make_alert())
    [message] = slack.messages
    assert message["blocks"][0]["type"] == "header"
    assert slack.delivered[0].response == "ok"


def test_slack_fake_rejects_a_message_without_text_or_blocks(slack: SlackFake) -> None:
    response = httpx.post(slack.webhook_url, json={"attachments": []})
    assert (response.status_code, response.text) == (400, "no_text")
    assert slack.messages == []


def test_slack_fake_rejects_broken_blocks(slack: SlackFake) -> None:
    header = {"type": "header", "text": {"type": "mrkdwn", "text": "headers are plain_text only"}}
    response = httpx.post(slack.webhook_url, json={"text": "x", "blocks": [header]})
    assert (response.status_code, response.text) == (400, "invalid_blocks")


def test_slack_fake_answers_no_service_for_an_unknown_webhook(slack: SlackFake,
                                                              transport: SinkTransport) -> None:
    with pytest.raises(SinkMisconfigured) as caught:
        SlackSink(slack.url + "/services/T1/B1/revoked", transport).send(make_alert())
    assert (caught.value.status, caught.value.reason) == (404, "no_service")


def test_slack_sink_rides_out_scripted_server_errors(slack: SlackFake, transport: SinkTransport) -> None:
    slack.fail_next(2, status=503)
    SlackSink(slack.webhook_url, transport).send(make_alert())
    assert len(slack.requests) == 3
    assert len(slack.messages) == 1


# -- Google Chat ----------------------------------------------------------------------------------


def test_chat_escalations_share_one_thread(chat: GoogleChatFake, transport: SinkTransport) -> None:
    sink = GoogleChatSink(chat.webhook_url, transport)
    for level in (0, 1, 2):
        sink.send(make_alert(level=level))
    sink.send(make_alert(AlertAction.RESOLVE))
    sink.send(make_alert(doc_id="e" * 40))  # another post gets its own thread
    threads = [item.response["thread"]["name"] for item in chat.delivered]
    assert len(set(threads[:4])) == 1
    assert threads[4] != threads[0]
    assert chat.threads[alert_key("d" * 40)] == threads[0]


def test_chat_fake_starts_a_new_thread_without_a_reply_option(chat: GoogleChatFake) -> None:
    body = {"text": "hi", "thread": {"threadKey": "k"}}
    first = httpx.post(chat.webhook_url, json=body).json()
    second = httpx.post(chat.webhook_url, json=body).json()
    assert first["thread"]["name"] != second["thread"]["name"]


@pytest.mark.parametrize(("query", "status"), [
    ("key=wrong&token=fake-chat-token", 400),
    ("token=fake-chat-token", 400),
    ("key=fake-chat-key&token=wrong", 401),
    ("key=fake-chat-key&token=fake-chat-token&messageReplyOption=SOMETIMES", 400),
])
def test_chat_fake_checks_key_token_and_reply_option(chat: GoogleChatFake, query: str, status: int) -> None:
    response = httpx.post(f"{chat.url}/v1/spaces/{chat.space}/messages?{query}", json={"text": "hi"})
    assert response.status_code == status
    assert response.json()["error"]["code"] == status


def test_chat_fake_rejects_an_empty_message(chat: GoogleChatFake, transport: SinkTransport) -> None:
    response = httpx.post(chat.webhook_url, json={"thread": {"threadKey": "k"}})
    assert response.status_code == 400
    assert chat.messages == []


# -- PagerDuty ------------------------------------------------------------------------------------


def test_pagerduty_resolve_uses_same_dedup_key_as_trigger(pagerduty: PagerDutyFake,
                                                          transport: SinkTransport) -> None:
    sink = PagerDutySink(FAKE_ROUTING_KEY, pagerduty.events_url, transport)
    key = alert_key("d" * 40)
    sink.send(make_alert(level=0))
    assert pagerduty.state(key) == "triggered"
    sink.send(make_alert(level=2))  # escalation dedupes into the same incident
    sink.send(make_alert(AlertAction.ACKNOWLEDGE))
    assert pagerduty.state(key) == "acknowledged"
    sink.send(make_alert(AlertAction.RESOLVE))
    assert pagerduty.state(key) == "resolved"
    assert pagerduty.history == {key: ["trigger", "trigger", "acknowledge", "resolve"]}
    assert [item.response["dedup_key"] for item in pagerduty.delivered] == [key] * 4


def test_pagerduty_fake_answers_202_with_the_documented_body(pagerduty: PagerDutyFake,
                                                             transport: SinkTransport) -> None:
    PagerDutySink(FAKE_ROUTING_KEY, pagerduty.events_url, transport).send(make_alert())
    assert pagerduty.delivered[0].response == {"status": "success", "message": "Event processed",
                                               "dedup_key": alert_key("d" * 40)}


def test_pagerduty_fake_rejects_a_wrong_routing_key_and_the_sink_reports_misconfiguration(
        pagerduty: PagerDutyFake, transport: SinkTransport) -> None:
    with pytest.raises(SinkMisconfigured) as caught:
        PagerDutySink("too-short", pagerduty.events_url, transport).send(make_alert())
    assert caught.value.status == 400
    assert "32 characters" in (caught.value.reason or "")
    assert len(pagerduty.requests) == 1  # not retried


@pytest.mark.parametrize(("event", "error_fragment"), [
    ({"event_action": "page_everyone"}, "'event_action' is invalid"),
    ({"event_action": "trigger"}, "'payload' is missing"),
    ({"event_action": "trigger", "payload": {"summary": "s", "source": "hilft", "severity": "panic"}},
     "'payload.severity' is invalid"),
    ({"event_action": "trigger", "payload": {"summary": "", "source": "hilft", "severity": "error"}},
     "'payload.summary' is missing"),
    ({"event_action": "resolve"}, "'dedup_key' is missing"),
])
def test_pagerduty_fake_validates_events_like_the_events_api(pagerduty: PagerDutyFake, event: dict,
                                                             error_fragment: str) -> None:
    response = httpx.post(pagerduty.events_url, json={"routing_key": FAKE_ROUTING_KEY, **event})
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "invalid event"
    assert any(error_fragment in error for error in answer["errors"])


def test_pagerduty_retrigger_after_resolve_opens_a_new_incident(pagerduty: PagerDutyFake,
                                                               transport: SinkTransport) -> None:
    sink = PagerDutySink(FAKE_ROUTING_KEY, pagerduty.events_url, transport)
    sink.send(make_alert())
    sink.send(make_alert(AlertAction.RESOLVE))
    sink.send(make_alert())
    assert pagerduty.state(alert_key("d" * 40)) == "triggered"


# -- generic webhook ------------------------------------------------------------------------------


def test_webhook_fake_accepts_a_signed_delivery(webhook: WebhookFake, transport: SinkTransport) -> None:
    WebhookSink(webhook.webhook_url, SECRET, transport).send(make_alert(AlertAction.RESOLVE))
    [payload] = webhook.messages
    assert payload["event"] == "resolved"


def test_webhook_fake_rejects_a_wrong_secret_with_401(webhook: WebhookFake, transport: SinkTransport) -> None:
    with pytest.raises(SinkMisconfigured) as caught:
        WebhookSink(webhook.webhook_url, "not-the-secret", transport).send(make_alert())
    assert caught.value.status == 401
    assert webhook.messages == []


def test_webhook_fake_rejects_a_stale_or_missing_signature(webhook: WebhookFake) -> None:
    body = b'{"event":"triggered"}'
    stale = sign_webhook(body, SECRET, int(time.time()) - 3600)
    headers = {"Content-Type": "application/json"}
    assert httpx.post(webhook.webhook_url, content=body,
                      headers={**headers, "X-Hilft-Signature": stale}).status_code == 401
    assert httpx.post(webhook.webhook_url, content=body, headers=headers).status_code == 401


def test_webhook_fake_counts_redeliveries(webhook: WebhookFake, transport: SinkTransport) -> None:
    sink = WebhookSink(webhook.webhook_url, SECRET, transport)
    sink.send(make_alert())
    sink.send(make_alert())
    assert len(webhook.messages) == 2
    assert webhook.duplicates == 1


# -- all four through build_sinks, and the runner --------------------------------------------------


def test_every_configured_sink_reaches_its_fake(slack: SlackFake, chat: GoogleChatFake,
                                                pagerduty: PagerDutyFake, webhook: WebhookFake,
                                                transport: SinkTransport) -> None:
    sinks = build_sinks(Settings.from_env({
        "SLACK_WEBHOOK_URL": slack.webhook_url,
        "GOOGLE_CHAT_WEBHOOK_URL": chat.webhook_url,
        "PAGERDUTY_ROUTING_KEY": FAKE_ROUTING_KEY,
        "PAGERDUTY_EVENTS_URL": pagerduty.events_url,
        "ALERT_WEBHOOK_URL": webhook.webhook_url,
        "ALERT_WEBHOOK_SECRET": SECRET,
    }), transport=transport)
    for sink in sinks.values():
        sink.send(make_alert(level=2))
    assert [len(fake.messages) for fake in (slack, chat, pagerduty, webhook)] == [1, 1, 1, 1]


def _read_until_ready(process: subprocess.Popen[str], timeout: float = 15.0) -> dict[str, str]:
    values: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline().strip()
        if line == "fakes.sinks ready":
            return values
        if "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"runner never became ready; got {values}")


def test_runner_prints_the_urls_to_configure_and_stops_on_sigterm(transport: SinkTransport) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "infra/local"), str(ROOT / "functions")])}
    routing_key = "K" * 32
    process = subprocess.Popen(
        [sys.executable, "-m", "fakes.sinks", "--routing-key", routing_key, "--webhook-secret", SECRET],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        values = _read_until_ready(process)
        assert set(values) == {"SLACK_WEBHOOK_URL", "GOOGLE_CHAT_WEBHOOK_URL", "PAGERDUTY_EVENTS_URL",
                               "ALERT_WEBHOOK_URL"}
        assert all(value.startswith("http://127.0.0.1:") for value in values.values())
        sinks = build_sinks(Settings.from_env({**values, "PAGERDUTY_ROUTING_KEY": routing_key,
                                               "ALERT_WEBHOOK_SECRET": SECRET}), transport=transport)
        for sink in sinks.values():
            sink.send(make_alert())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.post(values["PAGERDUTY_EVENTS_URL"], json={})
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stdout, stderr = process.communicate()
    assert SECRET not in stdout + stderr
    assert routing_key not in stdout + stderr
