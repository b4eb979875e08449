"""Outbound calls to X's v2 API: the DM that takes a case private, the public reply, and the
lookup of an author X named by id only.

X's answers are translated here, once, into exceptions that are both X-specific (for callers that
care) and hilft's platform-neutral errors from ``hilft.core.errors`` (for the handoff service).
429, 5xx and the credential refusals are read as every channel reads them
(``channels.http_errors.typed_error``, with X's ``x-rate-limit-reset``); the rest is X's own:

=================  ===========================  ==========================================
X answered         raised                       also a
=================  ===========================  ==========================================
429                ``RateLimited(reset_at)``    ``PlatformRateLimited`` (retry at reset_at)
5xx, no answer     ``RetryableXError``          ``PlatformUnavailable`` (retry soon)
401, app not set   ``XAuthError``               ``PlatformConfigError`` (needs an operator)
403 to a DM        ``DmNotAllowed``             ``PrivateChannelRefused``
403 to a reply     ``ReplyNotAllowed``          ``PrivateChannelRefused``
403/404 to a hide  ``HideNotAllowed``           ``PlatformRefused`` (not a reply to the brand)
no such user       ``UserNotFound``             ``PlatformRefused`` (200 with errors, 403/404)
other 4xx          ``XRequestRejected``         ``PlatformConfigError``
=================  ===========================  ==========================================

Exception messages never contain the token or the message text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any, Self, cast

import httpx

from hilft.channels.http_errors import DEFAULT_BACKOFF, retry_at, typed_error
from hilft.core.errors import (
    HilftError,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PlatformUnavailable,
    PrivateChannelRefused,
)

# X's rate limits refill in 15-minute windows; used when a 429 comes without x-rate-limit-reset.
RATE_LIMIT_WINDOW = timedelta(minutes=15)
RESET_HEADER = "x-rate-limit-reset"  # epoch seconds at which X's window refills
# What an author lookup asks for: the handle and name for greetings, followers for priority rules.
USER_FIELDS = "username,name,public_metrics"

_ID = re.compile(r"[0-9]{1,20}")
# 403 problem types that mean "this app or token may not call the endpoint", not "this user refuses".
_APP_FORBIDDEN_PROBLEMS = frozenset({
    "https://api.twitter.com/2/problems/client-forbidden",
    "https://api.twitter.com/2/problems/unsupported-authentication",
})


class XApiError(HilftError):
    """A call to X failed. ``status`` is X's HTTP status (None when X never answered).

    Sets no ``http_status``: each subclass keeps the one of its hilft.core.errors class (503, 409...).
    """

    status: int | None = None
    problem: str | None = None  # X's problem type URI; its free-text detail is never kept

    def answered(self, status: int, problem: str | None = None) -> Self:
        self.status, self.problem = status, problem
        return self


class RetryableXError(XApiError, PlatformUnavailable):
    """X is down, slow or unreachable: the same call may succeed later."""


class RateLimited(RetryableXError, PlatformRateLimited):
    """X answered 429; ``reset_at`` is when the rate-limit window refills."""

    def __init__(self, reset_at: datetime) -> None:
        super().__init__(reset_at, "X rate limit reached")
        self.reset_at = reset_at
        self.status = 429


class XAuthError(XApiError, PlatformConfigError):
    """The user access token is missing, expired or revoked, or the app may not use this endpoint."""


class DmNotAllowed(XApiError, PrivateChannelRefused):
    """The recipient does not accept direct messages from the brand account."""


class ReplyNotAllowed(XApiError, PrivateChannelRefused):
    """X refused the public reply (reply settings, deleted or protected post, duplicate text)."""


class HideNotAllowed(XApiError, PlatformRefused):
    """X will not hide this post: it is no reply in a conversation the brand started (X answers 403),
    or it is gone (404). Hiding it again later will not help."""


class UserNotFound(XApiError, PlatformRefused):
    """The account does not exist (any more) or is suspended: asking again will not help."""


class XRequestRejected(XApiError, PlatformConfigError):
    """Any other 4xx: retrying the same request will not help."""


class XClient:
    """Sends DMs and replies as the brand account, authenticated with an OAuth 2.0 user token."""

    def __init__(self, base_url: str, user_access_token: str, *, http: httpx.Client | None = None,
                 timeout: float = 10.0, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not user_access_token:
            raise XAuthError("no X user access token configured")
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {user_access_token}",
                         "Content-Type": "application/json", "Accept": "application/json"}
        self._timeout = timeout
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self._clock = clock

    def send_dm(self, participant_id: str, text: str) -> str:
        """Send a one-to-one DM; returns X's ``dm_event_id``."""
        _require_id(participant_id, "participant_id")
        data = self._post(f"/2/dm_conversations/with/{participant_id}/messages", {"text": text},
                          refused=DmNotAllowed)
        return _string_field(data, "dm_event_id")

    def reply(self, in_reply_to_post_id: str, text: str) -> str:
        """Reply publicly to a post; returns the new post's id."""
        _require_id(in_reply_to_post_id, "in_reply_to_post_id")
        body = {"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to_post_id}}
        return _string_field(self._post("/2/tweets", body, refused=ReplyNotAllowed), "id")

    def hide_reply(self, post_id: str) -> None:
        """Hide a reply in a conversation the brand started (``PUT /2/tweets/:id/hidden``,
        ``{"hidden": true}``; needs the ``tweet.moderate.write`` scope). X answers 403 for any other
        post: ``HideNotAllowed``. Hiding a hidden reply again succeeds."""
        _require_id(post_id, "post_id")
        data = self._send("PUT", f"/2/tweets/{post_id}/hidden", {"hidden": True}, refused=HideNotAllowed,
                          refused_statuses=(403, 404))
        if data.get("hidden") is not True:
            raise XApiError("X did not confirm the hidden reply")

    def get_user(self, user_id: str) -> dict[str, str | int | None]:
        """Handle, name and follower count of an account (``GET /2/users/:id``, ``users.read``).

        X answers an unknown or suspended account with 200 and only ``errors``: ``UserNotFound``.
        """
        _require_id(user_id, "user_id")
        response = _request(self._http, "GET", f"{self._base_url}/2/users/{user_id}", headers=self._headers,
                            timeout=self._timeout, params={"user.fields": USER_FIELDS})
        if response.status_code == 200 and _has_errors_only(response):
            raise UserNotFound("X knows no such account").answered(200, _first_error_type(response))
        data = self._answer(response, refused=UserNotFound, refused_statuses=(403, 404))
        metrics = data.get("public_metrics")
        followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
        username, name = data.get("username"), data.get("name")
        return {"handle": username if isinstance(username, str) and username else None,
                "name": name if isinstance(name, str) and name else None,
                "followers": followers if isinstance(followers, int) and not isinstance(followers, bool) else None}

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any], *, refused: type[XApiError]) -> dict[str, Any]:
        return self._send("POST", path, body, refused=refused)

    def _send(self, method: str, path: str, body: dict[str, Any], *, refused: type[XApiError],
              refused_statuses: tuple[int, ...] = (403,)) -> dict[str, Any]:
        # Serialised here, not by httpx, so the bytes on the wire are fixed across httpx versions.
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        response = _request(self._http, method, self._base_url + path, headers=self._headers,
                            timeout=self._timeout, content=content)
        return self._answer(response, refused=refused, refused_statuses=refused_statuses)

    def _answer(self, response: httpx.Response, *, refused: type[XApiError],
                refused_statuses: tuple[int, ...] = (403,)) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            return _data_object(response)
        problem = _problem_type(response)
        shared = _shared_error(response, problem, now=self._clock(), credentials="the credentials",
                               app_refusal=problem in _APP_FORBIDDEN_PROBLEMS, no_reset_wait=RATE_LIMIT_WINDOW)
        if shared is not None:
            raise shared
        if status in refused_statuses:
            raise refused(f"X refused the request ({status})").answered(status, problem)
        if status >= 400:
            raise XRequestRejected(f"X rejected the request ({status})").answered(status, problem)
        raise XApiError(f"unexpected answer from X ({status})").answered(status, problem)


