"""What on-call staff are told, built as plain JSON-able dicts for each sink (pure: no I/O).

One ``Alert`` value describes one moment in a post's life (due soon, overdue at some escalation
level, answered, acknowledged); one builder per sink turns it into that sink's wire format.
The adapters in ``hilft.adapters.sinks`` only send what these functions return.

Privacy: the excerpt handed in is already redacted (no phone numbers, e-mail addresses, ids);
it is cut to ``EXCERPT_LIMIT`` characters here so no alert ever carries a full post. Author
handles are public and on-call needs them, so alerts show them, but they are never logged.

Signed generic webhook
----------------------
``WebhookSink`` sends ``webhook_payload(alert)`` as compact JSON with the header::

    X-Hilft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.".encode() + body)>

A receiver recomputes the HMAC over the raw body bytes exactly as received, compares in
constant time and rejects timestamps older than a few minutes (replay protection);
``verify_webhook_signature`` does exactly that. Several ``v1=`` entries may appear during a
secret rotation; one match suffices. Each payload carries a stable ``id`` so a receiver can
drop redeliveries (Cloud Tasks retries at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hilft.core.errors import InvalidSignature

EXCERPT_LIMIT = 200
PAGERDUTY_SUMMARY_LIMIT = 1024
PAGERDUTY_SOURCE = "hilft"
PAGERDUTY_GROUP = "social-care"
WEBHOOK_SIGNATURE_HEADER = "X-Hilft-Signature"
WEBHOOK_EVENT_HEADER = "X-Hilft-Event"
WEBHOOK_DELIVERY_HEADER = "X-Hilft-Delivery"
WEBHOOK_SCHEMA = "hilft.alert.v1"
WEBHOOK_TOLERANCE_SECONDS = 300

_SLACK_HEADER_LIMIT = 150  # Block Kit: header text, plain_text
_SLACK_BUTTON_LIMIT = 75  # Block Kit: button text
_PLATFORM_NAMES = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "messenger": "Messenger"}
_AT_HANDLE_PLATFORMS = {"x", "instagram"}  # platforms whose handles are written as @name


class AlertAction(StrEnum):
    TRIGGER = "trigger"
    RESOLVE = "resolve"
    ACKNOWLEDGE = "acknowledge"


@dataclass(frozen=True)
class Alert:
    action: AlertAction
    level: int  # 0 = warning (due soon), 1.. = overdue escalation levels
    platform: str
    post_id: str
    doc_id: str
    author_handle: str | None
    excerpt: str  # already redacted; truncated here to EXCERPT_LIMIT on a word boundary
    due_at: datetime
    now: datetime
    url: str | None
    board_url: str | None
    department: str | None = None

    def __post_init__(self) -> None:
        for name in ("due_at", "now"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Alert.{name} must be timezone-aware")
        if self.level < 0:
            raise ValueError("Alert.level must be >= 0")
        if not isinstance(self.action, AlertAction):
            raise ValueError("Alert.action must be an AlertAction")


# -- small shared pieces --------------------------------------------------------------------------


def alert_key(doc_id: str) -> str:
    """Dedup key of every alert about one post: PagerDuty ``dedup_key`` and Chat ``threadKey``.

    Stable per post, so escalations, the acknowledgement and the resolve land on one incident
    and in one thread; built from the (hashed, non-personal) document id only.
    """
    return f"hilft-{doc_id}"


def delivery_id(alert: Alert) -> str:
    """Stable id of one alert delivery, so receivers can drop Cloud Tasks redeliveries."""
    raw = "\x1f".join((alert_key(alert.doc_id), alert.action.value, str(alert.level)))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def truncate_excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """Collapse whitespace and cut to at most ``limit`` characters, on a word boundary if possible."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]  # room for the ellipsis
    space = cut.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; otherwise cut mid-word
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _duration(delta: timedelta, round_up: bool) -> str:
    seconds = delta.total_seconds()
    minutes = math.ceil(seconds / 60) if round_up else math.floor(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def lateness(alert: Alert) -> str:
    """Human distance to the due time: ``"due in 12 min"``, ``"due now"``, ``"3 h 5 min overdue"``."""
    delta = alert.now - alert.due_at
    if delta < timedelta(0):
        return f"due in {_duration(-delta, round_up=True)}"
    if delta < timedelta(minutes=1):
        return "due now"
    return f"{_duration(delta, round_up=False)} overdue"


def answered_phrase(alert: Alert) -> str:
    """How an answer related to the promise: ``"answered in time"`` or ``"answered 20 min after due"``."""
    delta = alert.now - alert.due_at
    if delta < timedelta(minutes=1):
        return "answered in time"
    return f"answered {_duration(delta, round_up=False)} after due"


def platform_name(platform: str) -> str:
    return _PLATFORM_NAMES.get(platform, platform)


def display_handle(alert: Alert) -> str:
    handle = (alert.author_handle or "").strip()
    if not handle:
        return "unknown author"
    if alert.platform in _AT_HANDLE_PLATFORMS and not handle.startswith("@"):
        return "@" + handle
    return handle


def headline(alert: Alert) -> str:
    """One line that says what happened, e.g. ``"Overdue (level 2): X post by @anna"``."""
    subject = f"{platform_name(alert.platform)} post by {display_handle(alert)}"
    if alert.action is AlertAction.RESOLVE:
        return f"Answered: {subject}"
    if alert.action is AlertAction.ACKNOWLEDGE:
        return f"Acknowledged: {subject}"
    if alert.level == 0:
        return f"Due soon: {subject}"
    if alert.level == 1:
        return f"Overdue: {subject}"
    return f"Overdue (level {alert.level}): {subject}"


def _emoji(alert: Alert) -> str:
    if alert.action is AlertAction.RESOLVE:
        return "✅"
    if alert.action is AlertAction.ACKNOWLEDGE:
        return "👀"
    return "⏰" if alert.level == 0 else "🚨"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


# -- Slack (incoming webhook, Block Kit) ----------------------------------------------------------


def _slack_escape(text: str) -> str:
    """Slack's three control characters; stops a post from pinging ``<!channel>`` or faking links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str | None, label: str) -> str:
    return f"<{_slack_escape(url)}|{label}>" if url else ""


def slack_message(alert: Alert) -> dict[str, Any]:
    """Block Kit message for a Slack incoming webhook; ``text`` is the notification fallback."""
    title = f"{_emoji(alert)} {headline(alert)}"
    if alert.action is not AlertAction.TRIGGER:
        note = (f"{answered_phrase(alert)}." if alert.action is AlertAction.RESOLVE
                else "re-alerts stopped until it is answered.")
        link = _slack_link(alert.url, "open post")
        line = f"*{_slack_escape(title)}*: {note}" + (f" {link}" if link else "")
        return {
            "text": f"{title}: {note}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}],
        }

    due_epoch = int(alert.due_at.timestamp())
    due_text = f"<!date^{due_epoch}^{{date_short_pretty}} {{time}}|{_iso(alert.due_at)}>"
    fields = [
        {"type": "mrkdwn", "text": f"*Platform*\n{_slack_escape(platform_name(alert.platform))}"},
        {"type": "mrkdwn", "text": f"*Author*\n{_slack_escape(display_handle(alert))}"},
        {"type": "mrkdwn", "text": f"*How late*\n{lateness(alert)}"},
        {"type": "mrkdwn", "text": f"*Due*\n{due_text}"},
    ]
    if alert.department:
        fields.append({"type": "mrkdwn", "text": f"*Department*\n{_slack_escape(alert.department)}"})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, _SLACK_HEADER_LIMIT),
                                    "emoji": True}},
        {"type": "section", "fields": fields},
    ]
    excerpt = truncate_excerpt(alert.excerpt)
    if excerpt:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "> " + _slack_escape(excerpt)}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"hilft · level {alert.level} · post {_slack_escape(alert.post_id)}"},
    ]})
    buttons = []
    if alert.url:
        buttons.append({"type": "button", "action_id": "open_post", "style": "primary", "url": alert.url,
                        "text": {"type": "plain_text", "text": _cut("Open post", _SLACK_BUTTON_LIMIT)}})
    if alert.board_url:
        buttons.append({"type": "button", "action_id": "open_board", "url": alert.board_url,
                        "text": {"type": "plain_text", "text": _cut("On-call board", _SLACK_BUTTON_LIMIT)}})
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": f"{title} ({lateness(alert)})", "blocks": blocks}


# -- Google Chat (incoming webhook) ---------------------------------------------------------------


def _chat_plain(text: str) -> str:
    """Chat ``text`` turns ``<users/all>`` into a mention and has no escape: defuse angle brackets."""
    return text.replace("<", "‹").replace(">", "›")


def google_chat_message(alert: Alert) -> dict[str, Any]:
    """Chat message threaded per post (``thread.threadKey``); the adapter adds ``messageReplyOption``."""
    thread = {"threadKey": alert_key(alert.doc_id)}
    title = f"{_emoji(alert)} {headline(alert)}"
    if alert.action is AlertAction.RESOLVE:
        return {"text": _chat_plain(f"{title}: {answered_phrase(alert)}."), "thread": thread}
    if alert.action is AlertAction.ACKNOWLEDGE:
        return {"text": _chat_plain(f"{title}: re-alerts stopped until it is answered."), "thread": thread}

    widgets: list[dict[str, Any]] = [
        {"decoratedText": {"topLabel": "Platform", "text": html.escape(platform_name(alert.platform))}},
        {"decoratedText": {"topLabel": "Author", "text": html.escape(display_handle(alert))}},
        {"decoratedText": {"topLabel": "How late", "text": lateness(alert)}},
        {"decoratedText": {"topLabel": "Due", "text": _iso(alert.due_at)}},
    ]
    if alert.department:
        widgets.append({"decoratedText": {"topLabel": "Department", "text": html.escape(alert.department)}})
    excerpt = truncate_excerpt(alert.excerpt)
    if excerpt:
        widgets.append({"textParagraph": {"text": f"<i>{html.escape(excerpt)}</i>"}})
    buttons = []
    if alert.url:
        buttons.append({"text": "Open post", "onClick": {"openLink": {"url": alert.url}}})
    if alert.board_url:
        buttons.append({"text": "On-call board", "onClick": {"openLink": {"url": alert.board_url}}})
    if buttons:
        widgets.append({"buttonList": {"buttons": buttons}})
    return {
        "text": _chat_plain(f"{title} ({lateness(alert)})"),
        "cardsV2": [{
            "cardId": f"hilft-alert-{alert.level}",
            "card": {
                "header": {"title": headline(alert), "subtitle": f"{lateness(alert)} · level {alert.level}"},
                "sections": [{"widgets": widgets}],
            },
        }],
        "thread": thread,
    }


# -- PagerDuty (Events API v2) --------------------------------------------------------------------


def pagerduty_severity(level: int) -> str:
    if level <= 1:
        return "warning"
    if level == 2:
        return "error"
    return "critical"


def pagerduty_event(alert: Alert, routing_key: str) -> dict[str, Any]:
    """Events API v2 body; every action about one post shares ``dedup_key = alert_key(doc_id)``."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": alert.action.value,
        "dedup_key": alert_key(alert.doc_id),
    }
    if alert.action is not AlertAction.TRIGGER:
        return event
    excerpt = truncate_excerpt(alert.excerpt)
    summary = f"{headline(alert)} ({lateness(alert)})" + (f": {excerpt}" if excerpt else "")
    details: dict[str, Any] = {
        "platform": alert.platform,
        "post_id": alert.post_id,
        "author": display_handle(alert),
        "how_late": lateness(alert),
        "due_at": _iso(alert.due_at),
        "level": alert.level,
        "excerpt": excerpt,
    }
    if alert.department:
        details["department"] = alert.department
    event["payload"] = {
        "summary": _cut(summary, PAGERDUTY_SUMMARY_LIMIT),
        "source": PAGERDUTY_SOURCE,
        "severity": pagerduty_severity(alert.level),
        "timestamp": _iso(alert.now),
        "component": alert.platform,
        "group": PAGERDUTY_GROUP,
        "class": "due_soon" if alert.level == 0 else "overdue",
        "custom_details": details,
    }
    event["client"] = "hilft"
    if alert.board_url:
        event["client_url"] = alert.board_url
    links = []
    if alert.url:
        links.append({"href": alert.url, "text": "Open post"})
    if alert.board_url:
        links.append({"href": alert.board_url, "text": "On-call board"})
    if links:
        event["links"] = links
    return event


