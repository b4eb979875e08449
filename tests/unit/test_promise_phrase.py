"""The promise told as the real time: properties over any post time, policy and language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hilft.core.business_time import BusinessCalendar
from hilft.core.policy import parse_policy
from hilft.core.promise_phrase import (
    ABSOLUTE_STEP,
    MONTHS_EN,
    WEEKDAYS,
    PromisePhrase,
    ceil_to,
    english_clock,
    promise_phrase,
)

BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_1955 = datetime(2026, 11, 20, 18, 55, tzinfo=UTC)  # 19:55 in Berlin
WEEKDAY_HOURS = """
[promise]
first_response = "60m"
warning_before = "15m"
timezone = "Europe/Berlin"
[promise.hours]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
"""


def test_the_demo_friday_evening_post_is_promised_for_monday_morning() -> None:
    due = parse_policy(WEEKDAY_HOURS).calendar.add_business_time(FRIDAY_1955, timedelta(minutes=60))
    assert due == datetime(2026, 11, 23, 7, 55, tzinfo=UTC)
    assert promise_phrase(due, FRIDAY_1955, BERLIN, "de").text == "bis Montag, 8:55 Uhr"
    assert promise_phrase(due, FRIDAY_1955, BERLIN, "en").text == "by Monday, 8:55 am"


@pytest.mark.parametrize(
    ("due_in", "german", "english"),
    [
        (timedelta(minutes=60), "innerhalb der nächsten Stunde", "within the next hour"),
        (timedelta(minutes=46), "innerhalb der nächsten Stunde", "within the next hour"),
        (timedelta(minutes=45), "innerhalb der nächsten 45 Minuten", "within the next 45 minutes"),
        (timedelta(minutes=16), "innerhalb der nächsten 30 Minuten", "within the next 30 minutes"),
        (timedelta(minutes=15), "innerhalb der nächsten 15 Minuten", "within the next 15 minutes"),
        (timedelta(minutes=7), "innerhalb der nächsten 10 Minuten", "within the next 10 minutes"),
        (timedelta(seconds=1), "innerhalb der nächsten 5 Minuten", "within the next 5 minutes"),
        (timedelta(0), "so schnell wie möglich", "as soon as possible"),
        (-timedelta(hours=2), "so schnell wie möglich", "as soon as possible"),
    ],
)
def test_within_the_hour_the_promise_is_a_duration_rounded_up(due_in: timedelta, german: str, english: str) -> None:
    now = datetime(2026, 11, 18, 9, 3, 20, tzinfo=UTC)
    assert promise_phrase(now + due_in, now, BERLIN, "de").text == german
    assert promise_phrase(now + due_in, now, BERLIN, "en", "du").text == english


@pytest.mark.parametrize(
    ("due_local", "german", "english"),
    [  # now: Wednesday 18 November 2026, 10:00 in Berlin
        (datetime(2026, 11, 18, 14, 30), "bis heute, 14:30 Uhr", "by 2:30 pm today"),
        (datetime(2026, 11, 18, 14, 26, 1), "bis heute, 14:30 Uhr", "by 2:30 pm today"),
        (datetime(2026, 11, 18, 23, 58), "bis morgen, 0:00 Uhr", "by 12:00 am tomorrow"),
        (datetime(2026, 11, 19, 9, 0), "bis morgen, 9:00 Uhr", "by 9:00 am tomorrow"),
        (datetime(2026, 11, 19, 12, 0), "bis morgen, 12:00 Uhr", "by 12:00 pm tomorrow"),
        (datetime(2026, 11, 23, 8, 55), "bis Montag, 8:55 Uhr", "by Monday, 8:55 am"),
        (datetime(2026, 11, 24, 17, 1), "bis Dienstag, 17:05 Uhr", "by Tuesday, 5:05 pm"),
        (datetime(2026, 11, 25, 8, 0), "bis Mittwoch, 25.11., 8:00 Uhr", "by Wednesday 25 November, 8:00 am"),
    ],
)
def test_later_the_promise_is_a_clock_time_in_the_policy_zone(due_local: datetime, german: str,
                                                              english: str) -> None:
    now = datetime(2026, 11, 18, 10, 0, tzinfo=BERLIN)
    due = due_local.replace(tzinfo=BERLIN)
    assert promise_phrase(due, now, BERLIN, "de", "sie").text == german
    assert promise_phrase(due, now, BERLIN, "en", "sie").text == english


def test_the_clock_time_is_read_in_the_policy_zone_not_utc() -> None:
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    due = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)  # 23:30 in Berlin (summer time), 06:30 next day in Tokyo
    assert promise_phrase(due, now, BERLIN, "de").text == "bis heute, 23:30 Uhr"
    assert promise_phrase(due, now, ZoneInfo("Asia/Tokyo"), "de").text == "bis morgen, 6:30 Uhr"


def test_naive_times_and_unknown_languages_are_refused() -> None:
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        promise_phrase(datetime(2026, 7, 1, 12, 0), now, BERLIN, "de")  # noqa: DTZ001
    with pytest.raises(ValueError, match="unsupported language"):
        promise_phrase(now + timedelta(hours=3), now, BERLIN, "fr")


def test_english_clock_names_noon_and_midnight_the_usual_way() -> None:
    assert english_clock(datetime(2026, 1, 1, 0, 5)) == "12:05 am"  # noqa: DTZ001
    assert english_clock(datetime(2026, 1, 1, 12, 0)) == "12:00 pm"  # noqa: DTZ001
    assert english_clock(datetime(2026, 1, 1, 13, 40)) == "1:40 pm"  # noqa: DTZ001


# -- properties -----------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "America/St_Johns", "Asia/Kolkata",
         "Asia/Kathmandu", "Australia/Eucla", "Pacific/Chatham", "Pacific/Kiritimati", "UTC"]
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2035, 12, 31),  # noqa: DTZ001
                        timezones=st.just(UTC))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    if draw(st.booleans()):
        return BusinessCalendar(zone)
    week: dict[int, list[tuple[time, time]]] = {}
    for day in range(7):
        starts = sorted(draw(st.sets(st.integers(0, 22), max_size=2)))
        spans = []
        for index, start in enumerate(starts):
            end_limit = starts[index + 1] if index + 1 < len(starts) else 24
            end = draw(st.integers(start + 1, end_limit))
            spans.append((time(start), time(0) if end == 24 else time(end)))
        week[day] = spans
    if not any(week.values()):
        week[0] = [(time(8), time(20))]
    closed = draw(st.lists(st.dates(min_value=date(2025, 1, 1), max_value=date(2036, 1, 31)), max_size=3))
    return BusinessCalendar(zone, week, closed_dates=closed)


promises = st.integers(min_value=1, max_value=3 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
languages = st.sampled_from(["de", "en"])
forms = st.sampled_from(["sie", "du"])

_GERMAN_DAY = re.compile(r"bis (heute|morgen|\w+(?:, (\d+)\.(\d+)\.(\d{4})?)?), (\d{1,2}):(\d\d) Uhr")
_ENGLISH_DAY = re.compile(r"by (?:(\d{1,2}):(\d\d) (am|pm) (today|tomorrow)|(\w+)(?: (\d+) (\w+)(?: (\d{4}))?)?, "
                          r"(\d{1,2}):(\d\d) (am|pm))")
_WITHIN = re.compile(r"(?:innerhalb der nächsten|within the next) (?:(\d+) (?:Minuten|minutes)|(Stunde|hour))")


def read_back(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant a phrase names, parsed from the words alone (independent of the code under test)."""
    if match := _WITHIN.fullmatch(text):
        return now + timedelta(minutes=60 if match[2] else int(match[1]))
    today = now.astimezone(tz).date()
    year = None
    if match := _GERMAN_DAY.fullmatch(text):
        word, hour, minute = match[1], int(match[5]), int(match[6])
        offset = {"heute": 0, "morgen": 1}.get(word)
        weekday = None if offset is not None else WEEKDAYS["de"].index(word.split(",")[0])
        day_month = (int(match[2]), int(match[3])) if match[2] else None
        year = int(match[4]) if match[4] else None
    elif match := _ENGLISH_DAY.fullmatch(text):
        if match[4]:
            hour, minute, half = int(match[1]), int(match[2]), match[3]
            offset, weekday, day_month = {"today": 0, "tomorrow": 1}[match[4]], None, None
        else:
            hour, minute, half = int(match[9]), int(match[10]), match[11]
            offset, weekday = None, WEEKDAYS["en"].index(match[5])
            day_month = (int(match[6]), MONTHS_EN.index(match[7]) + 1) if match[6] else None
            year = int(match[8]) if match[8] else None
        hour = hour % 12 + (12 if half == "pm" else 0)
    else:
        return None
    if offset is not None:
        day = today + timedelta(days=offset)
    elif day_month is None:
        ahead = (weekday - today.weekday()) % 7
        assert ahead >= 2, f"a weekday name is only used two to six days ahead: {text!r}"
        day = today + timedelta(days=ahead)
    elif year is not None:
        day = date(year, day_month[1], day_month[0])
        assert (day - today).days >= 300 and day.weekday() == weekday, text
    else:
        # Without a year the date is the next one at least a week ahead, and less than 300 days away.
        day = next(today + timedelta(days=n) for n in range(7, 300)
                   if (today + timedelta(days=n)).timetuple()[1:3] == (day_month[1], day_month[0]))
        assert day.weekday() == weekday
    wall = datetime.combine(day, time(hour, minute))
    # A wall time that occurs twice (autumn DST change) may be either instant; the caller checks both.
    return wall.replace(tzinfo=tz)


