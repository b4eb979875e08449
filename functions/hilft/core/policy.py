"""The brand's promise and how hilft keeps it, read from one TOML file (see functions/policy.toml).

Validation is strict because a policy mistake is silent in production: an unknown key, a
misspelt sink or an impossible opening time fails at load with a PolicyError naming the key,
e.g. `promise.hours.mon[0]: expected "HH:MM-HH:MM"`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from hilft.core.business_time import MIDNIGHT, BusinessCalendar, check_holiday_region
from hilft.core.durations import format_duration, parse_duration
from hilft.core.errors import PolicyError
from hilft.core.pii import DEFAULT_CUSTOMER_NUMBER_PATTERNS, PiiConfig
from hilft.core.routing import fold
from hilft.core.templates import AddressForm, Language, placeholders_of

SinkName = Literal["slack", "google_chat", "pagerduty", "webhook"]
SINK_NAMES: tuple[SinkName, ...] = ("slack", "google_chat", "pagerduty", "webhook")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _KeyedError(ValueError):
    """A cross-field problem that belongs to a key below the model that found it."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


# --- field types ------------------------------------------------------------------------------------


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f'expected a duration such as "15m", got {type(value).__name__}')
    return parse_duration(value)


def _duration_or_none(value: object) -> timedelta | None:
    if value == "none":
        return None
    if isinstance(value, str) and value.strip().lower() == "none":
        raise ValueError('write "none" in lower case for no promise')
    if not isinstance(value, (str, timedelta)):
        raise ValueError(f'expected a duration such as "4h" or "none", got {type(value).__name__}')
    return _duration(value)


def _positive_or_none(value: timedelta | None) -> timedelta | None:
    return None if value is None else _positive(value)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def _not_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must not be negative")
    return value


def _opening_interval(value: object) -> tuple[time, time]:
    """ "08:00-20:00" → (08:00, 20:00); "24:00" as the end means midnight (stored as 00:00)."""
    match = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", value) if isinstance(value, str) else None
    if match is None:
        raise ValueError('expected "HH:MM-HH:MM"')
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if start_hour > 23 or start_minute > 59 or end_minute > 59 or (end_hour, end_minute) > (24, 0):
        raise ValueError(f'"{value}" is not a time of day (00:00 to 24:00)')
    start = time(start_hour, start_minute)
    end = MIDNIGHT if end_hour == 24 else time(end_hour, end_minute)
    if (end != MIDNIGHT and end <= start) or (end_hour, end_minute) == (0, 0):
        raise ValueError(f'"{value}" must end after it starts (write 24:00 for midnight)')
    return start, end


