"""Incident alerts to the same four sinks as post alerts, over the same transport and retry rules.

The payloads come from ``hilft.core.incident_alerts``; each incident has its own PagerDuty
``dedup_key`` and Chat thread. Failures raise what ``adapters.sinks`` raises (``SinkUnavailable``
to retry, ``SinkMisconfigured`` to skip), and nothing logs a URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hilft.adapters.sinks import CHAT_REPLY_OPTION, SinkSettings, SinkTransport, pagerduty_events_url
from hilft.core import incident_alerts as payloads
from hilft.core.alerts import WEBHOOK_DELIVERY_HEADER, WEBHOOK_EVENT_HEADER, WEBHOOK_SIGNATURE_HEADER, sign_webhook
from hilft.core.incident_alerts import IncidentAlert
from hilft.service.ports import IncidentSink

if TYPE_CHECKING:
    from hilft.settings import Settings


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Sink:
    def __init__(self, name: str, url: str, transport: SinkTransport,
                 build: Callable[[IncidentAlert], dict[str, Any]], params: Mapping[str, str] | None = None,
                 secret: str | None = None) -> None:
        self.name = name
        self._url = url
        self._transport = transport
        self._build = build
        self._params = params
        self._secret = secret

    def send(self, alert: IncidentAlert) -> None:
        payload = self._build(alert)
        body = _encode(payload)
        headers: dict[str, str] = {}
        if self._secret:
            headers = {WEBHOOK_SIGNATURE_HEADER: sign_webhook(body, self._secret, int(self._transport.wall_clock())),
                       WEBHOOK_EVENT_HEADER: payloads.webhook_event(alert),
                       WEBHOOK_DELIVERY_HEADER: payloads.delivery_id(alert)}
        self._transport.post(self.name, self._url, body, headers=headers, params=self._params)


def build_incident_sinks(settings: Settings, transport: SinkTransport | None = None) -> dict[str, IncidentSink]:
    """The configured sinks by name (unset = absent, as for post alerts)."""
    wanted = SinkSettings.of(settings)
    if not wanted.any:
        return {}
    shared = transport or SinkTransport()
    sinks: dict[str, IncidentSink] = {}
    if url := wanted.slack:
        sinks["slack"] = _Sink("slack", url, shared, payloads.slack_message)
    if url := wanted.google_chat:
        sinks["google_chat"] = _Sink("google_chat", url, shared, payloads.google_chat_message,
                                     params={"messageReplyOption": CHAT_REPLY_OPTION})
    if key := wanted.pagerduty:
        sinks["pagerduty"] = _Sink("pagerduty", pagerduty_events_url(wanted.pagerduty_events_url), shared,
                                   lambda alert: payloads.pagerduty_event(alert, key))
    if (url := wanted.webhook) and (secret := wanted.webhook_secret):
        sinks["webhook"] = _Sink("webhook", url, shared, payloads.webhook_payload, secret=secret)
    return sinks
