"""Mastodon's REST API with httpx: the calls hilft makes, with the brand's access token.

Timelines and notifications page forward with ``min_id`` ("results immediately newer than this
id"), so a poll after downtime walks from its cursor up to now without a gap (``since_id`` would
skip to the newest page). Search is different: it answers the newest hits after ``min_id``, so it
is read backwards with ``offset`` down to the cursor (``search_statuses``). Writes are
``POST /api/v1/statuses`` with an ``Idempotency-Key``: Mastodon keeps the key
for an hour and answers a repeated request with the first status instead of posting again.

Every answer carries Mastodon's rate-limit headers (by default 300 requests per 5 minutes per
account, shared by everything that uses the token); the client keeps the last
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` it saw (``rate_remaining``, ``rate_reset``),
so optional work (the deleted-post check) can leave the rest of the window to polling and replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from hilft.channels.http_errors import MAX_BACKOFF, rate_remaining, retry_at, typed_error
from hilft.channels.mastodon.parse import parse_time
from hilft.channels.text import mastodon_length, truncate_mastodon
from hilft.core.errors import PlatformUnavailable, PrivateChannelRefused
from hilft.logs import get_logger

log = get_logger("hilft.mastodon")

PAGE_LIMIT = 40  # the notifications default; statuses allow 40 as well
MAX_STATUS_CHARS = 500  # Mastodon's default, counted as StatusLengthValidator does (the @acct prefix too)


class NotSupported(Exception):
    """The instance does not offer this call (e.g. full-text search without a search backend)."""


class MastodonClient:
    def __init__(self, base_url: str, access_token: str, *, http: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = access_token
        self.http = http
        self.rate_remaining: int | None = None  # X-RateLimit-Remaining of the last answer, if it had one
        self.rate_reset: datetime | None = None  # X-RateLimit-Reset of the last answer

    def _request(self, method: str, path: str, *, params: Any = None, data: Any = None,
                 headers: Mapping[str, str] | None = None) -> httpx.Response:
        """The answer, or hilft's error: 401 and a 403 about the token itself (a scope it lacks, a
        disabled login) are ``PlatformConfigError``; 429 and 5xx as ``http_errors.typed_error``."""
        what = _call_name(path)
        hdrs = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        try:
            response = self.http.request(method, self.base_url + path, params=params, data=data, headers=hdrs)
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"mastodon: {type(exc).__name__}") from exc
        remaining = rate_remaining(response.headers)
        if remaining is not None:
            self.rate_remaining, self.rate_reset = remaining, parse_time(response.headers.get("X-RateLimit-Reset"))
        error = typed_error(response.status_code, response.headers, platform="mastodon", what=f"{method} {what}",
                            auth_refusal=_auth_refusal(response), retry_time=_retry_at)
        if error is not None:
            raise error
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            raise PlatformUnavailable(f"mastodon: {what} refused ({response.status_code})")
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformUnavailable(f"mastodon: {what} answered no JSON") from exc

    @staticmethod
    def _page(min_id: str | None, limit: int) -> list[tuple[str, str | int]]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if min_id:
            params.append(("min_id", min_id))
        return params

    # -- reads -----------------------------------------------------------------------------
    def own_account_id(self) -> str:
        body = self._json(self._request("GET", "/api/v1/accounts/verify_credentials"), "verify_credentials")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise PlatformUnavailable("mastodon: verify_credentials without id")
        return str(body["id"])

    def notifications(self, min_id: str | None, limit: int = PAGE_LIMIT) -> list[Any]:
        # include_filtered: a customer's first message (new account, not followed) is still a complaint.
        params = [("types[]", "mention"), ("include_filtered", "true"), *self._page(min_id, limit)]
        return list(self._json(self._request("GET", "/api/v1/notifications", params=params), "notifications") or [])

    def account_statuses(self, account_id: str, min_id: str | None, limit: int = PAGE_LIMIT) -> list[Any]:
        params = [("exclude_reblogs", "true"), *self._page(min_id, limit)]
        path = f"/api/v1/accounts/{_segment(account_id)}/statuses"
        return list(self._json(self._request("GET", path, params=params), "account statuses") or [])

    def tag_timeline(self, tag: str, min_id: str | None, limit: int = PAGE_LIMIT) -> list[Any]:
        path = f"/api/v1/timelines/tag/{_segment(tag)}"
        return list(self._json(self._request("GET", path, params=self._page(min_id, limit)), "tag timeline") or [])

    def search_statuses(self, query: str, min_id: str | None, limit: int = PAGE_LIMIT, *, offset: int = 0) -> Any:
        """Statuses matching ``query`` newer than ``min_id``, NEWEST first: unlike the timelines,
        search turns ``min_id`` into an ``after:`` filter and answers the newest ``limit`` hits
        (Mastodon's ``StatusesSearchService``: ``order(id: desc).limit(limit).offset(offset)``), so
        the rest is read with ``offset`` (``max_id`` becomes a ``before:`` that cuts at whole seconds)."""
        params = [("q", query), ("type", "statuses"), *self._page(min_id, limit)]
        if offset:
            params.append(("offset", offset))
        response = self._request("GET", "/api/v2/search", params=params)
        if response.status_code in (400, 403, 404, 422):
            raise NotSupported(f"search answered {response.status_code}")
        return self._json(response, "search")

    def status(self, status_id: str) -> dict[str, Any] | None:
        """The status as the brand's account sees it; None when it is gone (404/410)."""
        response = self._request("GET", f"/api/v1/statuses/{_segment(status_id)}")
        if response.status_code in (404, 410):
            return None
        body = self._json(response, "status")
        return body if isinstance(body, dict) else None

    def status_exists(self, status_id: str) -> bool:
        response = self._request("GET", f"/api/v1/statuses/{_segment(status_id)}")
        if response.status_code in (404, 410):
            return False
        self._json(response, "status")
        return True

    def context(self, status_id: str) -> dict[str, Any] | None:
        """The status's thread (``ancestors``, ``descendants``); None when the status is gone."""
        response = self._request("GET", f"/api/v1/statuses/{_segment(status_id)}/context")
        if response.status_code in (404, 410):
            return None
        body = self._json(response, "context")
        return body if isinstance(body, dict) else {}

    # -- writes ----------------------------------------------------------------------------
    def post_status(self, text: str, *, in_reply_to_id: str | None, visibility: str, idempotency_key: str) -> str:
        status = truncate_mastodon(text, MAX_STATUS_CHARS)
        if status != text:  # lengths only: the text may hold anything
            log.warning("mastodon status shortened to the instance's limit", length=mastodon_length(text),
                        limit=MAX_STATUS_CHARS)
        form: dict[str, str] = {"status": status, "visibility": visibility}
        if in_reply_to_id:
            form["in_reply_to_id"] = in_reply_to_id
        response = self._request("POST", "/api/v1/statuses", data=form,
                                 headers={"Idempotency-Key": idempotency_key})
        if response.status_code in (403, 404, 422):
            raise PrivateChannelRefused(f"mastodon: status refused ({response.status_code})")
        body = self._json(response, "post status")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise PlatformUnavailable("mastodon: posted status without id")
        return str(body["id"])


# Mastodon's 403 bodies that are about hilft's token or account, not about this request
# (Api::BaseController: doorkeeper's forbidden answer and require_user!): an operator must act.
_AUTH_REFUSALS = ("outside the authorized scopes", "login is missing a confirmed", "login is currently",
                  "account is currently")


def _auth_refusal(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    message = body.get("error") if isinstance(body, dict) else None
    return isinstance(message, str) and any(part in message for part in _AUTH_REFUSALS)


def _call_name(path: str) -> str:
    """The call without ids (for error messages and logs): ``/api/v1/statuses/:id/context``."""
    return "/".join(":id" if part.isdigit() else part for part in path.split("/"))


def _segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _retry_at(headers: object, now: datetime) -> datetime:
    """Retry-After when given, else ``X-RateLimit-Reset`` (Mastodon sends an ISO 8601 time)."""
    get = getattr(headers, "get", None)
    if get is None or get("Retry-After"):
        return retry_at(headers, now)
    reset = parse_time(get("X-RateLimit-Reset"))
    if reset is not None:
        return min(max(reset, now), now + MAX_BACKOFF)
    return now + timedelta(seconds=60)