def _calendar_date(value: object) -> date:
    """A TOML date (2026-12-24) or the same as a string; a date-time is a mistake here."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f'expected a date "YYYY-MM-DD", got {value!r}')


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"invalid regular expression: {error}") from None
    return value


def _name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", value):
        raise ValueError(f'"{value}" is not a valid name (lowercase letters, digits, "_" and "-")')
    return value


def _template_text(value: str) -> str:
    placeholders_of(value)
    return value


NonNegativeDuration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_not_negative)]
PositiveDuration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
# a promise that may be switched off: "none" (radar.first_response)
OptionalPromise = Annotated[timedelta | None, BeforeValidator(_duration_or_none), AfterValidator(_positive_or_none)]
NonEmptyText = Annotated[StrictStr, StringConstraints(min_length=1)]
Keyword = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
Regex = Annotated[StrictStr, AfterValidator(_regex)]
Name = Annotated[StrictStr, AfterValidator(_name)]
LanguageCode = Annotated[StrictStr, StringConstraints(pattern=r"^[a-z]{2,3}$")]
OpeningInterval = Annotated[tuple[time, time], BeforeValidator(_opening_interval)]
CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
TemplateText = Annotated[StrictStr, AfterValidator(_template_text)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- [brand] ----------------------------------------------------------------------------------------


class Brand(_Section):
    name: NonEmptyText = "hilft"
    address_form: AddressForm = "sie"
    default_language: Language = "de"


# --- [promise] --------------------------------------------------------------------------------------


class WeeklyHoursTable(_Section):
    """[promise.hours]: open intervals per weekday; a day that is missing or empty is closed."""

    mon: tuple[OpeningInterval, ...] = ()
    tue: tuple[OpeningInterval, ...] = ()
    wed: tuple[OpeningInterval, ...] = ()
    thu: tuple[OpeningInterval, ...] = ()
    fri: tuple[OpeningInterval, ...] = ()
    sat: tuple[OpeningInterval, ...] = ()
    sun: tuple[OpeningInterval, ...] = ()

    @model_validator(mode="after")
    def _no_overlaps(self) -> Self:
        for day in WEEKDAYS:
            intervals = getattr(self, day)
            ordered = sorted(range(len(intervals)), key=lambda index: intervals[index])
            for earlier, later in zip(ordered, ordered[1:], strict=False):
                earlier_end = intervals[earlier][1]
                if earlier_end == MIDNIGHT or earlier_end > intervals[later][0]:
                    raise _KeyedError((day, later), f"overlaps {_show_interval(intervals[earlier])}")
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValueError('no business hours: open at least one interval, or write hours = "24/7"')
        return self

    def by_weekday(self) -> dict[int, tuple[tuple[time, time], ...]]:
        return {index: getattr(self, day) for index, day in enumerate(WEEKDAYS)}


class ChannelPromises(_Section):
    """[promise.channels]: a different first response per platform (keys as in models.Platform)."""

    x: PositiveDuration | None = None
    facebook: PositiveDuration | None = None
    instagram: PositiveDuration | None = None
    messenger: PositiveDuration | None = None
    threads: PositiveDuration | None = None
    bluesky: PositiveDuration | None = None
    mastodon: PositiveDuration | None = None


class PriorityRule(_Section):
    """[[promise.priority_rules]]: a post gets `priority` if any one condition holds."""

    priority: Name
    min_followers: Annotated[StrictInt, Field(ge=0)] | None = None
    keywords: tuple[Keyword, ...] = ()

    @model_validator(mode="after")
    def _has_a_condition(self) -> Self:
        if self.min_followers is None and not self.keywords:
            raise ValueError("a priority rule needs min_followers or keywords")
        return self

    def matches(self, text: str, followers: int | None) -> bool:
        if self.min_followers is not None and followers is not None and followers >= self.min_followers:
            return True
        folded = fold(text)
        return any(fold(keyword) in folded for keyword in self.keywords)


class OutOfHours(_Section):
    """[promise.out_of_hours]: one automatic acknowledgment when a post arrives while the team is closed
    ("Unser Team ist ab Montag, 8:00 Uhr wieder für Sie da und meldet sich bis 8:55 Uhr."): once per
    author per closed period, never for radar items or posts a handoff answers. It is not the first
    response: the promise keeps running. Texts: templates out_of_hours_reply / out_of_hours_dm."""

    enabled: StrictBool = False
    public: StrictBool = True  # answer a public post with a public reply
    dm: StrictBool = True  # answer a direct message with a direct message
    # A night-time storm: at most this many acknowledgments per platform per minute; beyond it the
    # post gets none (recorded as skipped), its promise still runs.
    max_per_minute: Annotated[StrictInt, Field(ge=1, le=1000)] = 20


class Promise(_Section):
    first_response: PositiveDuration = timedelta(minutes=60)
    warning_before: NonNegativeDuration = timedelta(minutes=15)
    timezone: StrictStr = "Europe/Berlin"
    hours: WeeklyHoursTable | None = None  # None: "24/7"
    holidays: StrictStr | None = None
    closed_dates: tuple[CalendarDate, ...] = ()
    channels: ChannelPromises = ChannelPromises()
    priorities: dict[Name, PositiveDuration] = {}
    priority_rules: tuple[PriorityRule, ...] = ()
    out_of_hours: OutOfHours = OutOfHours()

    @field_validator("hours", mode="before")
    @classmethod
    def _around_the_clock(cls, value: object) -> object:
        if value == "24/7":
            return None
        if not isinstance(value, Mapping | WeeklyHoursTable):
            raise ValueError('expected "24/7" or a table of weekdays (mon = ["08:00-20:00"], …)')
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone "{value}" (expected e.g. "Europe/Berlin")') from None
        return value

    @field_validator("holidays")
    @classmethod
    def _known_holiday_region(cls, value: str | None) -> str | None:
        if value is not None:
            check_holiday_region(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for index, rule in enumerate(self.priority_rules):
            if rule.priority not in self.priorities:
                known = ", ".join(self.priorities) or "none"
                raise _KeyedError(
                    ("priority_rules", index, "priority"),
                    f'unknown priority "{rule.priority}" (defined in [promise.priorities]: {known})',
                )
        for key, promise in self._all_promises():
            if self.warning_before >= promise:
                raise _KeyedError(
                    ("warning_before",),
                    f"{format_duration(self.warning_before)} must be shorter than every promise "
                    f"(promise.{key} = {format_duration(promise)})",
                )
        return self

    def _all_promises(self) -> list[tuple[str, timedelta]]:
        promises = [("first_response", self.first_response)]
        promises += [(f"channels.{name}", value) for name, value in self.channels if value is not None]
        promises += [(f"priorities.{name}", value) for name, value in self.priorities.items()]
        return promises

    @property
    def always_open(self) -> bool:
        return self.hours is None


# --- [escalation] -----------------------------------------------------------------------------------


class EscalationStep(_Section):
    """[[escalation.ladder]]: alert level N fires `after` past due, to these sinks."""

    after: NonNegativeDuration
    sinks: tuple[SinkName, ...] = Field(min_length=1)

    @field_validator("sinks")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a sink is listed twice")
        return value


class Escalation(_Section):
    realert_every: PositiveDuration = timedelta(minutes=30)
    max_level: Annotated[StrictInt, Field(ge=1)] = 4
    warning_sinks: tuple[SinkName, ...] = ("slack", "google_chat", "webhook")
    ladder: tuple[EscalationStep, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for index in range(1, len(self.ladder)):
            if self.ladder[index].after <= self.ladder[index - 1].after:
                raise _KeyedError(("ladder", index, "after"), f"must be later than ladder[{index - 1}].after")
        if len(self.ladder) > self.max_level:
            raise _KeyedError(
                ("max_level",),
                f"{self.max_level} leaves ladder steps unused (the ladder has {len(self.ladder)})",
            )
        return self

    def fire_offset(self, level: int) -> timedelta | None:
        """How long after the due time alert level `level` (1-based) fires; None past max_level.

        Level N is the Nth ladder step; without a ladder level 1 fires at the due time; past the
        ladder each level fires realert_every after the one before.
        """
        if level < 1:
            raise ValueError("alert levels start at 1 (level 0 is the warning before due)")
        if level > self.max_level:
            return None
        if level <= len(self.ladder):
            return self.ladder[level - 1].after
        last_step = self.ladder[-1].after if self.ladder else -self.realert_every
        return last_step + (level - len(self.ladder)) * self.realert_every

    def sinks_for(self, level: int) -> tuple[SinkName, ...]:
        """Where level `level` goes: 0 = the warning before due, 1… = alerts; () past max_level."""
        if level < 0:
            raise ValueError("level must not be negative")
        if level == 0:
            return self.warning_sinks
        if level > self.max_level:
            return ()
        if not self.ladder:
            return SINK_NAMES
        return self.ladder[min(level, len(self.ladder)) - 1].sinks


# --- [radar], [pii], [handoff], [departments] ------------------------------------------------------


class Radar(_Section):
    keywords: tuple[Keyword, ...] = ()
    exclude: tuple[Keyword, ...] = ()
    # X Filtered Stream (core.radar_rules builds the rules; `make register-webhooks` syncs them).
    languages: tuple[LanguageCode, ...] = ()  # only posts in these languages (empty: any)
    rule_tag: Name = "hilft-radar"  # tag of hilft's stream rules; rules with other tags are left alone
    # X's filtered-stream webhooks (Enterprise access) take rules of up to 2,048 characters
    max_rule_length: Annotated[StrictInt, Field(ge=64, le=2048)] = 512
    # Radar items (posts that did not address the brand): the brand chose to reach out, it did not
    # promise, so a longer first response and no warning before it; "none": no promise at all (no
    # due time, never overdue, no alerts, outside the SLA hit rate).
    first_response: OptionalPromise = timedelta(hours=4)
    warning: StrictBool = False

    @model_validator(mode="after")
    def _warning_needs_a_promise(self) -> Self:
        if self.warning and self.first_response is None:
            raise _KeyedError(("warning",), 'needs a promise to warn before: radar.first_response is "none"')
        return self

    @property
    def promises(self) -> bool:
        """False when radar items carry no promise (``first_response = "none"``)."""
        return self.first_response is not None


class Closing(_Section):
    """[closing]: a customer's "Danke, läuft wieder" in a conversation the brand already answered
    starts no promise; it is marked ``no_reply_needed`` (on the board, one click reopens it).
    Never when it asks a question or carries personal data. Each list is per language; a language
    given here replaces that language's built-in list (``core.closing``), the others stay built in.
    ``blockers``: problem, churn and sarcasm words that keep the promise ("kaputt", "kündig*");
    ``fillers``: words that may stand next to a closing phrase (greetings, stop-words)."""

    enabled: StrictBool = True
    phrases: dict[LanguageCode, tuple[Keyword, ...]] = {}
    blockers: dict[LanguageCode, tuple[Keyword, ...]] = {}
    fillers: dict[LanguageCode, tuple[Keyword, ...]] = {}
    max_words: Annotated[StrictInt, Field(ge=1, le=60)] = 14


def _phone_region(value: str) -> str:
    try:
        PiiConfig(default_region=value)
    except PolicyError:
        raise ValueError(f"unknown region {value!r}") from None
    return value


Region = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_phone_region)]
EmailDomain = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[\w-]+(?:\.[\w-]+)+$")
]


def _own_phone_number(value: str) -> str:
    try:
        PiiConfig(own_phone_numbers=(value,))
    except PolicyError:
        raise ValueError(f"not a phone number: {value!r}") from None
    return value


class PiiOwn(_Section):
    """The brand's own public data: never personal data, wherever a customer quotes it."""

    phone_numbers: tuple[Annotated[StrictStr, AfterValidator(_own_phone_number)], ...] = ()  # any format
    addresses: tuple[NonEmptyText, ...] = ()  # "Friedrich-Ebert-Allee 140, 53113 Bonn": the street line counts
    email_domains: tuple[EmailDomain, ...] = ()  # "telekom.de" (and its subdomains)
    ticket_patterns: tuple[Regex, ...] = ()  # the brand's ticket/case numbers: matches are never personal data


