"""What on-call staff are told, built as plain JSON-able dicts for each sink (pure: no I/O).

One ``Alert`` value describes one moment in a post's life (due soon, overdue at some escalation
level, answered, acknowledged); one builder per sink turns it into that sink's wire format.
The adapters in ``hilft.adapters.sinks`` only send what these functions return.

Privacy: the excerpt handed in is already redacted (no phone numbers, e-mail addresses, ids);
it is cut to ``EXCERPT_LIMIT`` characters here so no alert ever carries a full post. Author
handles are public and on-call needs them, so alerts show them, but they are never logged.

Escaping: every value from outside (handle, excerpt, department, post id, URLs) is cleaned once
when the ``Alert`` is made (one line, no control or format characters such as right-to-left
overrides, no lone surrogates, bounded length; URLs only http(s), percent-encoded) and then
escaped by each builder for its sink: Slack ``&<>`` in every mrkdwn string *and* the top-level
``text`` fallback; Google Chat angle brackets defused in ``text`` (no ``<users/all>``) and HTML
escaped in card widgets; PagerDuty's summary one line of at most 1024 characters; the generic
webhook plain JSON strings. ``tests/security/test_sink_escaping.py`` attacks each sink.

Time: the due time is shown in the policy's time zone (``Alert.timezone``), labelled, e.g.
``due Monday 08:55 CET, 3 h 12 min from now`` (``due_phrase``).

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
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from hilft.core import platform_names
from hilft.core.errors import InvalidSignature

EXCERPT_LIMIT = 200
FIELD_LIMIT = 100  # handle, department, post id: longer is not a real value
URL_LIMIT = 1000
PAGERDUTY_SUMMARY_LIMIT = 1024
PAGERDUTY_SOURCE = "hilft"
PAGERDUTY_GROUP = "social-care"
WEBHOOK_SIGNATURE_HEADER = "X-Hilft-Signature"
WEBHOOK_EVENT_HEADER = "X-Hilft-Event"
WEBHOOK_DELIVERY_HEADER = "X-Hilft-Delivery"
WEBHOOK_SCHEMA = "hilft.alert.v1"
WEBHOOK_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; bounded, so int() never meets a huge string

_SLACK_HEADER_LIMIT = 150  # Block Kit: header text, plain_text
_SLACK_BUTTON_LIMIT = 75  # Block Kit: button text


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
    timezone: tzinfo = UTC  # the policy's time zone: due times are shown in it

    def __post_init__(self) -> None:
        for name in ("due_at", "now"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Alert.{name} must be timezone-aware")
        if self.level < 0:
            raise ValueError("Alert.level must be >= 0")
        if not isinstance(self.action, AlertAction):
            raise ValueError("Alert.action must be an AlertAction")
        # Values from outside are cleaned once, here, so no builder can forget it.
        set_ = object.__setattr__
        set_(self, "post_id", clean_text(str(self.post_id), FIELD_LIMIT))
        set_(self, "excerpt", clean_text(self.excerpt or ""))
        for name in ("author_handle", "department"):
            given: str | None = getattr(self, name)
            set_(self, name, (clean_text(given, FIELD_LIMIT) or None) if given is not None else None)
        for name in ("url", "board_url"):
            set_(self, name, clean_url(getattr(self, name)))


# -- cleaning what comes from outside -------------------------------------------------------------

_DROP = frozenset({"Cf", "Cs", "Co", "Cn"})  # format (bidi overrides, zero-width), surrogates, private, unassigned


def clean_text(text: str, limit: int | None = None) -> str:
    """One line of visible text: control characters and line breaks become spaces, format
    characters (right-to-left overrides, zero-width joiners) and lone surrogates go, whitespace
    is collapsed, and the result is cut to ``limit`` characters (with "…")."""
    chars = []
    for char in text:
        category = unicodedata.category(char)
        if category in _DROP:
            continue
        chars.append(" " if category in ("Cc", "Zl", "Zp") else char)
    flat = " ".join("".join(chars).split())
    return _cut(flat, limit) if limit is not None else flat


_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"  # RFC 3986 reserved and unreserved; the rest is percent-encoded


def clean_url(url: str | None) -> str | None:
    """An http(s) URL safe inside ``<url|label>`` and JSON, or None (``javascript:``, garbage)."""
    if not url:
        return None
    stripped = "".join(char for char in url if unicodedata.category(char)[0] != "C").strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    encoded = quote(stripped, safe=_URL_SAFE)
    return encoded if len(encoded) <= URL_LIMIT else None


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


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def due_time(alert: Alert) -> str:
    """The due time on the policy's wall clock, labelled: ``"Monday 08:55 CET"``, ``"today 14:30 CET"``."""
    local = alert.due_at.astimezone(alert.timezone)
    days = (local.date() - alert.now.astimezone(alert.timezone).date()).days
    day = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(days)
    if day is None:
        weekday = _WEEKDAYS[local.weekday()]
        day = weekday if -7 < days < 7 else f"{weekday[:3]} {local.day} {_MONTHS[local.month - 1]}"
    zone = local.tzname() or ""
    return f"{day} {local:%H:%M}" + (f" {zone}" if zone else "")