def _shared_error(response: httpx.Response, problem: str | None, *, now: datetime, credentials: str,
                  app_refusal: bool, no_reset_wait: timedelta, reason: str = "") -> XApiError | None:
    """X's exception for the answers every channel reads alike (``http_errors.typed_error``): 429 at
    ``x-rate-limit-reset`` (else after ``no_reset_wait``), 5xx, 401 and a 403 refusing the app or
    token (``app_refusal``); None for any other answer, which is X's own to read."""
    status = response.status_code
    wait = partial(retry_at, reset_header=RESET_HEADER, default=no_reset_wait)
    shared = typed_error(status, response.headers, platform="X", what="v2 API", now=now,
                         auth_refusal=app_refusal, retry_time=wait)
    if isinstance(shared, PlatformRateLimited):
        return RateLimited(cast(datetime, shared.retry_at))
    if isinstance(shared, PlatformConfigError):
        return XAuthError(f"X rejected {credentials} ({status}{reason})").answered(status, problem)
    if isinstance(shared, PlatformUnavailable):
        return RetryableXError(f"X failed ({status}{reason})").answered(status, problem)
    return None


def _request(http: httpx.Client, method: str, url: str, *, headers: dict[str, str], timeout: float,
             content: bytes | None = None, params: dict[str, str] | None = None) -> httpx.Response:
    """One call to X; no answer at all (timeout, connection) is ``RetryableXError``."""
    try:
        return http.request(method, url, content=content, params=params, headers=headers, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise RetryableXError("X did not answer in time") from exc
    except httpx.TransportError as exc:
        raise RetryableXError("X could not be reached") from exc


def _require_id(value: str, name: str) -> None:
    """Ids go into URL paths: only X's numeric ids may, never anything that could change the path."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"{name} is not an X id")


def _data_object(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError as exc:
        raise XApiError("X answered with something other than JSON").answered(response.status_code) from exc
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise XApiError("X's answer has no data object").answered(response.status_code)
    return data


def _string_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise XApiError(f"X's answer has no {name}")
    return value


def _has_errors_only(response: httpx.Response) -> bool:
    try:
        document = response.json()
    except ValueError:
        return False
    return isinstance(document, dict) and "data" not in document and bool(document.get("errors"))


def _first_error_type(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    problem = first.get("type")
    return problem if isinstance(problem, str) else None


def _problem_type(response: httpx.Response) -> str | None:
    """X's problem ``type`` (a fixed URI, safe to keep); the free-text ``detail`` is dropped."""
    try:
        document = response.json()
    except ValueError:
        return None
    problem = document.get("type") if isinstance(document, dict) else None
    return problem if isinstance(problem, str) else None


# -- Account Activity replay (``make replay``, issue 16) ------------------------------------------
#
# X's replay API redelivers the Account Activity events of a window to the webhook they were first
# sent to (https://docs.x.com/x-api/account-activity/create-replay-job):
# ``POST /2/account_activity/replay/webhooks/:webhook_id/subscriptions/all?from_date=&to_date=`` with
# the app-only bearer token; times in UTC as ``yyyymmddhhmm``, ``from_date`` inclusive, ``to_date``
# exclusive; answer ``{"created_at", "job_id"}``. Limits (X's replay reference and guide,
# https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/api-reference/replay-api and
# .../guides/activity-replay-api): the window lies within the last five days, ``from_date`` at least
# 31 and ``to_date`` at least 10 minutes in the past, windows of about two hours are advised, one
# job per webhook runs at a time, 5 requests per 15 minutes.

REPLAY_REACH = timedelta(days=5)
REPLAY_FROM_AGE = timedelta(minutes=31)
REPLAY_TO_AGE = timedelta(minutes=10)
REPLAY_ADVISED = timedelta(hours=2)
_REPLAY_INPUT = re.compile(r"(?P<date>\d{4}-\d\d-\d\d)[T ](?P<time>\d\d:\d\d(?::\d\d)?)(?P<zone>Z|[+-]\d\d:?\d\d)")


class ReplayWindowError(ValueError):
    """The window cannot be replayed (the message says why and, where waiting helps, until when)."""


@dataclass(frozen=True)
class ReplayWindow:
    start: datetime  # UTC, whole minute, inclusive
    end: datetime  # UTC, whole minute, exclusive
    notes: tuple[str, ...] = ()

    def query(self) -> dict[str, str]:
        return {"from_date": replay_stamp(self.start), "to_date": replay_stamp(self.end)}


def replay_stamp(at: datetime) -> str:
    """X's replay time format: ``yyyymmddhhmm`` in UTC."""
    return at.astimezone(UTC).strftime("%Y%m%d%H%M")


def parse_replay_time(text: str, name: str = "time") -> datetime:
    """``2026-11-29T10:00Z`` (or with seconds, or ``+01:00``), or X's own ``202611291000`` (UTC)."""
    text = (text or "").strip()
    if re.fullmatch(r"\d{12}", text):
        try:
            return datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            pass
    elif (match := _REPLAY_INPUT.fullmatch(text)) is not None:
        zone = "+00:00" if match["zone"] == "Z" else match["zone"]
        try:
            return datetime.fromisoformat(f"{match['date']}T{match['time']}{zone}").astimezone(UTC)
        except ValueError:
            pass
    raise ReplayWindowError(f"{name} must look like 2026-11-29T10:00Z (UTC) or 202611291000, got {text!r}")


def replay_window(start: datetime, end: datetime, now: datetime) -> ReplayWindow:
    """The window X will accept around ``start`` … ``end``: whole minutes (widened, never narrowed)."""
    for value, name in ((start, "FROM"), (end, "TO"), (now, "now")):
        if value.tzinfo is None:
            raise ReplayWindowError(f"{name} must carry a time zone")
    first = start.astimezone(UTC).replace(second=0, microsecond=0)
    last = end.astimezone(UTC)
    if last.second or last.microsecond:
        last = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
    now = now.astimezone(UTC)
    notes: list[str] = []
    if last <= first:
        raise ReplayWindowError("TO must be after FROM")
    if first < now - REPLAY_REACH:
        raise ReplayWindowError(f"FROM is more than {REPLAY_REACH.days} days ago: X replays only the last "
                                f"{REPLAY_REACH.days} days (earliest now: {_show(now - REPLAY_REACH)})")
    if last > now - REPLAY_TO_AGE:
        raise ReplayWindowError(f"TO must be at least {_minutes(REPLAY_TO_AGE)} minutes ago; run again after "
                                f"{_show(last + REPLAY_TO_AGE)}")
    if first > now - REPLAY_FROM_AGE:
        raise ReplayWindowError(f"FROM must be at least {_minutes(REPLAY_FROM_AGE)} minutes ago; run again after "
                                f"{_show(first + REPLAY_FROM_AGE)}")
    if (first, last) != (start.astimezone(UTC), end.astimezone(UTC)):
        notes.append(f"widened to whole minutes: {_show(first)} … {_show(last)}")
    if last - first > REPLAY_ADVISED:
        notes.append(f"X advises windows of about {_minutes(REPLAY_ADVISED) // 60} hours; this one is "
                     f"{(last - first) // timedelta(minutes=1)} minutes (one job, delivered oldest first)")
    return ReplayWindow(first, last, tuple(notes))


def _show(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


class XReplayClient:
    """The app-only calls of a replay: find the webhook, start the job. Never prints or keeps the token."""

    def __init__(self, base_url: str, app_token: str, *, http: httpx.Client | None = None, timeout: float = 15.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not app_token:
            raise XAuthError("no X app bearer token configured (X_BEARER_TOKEN)")
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {app_token}", "Accept": "application/json"}
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self._timeout = timeout
        self._clock = clock

    def webhook_id_for(self, url: str) -> str:
        """The id of the registered webhook whose URL is ``url`` (``GET /2/webhooks``)."""
        document = self._call("GET", "/2/webhooks")
        for webhook in document.get("data") or []:
            if isinstance(webhook, dict) and webhook.get("url") == url and isinstance(webhook.get("id"), str):
                return str(webhook["id"])
        raise XRequestRejected("no X webhook is registered for that URL (make register-webhooks)")

    def create_replay_job(self, webhook_id: str, window: ReplayWindow) -> tuple[str, str | None]:
        """Start the replay; returns X's ``job_id`` and ``created_at``."""
        _require_id(webhook_id, "webhook_id")
        document = self._call("POST", f"/2/account_activity/replay/webhooks/{webhook_id}/subscriptions/all",
                              params=window.query())
        nested = document.get("data")
        data: dict[str, Any] = nested if isinstance(nested, dict) else document
        job_id = data.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise XApiError("X's answer has no job_id")
        created = data.get("created_at")
        return job_id, created if isinstance(created, str) else None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _call(self, method: str, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = _request(self._http, method, self._base_url + path, headers=self._headers,
                            timeout=self._timeout, params=params)
        status = response.status_code
        try:
            document = response.json() if response.content else {}
        except ValueError:
            document = {}
        document = document if isinstance(document, dict) else {}
        if 200 <= status < 300:
            return document
        problem = _problem_type(response)
        reason = _reason(document)
        # Every 403 to an app-only call is about the bearer token: there is no user to refuse.
        shared = _shared_error(response, problem, now=self._clock(), credentials="the app bearer token",
                               app_refusal=True, no_reset_wait=DEFAULT_BACKOFF, reason=reason)
        if shared is not None:
            raise shared
        raise XRequestRejected(f"X refused the replay ({status}{reason})").answered(status, problem)


def _reason(document: dict[str, Any]) -> str:
    """X's title and detail of a refused app-only call, short (they name limits, never a token)."""
    listed = document.get("errors")
    errors: list[Any] = listed if isinstance(listed, list) else []
    parts = [document.get("title"), document.get("detail"),
             *(e.get("message") or e.get("detail") for e in errors if isinstance(e, dict))]
    text = "; ".join(str(p) for p in parts if isinstance(p, str) and p)
    return f": {text[:300]}" if text else ""