class Pii(_Section):
    default_region: Region = "DE"
    regions: tuple[Region, ...] = ()  # more countries whose national phone numbers count (posts of their language)
    customer_number_patterns: tuple[Regex, ...] = ()
    ignore_patterns: tuple[Regex, ...] = ()
    own: PiiOwn = PiiOwn()

    def config(self) -> PiiConfig:
        """The detector's configuration: the built-in customer-number patterns plus this policy's."""
        return PiiConfig(
            default_region=self.default_region,
            regions=self.regions,
            customer_number_patterns=(*DEFAULT_CUSTOMER_NUMBER_PATTERNS, *self.customer_number_patterns),
            ignore_patterns=(*self.ignore_patterns, *self.own.ticket_patterns),
            own_phone_numbers=self.own.phone_numbers,
            own_addresses=self.own.addresses,
            own_email_domains=self.own.email_domains,
        )


class Handoff(_Section):
    auto: StrictBool = True
    public_reply: StrictBool = True
    # A public post with personal data is hidden where the platform lets the brand (its own
    # comments/replies on X, Facebook, Instagram, Threads); else the DM says how to delete it.
    hide_public: StrictBool = True
    default_department: Name = "kundenservice"


class WebhookSink(_Section):
    type: Literal["webhook"]
    url: Annotated[StrictStr, StringConstraints(pattern=r"^https?://\S+$")]


