"""Business-time arithmetic: when is a promise due if the clock only runs while the team is in?

Opening hours are wall-clock times in the brand's time zone ("08:00-20:00" stays 08:00-20:00 on
the 23-hour and 25-hour days of a DST change). Each local interval is turned into a pair of UTC
instants once per day, and every calculation then works on exact UTC instants, one day at a time:
closed days cost one lookup, so nothing ever loops minute by minute.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hilft.core.errors import PolicyError

WeeklyHours = Mapping[int, Sequence[tuple[time, time]]]
"""Weekday (0 = Monday … 6 = Sunday) → open intervals; an end of 00:00 means midnight (24:00)."""

MIDNIGHT = time(0, 0)
MAX_CLOSED_DAYS = 400  # a search that finds no open time for this long is a policy mistake
_ONE_DAY = timedelta(days=1)
_REGION = re.compile(r"(?P<country>[A-Za-z]{2})(?:-(?P<subdivision>\w+))?")

Interval = tuple[datetime, datetime]


def split_holiday_region(region: str) -> tuple[str, str | None]:
    """ "DE" → ("DE", None); "DE-BY" → ("DE", "BY"). Raises ValueError on anything else."""
    match = _REGION.fullmatch(region)
    if match is None:
        raise ValueError(f'expected a country code such as "DE" or "DE-BY", got "{region}"')
    return match["country"].upper(), match["subdivision"]


def check_holiday_region(region: str) -> None:
    """Raise ValueError unless the holidays package knows `region` (e.g. "DE", "DE-BY")."""
    import holidays

    country, subdivision = split_holiday_region(region)
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        raise ValueError(f'unknown holiday region "{region}" (expected e.g. "DE" or "DE-BY")') from None


def load_holidays(region: str, year: int) -> frozenset[date]:
    """The public holidays of `region` in `year` (raises NotImplementedError for unknown regions)."""
    import holidays  # imported on first use: it is large and only business-hours policies need it

    country, subdivision = split_holiday_region(region)
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


class BusinessCalendar:
    """Open and closed time of one brand: weekly hours, public holidays and extra closed dates.

    All methods take timezone-aware datetimes and return UTC datetimes. Intervals are half-open:
    a team open 08:00-20:00 is open at 08:00 and closed at 20:00.
    """

    def __init__(
        self,
        tz: ZoneInfo,
        weekly_hours: WeeklyHours | None = None,
        *,
        holiday_region: str | None = None,
        closed_dates: Iterable[date] = (),
    ) -> None:
        """`weekly_hours=None` means open around the clock (holidays and closed dates still close)."""
        self.tz = tz
        self.always_open = weekly_hours is None
        self.weekly_hours = self._checked_hours(weekly_hours)
        self.holiday_region = holiday_region
        self.closed_dates = frozenset(closed_dates)
        self._holidays_by_year: dict[int, frozenset[date]] = {}
        self._holidays_lock = threading.Lock()
        if holiday_region is not None:
            split_holiday_region(holiday_region)

    @staticmethod
    def _checked_hours(weekly_hours: WeeklyHours | None) -> tuple[tuple[tuple[time, time], ...], ...]:
        if weekly_hours is None:
            return tuple(((MIDNIGHT, MIDNIGHT),) for _ in range(7))
        unknown = set(weekly_hours) - set(range(7))
        if unknown:
            raise PolicyError(f"weekday must be 0 (Monday) to 6 (Sunday), got {sorted(unknown)}")
        week = []
        for weekday in range(7):
            intervals = sorted(weekly_hours.get(weekday, ()))
            for index, (start, end) in enumerate(intervals):
                if end != MIDNIGHT and end <= start:
                    raise PolicyError(f"weekday {weekday}: interval {start}-{end} ends before it starts")
                previous_end = intervals[index - 1][1] if index else None
                if previous_end is not None and (previous_end == MIDNIGHT or previous_end > start):
                    raise PolicyError(f"weekday {weekday}: overlapping intervals")
            week.append(tuple(intervals))
        if not any(week):
            raise PolicyError("no business hours: every weekday is closed")
        return tuple(week)

    # --- public API -------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        _require_aware(at, "at")
        instant = at.astimezone(UTC)
        day = instant.astimezone(self.tz).date()
        return any(start <= instant < end for start, end in self.open_intervals(day))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the start of the next open interval."""
        _require_aware(at, "at")
        start, _ = next(self._intervals_from(at.astimezone(UTC)))
        return start

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant by which `duration` of open time has passed since `start` (the due time).

        Time only counts while open, so a post that arrives while closed starts counting at the
        next opening. A duration that ends exactly at closing time is due at closing time.
        """
        _require_aware(start, "start")
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        for open_from, open_until in self._intervals_from(start.astimezone(UTC)):
            available = open_until - open_from
            if remaining <= available:
                return open_from + remaining
            remaining -= available
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Open seconds from `a` to `b`; negative when `b` is before `a`."""
        _require_aware(a, "a")
        _require_aware(b, "b")
        begin, end = a.astimezone(UTC), b.astimezone(UTC)
        if end < begin:
            return -self.business_seconds_between(b, a)
        total = timedelta(0)
        day = begin.astimezone(self.tz).date()
        last_day = end.astimezone(self.tz).date()
        while day <= last_day:
            for open_from, open_until in self.open_intervals(day):
                overlap = min(open_until, end) - max(open_from, begin)
                if overlap > timedelta(0):
                    total += overlap
            day += _ONE_DAY
        return total.total_seconds()

    def open_intervals(self, day: date) -> tuple[Interval, ...]:
        """The open intervals of a local calendar day as UTC instants (empty on closed days)."""
        if self.is_closed_day(day):
            return ()
        intervals = []
        for start, end in self.weekly_hours[day.weekday()]:
            open_from = self._local_to_utc(day, start, earliest=True)
            open_until = (
                self._local_to_utc(day + _ONE_DAY, MIDNIGHT, earliest=True)
                if end == MIDNIGHT
                else self._local_to_utc(day, end, earliest=False)
            )
            if open_from < open_until:  # an interval entirely inside a DST gap has no length
                intervals.append((open_from, open_until))
        return tuple(intervals)

    def is_closed_day(self, day: date) -> bool:
        """A public holiday or an extra closed date: closed all day whatever the weekly hours say."""
        return day in self.closed_dates or day in self._holidays(day.year)

    # --- internals --------------------------------------------------------------------------------

    def _holidays(self, year: int) -> frozenset[date]:
        if self.holiday_region is None:
            return frozenset()
        cached = self._holidays_by_year.get(year)
        if cached is None:
            with self._holidays_lock:
                cached = self._holidays_by_year.get(year)
                if cached is None:
                    cached = load_holidays(self.holiday_region, year)
                    self._holidays_by_year[year] = cached
        return cached

    def _intervals_from(self, cursor: datetime) -> Iterator[Interval]:
        """Open intervals ending after `cursor`, clipped to begin no earlier than it, in order."""
        day = cursor.astimezone(self.tz).date()
        closed_days = 0
        while True:
            found = False
            for open_from, open_until in self.open_intervals(day):
                if open_until > cursor:
                    found = True
                    yield max(open_from, cursor), open_until
            closed_days = 0 if found else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise PolicyError(
                    f"no business hours within {MAX_CLOSED_DAYS} days after {cursor.isoformat()}"
                )
            day += _ONE_DAY

    def _local_to_utc(self, day: date, wall: time, *, earliest: bool) -> datetime:
        """The UTC instant at which the local clock shows `wall` on `day`.

        A time that occurs twice (autumn) maps to its first occurrence for an opening and to its
        second for a closing, so the interval keeps all of its wall-clock time. A time that does
        not exist (spring) maps to the moment the clock jumps over it.
        """
        local = datetime.combine(day, wall, tzinfo=self.tz)
        first = local.replace(fold=0).astimezone(UTC)
        second = local.replace(fold=1).astimezone(UTC)
        if first == second:
            return first
        if first.astimezone(self.tz).replace(tzinfo=None) == local.replace(tzinfo=None):
            return first if earliest else second  # repeated hour: fold=0 is the earlier instant
        return self._transition_between(min(first, second), max(first, second))

    def _transition_between(self, before: datetime, after: datetime) -> datetime:
        """The instant the UTC offset changes within (before, after] (a DST gap is at most hours)."""
        target_offset = after.astimezone(self.tz).utcoffset()
        low, high = int(before.timestamp()), int(after.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.tz).utcoffset() == target_offset:
                high = middle
            else:
                low = middle
        return datetime.fromtimestamp(high, UTC)

    def __repr__(self) -> str:
        hours = "24/7" if self.always_open else "weekly hours"
        return f"BusinessCalendar({self.tz.key}, {hours}, holidays={self.holiday_region})"
