from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hilft.core.business_time import BusinessCalendar
from hilft.core.errors import PolicyError

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
WORKDAYS = {weekday: [(time(8), time(20))] for weekday in range(5)}  # Mon–Fri 08:00–20:00

weekdays_with_holidays = BusinessCalendar(
    BERLIN, WORKDAYS, holiday_region="DE", closed_dates=[date(2026, 12, 24)]
)
around_the_clock = BusinessCalendar(BERLIN)
with_lunch_break = BusinessCalendar(
    BERLIN,
    {**{d: [(time(8), time(12)), (time(13), time(17))] for d in range(5)}, 5: [(time(9), time(13))]},
)
# Open over the DST switch hours on Sundays and across midnight on Fridays.
night_shift = BusinessCalendar(
    BERLIN, {4: [(time(22), time(0))], 5: [(time(0), time(2))], 6: [(time(1), time(4)), (time(22), time(0))]}
)
CALENDARS = [weekdays_with_holidays, around_the_clock, with_lunch_break, night_shift]


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# --- examples a person can check on a calendar -----------------------------------------------------


def test_friday_evening_post_is_due_monday_morning() -> None:
    due = weekdays_with_holidays.add_business_time(berlin(2026, 3, 13, 19, 55), HOUR)
    assert due == berlin(2026, 3, 16, 8, 55)
    assert due.tzinfo is UTC


def test_friday_evening_post_before_pentecost_is_due_tuesday_morning() -> None:
    due = weekdays_with_holidays.add_business_time(berlin(2026, 5, 22, 19, 55), HOUR)
    assert due == berlin(2026, 5, 26, 8, 55)


def test_post_before_easter_waits_for_good_friday_and_easter_monday() -> None:
    due = weekdays_with_holidays.add_business_time(berlin(2026, 4, 2, 19, 55), HOUR)
    assert due == berlin(2026, 4, 7, 8, 55)


def test_extra_closed_dates_close_the_whole_day() -> None:
    # Christmas Eve is closed by the policy, the 25th and 26th are public holidays, then a weekend.
    due = weekdays_with_holidays.add_business_time(berlin(2026, 12, 23, 19, 30), HOUR)
    assert due == berlin(2026, 12, 28, 8, 30)


def test_regional_holidays_apply_only_to_their_region() -> None:
    # Corpus Christi (Thursday 2026-06-04) is a holiday in Bavaria but not nationwide.
    bavaria = BusinessCalendar(BERLIN, WORKDAYS, holiday_region="DE-BY")
    assert weekdays_with_holidays.add_business_time(berlin(2026, 6, 3, 19, 30), HOUR) == berlin(
        2026, 6, 4, 8, 30
    )
    assert bavaria.add_business_time(berlin(2026, 6, 3, 19, 30), HOUR) == berlin(2026, 6, 5, 8, 30)


def test_post_during_opening_hours_is_due_one_promise_later() -> None:
    assert weekdays_with_holidays.add_business_time(berlin(2026, 3, 11, 10), HOUR) == berlin(2026, 3, 11, 11)


def test_post_at_night_starts_counting_at_the_next_opening() -> None:
    assert weekdays_with_holidays.add_business_time(berlin(2026, 3, 10, 23), HOUR) == berlin(2026, 3, 11, 9)


def test_promise_that_ends_exactly_at_closing_is_due_at_closing_not_next_morning() -> None:
    assert weekdays_with_holidays.add_business_time(berlin(2026, 3, 11, 19), HOUR) == berlin(2026, 3, 11, 20)


def test_lunch_break_does_not_count() -> None:
    assert with_lunch_break.add_business_time(berlin(2026, 3, 11, 11, 30), HOUR) == berlin(
        2026, 3, 11, 13, 30
    )


def test_zero_promise_while_closed_is_due_at_the_next_opening() -> None:
    due = weekdays_with_holidays.add_business_time(berlin(2026, 3, 14, 12), timedelta(0))
    assert due == berlin(2026, 3, 16, 8)


def test_opening_hours_are_half_open_intervals() -> None:
    assert weekdays_with_holidays.is_open(berlin(2026, 3, 11, 8))
    assert weekdays_with_holidays.is_open(berlin(2026, 3, 11, 19, 59))
    assert not weekdays_with_holidays.is_open(berlin(2026, 3, 11, 20))
    assert not weekdays_with_holidays.is_open(berlin(2026, 3, 11, 8) - timedelta(microseconds=1))