# -- generic JSON webhook -------------------------------------------------------------------------

_WEBHOOK_EVENTS = {
    AlertAction.TRIGGER: "triggered",
    AlertAction.RESOLVE: "resolved",
    AlertAction.ACKNOWLEDGE: "acknowledged",
}


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """Generic JSON for any receiver; field names are part of the public contract (``schema``)."""
    return {
        "schema": WEBHOOK_SCHEMA,
        "id": delivery_id(alert),
        "event": _WEBHOOK_EVENTS[alert.action],
        "alert_key": alert_key(alert.doc_id),
        "level": alert.level,
        "kind": "due_soon" if alert.level == 0 else "overdue",
        "summary": headline(alert),
        "how_late": answered_phrase(alert) if alert.action is AlertAction.RESOLVE else lateness(alert),
        "platform": alert.platform,
        "post_id": alert.post_id,
        "doc_id": alert.doc_id,
        "author_handle": alert.author_handle,
        "excerpt": truncate_excerpt(alert.excerpt),
        "department": alert.department,
        "due_at": _iso(alert.due_at),
        "sent_at": _iso(alert.now),
        "url": alert.url,
        "board_url": alert.board_url,
    }


def _webhook_mac(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_webhook(body: bytes, secret: str, timestamp: int) -> str:
    """Value of ``X-Hilft-Signature``: ``t=<ts>,v1=<hex HMAC-SHA256(secret, f"{ts}.".encode()+body)>``."""
    if not secret:
        raise ValueError("webhook secret must not be empty")
    return f"t={timestamp},v1={_webhook_mac(body, secret, timestamp)}"


def verify_webhook_signature(body: bytes, header: str | None, secret: str | None, now: int,
                             tolerance_seconds: int = WEBHOOK_TOLERANCE_SECONDS) -> None:
    """Raise ``InvalidSignature`` unless ``header`` signs ``body`` with ``secret`` within the tolerance.

    Fails closed: a missing secret or header is a failure, never a pass.
    """
    if not secret or not header:
        raise InvalidSignature()
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature()
    expected = _webhook_mac(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature()
