"""One place where an outside API's HTTP answer becomes hilft's typed error, for every channel.

401/403-with-auth-meaning → ``PlatformConfigError`` (an operator must act; no retry storm),
429 → ``PlatformRateLimited`` at the time the platform names (``Retry-After`` in seconds or as an
HTTP date, or an epoch reset header), 5xx and transport faults → ``PlatformUnavailable`` (retry).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

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
