"""Fake Slack, Google Chat, PagerDuty and generic-webhook receivers for alerts on loopback.

Each fake checks what the real service checks (path secret, query key/token, body shape,
routing key, signature) and answers like it, so a wrong payload fails locally the way it
would in production. Accepted messages are kept parsed in ``delivered`` / ``messages``;
``fail_next`` from ``FakeServer`` scripts 429/5xx answers.

Run all four: ``python -m fakes.sinks --slack-port A --chat-port B --pagerduty-port C
--webhook-port D --routing-key K --webhook-secret S``; it prints the variables to set
(``SLACK_WEBHOOK_URL=…``) and a ``ready`` line, and stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fakes.base import FakeServer, Request, Response

FAKE_SLACK_PATH = "/services/T0000FAKE/B0000FAKE/XXXXXXXXXXXXXXXXXXXXXXXX"
FAKE_CHAT_SPACE = "AAAAfakeSpace"
FAKE_CHAT_KEY = "fake-chat-key"
FAKE_CHAT_TOKEN = "fake-chat-token"  # noqa: S105 (a fake's fixed value)
FAKE_ROUTING_KEY = "R0UT1NGKEY0000000000000000000000"  # PagerDuty routing keys are 32 characters
FAKE_WEBHOOK_SECRET = "fake-webhook-secret"  # noqa: S105
FAKE_WEBHOOK_PATH = "/hooks/hilft"

SLACK_BLOCK_TYPES = frozenset({"actions", "context", "divider", "file", "header", "image", "input",
                               "rich_text", "section", "video"})
CHAT_REPLY_OPTIONS = frozenset({"MESSAGE_REPLY_OPTION_UNSPECIFIED", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
                                "REPLY_MESSAGE_OR_FAIL"})
PAGERDUTY_ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})
PAGERDUTY_SEVERITIES = frozenset({"critical", "error", "warning", "info"})


@dataclass
class Delivered:
    """One accepted message: what was sent (parsed) and what the fake answered."""

    body: Any
    query: dict[str, str]
    headers: dict[str, str]
    response: Any


class SinkFake(FakeServer):
    """A FakeServer that also keeps every accepted message, parsed."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._records_lock = threading.Lock()
        self.delivered: list[Delivered] = []

    @property
    def messages(self) -> list[Any]:
        with self._records_lock:
            return [item.body for item in self.delivered]

    def reset(self) -> None:
        super().reset()
        with self._records_lock:
            self.delivered.clear()

    def _accept(self, req: Request, body: Any, response: Response) -> Response:
        with self._records_lock:
            self.delivered.append(Delivered(body, _query(req), dict(req.headers), response.body))
        return response


def _query(req: Request) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(req.query, keep_blank_values=True).items()}


def _json_object(req: Request) -> dict[str, Any] | None:
    if "application/json" not in (req.header("content-type") or ""):
        return None
    try:
        body = json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


# -- Slack ----------------------------------------------------------------------------------------


class SlackFake(SinkFake):
    """Slack incoming webhook: answers ``ok`` (text/plain) or an error code with 400/404."""

    def __init__(self, path: str = FAKE_SLACK_PATH, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.path = path
        self.route("POST", r"/services/[^/]+/[^/]+/[^/]+", self._post)

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def _post(self, req: Request, _match: Any) -> Response:
        if req.path != self.path:
            return Response(404, "no_service")
        body = _json_object(req)
        if body is None:
            return Response(400, "invalid_payload")
        text, blocks = body.get("text"), body.get("blocks")
        if not (isinstance(text, str) and text.strip()) and not blocks:
            return Response(400, "no_text")
        if blocks is not None and not _valid_slack_blocks(blocks):
            return Response(400, "invalid_blocks")
        return self._accept(req, body, Response(200, "ok"))


def _text_object(obj: Any, limit: int, kinds: frozenset[str] = frozenset({"plain_text", "mrkdwn"})) -> bool:
    return (isinstance(obj, dict) and obj.get("type") in kinds and isinstance(obj.get("text"), str)
            and 0 < len(obj["text"]) <= limit)


def _valid_slack_blocks(blocks: Any) -> bool:
    """The Block Kit limits hilft's messages could hit; Slack rejects the whole message otherwise."""
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
        return False
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in SLACK_BLOCK_TYPES:
            return False
        kind = block["type"]
        if kind == "header" and not _text_object(block.get("text"), 150, frozenset({"plain_text"})):
            return False
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and fields is None:
                return False
            if text is not None and not _text_object(text, 3000):
                return False
            if fields is not None and not (isinstance(fields, list) and 0 < len(fields) <= 10
                                           and all(_text_object(f, 2000) for f in fields)):
                return False
        if kind == "context":
            elements = block.get("elements")
            if not (isinstance(elements, list) and 0 < len(elements) <= 10):
                return False
        if kind == "actions" and not _valid_slack_actions(block.get("elements")):
            return False
    return True


def _valid_slack_actions(elements: Any) -> bool:
    if not (isinstance(elements, list) and 0 < len(elements) <= 25):
        return False
    action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
    if len(action_ids) != len(set(action_ids)):
        return False
    for element in elements:
        if not isinstance(element, dict) or element.get("type") != "button":
            continue
        if not _text_object(element.get("text"), 75, frozenset({"plain_text"})):
            return False
        url = element.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))
                                    and len(url) <= 3000):
            return False
        if element.get("style") not in (None, "primary", "danger"):
            return False
    return True


