"""One place where an outside API's HTTP answer becomes hilft's typed error, for every channel.

``typed_error`` (used by every channel's client): 401, and 403 when the
platform says it is about hilft's credentials (a missing scope, a disabled login: the caller
decides by the body) → ``PlatformConfigError`` (an operator must act; no retry storm, no
"DMs closed" note to the customer); 429 → ``PlatformRateLimited`` at the time the platform names
(``retry_at``: ``Retry-After`` in seconds or as an HTTP date, or a reset header), as is any answer
whose body the caller read as a rate limit (Meta's Graph codes come with a 400); 5xx →
``PlatformUnavailable`` (retry). Any other 4xx is the caller's to read: a refusal of this one
request (a post deleted, DMs closed). Transport faults are ``PlatformUnavailable`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from hilft.core.errors import HilftError, PlatformConfigError, PlatformRateLimited, PlatformUnavailable

DEFAULT_BACKOFF = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=24)


def retry_at(headers: dict[str, str] | object, now: datetime, *, reset_header: str | None = None,
             default: timedelta = DEFAULT_BACKOFF) -> datetime:
    """When to try again, from ``Retry-After`` (seconds or HTTP date) or an epoch reset header.

    Bounded to [now, now + 24 h]; an unreadable or missing value means ``now + default`` (60 s,
    or the platform's rate-limit window where it documents one).
    """
    get = getattr(headers, "get", None)
    if get is None:
        return now + default
    candidates: list[datetime] = []
    raw = get("Retry-After") or get("retry-after")
    if raw:
        raw = str(raw).strip()
        if raw.isdigit():
            candidates.append(now + timedelta(seconds=min(int(raw), int(MAX_BACKOFF.total_seconds()))))
        else:
            try:
                when = parsedate_to_datetime(raw)
                candidates.append(when if when.tzinfo else when.replace(tzinfo=UTC))
            except (TypeError, ValueError, IndexError):
                pass
    if reset_header and not candidates:
        reset = get(reset_header) or get(reset_header.lower())
        if reset and str(reset).strip().isdigit():
            seconds = int(str(reset).strip())
            if seconds < 10**11:  # epoch seconds, not a count
                candidates.append(datetime.fromtimestamp(seconds, UTC))
    when = candidates[0] if candidates else now + default
    return min(max(when, now), now + MAX_BACKOFF)


def rate_remaining(headers: dict[str, str] | object, name: str = "X-RateLimit-Remaining") -> int | None:
    """Requests left in the platform's current rate-limit window, from a ``*-Remaining`` header
    (Mastodon's ``X-RateLimit-Remaining``, Bluesky's ``ratelimit-remaining``); None when not sent."""
    get = getattr(headers, "get", None)
    raw = (get(name) or get(name.lower())) if get is not None else None
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text.isdigit() else None


def typed_error(status: int, headers: object, *, platform: str, what: str, auth_refusal: bool = False,
                now: datetime | None = None, reset_header: str | None = None,
                retry_time: Callable[[object, datetime], datetime] | None = None,
                rate_limited: bool = False) -> HilftError | None:
    """hilft's error for an HTTP answer, or None when the answer is a success or a plain refusal.

    ``auth_refusal``: the platform said (in a 403's body) that the token lacks a permission or the
    account's login is disabled — as much an operator's problem as a 401. ``rate_limited``: the
    platform said in the body that this is its rate limit, whatever the status. Messages name the
    platform, the call and the status only, never a token or a body.
    """
    if status < 400 and not rate_limited:
        return None
    at = now or datetime.now(UTC)
    if status == 429 or rate_limited:
        when = retry_time(headers, at) if retry_time else retry_at(headers, at, reset_header=reset_header)
        return PlatformRateLimited(when, f"{platform} rate limit ({what})")
    if status >= 500:
        return PlatformUnavailable(f"{platform} answered {status} ({what})")
    if status == 401 or (status == 403 and auth_refusal):
        return PlatformConfigError(f"{platform} refused hilft's credentials ({what}: {status})")
    return None