def due_phrase(alert: Alert) -> str:
    """``"due Monday 08:55 CET, 3 h 12 min from now"`` / ``"was due today 08:55 CET, 25 min ago"``."""
    delta = alert.now - alert.due_at
    if delta < timedelta(0):
        return f"due {due_time(alert)}, {_duration(-delta, round_up=True)} from now"
    if delta < timedelta(minutes=1):
        return f"due {due_time(alert)}, now"
    return f"was due {due_time(alert)}, {_duration(delta, round_up=False)} ago"


def answered_phrase(alert: Alert) -> str:
    """How an answer related to the promise: ``"answered in time"`` or ``"answered 20 min after due"``."""
    delta = alert.now - alert.due_at
    if delta < timedelta(minutes=1):
        return "answered in time"
    return f"answered {_duration(delta, round_up=False)} after due"


def platform_name(platform: str) -> str:
    return platform_names.display_name(platform)


def display_handle(alert: Alert) -> str:
    handle = (alert.author_handle or "").strip()
    if not handle:
        return "unknown author"
    return platform_names.display_handle(alert.platform, handle)


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


def slack_escape(text: str) -> str:
    """Slack's three control characters; stops a post from pinging ``<!channel>`` or faking links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str | None, label: str) -> str:
    return f"<{slack_escape(url)}|{label}>" if url else ""


def slack_message(alert: Alert) -> dict[str, Any]:
    """Block Kit message for a Slack incoming webhook; ``text`` is the notification fallback."""
    title = f"{_emoji(alert)} {headline(alert)}"
    if alert.action is not AlertAction.TRIGGER:
        note = (f"{answered_phrase(alert)}." if alert.action is AlertAction.RESOLVE
                else "re-alerts stopped until it is answered.")
        link = _slack_link(alert.url, "open post")
        line = f"*{slack_escape(title)}*: {slack_escape(note)}" + (f" {link}" if link else "")
        return {
            "text": slack_escape(f"{title}: {note}"),  # the fallback is mrkdwn too: escaped like the blocks
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}],
        }

    fields = [
        {"type": "mrkdwn", "text": f"*Platform*\n{slack_escape(platform_name(alert.platform))}"},
        {"type": "mrkdwn", "text": f"*Author*\n{slack_escape(display_handle(alert))}"},
        {"type": "mrkdwn", "text": f"*How late*\n{slack_escape(lateness(alert))}"},
        {"type": "mrkdwn", "text": f"*Due*\n{slack_escape(due_phrase(alert))}"},
    ]
    if alert.department:
        fields.append({"type": "mrkdwn", "text": f"*Department*\n{slack_escape(alert.department)}"})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, _SLACK_HEADER_LIMIT),
                                    "emoji": True}},
        {"type": "section", "fields": fields},
    ]
    excerpt = truncate_excerpt(alert.excerpt)
    if excerpt:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "> " + slack_escape(excerpt)}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"hilft · level {alert.level} · post {slack_escape(alert.post_id)}"},
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
    return {"text": slack_escape(f"{title} ({lateness(alert)})"), "blocks": blocks}


# -- Google Chat (incoming webhook) ---------------------------------------------------------------


def chat_plain(text: str) -> str:
    """Chat ``text`` turns ``<users/all>`` into a mention and has no escape: defuse angle brackets."""
    return text.replace("<", "‹").replace(">", "›")


def google_chat_message(alert: Alert) -> dict[str, Any]:
    """Chat message threaded per post (``thread.threadKey``); the adapter adds ``messageReplyOption``."""
    thread = {"threadKey": alert_key(alert.doc_id)}
    title = f"{_emoji(alert)} {headline(alert)}"
    if alert.action is AlertAction.RESOLVE:
        return {"text": chat_plain(f"{title}: {answered_phrase(alert)}."), "thread": thread}
    if alert.action is AlertAction.ACKNOWLEDGE:
        return {"text": chat_plain(f"{title}: re-alerts stopped until it is answered."), "thread": thread}

    widgets: list[dict[str, Any]] = [
        {"decoratedText": {"topLabel": "Platform", "text": html.escape(platform_name(alert.platform))}},
        {"decoratedText": {"topLabel": "Author", "text": html.escape(display_handle(alert))}},
        {"decoratedText": {"topLabel": "How late", "text": html.escape(lateness(alert))}},
        {"decoratedText": {"topLabel": "Due", "text": html.escape(due_phrase(alert))}},
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
        "text": chat_plain(f"{title} ({lateness(alert)})"),
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
    summary = f"{headline(alert)} ({due_phrase(alert)})" + (f": {excerpt}" if excerpt else "")
    details: dict[str, Any] = {
        "platform": alert.platform,
        "post_id": alert.post_id,
        "author": display_handle(alert),
        "how_late": lateness(alert),
        "due": due_phrase(alert),
        "due_at": _iso(alert.due_at),
        "level": alert.level,
        "excerpt": excerpt,
    }
    if alert.department:
        details["department"] = alert.department
    event["payload"] = {
        "summary": clean_text(summary, PAGERDUTY_SUMMARY_LIMIT),  # one plain line, as phones and SMS show it
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
        "due": due_phrase(alert),
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
    candidates: list[bytes] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _TIMESTAMP.fullmatch(value):  # ASCII digits: str.isdigit() also takes "²"
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.encode("utf-8", "replace"))  # bytes: compare_digest raises on non-ASCII str
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature()
    expected = _webhook_mac(body, secret, timestamp).encode()
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature()