@settings(max_examples=400, deadline=None)
@given(calendar=calendars(), posted=instants, promise=promises, later=st.integers(0, 4 * 24 * 60),
       language=languages, form=forms)
def test_the_named_time_is_never_before_due_and_at_most_one_step_after(calendar, posted, promise, later,
                                                                      language, form):
    due = calendar.add_business_time(posted, promise)
    now = min(posted + timedelta(minutes=later), due)  # told when the post arrives or any time until due
    phrase = promise_phrase(due, now, calendar.tz, language, form)
    if now >= due:
        assert phrase.at is None and phrase.text in {"so schnell wie möglich", "as soon as possible"}
        return
    assert phrase.at is not None
    assert due <= phrase.at <= due + phrase.step
    assert phrase.step <= ABSOLUTE_STEP * 3
    named = read_back(phrase.text, now, calendar.tz)
    assert named is not None, f"unreadable phrase {phrase.text!r}"
    candidates = {named.replace(fold=0).astimezone(UTC), named.replace(fold=1).astimezone(UTC)}
    assert phrase.at in candidates, (phrase.text, phrase.at, candidates)


@given(value=instants, minutes=st.sampled_from([5, 15, 60]))
def test_rounding_up_never_goes_back_and_lands_on_the_step(value: datetime, minutes: int) -> None:
    step = timedelta(minutes=minutes)
    rounded = ceil_to(value, step)
    assert value <= rounded < value + step
    assert rounded.timestamp() % (minutes * 60) == 0