# -- Google Chat ----------------------------------------------------------------------------------


def _chat_error(code: int, status: str, message: str) -> Response:
    return Response(code, {"error": {"code": code, "message": message, "status": status}})


class GoogleChatFake(SinkFake):
    """Chat incoming webhook ``POST /v1/spaces/{space}/messages?key=…&token=…``.

    Like Chat, it honours ``thread.threadKey`` only with a ``REPLY_MESSAGE_*`` reply option;
    without it every message starts a new thread. ``thread.name`` is stable per threadKey.
    """

    def __init__(self, space: str = FAKE_CHAT_SPACE, key: str = FAKE_CHAT_KEY, token: str = FAKE_CHAT_TOKEN,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.space, self.key, self.token = space, key, token
        self.threads: dict[str, str] = {}  # threadKey -> thread name
        self._ids = itertools.count(1)
        self.route("POST", r"/v1/spaces/(?P<space>[^/]+)/messages", self._post)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/v1/spaces/{self.space}/messages?key={self.key}&token={self.token}"

    def reset(self) -> None:
        super().reset()
        with self._records_lock:
            self.threads.clear()

    def _post(self, req: Request, match: Any) -> Response:
        if match["space"] != self.space:
            return _chat_error(404, "NOT_FOUND", "Space not found.")
        query = _query(req)
        if query.get("key") != self.key:
            return _chat_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        if query.get("token") != self.token:
            return _chat_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        option = query.get("messageReplyOption", "MESSAGE_REPLY_OPTION_UNSPECIFIED")
        if option not in CHAT_REPLY_OPTIONS:
            return _chat_error(400, "INVALID_ARGUMENT", "Invalid value for messageReplyOption.")
        body = _json_object(req)
        if body is None:
            return _chat_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        text, cards = body.get("text"), body.get("cardsV2")
        if not (isinstance(text, str) and text.strip()) and not cards:
            return _chat_error(400, "INVALID_ARGUMENT", "Message cannot be empty.")
        if isinstance(text, str) and len(text) > 4096:
            return _chat_error(400, "INVALID_ARGUMENT", "Message text is too long.")
        if cards is not None and not _valid_chat_cards(cards):
            return _chat_error(400, "INVALID_ARGUMENT", "Invalid cardsV2.")
        thread = body.get("thread") or {}
        thread_key = thread.get("threadKey") if isinstance(thread, dict) else None
        with self._records_lock:
            message_id = next(self._ids)
            if thread_key and option != "MESSAGE_REPLY_OPTION_UNSPECIFIED":
                if thread_key not in self.threads:
                    if option == "REPLY_MESSAGE_OR_FAIL":
                        return _chat_error(404, "NOT_FOUND", "Thread not found.")
                    self.threads[thread_key] = f"spaces/{self.space}/threads/t{len(self.threads) + 1}"
                thread_name = self.threads[thread_key]
            else:
                thread_name = f"spaces/{self.space}/threads/new{message_id}"
        message = {
            "name": f"spaces/{self.space}/messages/m{message_id}",
            "sender": {"name": "users/fake-webhook", "type": "BOT"},
            "createTime": datetime.now(UTC).isoformat(),
            "text": text or "",
            "thread": {"name": thread_name, **({"threadKey": thread_key} if thread_key else {})},
            "space": {"name": f"spaces/{self.space}", "type": "SPACE"},
        }
        return self._accept(req, body, Response(200, message))


def _valid_chat_cards(cards: Any) -> bool:
    if not isinstance(cards, list) or not cards:
        return False
    for entry in cards:
        if not (isinstance(entry, dict) and isinstance(entry.get("cardId"), str)
                and isinstance(entry.get("card"), dict)):
            return False
        sections = entry["card"].get("sections", [])
        if not isinstance(sections, list):
            return False
        for section in sections:
            widgets = section.get("widgets") if isinstance(section, dict) else None
            if not isinstance(widgets, list) or not all(isinstance(w, dict) and len(w) == 1 for w in widgets):
                return False  # a widget has exactly one kind: decoratedText, textParagraph, buttonList …
    return True


# -- PagerDuty ------------------------------------------------------------------------------------


class PagerDutyFake(SinkFake):
    """Events API v2 ``POST /v2/enqueue`` with per-dedup_key incident state."""

    def __init__(self, routing_key: str = FAKE_ROUTING_KEY, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        if len(routing_key) != 32:
            raise ValueError("PagerDuty routing keys are 32 characters")
        self.routing_key = routing_key
        self.incidents: dict[str, str] = {}  # dedup_key -> triggered / acknowledged / resolved
        self.history: dict[str, list[str]] = {}  # dedup_key -> event actions accepted, in order
        self.route("POST", r"/v2/enqueue", self._post)

    @property
    def events_url(self) -> str:
        return self.url + "/v2/enqueue"

    def state(self, dedup_key: str) -> str | None:
        with self._records_lock:
            return self.incidents.get(dedup_key)

    def reset(self) -> None:
        super().reset()
        with self._records_lock:
            self.incidents.clear()
            self.history.clear()

    def _post(self, req: Request, _match: Any) -> Response:
        body = _json_object(req)
        if body is None:
            return _pagerduty_invalid(["Event object is invalid: body must be a JSON object"])
        errors = _pagerduty_errors(body, self.routing_key)
        if errors:
            return _pagerduty_invalid(errors)
        action = body["event_action"]
        dedup_key = body.get("dedup_key") or uuid.uuid4().hex
        with self._records_lock:
            current = self.incidents.get(dedup_key)
            if action == "trigger" and current in (None, "resolved"):
                self.incidents[dedup_key] = "triggered"
            elif action == "acknowledge" and current == "triggered":
                self.incidents[dedup_key] = "acknowledged"
            elif action == "resolve" and current in ("triggered", "acknowledged"):
                self.incidents[dedup_key] = "resolved"
            self.history.setdefault(dedup_key, []).append(action)
        answer = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        return self._accept(req, body, Response(202, answer))


def _pagerduty_invalid(errors: list[str]) -> Response:
    return Response(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _pagerduty_errors(body: dict[str, Any], routing_key: str) -> list[str]:
    errors: list[str] = []
    key = body.get("routing_key")
    if _blank(key):
        errors.append("'routing_key' is missing or blank")
    elif len(str(key)) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    elif key != routing_key:
        errors.append("Invalid routing key")
    action = body.get("event_action")
    if action not in PAGERDUTY_ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and (_blank(dedup_key) or len(dedup_key) > 255):
        errors.append("'dedup_key' must be a non-blank string of at most 255 characters")
    if action in ("acknowledge", "resolve") and dedup_key is None:
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        errors.extend(_pagerduty_payload_errors(body.get("payload")))
        links = body.get("links", [])
        if not isinstance(links, list) or not all(isinstance(x, dict) and not _blank(x.get("href"))
                                                  for x in links):
            errors.append("'links' must be a list of objects with 'href'")
    return errors


def _pagerduty_payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or invalid"]
    errors = []
    summary = payload.get("summary")
    if _blank(summary):
        errors.append("'payload.summary' is missing or blank")
    elif len(str(summary)) > 1024:
        errors.append("'payload.summary' is too long (at most 1024 characters)")
    if _blank(payload.get("source")):
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in PAGERDUTY_SEVERITIES:
        errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
    timestamp = payload.get("timestamp")
    if timestamp is not None:
        try:
            datetime.fromisoformat(timestamp)
        except (TypeError, ValueError):
            errors.append("'payload.timestamp' is not a valid ISO 8601 timestamp")
    return errors


# -- generic signed webhook -----------------------------------------------------------------------


class WebhookFake(SinkFake):
    """A receiver of hilft's generic webhook: checks ``X-Hilft-Signature`` like a careful customer.

    Written from the documented scheme, not by calling hilft's own verifier, so a bug in the
    signer cannot hide behind the same bug in the check.
    """

    def __init__(self, secret: str = FAKE_WEBHOOK_SECRET, path: str = FAKE_WEBHOOK_PATH,
                 tolerance_seconds: int = 300, clock: Callable[[], float] = time.time,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.secret, self.path = secret, path
        self.tolerance_seconds, self.clock = tolerance_seconds, clock
        self.duplicates = 0  # deliveries seen twice (same X-Hilft-Delivery): at-least-once is expected
        self._delivery_ids: set[str] = set()
        self.route("POST", r"/.*", self._post)

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def reset(self) -> None:
        super().reset()
        with self._records_lock:
            self.duplicates = 0
            self._delivery_ids.clear()

    def _post(self, req: Request, _match: Any) -> Response:
        if req.path != self.path:
            return Response(404, {"error": "not found"})
        if not self._signature_ok(req.body, req.header("x-hilft-signature")):
            return Response(401, {"error": "invalid signature"})
        body = _json_object(req)
        if body is None or body.get("event") not in {"triggered", "resolved", "acknowledged"}:
            return Response(400, {"error": "unexpected payload"})
        delivery = req.header("x-hilft-delivery") or ""
        with self._records_lock:
            if delivery in self._delivery_ids:
                self.duplicates += 1
            self._delivery_ids.add(delivery)
        return self._accept(req, body, Response(200, {"ok": True}))

    def _signature_ok(self, body: bytes, header: str | None) -> bool:
        if not header:
            return False
        fields: dict[str, list[str]] = {}
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            fields.setdefault(name, []).append(value)
        try:
            timestamp = int(fields["t"][0])
        except (KeyError, ValueError):
            return False
        if abs(self.clock() - timestamp) > self.tolerance_seconds:
            return False
        expected = hmac.new(self.secret.encode(), str(timestamp).encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))  # bytes: any header
                   for given in fields.get("v1", []))


# -- factories and runner -------------------------------------------------------------------------


def make_slack(path: str = FAKE_SLACK_PATH, port: int = 0) -> SlackFake:
    return SlackFake(path, port=port)


def make_google_chat(space: str = FAKE_CHAT_SPACE, key: str = FAKE_CHAT_KEY, token: str = FAKE_CHAT_TOKEN,
                     port: int = 0) -> GoogleChatFake:
    return GoogleChatFake(space, key, token, port=port)


def make_pagerduty(routing_key: str = FAKE_ROUTING_KEY, port: int = 0) -> PagerDutyFake:
    return PagerDutyFake(routing_key, port=port)


def make_webhook(secret: str = FAKE_WEBHOOK_SECRET, port: int = 0) -> WebhookFake:
    return WebhookFake(secret, port=port)


def stop_all(fakes: list[SinkFake]) -> None:
    """Stop fakes in parallel: each FakeServer takes up to its 0.5 s poll interval to stop."""
    stoppers = [threading.Thread(target=fake.stop) for fake in fakes]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.sinks", description=__doc__.splitlines()[0])
    parser.add_argument("--slack-port", type=int, default=0)
    parser.add_argument("--chat-port", type=int, default=0)
    parser.add_argument("--pagerduty-port", type=int, default=0)
    parser.add_argument("--webhook-port", type=int, default=0)
    parser.add_argument("--routing-key", default=FAKE_ROUTING_KEY)
    parser.add_argument("--webhook-secret", default=FAKE_WEBHOOK_SECRET)
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    slack = make_slack(port=args.slack_port)
    chat = make_google_chat(port=args.chat_port)
    pagerduty = make_pagerduty(args.routing_key, port=args.pagerduty_port)
    webhook = make_webhook(args.webhook_secret, port=args.webhook_port)
    fakes: list[SinkFake] = [slack, chat, pagerduty, webhook]
    try:
        for fake in fakes:
            fake.start()
        # The routing key and webhook secret were given on the command line; never echo them.
        print(f"SLACK_WEBHOOK_URL={slack.webhook_url}", flush=True)
        print(f"GOOGLE_CHAT_WEBHOOK_URL={chat.webhook_url}", flush=True)
        print(f"PAGERDUTY_EVENTS_URL={pagerduty.events_url}", flush=True)
        print(f"ALERT_WEBHOOK_URL={webhook.webhook_url}", flush=True)
        print("fakes.sinks ready", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        stop_all(fakes)
    print("fakes.sinks stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
