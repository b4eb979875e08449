"""Queue policies: when a failed attempt is retried, and how fast a queue may dispatch.

Pure arithmetic, so the documented examples can be checked without a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# Production defaults for a queue created without a RetryConfig / RateLimits.
DEFAULT_MAX_ATTEMPTS = 100
DEFAULT_MIN_BACKOFF = 0.1
DEFAULT_MAX_BACKOFF = 3600.0
DEFAULT_MAX_DOUBLINGS = 16
DEFAULT_MAX_DISPATCHES_PER_SECOND = 500.0
DEFAULT_MAX_CONCURRENT_DISPATCHES = 1000
MAX_DISPATCHES_PER_SECOND = 500.0
MAX_CONCURRENT_DISPATCHES = 5000


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # -1: unlimited
    min_backoff: float = DEFAULT_MIN_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_doublings: int = DEFAULT_MAX_DOUBLINGS
    max_retry_duration: float = 0.0  # 0: unlimited

    def backoff(self, retry_number: int) -> float:
        """Delay before retry ``retry_number`` (1 = the retry after the first failed attempt).

        The interval starts at min_backoff, doubles max_doublings times, then grows linearly by
        the last doubled step, and is capped at max_backoff: with 10s/300s/3 doublings the
        retries come after 10, 20, 40, 80, 160, 240, 300, 300 ... seconds.
        """
        step = max(retry_number, 1) - 1
        if step <= self.max_doublings:
            interval = self.min_backoff * 2.0 ** min(step, 1024)
        else:
            doubled = self.min_backoff * 2.0 ** min(self.max_doublings, 1024)
            interval = doubled * (1 + step - self.max_doublings)
        return min(interval, self.max_backoff)

    def exhausted(self, attempts: int, seconds_since_first_attempt: float) -> bool:
        """Cloud Tasks stops only when both limits are satisfied; an unlimited one counts as
        satisfied unless both are unlimited (then the task retries for as long as it lives)."""
        unlimited_attempts = self.max_attempts == -1
        unlimited_duration = self.max_retry_duration <= 0
        if unlimited_attempts and unlimited_duration:
            return False
        attempts_done = unlimited_attempts or attempts >= self.max_attempts
        duration_done = unlimited_duration or seconds_since_first_attempt >= self.max_retry_duration
        return attempts_done and duration_done


@dataclass(frozen=True)
class RatePolicy:
    max_dispatches_per_second: float = DEFAULT_MAX_DISPATCHES_PER_SECOND
    max_concurrent_dispatches: int = DEFAULT_MAX_CONCURRENT_DISPATCHES

    @property
    def max_burst_size(self) -> int:
        """Output-only in production and derived from the rate (500/s gives 100); an approximation."""
        return max(1, min(100, math.ceil(self.max_dispatches_per_second / 5)))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
