"""What on-call is told about an incident, per sink (pure: JSON-able dicts, no I/O).

An incident has its own alert, apart from the alerts of its posts: its own PagerDuty
``dedup_key`` and Google Chat ``threadKey`` (``hilft-incident-<id>``), so opening, growing,
the folded overdue alerts of its posts ("storm") and the resolve land on one PagerDuty incident
and in one Chat thread. Texts carry only redacted excerpts, the topic and the place region.

Escaping is the post alerts' (``core.alerts``): every value from outside (the headline with the
policy's topic label and the place named in posts, the redacted excerpts, the board URL) is
cleaned once when the ``IncidentAlert`` is made (``clean_text``/``clean_url``: one line, no
control or format characters, bounded), then each builder escapes for its sink exactly as the
post alerts do (``slack_escape`` in every mrkdwn string and the fallback ``text``, ``chat_plain``
in Chat's ``text``, HTML-escaped card text, PagerDuty's summary one line within 1024 characters).
Times are on the policy's wall clock with the day when it is not today, in English or German
(``board_view.due_clock``, as the board shows due times: "11:09", "Thu 11:09" / "Do 11:09").
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from hilft.core.alerts import (
    FIELD_LIMIT,
    PAGERDUTY_GROUP,
    PAGERDUTY_SOURCE,
    PAGERDUTY_SUMMARY_LIMIT,
    chat_plain,
    clean_text,
    clean_url,
    slack_escape,
    truncate_excerpt,
)
from hilft.core.board_view import due_clock

INCIDENT_SCHEMA = "hilft.incident.v1"
HEADLINE_LIMIT = 300  # "Störung <topic label>, <place> — N posts in M min"; longer is not a real headline


class IncidentEvent(StrEnum):
    OPENED = "opened"  # a spike opened the incident
    GREW = "grew"  # more posts since the last message
    STORM = "storm"  # overdue alerts of its posts, folded: count and oldest due
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"  # quiet for the policy's resolve_after


@dataclass(frozen=True)
class IncidentAlert:
    event: IncidentEvent
    incident_id: str
    headline: str  # "Störung Festnetz, 53113 Bonn — 37 posts in 12 min"
    count: int
    first_seen: datetime
    now: datetime
    excerpts: tuple[str, ...] = ()  # redacted
    board_url: str | None = None
    level: int = 0  # STORM: the escalation level of the folded alerts (0 = due soon)
    overdue: int = 0  # STORM: posts at that level
    oldest_due: datetime | None = None
    timezone: str = "Europe/Berlin"
    lang: str = "en"  # "en" | "de": the day of a time that is not today ("Thu 11:09" / "Do 11:09")
    sequence: int = 0  # makes each message's delivery id unique (update number, storm follow-up)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Values from outside are cleaned once, here, as ``Alert`` does, so no builder can forget it.
        set_ = object.__setattr__
        set_(self, "incident_id", clean_text(str(self.incident_id), FIELD_LIMIT))
        set_(self, "headline", clean_text(self.headline or "", HEADLINE_LIMIT))
        set_(self, "excerpts", tuple(cleaned for cleaned in (clean_text(e or "") for e in self.excerpts) if cleaned))
        set_(self, "board_url", clean_url(self.board_url))


def incident_key(incident_id: str) -> str:
    """PagerDuty ``dedup_key`` and Chat ``threadKey`` of everything about one incident."""
    return f"hilft-incident-{incident_id}"


def delivery_id(alert: IncidentAlert) -> str:
    raw = "\x1f".join((incident_key(alert.incident_id), alert.event.value, str(alert.level), str(alert.sequence)))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _clock(moment: datetime, alert: IncidentAlert) -> str:
    """``"11:09 CET"`` today, ``"Thu 11:09 CET"`` (``"Do 11:09 CET"``) another day: the policy's zone."""
    zone = ZoneInfo(alert.timezone)
    name = moment.astimezone(zone).tzname() or ""
    return f"{due_clock(moment, alert.now, zone, alert.lang)} {name}".rstrip()


def line(alert: IncidentAlert) -> str:
    """The one-line text every sink shows."""
    if alert.event is IncidentEvent.STORM:
        what = "due soon" if alert.level == 0 else f"overdue (level {alert.level})"
        oldest = f", oldest due {_clock(alert.oldest_due, alert)}" if alert.oldest_due else ""
        noun = "post" if alert.overdue == 1 else "posts"
        return f"⏰ {alert.headline}: {alert.overdue} {noun} {what}{oldest}"
    prefix = {IncidentEvent.OPENED: "🚨 Incident", IncidentEvent.GREW: "📈 Incident growing",
              IncidentEvent.ACKNOWLEDGED: "👀 Incident acknowledged",
              IncidentEvent.RESOLVED: "✅ Incident resolved"}[alert.event]
    return f"{prefix}: {alert.headline}"