def test_next_open_is_the_instant_itself_when_open_and_monday_morning_on_a_saturday() -> None:
    wednesday_noon = berlin(2026, 3, 11, 12)
    assert weekdays_with_holidays.next_open(wednesday_noon) == wednesday_noon
    assert weekdays_with_holidays.next_open(wednesday_noon).tzinfo is UTC
    assert weekdays_with_holidays.next_open(berlin(2026, 3, 14, 12)) == berlin(2026, 3, 16, 8)


def test_at_closing_time_the_next_opening_is_the_next_morning() -> None:
    assert weekdays_with_holidays.next_open(berlin(2026, 3, 11, 20)) == berlin(2026, 3, 12, 8)
    assert weekdays_with_holidays.add_business_time(berlin(2026, 3, 13, 20), timedelta(0)) == berlin(
        2026, 3, 16, 8
    )


def test_business_seconds_skip_the_weekend_and_are_negative_backwards() -> None:
    friday, monday = berlin(2026, 3, 13, 19), berlin(2026, 3, 16, 9)
    assert weekdays_with_holidays.business_seconds_between(friday, monday) == 2 * 3600
    assert weekdays_with_holidays.business_seconds_between(monday, friday) == -2 * 3600
    assert weekdays_with_holidays.business_seconds_between(berlin(2026, 3, 14), berlin(2026, 3, 15)) == 0


def test_inputs_in_other_time_zones_give_the_same_instant() -> None:
    tokyo = berlin(2026, 3, 13, 19, 55).astimezone(ZoneInfo("Asia/Tokyo"))
    assert weekdays_with_holidays.add_business_time(tokyo, HOUR) == berlin(2026, 3, 16, 8, 55)


@pytest.mark.parametrize(
    "call",
    [
        lambda c, naive: c.is_open(naive),
        lambda c, naive: c.next_open(naive),
        lambda c, naive: c.add_business_time(naive, HOUR),
        lambda c, naive: c.business_seconds_between(naive, naive),
    ],
)
def test_naive_datetimes_are_refused(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(weekdays_with_holidays, datetime(2026, 3, 11, 12))


def test_a_negative_promise_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        around_the_clock.add_business_time(berlin(2026, 3, 11), -HOUR)


def test_a_calendar_without_any_opening_hours_cannot_be_built() -> None:
    with pytest.raises(PolicyError, match="no business hours"):
        BusinessCalendar(BERLIN, {day: [] for day in range(7)})


def test_overlapping_intervals_are_refused() -> None:
    with pytest.raises(PolicyError, match="overlapping"):
        BusinessCalendar(BERLIN, {0: [(time(8), time(12)), (time(11), time(14))]})


@pytest.mark.timeout(10)
def test_a_closure_longer_than_the_search_cap_fails_instead_of_looping() -> None:
    start = date(2026, 1, 1)
    closed = BusinessCalendar(BERLIN, WORKDAYS, closed_dates=[start + timedelta(days=n) for n in range(500)])
    with pytest.raises(PolicyError, match="no business hours within"):
        closed.add_business_time(berlin(2026, 1, 1), HOUR)
    with pytest.raises(PolicyError, match="no business hours within"):
        closed.next_open(berlin(2026, 1, 1))


def test_a_long_but_finite_closure_is_skipped() -> None:
    start = date(2026, 1, 1)
    closed = BusinessCalendar(BERLIN, WORKDAYS, closed_dates=[start + timedelta(days=n) for n in range(300)])
    first_open_day = start + timedelta(days=300)  # 2026-10-28, a Wednesday
    assert closed.next_open(berlin(2026, 1, 1)) == datetime.combine(first_open_day, time(8), tzinfo=BERLIN)


# --- daylight saving time ----------------------------------------------------------------------------


def test_around_the_clock_the_spring_change_day_has_23_hours_and_the_autumn_one_25() -> None:
    spring = around_the_clock.business_seconds_between(berlin(2026, 3, 29), berlin(2026, 3, 30))
    autumn = around_the_clock.business_seconds_between(berlin(2026, 10, 25), berlin(2026, 10, 26))
    assert (spring, autumn) == (23 * 3600, 25 * 3600)


def test_opening_hours_are_wall_clock_hours_on_dst_change_days() -> None:
    saturday_evening = berlin(2026, 3, 28, 19, 30)
    every_day = BusinessCalendar(BERLIN, {day: [(time(8), time(20))] for day in range(7)})
    due = every_day.add_business_time(saturday_evening, HOUR)
    assert due == berlin(2026, 3, 29, 8, 30)
    assert due == datetime(2026, 3, 29, 6, 30, tzinfo=UTC)  # CEST, two hours ahead of UTC
    assert every_day.add_business_time(berlin(2026, 10, 24, 19, 30), HOUR) == datetime(
        2026,
        10,
        25,
        7,
        30,
        tzinfo=UTC,  # CET again, one hour ahead of UTC
    )


def test_an_opening_inside_the_spring_gap_opens_when_the_clock_jumps() -> None:
    # 02:00–03:00 does not exist on 2026-03-29: "02:30-04:00" opens at 03:00 CEST (01:00 UTC).
    calendar = BusinessCalendar(BERLIN, {6: [(time(2, 30), time(4))]})
    assert calendar.open_intervals(date(2026, 3, 29)) == (
        (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC)),
    )
    assert calendar.next_open(berlin(2026, 3, 29, 1)) == datetime(2026, 3, 29, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("opening", "closing", "real_length"),
    [
        (time(1), time(3), 3 * HOUR),  # 01:00 CEST to 03:00 CET
        (time(1), time(2, 30), 2.5 * HOUR),  # closes at the second 02:30
        (time(2, 30), time(4), 2.5 * HOUR),  # opens at the first 02:30
    ],
)
def test_the_repeated_autumn_hour_counts_twice_inside_opening_hours(
    opening: time, closing: time, real_length: timedelta
) -> None:
    # 02:00–03:00 happens twice on 2026-10-25 (first CEST, then CET).
    calendar = BusinessCalendar(BERLIN, {6: [(opening, closing)]})
    (interval,) = calendar.open_intervals(date(2026, 10, 25))
    assert interval[1] - interval[0] == real_length


