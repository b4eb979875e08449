"""Durations as people write them in the policy file: "45s", "15m", "2h", "1d", "1h30m".

Strict on purpose: a typo in a promise ("60 min", "1.5h") must fail at load time, not silently
become a different promise.
"""

from __future__ import annotations

import re
from datetime import timedelta

# Units in descending order, each at most once; at least one part (checked separately).
_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
_UNIT_SECONDS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def parse_duration(text: str) -> timedelta:
    """Parse "45s", "15m", "2h", "1d" or a combination in that order such as "1h30m"."""
    if not isinstance(text, str):
        raise ValueError(f'expected a duration string such as "15m", got {type(text).__name__}')
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(
            f'invalid duration "{text}": expected a number with a unit d, h, m or s '
            '(e.g. "45s", "15m", "2h", "1d", "1h30m")'
        )
    seconds = sum(int(match[unit]) * factor for unit, factor in _UNIT_SECONDS if match[unit])
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """The shortest policy-style spelling ("1h30m", "0s"); negative durations get a "-" sign.

    Sub-second parts are dropped, so `parse_duration(format_duration(d)) == d` for whole seconds.
    """
    sign, magnitude = ("-", -duration) if duration < timedelta(0) else ("", duration)
    total = magnitude.days * 86_400 + magnitude.seconds
    parts = []
    for unit, factor in _UNIT_SECONDS:
        amount, total = divmod(total, factor)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + "".join(parts) if parts else "0s"
