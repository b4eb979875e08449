"""Attack: put a sink's own control syntax in a handle, an excerpt or a department label.

Every string hilft hands a sink is read by that sink's rules: Slack parses ``<!channel>``,
``<@U…>`` and ``<https://evil|login>`` in every mrkdwn text *and* in the top-level ``text`` (the
notification fallback); Google Chat turns ``<users/all>`` into a mention in ``text`` and reads
HTML in card widgets; PagerDuty shows a summary of at most 1024 characters on phones and in
SMS; a generic webhook receiver parses JSON that must be strict UTF-8. Line breaks and
right-to-left overrides let a value fake a second line or reverse what follows.

Each sink's payload is captured as the bytes the adapter would send, for hostile values of every
field that comes from outside (author handle, excerpt, department, post id, post URL), and for
incident alerts (headline with the policy's topic label and the place, redacted excerpts, board URL).
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hilft.adapters.incident_sinks import build_incident_sinks
from hilft.adapters.sinks import GoogleChatSink, PagerDutySink, SinkTransport, SlackSink, WebhookSink
from hilft.core.alerts import Alert, AlertAction
from hilft.core.incident_alerts import IncidentAlert, IncidentEvent

DUE = datetime(2026, 11, 23, 7, 55, tzinfo=UTC)

SYNTAX = ["<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<#C024BE7LR>", "<!subteam^S1>",
          "<https://evil.example|login>", "<mailto:a@evil.example|mail>", "<users/all>", "<users/123>",
          "&lt;!channel&gt;", "&amp;", "&", "<b>bold</b>", "<a href=\"https://evil.example\">x</a>",
          "<script>alert(1)</script>", "<font color=\"#f00\">x</font>", "*bold*", "_it_", "`code`", "> quote"]
INVISIBLE = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x0b", "\x85", "\x00", "\x1b[2J", "\u202e", "\u2066",
             "\u200f", "\u200b", "\ufeff"]
SURROGATES = ["\ud800", "\udfff"]
LONG = ["x" * 3000, "🚨" * 1200]
hostile = st.lists(st.one_of(st.sampled_from(SYNTAX + INVISIBLE + SURROGATES + LONG), st.text(max_size=10)),
                   min_size=1, max_size=5).map("".join)
urls = st.sampled_from([None, "https://x.com/i/status/1", "https://evil.example/a|<!channel>",
                        "https://evil.example/a b>c", "javascript:alert(1)", "https://evil.example/\n<!here>"])


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    action = draw(st.sampled_from(list(AlertAction)))
    return Alert(action=action, level=draw(st.integers(0, 4)), platform=draw(st.sampled_from(["x", "instagram"])),
                 post_id=draw(st.one_of(st.just("1890000000000000001"), hostile)),
                 doc_id="a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2",
                 author_handle=draw(st.one_of(st.none(), hostile)), excerpt=draw(hostile),
                 due_at=DUE, now=DUE + timedelta(minutes=draw(st.integers(-300, 3000))),
                 url=draw(urls), board_url=draw(st.sampled_from([None, "https://board.example/hilft"])),
                 department=draw(st.one_of(st.none(), hostile)))


class Capture(SinkTransport):
    """The transport every sink posts through, recording the exact bytes instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    def post(self, sink, url, body, headers=None, params=None, reason_of=None):  # type: ignore[override]
        self.bodies.append(body)


def sent(sink_type: type, alert: Alert, *args: str) -> dict[str, Any]:
    capture = Capture()
    sink_type(*args, transport=capture).send(alert)
    (body,) = capture.bodies
    return json.loads(body.decode("utf-8", errors="strict"))  # strict UTF-8: no lone surrogates on the wire


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def invisible(text: str, allow_newline: bool = False) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text
            if unicodedata.category(c) in BAD_CATEGORIES and not (allow_newline and c == "\n")]


def assert_urls_are_plain_https(payload: Any) -> None:
    for path, value in strings(payload):
        if path.endswith((".url", ".href", "client_url")):
            assert re.fullmatch(r"https?://[^\s<>|\"\\]+", value), (path, value)


