"""Retry arithmetic against the examples Cloud Tasks documents."""

from __future__ import annotations

import pytest

from cloudtasks_emulator.retry import RatePolicy, RetryPolicy, parse_retry_after


def test_backoff_doubles_then_grows_linearly_then_caps_like_the_documented_example() -> None:
    policy = RetryPolicy(max_attempts=10, min_backoff=10, max_backoff=300, max_doublings=3)
    assert [policy.backoff(n) for n in range(1, 9)] == [10, 20, 40, 80, 160, 240, 300, 300]


def test_backoff_without_doublings_grows_linearly() -> None:
    policy = RetryPolicy(min_backoff=1, max_backoff=100, max_doublings=0)
    assert [policy.backoff(n) for n in range(1, 5)] == [1, 2, 3, 4]


def test_huge_retry_numbers_stay_capped() -> None:
    assert RetryPolicy(max_backoff=3600).backoff(10_000) == 3600


@pytest.mark.parametrize(
    ("max_attempts", "max_retry_duration", "attempts", "elapsed", "exhausted"),
    [
        (3, 0, 2, 999, False),   # attempts left, no age limit
        (3, 0, 3, 0, True),      # attempts used up, no age limit
        (3, 10, 3, 5, False),    # attempts used up but still young: both must hold
        (3, 10, 3, 10, True),
        (-1, 10, 50, 9, False),  # unlimited attempts, age limit not reached
        (-1, 10, 50, 10, True),
        (-1, 0, 10**6, 10**6, False),  # both unlimited: retried as long as the task lives
    ],
)
def test_giving_up_needs_both_limits(max_attempts: int, max_retry_duration: float, attempts: int,
                                     elapsed: float, exhausted: bool) -> None:
    policy = RetryPolicy(max_attempts=max_attempts, max_retry_duration=max_retry_duration)
    assert policy.exhausted(attempts, elapsed) is exhausted


def test_burst_size_for_the_default_rate_matches_production() -> None:
    assert RatePolicy(500, 1000).max_burst_size == 100


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7", now=0) == 7
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=10) == 20
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None