class EmailSink(_Section):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: Literal["email"]
    to: Annotated[StrictStr, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")]
    from_: Annotated[StrictStr, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")] = Field(alias="from")
    smtp_host: NonEmptyText = "localhost"
    smtp_port: Annotated[StrictInt, Field(ge=1, le=65535)] = 25


class Department(_Section):
    label: NonEmptyText | None = None
    keywords: tuple[Keyword, ...] = ()
    patterns: tuple[Regex, ...] = ()
    languages: tuple[LanguageCode, ...] = ()
    private: StrictBool = False
    sink: Annotated[WebhookSink | EmailSink, Field(discriminator="type")] | None = None


# --- [channels.<platform>] -------------------------------------------------------------------------

PrivateChannelText = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=150,
                                                            pattern=r"^[^\x00-\x1f\x7f{}]+$")]


class ChannelOptions(_Section):
    """[channels.<platform>]: ``private_channel`` names where a customer continues privately on a
    channel without DMs (Threads), in the public handoff reply: one text, or ``{de = "…", en = "…"}``,
    e.g. "per Direktnachricht an @brand auf Instagram" or "über unser Kontaktformular auf brand.de"."""

    private_channel: PrivateChannelText | dict[Literal["de", "en"], PrivateChannelText] | None = None


# --- [templates] ------------------------------------------------------------------------------------