HILFT_LINK = re.compile(r"<https?://[^\s<>|]+\|[a-z ]+>")  # hilft's own "<url|open post>"
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
HTML_ENTITY = re.compile(r"&(?!amp;|lt;|gt;|quot;|#x27;)")
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(alert=alerts())
def test_slack_escapes_every_mrkdwn_string_including_the_fallback_text(alert):
    message = sent(SlackSink, alert, "https://hooks.slack.example/services/T/B/x")
    mrkdwn = [("text", message["text"])]  # the top-level text is parsed as mrkdwn too
    plain = []
    for path, value in strings(message.get("blocks", []), "blocks"):
        if path.endswith(".text.text") or re.search(r"\.(fields|elements)\[\d+\]\.text$", path):
            (plain if _parent(message, path).get("type") == "plain_text" else mrkdwn).append((path, value))
    for path, value in mrkdwn:
        bare = HILFT_LINK.sub("", value.removeprefix("> "))  # hilft's own link and quote marker
        assert "<" not in bare and ">" not in bare, (path, value)
        assert not ENTITY.search(bare), (path, value)
        lines = value.split("\n")
        assert len(lines) <= 2 and (len(lines) == 1 or re.fullmatch(r"\*[A-Za-z ]+\*", lines[0])), (path, value)
        assert not invisible(value, allow_newline=True), (path, invisible(value, True))
    for path, value in plain:
        assert not invisible(value), (path, value)
    assert_urls_are_plain_https(message)


def _parent(message: Mapping[str, Any], path: str) -> Any:
    node: Any = message
    for part in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path)[:-1]:
        key, index = part
        node = node[int(index)] if index else node[key]
    return node


@SETTINGS
@given(alert=alerts())
def test_google_chat_text_is_one_line_without_mentions_and_card_text_is_escaped_html(alert):
    message = sent(GoogleChatSink, alert, "https://chat.googleapis.example/v1/spaces/A/messages?key=k&token=t")
    text = message["text"]
    assert "<" not in text and ">" not in text, text
    assert not invisible(text), invisible(text)
    for path, value in strings(message.get("cardsV2", []), "cardsV2"):
        assert not invisible(value), (path, invisible(value))
        if path.endswith(("decoratedText.text", "textParagraph.text")):
            bare = re.sub(r"</?i>", "", value)
            assert "<" not in bare and ">" not in bare, (path, value)
            assert not HTML_ENTITY.search(bare), (path, value)
    assert_urls_are_plain_https(message)


@SETTINGS
@given(alert=alerts())
def test_pagerduty_summary_is_one_plain_line_within_1024_characters(alert):
    event = sent(PagerDutySink, alert, "R0UT1NGKEY0000000000000000000000", "https://events.pagerduty.example/v2")
    assert len(event["dedup_key"]) <= 255
    if "payload" in event:
        summary = event["payload"]["summary"]
        assert 0 < len(summary) <= 1024
        assert not invisible(summary), invisible(summary)
        for path, value in strings(event["payload"]["custom_details"], "custom_details"):
            assert len(value) <= 1024 and not invisible(value), (path, value[:80])
    assert_urls_are_plain_https(event)


@SETTINGS
@given(alert=alerts())
def test_the_generic_webhook_sends_strict_utf8_json_with_plain_bounded_strings(alert):
    payload = sent(WebhookSink, alert, "https://receiver.example/hook", "secret")
    for path, value in strings(payload):
        assert not invisible(value), (path, invisible(value))
        assert len(value) <= 1024, (path, len(value))
    if alert.author_handle and alert.author_handle.strip():
        assert payload["author_handle"], "a handle is cleaned, not dropped"
    assert_urls_are_plain_https(payload)


def test_the_issue_examples_reach_no_sink_raw():
    alert = Alert(action=AlertAction.TRIGGER, level=2, platform="x", post_id="1",
                  doc_id="a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2", author_handle="<!channel>",
                  excerpt="log in at <https://evil|login>", due_at=DUE, now=DUE + timedelta(minutes=5),
                  url="https://x.com/i/status/1", board_url=None)
    slack = sent(SlackSink, alert, "https://hooks.slack.example/services/T/B/x")
    assert "<!channel>" not in slack["text"] and "&lt;!channel&gt;" in slack["text"]
    assert "<https://evil|login>" not in json.dumps(slack)
    resolve = sent(SlackSink, dataclasses.replace(alert, action=AlertAction.RESOLVE),
                   "https://hooks.slack.example/services/T/B/x")
    assert "<!channel>" not in resolve["text"]
    chat = sent(GoogleChatSink, dataclasses.replace(alert, author_handle="<users/all>"), "https://chat.example/m")
    assert "<users/all>" not in chat["text"]


# -- incident alerts: the same sinks, the same rules ----------------------------------------------
# An incident's headline carries the policy's topic label and the place named in posts, its
# excerpts are redacted post text: both come from outside and reach every sink.