def slack_message(alert: IncidentAlert) -> dict[str, Any]:
    text = line(alert)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_escape(text)}*"}}]
    for excerpt in alert.excerpts[:3]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "> " + slack_escape(truncate_excerpt(excerpt))}})
    context = f"hilft · incident {alert.incident_id[:12]} · since {_clock(alert.first_seen, alert)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(context)}]})
    if alert.board_url:
        blocks.append({"type": "actions", "elements": [{"type": "button", "action_id": "open_board",
                                                        "url": alert.board_url,
                                                        "text": {"type": "plain_text", "text": "On-call board"}}]})
    return {"text": slack_escape(text), "blocks": blocks}  # the fallback is mrkdwn too


def google_chat_message(alert: IncidentAlert) -> dict[str, Any]:
    body = line(alert)
    if alert.excerpts and alert.event in (IncidentEvent.OPENED, IncidentEvent.GREW):
        body += "\n" + "\n".join(f"“{truncate_excerpt(e, 120)}”" for e in alert.excerpts[:3])
    message: dict[str, Any] = {"text": chat_plain(body), "thread": {"threadKey": incident_key(alert.incident_id)}}
    if alert.board_url and alert.event is IncidentEvent.OPENED:
        message["cardsV2"] = [{"cardId": "hilft-incident", "card": {
            "header": {"title": html.escape(alert.headline)},
            "sections": [{"widgets": [{"buttonList": {"buttons": [
                {"text": "On-call board", "onClick": {"openLink": {"url": alert.board_url}}}]}}]}]}}]
    return message


def pagerduty_event(alert: IncidentAlert, routing_key: str) -> dict[str, Any]:
    """Events API v2: trigger (opened, grew, storm: same ``dedup_key`` updates one incident), resolve, ack."""
    action = {IncidentEvent.RESOLVED: "resolve", IncidentEvent.ACKNOWLEDGED: "acknowledge"}.get(alert.event, "trigger")
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action,
                             "dedup_key": incident_key(alert.incident_id)}
    if action != "trigger":
        return event
    severity = "critical" if alert.event is IncidentEvent.STORM and alert.level >= 2 else "error"
    event["payload"] = {
        "summary": clean_text(line(alert), PAGERDUTY_SUMMARY_LIMIT),  # one plain line, as phones show it
        "source": PAGERDUTY_SOURCE, "severity": severity,
        "timestamp": alert.now.isoformat(timespec="seconds"), "component": "incident", "group": PAGERDUTY_GROUP,
        "class": "outage",
        "custom_details": {"posts": alert.count, "first_seen": alert.first_seen.isoformat(timespec="seconds"),
                           "overdue": alert.overdue, "level": alert.level,
                           "excerpts": [truncate_excerpt(e) for e in alert.excerpts[:3]]},
    }
    event["client"] = "hilft"
    if alert.board_url:
        event["client_url"] = alert.board_url
    return event


def webhook_event(alert: IncidentAlert) -> str:
    """The generic webhook's ``event`` vocabulary (``hilft.alert.v1`` receivers know these three)."""
    return {IncidentEvent.RESOLVED: "resolved", IncidentEvent.ACKNOWLEDGED: "acknowledged"}.get(alert.event,
                                                                                              "triggered")


def webhook_payload(alert: IncidentAlert) -> dict[str, Any]:
    """``event`` as for post alerts (triggered/resolved/acknowledged), ``kind: "incident"`` and the
    incident's own ``incident_event`` (opened, grew, storm, acknowledged, resolved)."""
    return {
        "schema": INCIDENT_SCHEMA,
        "id": delivery_id(alert),
        "event": webhook_event(alert),
        "kind": "incident",
        "incident_event": alert.event.value,
        "alert_key": incident_key(alert.incident_id),
        "incident_id": alert.incident_id,
        "summary": line(alert),
        "headline": alert.headline,
        "posts": alert.count,
        "level": alert.level,
        "overdue": alert.overdue,
        "oldest_due": alert.oldest_due.isoformat(timespec="seconds") if alert.oldest_due else None,
        "first_seen": alert.first_seen.isoformat(timespec="seconds"),
        "sent_at": alert.now.isoformat(timespec="seconds"),
        "excerpts": [truncate_excerpt(e) for e in alert.excerpts[:3]],
        "board_url": alert.board_url,
    }