class TemplateSet(_Section):
    handoff_dm: TemplateText | None = None
    dm_handoff: TemplateText | None = None
    public_reply: TemplateText | None = None
    dm_closed_reply: TemplateText | None = None
    private_pointer: TemplateText | None = None
    out_of_hours_reply: TemplateText | None = None
    out_of_hours_dm: TemplateText | None = None
    holding_reply: TemplateText | None = None  # the board's holding reply (public), placeholder {promise}
    sign_off: TemplateText | None = None
    delete_hint: TemplateText | None = None


class TemplatesByAddressForm(_Section):
    sie: TemplateSet = TemplateSet()
    du: TemplateSet = TemplateSet()


class Templates(_Section):
    de: TemplatesByAddressForm = TemplatesByAddressForm()
    en: TemplatesByAddressForm = TemplatesByAddressForm()


# --- the policy ------------------------------------------------------------------------------------


# --- [outage] (issue 17: spikes become incidents; the method is described in core/outage.py) ------


class OutageTopic(_Section):
    """[outage.topics.<name>]: a topic the detector keys its counts by ("Störung <label>")."""

    label: NonEmptyText
    keywords: tuple[Keyword, ...] = Field(min_length=1)


class Outage(_Section):
    enabled: StrictBool = True
    method: Literal["poisson"] = "poisson"
    # "tasks": the webhooks enqueue one evaluation per slot (detection within a slot or two);
    # "sweep": only the minute sweep evaluates (no extra task; detection up to a minute later).
    trigger: Literal["tasks", "sweep"] = "sweep"
    words: tuple[Keyword, ...] = ()  # outage words (whole words, "word*" compounds); empty: built-in list
    topics: dict[Name, OutageTopic] = {}  # empty: one topic per department that has keywords
    slot: PositiveDuration = timedelta(seconds=20)
    window: PositiveDuration = timedelta(minutes=5)
    min_count: Annotated[StrictInt, Field(ge=1)] = 8
    min_ratio: Annotated[float, Field(ge=1.0)] = 3.0
    p_value: Annotated[float, Field(gt=0.0, le=0.5)] = 1e-6
    baseline_floor: Annotated[float, Field(gt=0.0)] = 0.02  # posts per minute for a key without history
    baseline_half_life: PositiveDuration = timedelta(days=7)
    resolve_after: PositiveDuration = timedelta(minutes=30)
    update_every: PositiveDuration = timedelta(minutes=10)
    fold_alerts: StrictBool = True  # overdue alerts of an incident's posts go into the incident's alert
    fold_window: NonNegativeDuration = timedelta(seconds=30)
    sample_posts: Annotated[StrictInt, Field(ge=0, le=20)] = 5
    nationwide: StrictBool = True
    # Placeless posts of a topic with an elevated region are taken as that outage's own, up to this
    # many per post that names the region (core.outage: the nationwide key counts only the rest).
    placeless_ratio: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    # "We know about the outage and are on it": set, the board's one action for an incident also
    # answers each of its open public posts with this text (as a holding reply: it counts as the
    # post's first response). Unset, the posts' own promises run on.
    incident_reply: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1,
                                                           max_length=260)] | None = None

    @model_validator(mode="after")
    def _slots(self) -> Self:
        slot = self.slot.total_seconds()
        if slot != int(slot) or 3600 % int(slot):
            raise _KeyedError(("slot",), "must be whole seconds that divide an hour (e.g. 10s, 20s, 1m)")
        for name in ("window", "resolve_after"):
            if getattr(self, name).total_seconds() % slot:
                raise _KeyedError((name,), f"must be a multiple of slot ({format_duration(self.slot)})")
        return self


