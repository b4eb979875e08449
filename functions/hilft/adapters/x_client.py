"""Outbound calls to X's v2 API: the DM that takes a case private, and the public reply.

X's answers are translated here, once, into exceptions that are both X-specific (for callers that
care) and hilft's platform-neutral errors from ``hilft.core.errors`` (for the handoff service):

=================  ===========================  ==========================================
X answered         raised                       also a
=================  ===========================  ==========================================
429                ``RateLimited(reset_at)``    ``PlatformRateLimited`` (retry at reset_at)
5xx, no answer     ``RetryableXError``          ``PlatformUnavailable`` (retry soon)
401, app not set   ``XAuthError``               ``PlatformConfigError`` (needs an operator)
403 to a DM        ``DmNotAllowed``             ``PrivateChannelRefused``
403 to a reply     ``ReplyNotAllowed``          ``PrivateChannelRefused``
other 4xx          ``XRequestRejected``         ``PlatformConfigError``
=================  ===========================  ==========================================

Exception messages never contain the token or the message text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import httpx

from hilft.core.errors import (
    HilftError,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformUnavailable,
    PrivateChannelRefused,
)

DEFAULT_BASE_URL = "https://api.x.com"
# X's rate limits refill in 15-minute windows; used when a 429 comes without x-rate-limit-reset.
RATE_LIMIT_WINDOW = timedelta(minutes=15)

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
        # Serialised here, not by httpx, so the bytes on the wire are fixed across httpx versions.
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            response = self._http.post(self._base_url + path, content=content, headers=self._headers,
                                       timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise RetryableXError("X did not answer in time") from exc
        except httpx.TransportError as exc:
            raise RetryableXError("X could not be reached") from exc
        status = response.status_code
        if 200 <= status < 300:
            return _data_object(response)
        problem = _problem_type(response)
        if status == 429:
            raise RateLimited(self._reset_at(response))
        if status == 401 or (status == 403 and problem in _APP_FORBIDDEN_PROBLEMS):
            raise XAuthError(f"X rejected the credentials ({status})").answered(status, problem)
        if status == 403:
            raise refused(f"X refused the request ({status})").answered(status, problem)
        if status >= 500:
            raise RetryableXError(f"X failed ({status})").answered(status, problem)
        if status >= 400:
            raise XRequestRejected(f"X rejected the request ({status})").answered(status, problem)
        raise XApiError(f"unexpected answer from X ({status})").answered(status, problem)

    def _reset_at(self, response: httpx.Response) -> datetime:
        raw = response.headers.get("x-rate-limit-reset", "")
        if raw.isascii() and raw.isdigit():
            try:
                return datetime.fromtimestamp(int(raw), tz=UTC)
            except (OverflowError, OSError, ValueError):
                pass
        return self._clock() + RATE_LIMIT_WINDOW


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


def _problem_type(response: httpx.Response) -> str | None:
    """X's problem ``type`` (a fixed URI, safe to keep); the free-text ``detail`` is dropped."""
    try:
        document = response.json()
    except ValueError:
        return None
    problem = document.get("type") if isinstance(document, dict) else None
    return problem if isinstance(problem, str) else None