@st.composite
def incident_alerts(draw: st.DrawFn) -> IncidentAlert:
    event = draw(st.sampled_from(list(IncidentEvent)))
    now = DUE + timedelta(minutes=draw(st.integers(0, 3000)))
    return IncidentAlert(event=event, incident_id="ab" * 20,
                         headline=draw(st.one_of(st.just("Störung Festnetz, 53113 Bonn — 37 posts in 12 min"), hostile)),
                         count=draw(st.integers(0, 5000)), first_seen=DUE, now=now,
                         excerpts=tuple(draw(st.lists(hostile, max_size=4))),
                         board_url=draw(st.sampled_from([None, "https://board.example/hilft", "javascript:alert(1)",
                                                         "https://evil.example/\n<!here>"])),
                         level=draw(st.integers(0, 4)), overdue=draw(st.integers(0, 400)),
                         oldest_due=draw(st.one_of(st.none(), st.just(DUE - timedelta(days=1)), st.just(DUE))))


class _IncidentSettings:
    slack_webhook_url = "https://hooks.slack.example/services/T/B/x"
    google_chat_webhook_url = "https://chat.googleapis.example/v1/spaces/A/messages?key=k&token=t"
    pagerduty_routing_key = "R0UT1NGKEY0000000000000000000000"
    pagerduty_events_url = "https://events.pagerduty.example/v2"
    alert_webhook_url = "https://receiver.example/hook"
    alert_webhook_secret = "secret"


def incident_sent(name: str, alert: IncidentAlert) -> dict[str, Any]:
    capture = Capture()
    build_incident_sinks(_IncidentSettings(), transport=capture)[name].send(alert)
    (body,) = capture.bodies
    return json.loads(body.decode("utf-8", errors="strict"))


@SETTINGS
@given(alert=incident_alerts())
def test_incident_slack_messages_escape_every_mrkdwn_string_including_the_fallback_text(alert):
    message = incident_sent("slack", alert)
    mrkdwn = [("text", message["text"])]
    for path, value in strings(message.get("blocks", []), "blocks"):
        if path.endswith(".text.text") or re.search(r"\.(fields|elements)\[\d+\]\.text$", path):
            if _parent(message, path).get("type") != "plain_text":
                mrkdwn.append((path, value))
    for path, value in mrkdwn:
        bare = value.removeprefix("> ")
        assert "<" not in bare and ">" not in bare, (path, value)
        assert not ENTITY.search(bare), (path, value)
        assert "\n" not in value and not invisible(value), (path, invisible(value))
    assert_urls_are_plain_https(message)


@SETTINGS
@given(alert=incident_alerts())
def test_incident_google_chat_text_is_without_mentions_and_invisible_characters(alert):
    message = incident_sent("google_chat", alert)
    text = message["text"]
    assert "<" not in text and ">" not in text, text
    assert not invisible(text, allow_newline=True), invisible(text, True)  # excerpts are lines of their own
    assert len(text.split("\n")) <= 4, text
    for path, value in strings(message.get("cardsV2", []), "cardsV2"):
        assert not invisible(value), (path, invisible(value))
        assert "<" not in value and ">" not in value, (path, value)
    assert_urls_are_plain_https(message)


@SETTINGS
@given(alert=incident_alerts())
def test_incident_pagerduty_summary_and_details_are_plain_bounded_lines(alert):
    event = incident_sent("pagerduty", alert)
    if "payload" in event:
        summary = event["payload"]["summary"]
        assert 0 < len(summary) <= 1024 and not invisible(summary), invisible(summary)
        for path, value in strings(event["payload"]["custom_details"], "custom_details"):
            assert len(value) <= 1024 and not invisible(value), (path, value[:80])
    assert_urls_are_plain_https(event)


@SETTINGS
@given(alert=incident_alerts())
def test_incident_webhook_sends_plain_bounded_strings(alert):
    payload = incident_sent("webhook", alert)
    for path, value in strings(payload):
        assert not invisible(value), (path, invisible(value))
        assert len(value) <= 1024, (path, len(value))
    assert_urls_are_plain_https(payload)


def test_the_audit_examples_reach_no_incident_sink_raw():
    excerpt = "kein Netz \u202egnuröts\u200b \x1b[2J <!channel> <users/all>"
    alert = IncidentAlert(event=IncidentEvent.OPENED, incident_id="ab" * 20, headline="Störung, <!here> Bonn",
                          count=9, first_seen=DUE, now=DUE, excerpts=(excerpt,), board_url="https://board.example/")
    for name in ("slack", "google_chat", "pagerduty", "webhook"):
        wire = json.dumps(incident_sent(name, alert), ensure_ascii=False)
        for raw in ("\u202e", "\u200b", "\x1b"):
            assert raw not in wire and json.dumps(raw)[1:-1] not in wire, (name, raw)
        if name in ("slack", "google_chat"):  # mention syntax; PagerDuty and the webhook carry plain JSON text
            assert not {"<!channel>", "<!here>", "<users/all>"} & set(re.findall(r"<[^<>]*>", wire)), name
