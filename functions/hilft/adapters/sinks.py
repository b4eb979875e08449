"""Alert sinks: Slack, Google Chat, PagerDuty and a signed generic webhook, over one httpx client.

Each sink posts what ``hilft.core.alerts`` builds. Failures split in two:

* 429, 5xx, 408 and network errors are retried in-process a few times (honouring
  ``Retry-After``, bounded by ``RetryPolicy``), then raise ``SinkUnavailable`` (a
  ``TransientSinkError``): the ``deadline`` function answers 503 and Cloud Tasks retries later.
* any other answer (400, 401, 403, 404, 410 …) means the sink is set up wrongly; it raises
  ``SinkMisconfigured`` at once. Retrying cannot cure it, so the caller logs it once as a
  configuration error and carries on with the other sinks.

Slack and Chat webhook URLs carry their secret in the URL, so nothing here ever logs or raises
with a URL (httpx exceptions are dropped from the chain for that reason); only the sink name.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from hilft.core.alerts import (
    WEBHOOK_DELIVERY_HEADER,
    WEBHOOK_EVENT_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    Alert,
    delivery_id,
    google_chat_message,
    pagerduty_event,
    sign_webhook,
    slack_message,
    webhook_payload,
)
from hilft.core.errors import SinkMisconfigured, SinkUnavailable
from hilft.logs import get_logger
from hilft.service.ports import AlertSink

if TYPE_CHECKING:
    from hilft.settings import Settings

log = get_logger(__name__)

__all__ = ["AlertSink", "SinkMisconfigured", "SinkUnavailable", "build_sinks"]

CHAT_REPLY_OPTION = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
USER_AGENT = "hilft-alerts/0.1"

_RETRYABLE_STATUS = frozenset({408, 429})
_SAFE_CODE = re.compile(r"^[a-z_]{1,64}$")  # Slack's plain-text error codes, e.g. invalid_payload


@dataclass(frozen=True)
class RetryPolicy:
    """In-process retries stay short: Cloud Tasks owns the long, jittered backoff."""

    max_attempts: int = 3
    budget_seconds: float = 5.0  # wall time of all attempts and waits together
    base_delay: float = 0.5  # doubled per attempt when the sink gives no Retry-After
    max_delay: float = 2.0
    request_timeout: float = 3.0  # per attempt, further capped by what is left of the budget

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


def _default_client() -> httpx.Client:
    return httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=False)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None


@dataclass
class SinkTransport:
    """One httpx client and retry policy shared by a set of sinks; clocks injectable for tests."""

    client: httpx.Client = field(default_factory=_default_client)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time

    def post(self, sink: str, url: str, body: bytes, headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None,
             reason_of: Callable[[httpx.Response], str | None] = lambda _: None) -> httpx.Response:
        """POST with bounded retries; return the 2xx answer or raise SinkUnavailable / SinkMisconfigured."""
        policy = self.policy
        started = self.monotonic()
        reason, retry_after = "not attempted", None
        send_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        try:  # merge, not replace: httpx's params= would drop the key/token a Chat URL carries
            target = httpx.URL(url).copy_merge_params(params or {})
        except httpx.InvalidURL:
            raise SinkMisconfigured(sink, None, "invalid URL") from None
        for attempt in range(1, policy.max_attempts + 1):
            remaining = policy.budget_seconds - (self.monotonic() - started)
            timeout = max(0.1, min(policy.request_timeout, remaining))
            try:
                response = self.client.post(target, content=body, headers=send_headers, timeout=timeout)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL):
                raise SinkMisconfigured(sink, None, "invalid URL") from None
            except httpx.TransportError as exc:  # timeouts, refused connections, broken streams
                reason, retry_after = type(exc).__name__, None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    log.info("alert delivered", sink=sink, attempts=attempt, status=status)
                    return response
                if status not in _RETRYABLE_STATUS and status < 500:
                    raise SinkMisconfigured(sink, status, _safe(reason_of, response))
                reason = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self.wall_clock())
            if attempt == policy.max_attempts:
                break
            delay = retry_after if retry_after is not None else policy.backoff(attempt)
            if self.monotonic() - started + delay > policy.budget_seconds:
                break  # waiting longer than the budget allows: let Cloud Tasks retry instead
            log.warning("alert sink retrying", sink=sink, attempt=attempt, reason=reason,
                        delay_seconds=round(delay, 3))
            self.sleep(delay)
        raise SinkUnavailable(sink, reason, retry_after)

    def close(self) -> None:
        self.client.close()


def _safe(reason_of: Callable[[httpx.Response], str | None], response: httpx.Response) -> str | None:
    try:
        reason = reason_of(response)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    return reason[:300] if reason else None


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- sinks ----------------------------------------------------------------------------------------


class SlackSink:
    """Slack incoming webhook; the URL itself is the secret."""

    name = "slack"

    def __init__(self, webhook_url: str, transport: SinkTransport | None = None) -> None:
        self._url = webhook_url
        self._transport = transport or SinkTransport()

    def send(self, alert: Alert) -> None:
        self._transport.post(self.name, self._url, _encode(slack_message(alert)), reason_of=self._reason)

    @staticmethod
    def _reason(response: httpx.Response) -> str | None:
        text = response.text.strip()
        return text if _SAFE_CODE.match(text) else None


class GoogleChatSink:
    """Google Chat incoming webhook (URL with ``key`` and ``token``); one thread per post."""

    name = "google_chat"

    def __init__(self, webhook_url: str, transport: SinkTransport | None = None) -> None:
        self._url = webhook_url
        self._transport = transport or SinkTransport()

    def send(self, alert: Alert) -> None:
        self._transport.post(self.name, self._url, _encode(google_chat_message(alert)),
                             params={"messageReplyOption": CHAT_REPLY_OPTION}, reason_of=self._reason)

    @staticmethod
    def _reason(response: httpx.Response) -> str | None:
        status = response.json()["error"]["status"]  # e.g. INVALID_ARGUMENT, PERMISSION_DENIED
        return status if isinstance(status, str) and status.isupper() else None


class PagerDutySink:
    """PagerDuty Events API v2; every event about one post shares its dedup_key."""

    name = "pagerduty"

    def __init__(self, routing_key: str, events_url: str, transport: SinkTransport | None = None) -> None:
        self._routing_key = routing_key
        self._url = events_url
        self._transport = transport or SinkTransport()

    def send(self, alert: Alert) -> None:
        self._transport.post(self.name, self._url, _encode(pagerduty_event(alert, self._routing_key)),
                             reason_of=self._reason)

    @staticmethod
    def _reason(response: httpx.Response) -> str | None:
        errors = response.json().get("errors") or []
        return "; ".join(str(error) for error in errors) or None


class WebhookSink:
    """Generic JSON webhook signed with HMAC-SHA256 (see ``hilft.core.alerts`` for the scheme)."""

    name = "webhook"

    def __init__(self, url: str, secret: str, transport: SinkTransport | None = None) -> None:
        if not secret:
            raise ValueError("a webhook sink needs a signing secret")
        self._url = url
        self._secret = secret
        self._transport = transport or SinkTransport()

    def send(self, alert: Alert) -> None:
        payload = webhook_payload(alert)
        body = _encode(payload)
        headers = {
            WEBHOOK_SIGNATURE_HEADER: sign_webhook(body, self._secret, int(self._transport.wall_clock())),
            WEBHOOK_EVENT_HEADER: payload["event"],
            WEBHOOK_DELIVERY_HEADER: delivery_id(alert),
        }
        self._transport.post(self.name, self._url, body, headers=headers)


# -- wiring ---------------------------------------------------------------------------------------


def pagerduty_events_url(configured: str | None) -> str:
    """The Events API URL the settings name (``PAGERDUTY_EVENTS_URL``, whose one default is in
    ``hilft.settings``); a configuration without it is a mistake, not a reason to guess."""
    if not configured:
        raise ValueError("PAGERDUTY_ROUTING_KEY is set without PAGERDUTY_EVENTS_URL")
    return configured


@dataclass(frozen=True)
class SinkSettings:
    """What the sink builders read from ``Settings`` (blank = unset): one place for both, typed."""

    slack: str | None
    google_chat: str | None
    pagerduty: str | None  # the routing key
    pagerduty_events_url: str | None
    webhook: str | None
    webhook_secret: str | None

    @classmethod
    def of(cls, settings: Settings) -> SinkSettings:
        return cls(slack=_set(settings.slack_webhook_url), google_chat=_set(settings.google_chat_webhook_url),
                   pagerduty=_set(settings.pagerduty_routing_key),
                   pagerduty_events_url=_set(settings.pagerduty_events_url),
                   webhook=_set(settings.alert_webhook_url), webhook_secret=_set(settings.alert_webhook_secret))

    @property
    def any(self) -> bool:
        return bool(self.slack or self.google_chat or self.pagerduty or self.webhook)


def _set(value: str | None) -> str | None:
    return (value or "").strip() or None


def build_sinks(settings: Settings, *, transport: SinkTransport | None = None) -> dict[str, AlertSink]:
    """The configured sinks by name (``slack``, ``google_chat``, ``pagerduty``, ``webhook``).

    An unset sink is simply absent. All sinks share one ``SinkTransport`` (one connection pool);
    build this once per instance, lazily, not per request.
    """
    wanted = SinkSettings.of(settings)
    sinks: dict[str, AlertSink] = {}
    if not wanted.any:
        return sinks
    shared = transport or SinkTransport()
    if url := wanted.slack:
        sinks["slack"] = SlackSink(url, shared)
    if url := wanted.google_chat:
        sinks["google_chat"] = GoogleChatSink(url, shared)
    if routing_key := wanted.pagerduty:
        sinks["pagerduty"] = PagerDutySink(routing_key, pagerduty_events_url(wanted.pagerduty_events_url), shared)
    if url := wanted.webhook:
        if secret := wanted.webhook_secret:
            sinks["webhook"] = WebhookSink(url, secret, shared)
        else:  # never send unsigned; the other sinks keep working
            log.error("alert webhook disabled: ALERT_WEBHOOK_URL is set without ALERT_WEBHOOK_SECRET",
                      sink="webhook")
    return sinks