class Policy(_Section):
    brand: Brand = Brand()
    promise: Promise = Promise()
    escalation: Escalation = Escalation()
    radar: Radar = Radar()
    closing: Closing = Closing()
    outage: Outage = Outage()
    pii: Pii = Pii()
    handoff: Handoff = Handoff()
    departments: dict[Name, Department] = {}
    templates: Templates = Templates()
    channels: dict[Literal["x", "facebook", "instagram", "messenger", "threads", "bluesky", "mastodon"],
                   ChannelOptions] = {}

    @model_validator(mode="after")
    def _default_department_exists(self) -> Self:
        default = self.handoff.default_department
        if self.departments and default not in self.departments:
            known = ", ".join(self.departments)
            raise _KeyedError(("handoff", "default_department"), f'"{default}" is not a department ({known})')
        return self

    @classmethod
    def default(cls) -> Policy:
        """The built-in policy: answer within 60 minutes, around the clock, Europe/Berlin."""
        return cls()

    @cached_property
    def calendar(self) -> BusinessCalendar:
        hours = self.promise.hours
        return BusinessCalendar(
            ZoneInfo(self.promise.timezone),
            None if hours is None else hours.by_weekday(),
            holiday_region=self.promise.holidays,
            closed_dates=self.promise.closed_dates,
        )

    def promise_for(self, platform: str, priority: str | None = None) -> timedelta:
        """The first-response promise: the priority's if it has one, else the platform's, else the default.

        An unknown priority (e.g. stored under an older policy) falls back instead of failing.
        """
        if priority is not None and priority in self.promise.priorities:
            return self.promise.priorities[priority]
        channel = (
            getattr(self.promise.channels, platform) if platform in ChannelPromises.model_fields else None
        )
        return channel or self.promise.first_response

    def priority_for(self, text: str, followers: int | None) -> str | None:
        """The priority of the first rule that matches (file order), None for a normal post."""
        for rule in self.promise.priority_rules:
            if rule.matches(text, followers):
                return rule.priority
        return None

    def private_channel(self, platform: str, language: str) -> str | None:
        """Where a customer of ``platform`` continues privately ([channels.<platform>] private_channel)."""
        options = self.channels.get(platform)  # type: ignore[call-overload]
        chosen = options.private_channel if options is not None else None
        if isinstance(chosen, dict):
            return chosen.get(language) or next(iter(chosen.values()), None)  # type: ignore[call-overload]
        return chosen

    def template_overrides(self, language: str, address_form: str) -> dict[str, str]:
        """The [templates.<language>.<address_form>] texts set in this policy, for templates.render."""
        by_form = getattr(self.templates, language, None)
        chosen = getattr(by_form, address_form, None) if by_form is not None else None
        return chosen.model_dump(exclude_none=True) if chosen is not None else {}


# --- loading ---------------------------------------------------------------------------------------


def parse_policy(text: str, *, source: str | None = None) -> Policy:
    """Validate policy TOML text; PolicyError names every offending key ("promise.first_response: …")."""
    prefix = f"{source}: " if source else ""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{prefix}invalid TOML: {error}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyError(
            prefix + "; ".join(_describe(item) for item in error.errors(include_url=False))
        ) from None


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate the policy file at `path` (HILFT_CONFIG)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"cannot read policy file {os.fspath(path)}: {error}") from None
    return parse_policy(text, source=os.fspath(path))


def _describe(item: ErrorDetails) -> str:
    location: list[str | int] = [part for part in item["loc"] if part != "[key]"]  # a dict key's own error
    cause = (item.get("ctx") or {}).get("error")
    if isinstance(cause, _KeyedError):
        location += cause.path
        message = cause.message
    elif item["type"] == "extra_forbidden":
        message = "unknown key"
    elif item["type"] == "missing":
        message = "required key is missing"
    elif item["type"] == "union_tag_invalid":
        tag_key = item["ctx"]["discriminator"].strip("'")
        message = f"{tag_key} must be one of {item['ctx']['expected_tags']}"
    elif isinstance(cause, ValueError):
        message = str(cause)
    else:
        message = item["msg"][:1].lower() + item["msg"][1:]
    return f"{_key_path(location) or '(top level)'}: {message}"


def _key_path(location: list[str | int]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _show_interval(interval: tuple[time, time]) -> str:
    start, end = interval
    return f'"{start:%H:%M}-{"24:00" if end == MIDNIGHT else f"{end:%H:%M}"}"'
