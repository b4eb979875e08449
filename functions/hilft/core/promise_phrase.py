"""The promise told as the real time: "innerhalb der nächsten Stunde", "bis Montag, 8:55 Uhr".

A post on Friday at 19:55 under Mon–Fri 08:00–20:00 with a 60-minute promise is due on Monday at
08:55; telling that customer "innerhalb der nächsten Stunde" would be a broken promise. So every
phrase hilft writes comes from the post's own ``due_at``, in the policy's time zone and the post's
language, and names a time that is never earlier than ``due_at`` and at most one rounding step
later:

=========================  ===================================  =====================================
due in …                    German                               English
=========================  ===================================  =====================================
≤ 15 min (step 5 min)       innerhalb der nächsten 10 Minuten     within the next 10 minutes
≤ 60 min (step 15 min)      innerhalb der nächsten Stunde         within the next hour
later today (step 5 min)    bis heute, 14:30 Uhr                  by 2:30 pm today
tomorrow                    bis morgen, 9:00 Uhr                  by 9:00 am tomorrow
in 2–6 days                 bis Montag, 8:55 Uhr                  by Monday, 8:55 am
a week or more              bis Montag, 7.12., 8:55 Uhr           by Monday 7 December, 8:55 am
already due                 so schnell wie möglich                as soon as possible
=========================  ===================================  =====================================

Weekday and month names are spelt out here, not taken from the system locale, so the text is the
same on every machine. Pure: no I/O, no clock of its own (``now`` is passed in).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

RELATIVE_LIMIT = timedelta(hours=1)
"""Up to this far ahead the promise is told as a duration ("within the next hour")."""
ABSOLUTE_STEP = timedelta(minutes=5)
"""Beyond it, the clock time is rounded up to this step ("8:55", never "8:53")."""
_RELATIVE_STEPS = ((timedelta(minutes=15), timedelta(minutes=5)), (RELATIVE_LIMIT, timedelta(minutes=15)))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
_ASAP = {"de": "so schnell wie möglich", "en": "as soon as possible"}


@dataclass(frozen=True)
class PromisePhrase:
    """What to write, and the instant it names (None for "as soon as possible": already due)."""

    text: str
    at: datetime | None
    step: timedelta
    """The rounding step: ``due_at <= at < due_at + step`` (``at`` only ever rounds up)."""

    def __str__(self) -> str:
        return self.text


def ceil_to(value: datetime, step: timedelta) -> datetime:
    """The first multiple of `step` (counted from the Unix epoch, in UTC) at or after `value`.

    Every time zone in use today is offset from UTC by a whole multiple of 15 minutes, so a
    multiple of 5 minutes in UTC is one on the local wall clock too.
    """
    steps = -((_EPOCH - value) // step)
    return _EPOCH + steps * step


def promise_phrase(due_at: datetime, now: datetime, tz: tzinfo, language: str,
                   address_form: str = "sie") -> PromisePhrase:
    """The promise for a post due at `due_at`, told at `now`, read in `tz`, in `language`.

    `address_form` ("sie"/"du") does not change the phrase itself (the sentences around it in
    ``templates`` do); it is accepted so every caller passes the same three facts.
    """
    del address_form
    for name, value in (("due_at", due_at), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if language not in WEEKDAYS:
        raise ValueError(f"unsupported language {language!r}")
    remaining = due_at - now
    if remaining <= timedelta(0):
        return PromisePhrase(_ASAP[language], None, ABSOLUTE_STEP)
    for limit, step in _RELATIVE_STEPS:
        if remaining <= limit:
            minutes = int(-(-remaining // step) * step / timedelta(minutes=1))
            return PromisePhrase(_within(minutes, language), now + timedelta(minutes=minutes), step)
    at = ceil_to(due_at, ABSOLUTE_STEP)
    return PromisePhrase(_by(at.astimezone(tz), now.astimezone(tz), language), at, ABSOLUTE_STEP)


def _within(minutes: int, language: str) -> str:
    if language == "de":
        return "innerhalb der nächsten Stunde" if minutes == 60 else f"innerhalb der nächsten {minutes} Minuten"
    return "within the next hour" if minutes == 60 else f"within the next {minutes} minutes"


def _by(local: datetime, today: datetime, language: str) -> str:
    days = (local.date() - today.date()).days
    weekday = WEEKDAYS[language][local.weekday()]
    if language == "de":
        clock = f"{local.hour}:{local.minute:02d} Uhr"
        if days == 0:
            return f"bis heute, {clock}"
        if days == 1:
            return f"bis morgen, {clock}"
        if days < 7:
            return f"bis {weekday}, {clock}"
        if days < 300:
            return f"bis {weekday}, {local.day}.{local.month}., {clock}"
        return f"bis {weekday}, {local.day}.{local.month}.{local.year}, {clock}"  # a date without a year repeats
    clock = english_clock(local)
    if days == 0:
        return f"by {clock} today"
    if days == 1:
        return f"by {clock} tomorrow"
    if days < 7:
        return f"by {weekday}, {clock}"
    if days < 300:
        return f"by {weekday} {local.day} {MONTHS_EN[local.month - 1]}, {clock}"
    return f"by {weekday} {local.day} {MONTHS_EN[local.month - 1]} {local.year}, {clock}"


def english_clock(local: datetime) -> str:
    """ "8:55 am", "2:30 pm", "12:00 pm" (noon), "12:05 am" (just after midnight)."""
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


# -- out of hours: say so, once -------------------------------------------------------------------


def reopens_phrase(reopens_at: datetime, now: datetime, tz: tzinfo, language: str) -> str:
    """When the team is back, on the wall clock: "ab Montag, 8:00 Uhr" / "on Monday at 8:00 am".

    Opening times are the policy's own wall-clock times, so they are shown exactly, not rounded.
    """
    local, today = reopens_at.astimezone(tz), now.astimezone(tz)
    days = (local.date() - today.date()).days
    weekday = WEEKDAYS[language][local.weekday()]
    if language == "de":
        clock = f"{local.hour}:{local.minute:02d} Uhr"
        if days == 0:
            return f"ab {clock}"
        if days == 1:
            return f"ab morgen, {clock}"
        return f"ab {weekday}, {clock}" if days < 7 else f"ab {weekday}, {local.day}.{local.month}., {clock}"
    clock = english_clock(local)
    if days == 0:
        return f"at {clock} today"
    if days == 1:
        return f"at {clock} tomorrow"
    if days < 7:
        return f"on {weekday} at {clock}"
    return f"on {weekday} {local.day} {MONTHS_EN[local.month - 1]} at {clock}"


def out_of_hours_phrases(reopens_at: datetime, due_at: datetime, now: datetime, tz: tzinfo,
                         language: str) -> tuple[str, str]:
    """({reopens}, {promise}) for the out-of-hours answer: "ab Montag, 8:00 Uhr", "bis 8:55 Uhr".

    The promise names no day again when it falls on the day the team is back.
    """
    reopens = reopens_phrase(reopens_at, now, tz, language)
    promise = promise_phrase(due_at, now, tz, language)
    if promise.at is not None and promise.at.astimezone(tz).date() == reopens_at.astimezone(tz).date() \
            and promise.at - now > RELATIVE_LIMIT:
        local = promise.at.astimezone(tz)
        return reopens, (f"bis {local.hour}:{local.minute:02d} Uhr" if language == "de"
                         else f"by {english_clock(local)}")
    return reopens, promise.text


# Author ids that name nobody: the parsers' placeholder when the platform did not say who wrote it.
UNKNOWN_AUTHORS: frozenset[str | None] = frozenset({None, "", "unknown"})


@dataclass(frozen=True)
class OutOfHoursAnswer:
    """One automatic acknowledgment to send: which template, when the team is back, and the key
    that makes it once per author per closed period (claim it with ``create()`` before sending)."""

    template: str  # "out_of_hours_reply" (public) or "out_of_hours_dm"
    reopens_at: datetime
    key: str


def out_of_hours_answer(*, is_open: bool, reopens_at: datetime, enabled: bool, public: bool, private: bool,
                        platform: str, author_id: str | None, private_kind: bool, is_brand: bool, radar: bool,
                        handoff_pending: bool, post_id: str | None = None) -> OutOfHoursAnswer | None:
    """Whether a post that just arrived gets the out-of-hours acknowledgment, and how.

    Never while open, never for the brand's own posts, radar items (nobody addressed us) or a post
    a handoff will answer anyway; public posts get a public reply, DMs a DM, each only if the
    policy allows it. The key is the author and the moment the team is back: one answer per
    author per closed period, however many posts they send while closed.

    A post whose platform did not say who wrote it (Instagram and Facebook mentions sent as ids
    only, Threads posts without a username: author ``"unknown"``) is keyed by ``post_id`` instead:
    one answer per such post, so different customers never share one; without ``post_id`` none.
    """
    if not enabled or is_open or is_brand or radar or handoff_pending:
        return None
    if (private_kind and not private) or (not private_kind and not public):
        return None
    if author_id in UNKNOWN_AUTHORS:
        if not post_id:
            return None
        author_id = f"post:{post_id}"  # no author to count once for: this post alone
    raw = f"{platform}\x1f{author_id}\x1f{reopens_at.astimezone(UTC).isoformat()}"
    key = hashlib.sha256(raw.encode()).hexdigest()[:40]
    return OutOfHoursAnswer("out_of_hours_dm" if private_kind else "out_of_hours_reply", reopens_at, key)
