"""HTTP plumbing shared by the entry points: body limits, error mapping, staff authentication.

One place maps the exception tree to HTTP answers, so every entry point answers bad input with
a clear 4xx, an infrastructure fault with a 5xx the caller retries, and never a traceback.
"""

from __future__ import annotations

import hmac
import json
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import flask

from hilft.core import jsonbody
from hilft.core.alerts import clean_text
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


PROXY_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")
"""Where ``gcloud run services proxy`` (infra/README) serves a staff page: the browser names this
``Origin`` while the proxy forwards the request with the run.app ``Host``."""
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _origin_allowed(origin: str, host: str, allowed: Iterable[str]) -> bool:
    """``origin`` is the request's own host; or the request came through a proxy on this machine:
    ``origin`` matches ``allowed`` (``scheme://host:port``, ``*`` for any port) while the ``Host``
    is not loopback (the proxy rewrites ``Host``, not ``Origin``). A request that reached a
    loopback ``Host`` directly came through no proxy, so another local port is a foreign page."""
    try:
        parts = urlsplit(origin)
        port = parts.port
        host_name = urlsplit(f"//{host}").hostname
    except ValueError:
        return False
    if not parts.scheme or not parts.hostname:
        return False
    if parts.netloc == host:
        return True
    if host_name in _LOOPBACK:
        return False
    for pattern in allowed:
        any_port = pattern.endswith(":*")
        want = urlsplit(pattern[:-2] if any_port else pattern)
        if (want.scheme, want.hostname) == (parts.scheme, parts.hostname) and (any_port or want.port == port):
            return True
    return False


def refuse_foreign_origin(request: flask.Request, allowed_origins: Iterable[str] = PROXY_ORIGINS) -> None:
    """Staff POSTs (ack, handoff, the board's buttons) are for tools and the board, never for
    another site's page.

    A browser says where a request comes from. ``Sec-Fetch-Site`` (every current browser) is its
    own verdict and no page can set it: only ``same-origin`` passes — true for the board's POSTs
    to itself, also through ``gcloud run services proxy`` — while a page on another site or on
    another localhost port (``cross-site``, ``same-site``) is refused. A browser without it still
    names the ``Origin``: the request's own host passes, and so does the proxy's localhost
    (``allowed_origins``) when the request reached hilft through it. A tool (curl, a script)
    sends neither and passes on its staff credentials alone. With ``read_body``'s JSON
    requirement a simple (preflight-free) cross-site post is impossible anyway; this is the
    second lock.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site.strip().lower() != "same-origin":
            raise Forbidden("requests from another origin are not accepted")
        return
    origin = request.headers.get("Origin")
    if origin and not _origin_allowed(origin, request.host, allowed_origins):
        raise Forbidden("requests from another origin are not accepted")


def cloud_run_credentials(request: flask.Request) -> str | None:
    """The credentials Cloud Run IAM checked: ``X-Serverless-Authorization`` when the caller sent
    it (Cloud Run then checks that one and passes ``Authorization`` through untouched, so a caller
    could put anything there), else ``Authorization``."""
    return request.headers.get("X-Serverless-Authorization") or request.headers.get("Authorization")


STAFF_NAME_LIMIT = 120
"""Characters of a name the caller states (``X-Hilft-User``, ``ack``'s ``by``), after cleaning."""

# letters that render as blank though Unicode files them as letters or symbols (Hangul fillers, braille blank)
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_something(name: str) -> bool:
    """At least one character that draws ink: not a space, a combining or format mark, or a blank-looking letter."""
    return any(ch not in _BLANK_LOOKING and unicodedata.category(ch) not in {"Zs", "Mn", "Me", "Cf", "Cc"}
               for ch in name)


def claimed_staff_name(name: str) -> str:
    """A name the caller states (``X-Hilft-User``, ``ack``'s ``by``: token mode takes their word),
    as hilft records and shows it: one line of visible text (control characters become spaces,
    format characters such as zero-width spaces and right-to-left overrides go, whitespace is
    collapsed) of at most ``STAFF_NAME_LIMIT`` characters. Longer, or nothing visible, is a 400.
    Names hilft records for itself are refused (400) too: an acknowledgement ``by`` ``pagerduty``
    is never passed on to PagerDuty (it knows), ``hilft:…`` marks hilft's own actions."""
    cleaned = clean_text(name)
    if not cleaned or not _shows_something(cleaned):
        raise MalformedPayload("the staff name has no visible characters")
    if len(cleaned) > STAFF_NAME_LIMIT:
        raise MalformedPayload(f"the staff name must be at most {STAFF_NAME_LIMIT} characters")
    plain = cleaned.casefold()
    if plain == "pagerduty" or plain.startswith("hilft:"):
        raise MalformedPayload("that name is reserved for hilft itself")
    return cleaned


def _user_header(request: flask.Request) -> str | None:
    """``X-Hilft-User`` as sent: WSGI hands headers over decoded as Latin-1; a UTF-8 name
    ("Jürgen") is read as UTF-8, anything else stays as it came."""
    value = request.headers.get("X-Hilft-User")
    if not value:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def staff_identity(request: flask.Request, mode: str, token: str | None, *,
                   verifier: Any = None, audiences: frozenset[str] = frozenset()) -> str:
    """Who is calling a staff entry point (handoff, ack, board). Fails closed.

    ``iam``: Cloud Run IAM verified a Google ID token before the request got here and forwards it
    (``cloud_run_credentials``). hilft verifies it again — signature (or, where Cloud Run removed
    it, that Cloud Run IAM guards this function), issuer, expiry, and an audience among
    ``audiences``, the function's own URLs as deployed (``HILFT_STAFF_AUDIENCES``) — before it
    records a name. The request's Host header names no audience: a caller chooses it.
    """
    if mode == "off":
        return claimed_staff_name(_user_header(request) or "local")
    if mode == "token":
        header = request.headers.get("Authorization") or ""
        if not header.lower().startswith("bearer "):
            raise Unauthorized("missing bearer token")
        presented = header.split(" ", 1)[1].strip()
        if not token or not hmac.compare_digest(presented.encode(), token.encode()):
            raise Unauthorized("invalid staff token")
        return claimed_staff_name(_user_header(request) or "staff")
    if verifier is None:
        raise Unauthorized("identity verification is not configured")
    return str(verifier.verify_staff(cloud_run_credentials(request), audiences=audiences))