def test_a_phrase_reads_as_its_text() -> None:
    assert str(PromisePhrase("bis morgen, 9:00 Uhr", None, ABSOLUTE_STEP)) == "bis morgen, 9:00 Uhr"


# -- in the messages --------------------------------------------------------------------------------


class _Gateway:
    def __init__(self) -> None:
        self.dms: list[str] = []
        self.replies: list[str] = []

    def send_private(self, post, text, now, *, send=None):
        self.dms.append(text)
        return "dm1"

    def public_reply(self, post, text, *, send=None):
        self.replies.append(text)
        return "r1"


@pytest.mark.parametrize(("form", "language", "dm_says", "reply_says"), [
    ("sie", "de", "Wir melden uns bis Montag, 8:55 Uhr.", "melden uns dort bis Montag, 8:55 Uhr."),
    ("du", "de", "Wir melden uns bis Montag, 8:55 Uhr.", "melden uns dort bis Montag, 8:55 Uhr."),
    ("sie", "en", "We will get back to you by Monday, 8:55 am.", "get back to you there by Monday, 8:55 am."),
    ("du", "en", "We'll get back to you by Monday, 8:55 am.", "get back to you there by Monday, 8:55 am."),
])
def test_the_friday_evening_handoff_promises_monday_in_the_dm_and_the_public_note(form, language, dm_says,
                                                                                  reply_says) -> None:
    from hilft.core.ids import mention_doc_id
    from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform
    from hilft.service.handoff import HandoffService
    from hilft.service.ingest import IngestService
    from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

    policy = parse_policy(WEEKDAY_HOURS + f'\n[brand]\naddress_form = "{form}"\n')
    clock, store, scheduler = FakeClock(FRIDAY_1955), MemoryStore(), MemoryScheduler()
    IngestService(store=store, scheduler=scheduler, policy=policy, clock=clock,
                  claim_ttl=DEFAULTS.claim_ttl).ingest(ParsedBatch(events=(
        Mention(platform=Platform.X, post_id="1", kind=Kind.MENTION, author=Author(id="42", handle="jana"),
                text="@Telekom_hilft ruft mich an: 0171 2345678", created_at=clock(), lang=language,
                mentioned_user_ids=("1000000001",)),
    )), frozenset({"1000000001"}))
    gateway = _Gateway()
    clock.advance(seconds=20)  # the automatic handoff runs a moment later
    HandoffService(store=store, scheduler=scheduler, policy=policy, clock=clock, gateways=lambda _: gateway,
                   notifier=None, claim_ttl=DEFAULTS.claim_ttl).handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True)
    assert dm_says in gateway.dms[0]
    assert "nächsten Stunde" not in gateway.dms[0] and "next hour" not in gateway.dms[0]
    assert reply_says in gateway.replies[0]