# --- properties --------------------------------------------------------------------------------------

DST_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]
anywhere = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
)
near_dst_change = st.builds(
    lambda day, seconds: datetime.combine(day, time(0), tzinfo=BERLIN) + timedelta(seconds=seconds),
    st.sampled_from(DST_DAYS),
    st.integers(min_value=-2 * 86_400, max_value=2 * 86_400),
)
received_times = st.one_of(anywhere, near_dst_change)
promises = st.integers(min_value=1, max_value=3 * 86_400).map(lambda seconds: timedelta(seconds=seconds))
calendars = st.sampled_from(CALENDARS)


@given(calendars, received_times, promises)
@example(weekdays_with_holidays, berlin(2026, 3, 13, 19, 55), HOUR)
@example(night_shift, berlin(2026, 10, 25, 0, 30), 2 * HOUR)
def test_the_open_time_between_arrival_and_due_is_exactly_the_promise(
    calendar: BusinessCalendar, received: datetime, promise: timedelta
) -> None:
    due = calendar.add_business_time(received, promise)
    assert calendar.business_seconds_between(received, due) == pytest.approx(
        promise.total_seconds(), abs=1e-6
    )


@given(calendars, received_times, received_times, promises)
def test_a_later_post_is_never_due_earlier(
    calendar: BusinessCalendar, first: datetime, second: datetime, promise: timedelta
) -> None:
    earlier, later = sorted([first, second])
    assert calendar.add_business_time(earlier, promise) <= calendar.add_business_time(later, promise)


@given(calendars, received_times, promises)
def test_a_post_falls_due_while_open_or_right_at_closing(
    calendar: BusinessCalendar, received: datetime, promise: timedelta
) -> None:
    due = calendar.add_business_time(received, promise)
    assert calendar.is_open(due - timedelta(microseconds=1))
    assert due - received >= promise


@given(received_times, promises)
def test_around_the_clock_business_time_is_wall_clock_time(received: datetime, promise: timedelta) -> None:
    # Elapsed time, not Python's same-zone wall-clock arithmetic (which ignores the DST jump).
    assert around_the_clock.add_business_time(received, promise) == received.astimezone(UTC) + promise


def _open_by_hand(at: datetime) -> bool:
    """Independent reading of "Mon–Fri 08:00–20:00 Berlin, closed on DE holidays and 24 Dec"."""
    local = at.astimezone(BERLIN)
    closed_day = local.date() in weekdays_with_holidays.closed_dates or local.date() in {
        date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 14),
        date(2026, 5, 25), date(2026, 10, 3), date(2026, 12, 25), date(2026, 12, 26),
    }  # fmt: skip
    return not closed_day and local.weekday() < 5 and time(8) <= local.time() < time(20)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)))
def test_is_open_agrees_with_reading_the_opening_hours_by_hand(at: datetime) -> None:
    assert weekdays_with_holidays.is_open(at) == _open_by_hand(at)
