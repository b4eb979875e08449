"""HTTP plumbing shared by the entry points: body limits, error mapping, staff authentication.

One place maps the exception tree to HTTP answers, so every entry point answers bad input with
a clear 4xx, an infrastructure fault with a 5xx the caller retries, and never a traceback.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import flask

from hilft.core import jsonbody
from hilft.core.errors import (
    Forbidden,
    HilftError,
    MalformedPayload,
    MethodNotAllowed,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from hilft.logs import bind_trace, get_logger

log = get_logger("hilft.web")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> flask.Response:
    return flask.Response(json.dumps(payload, default=str), status=status, mimetype="application/json",
                          headers=headers)


def handle(entry_point: str, request: flask.Request, func: Callable[[], flask.Response]) -> flask.Response:
    bind_trace(request.headers.get("X-Cloud-Trace-Context"), request.headers.get("traceparent"))
    try:
        return func()
    except HilftError as exc:
        level = log.error if exc.http_status >= 500 else log.info
        level("request rejected", entry_point=entry_point, status=exc.http_status, error=type(exc).__name__)
        headers = {"Retry-After": "5"} if exc.http_status == 503 else None
        return json_response({"error": exc.message}, exc.http_status, headers)
    except Exception:  # the last line of defence: log the type, answer 500, never a traceback
        log.error("unhandled error", entry_point=entry_point, exc_info=True)
        return json_response({"error": "internal error"}, 500)


def require_method(request: flask.Request, *allowed: str) -> None:
    if request.method not in allowed:
        raise MethodNotAllowed()


def read_body(request: flask.Request, max_bytes: int, *, require_json: bool = True) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge()
    if require_json:
        mimetype = (request.mimetype or "").lower()
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise UnsupportedMediaType("expected application/json")
    body = request.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise PayloadTooLarge()
    return body


def parse_json_object(body: bytes) -> dict[str, Any]:
    value = jsonbody.loads(body)
    if not isinstance(value, dict):
        raise MalformedPayload("body must be a JSON object")
    return value


def refuse_foreign_origin(request: flask.Request) -> None:
    """Staff POSTs (ack, handoff) are for tools and the board, never for another site's page.

    A browser names the page's ``Origin`` on every cross-site POST; a page the staff member visits
    while ``gcloud run services proxy`` serves on localhost must not be able to act for them. With
    ``read_body``'s JSON requirement, a simple (preflight-free) cross-site form post is impossible.
    """
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden("requests from another origin are not accepted")


def staff_identity(request: flask.Request, mode: str, token: str | None, *,
                   verifier: Any = None, audiences: frozenset[str] = frozenset()) -> str:
    """Who is calling a staff entry point (handoff, ack, board). Fails closed.

    ``iam``: Cloud Run IAM verified a Google ID token before the request got here and forwards it
    (in ``X-Serverless-Authorization`` when the caller used that header, else ``Authorization``).
    hilft verifies it again — signature against Google's keys, issuer, audience, expiry — before
    it records a name: a decoded-but-unverified token would let anyone claim to be anyone.
    """
    if mode == "off":
        return request.headers.get("X-Hilft-User") or "local"
    header = request.headers.get("X-Serverless-Authorization") if mode == "iam" else None
    header = header or request.headers.get("Authorization") or ""
    if not header.lower().startswith("bearer "):
        raise Unauthorized("missing bearer token")
    presented = header.split(" ", 1)[1].strip()
    if mode == "token":
        if not token or not hmac.compare_digest(presented.encode(), token.encode()):
            raise Unauthorized("invalid staff token")
        return request.headers.get("X-Hilft-User") or "staff"
    if verifier is None:
        raise Unauthorized("identity verification is not configured")
    own = request.base_url.rstrip("/")
    accepted = set(audiences) | {own, request.host_url.rstrip("/")}
    claims = verifier.verify_any_audience(f"Bearer {presented}", audiences=accepted)
    email = claims.get("email")
    if not isinstance(email, str) or not email or not claims.get("email_verified", False):
        raise Unauthorized("identity token carries no verified e-mail")
    return email