# -- out of hours ---------------------------------------------------------------------------------

from hilft.core.promise_phrase import out_of_hours_answer, out_of_hours_phrases, reopens_phrase  # noqa: E402
from hilft.core.templates import render  # noqa: E402


@pytest.mark.parametrize(("now_local", "german", "english"), [
    (datetime(2026, 11, 20, 20, 5), "ab Montag, 8:00 Uhr", "on Monday at 8:00 am"),
    (datetime(2026, 11, 23, 6, 30), "ab 8:00 Uhr", "at 8:00 am today"),
    (datetime(2026, 11, 23, 21, 0), "ab morgen, 8:00 Uhr", "at 8:00 am tomorrow"),
])
def test_the_team_is_back_at_the_next_opening_on_the_policy_wall_clock(now_local, german, english) -> None:
    calendar = parse_policy(WEEKDAY_HOURS).calendar
    now = now_local.replace(tzinfo=BERLIN)
    reopens = calendar.next_open(now)
    assert reopens_phrase(reopens, now, BERLIN, "de") == german
    assert reopens_phrase(reopens, now, BERLIN, "en") == english


def test_the_out_of_hours_answer_tells_when_the_team_is_back_and_by_when_it_answers() -> None:
    calendar = parse_policy(WEEKDAY_HOURS).calendar
    due = calendar.add_business_time(FRIDAY_1955 + timedelta(minutes=10), timedelta(minutes=60))  # 20:05: closed
    reopens = calendar.next_open(FRIDAY_1955 + timedelta(minutes=10))
    now = FRIDAY_1955 + timedelta(minutes=10)
    assert out_of_hours_phrases(reopens, due, now, BERLIN, "de") == ("ab Montag, 8:00 Uhr", "bis 9:00 Uhr")
    assert out_of_hours_phrases(reopens, due, now, BERLIN, "en") == ("on Monday at 8:00 am", "by 9:00 am")
    reopens_text, promise = out_of_hours_phrases(reopens, due, now, BERLIN, "de")
    text = render("out_of_hours_reply", language="de", address_form="sie", name="jana", reopens=reopens_text,
                  promise=promise)
    assert text == ("Hallo jana, danke für Ihre Nachricht! Unser Team ist ab Montag, 8:00 Uhr wieder für Sie da "
                    "und meldet sich bis 9:00 Uhr.")
    informal = render("out_of_hours_dm", language="de", address_form="du", name="Jana K.", reopens=reopens_text,
                      promise=promise)
    assert "wieder für dich da" in informal and informal.startswith("Hallo Jana K.,")


def test_the_promise_keeps_its_day_when_it_is_not_the_day_the_team_is_back() -> None:
    policy = parse_policy(WEEKDAY_HOURS.replace('first_response = "60m"', 'first_response = "13h"'))
    sunday = datetime(2026, 11, 22, 15, 0, tzinfo=BERLIN)
    reopens = policy.calendar.next_open(sunday)
    due = policy.calendar.add_business_time(sunday, timedelta(hours=13))  # 12 h on Monday, 1 h on Tuesday
    assert out_of_hours_phrases(reopens, due, sunday, BERLIN, "de") == ("ab morgen, 8:00 Uhr",
                                                                         "bis Dienstag, 9:00 Uhr")
    early = datetime(2026, 11, 20, 6, 0, tzinfo=BERLIN)  # Friday before opening: back today
    due_early = policy.calendar.add_business_time(early, timedelta(hours=1))
    assert out_of_hours_phrases(policy.calendar.next_open(early), due_early, early, BERLIN, "en") == (
        "at 8:00 am today", "by 9:00 am")


BASE = dict(is_open=False, reopens_at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC), enabled=True, public=True,
            private=True, platform="x", author_id="42", private_kind=False, is_brand=False, radar=False,
            handoff_pending=False)


def test_a_public_post_while_closed_gets_a_public_answer_and_a_dm_a_dm() -> None:
    public = out_of_hours_answer(**BASE)
    assert public is not None and public.template == "out_of_hours_reply"
    dm = out_of_hours_answer(**{**BASE, "private_kind": True})
    assert dm is not None and dm.template == "out_of_hours_dm"


@pytest.mark.parametrize("change", [
    {"is_open": True}, {"enabled": False}, {"radar": True}, {"handoff_pending": True}, {"is_brand": True},
    {"author_id": None}, {"public": False}, {"private": False, "private_kind": True},
])
def test_no_out_of_hours_answer_when_open_disabled_radar_handed_off_or_not_allowed(change) -> None:
    assert out_of_hours_answer(**{**BASE, **change}) is None


def test_one_answer_per_author_per_closed_period() -> None:
    first = out_of_hours_answer(**BASE)
    again = out_of_hours_answer(**BASE)  # a second post by the same author in the same night
    other_author = out_of_hours_answer(**{**BASE, "author_id": "43"})
    next_night = out_of_hours_answer(**{**BASE, "reopens_at": BASE["reopens_at"] + timedelta(days=1)})
    assert first is not None and again is not None and other_author is not None and next_night is not None
    assert first.key == again.key
    assert len({first.key, other_author.key, next_night.key}) == 3
    assert "42" not in first.key  # a hash: no author id in a document id


def test_the_policy_switches_the_out_of_hours_answer_on_and_offers_the_templates() -> None:
    policy = parse_policy(WEEKDAY_HOURS.replace("[promise.hours]", "[promise.out_of_hours]\nenabled = true\n"
                                                "dm = false\n[promise.hours]")
                          + '\n[templates.de.sie]\nout_of_hours_reply = "Wir sind {reopens} zurück."\n')
    assert policy.promise.out_of_hours.enabled and not policy.promise.out_of_hours.dm
    assert policy.template_overrides("de", "sie")["out_of_hours_reply"] == "Wir sind {reopens} zurück."
    assert not parse_policy(WEEKDAY_HOURS).promise.out_of_hours.enabled


def test_a_due_date_a_year_ahead_names_its_year() -> None:
    """Found by the property test: open one hour a week, a 53-hour promise is due a year later,
    and "bis Freitag, 9.1." would name the wrong Friday."""
    calendar = BusinessCalendar(ZoneInfo("Europe/Berlin"), {4: [(time(22), time(23))]})
    posted = datetime(2025, 1, 1, tzinfo=UTC)
    due = calendar.add_business_time(posted, timedelta(minutes=3181))
    assert promise_phrase(due, posted, calendar.tz, "de").text == "bis Freitag, 9.1.2026, 22:05 Uhr"
    assert promise_phrase(due, posted, calendar.tz, "en").text == "by Friday 9 January 2026, 10:05 pm"


def test_a_post_without_a_named_author_is_its_own_key() -> None:
    unknown = [out_of_hours_answer(**{**BASE, "author_id": author, "post_id": post})
               for author, post in (("unknown", "p1"), ("unknown", "p2"), (None, "p3"), ("", "p4"))]
    assert all(answer is not None for answer in unknown)
    assert len({answer.key for answer in unknown if answer is not None}) == 4
    assert out_of_hours_answer(**{**BASE, "author_id": "unknown"}) is None  # no post to key it by
    named = [out_of_hours_answer(**{**BASE, "post_id": post}) for post in ("p1", "p2")]
    assert named[0] is not None and named[1] is not None and named[0].key == named[1].key  # still per author
