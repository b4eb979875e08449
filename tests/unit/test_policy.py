from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hilft.core.errors import PolicyError
from hilft.core.models import Platform
from hilft.core.policy import SINK_NAMES, ChannelPromises, Policy, load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "tests" / "fixtures" / "policy"
BERLIN = ZoneInfo("Europe/Berlin")

LADDER = """
[escalation]
realert_every = "30m"
max_level = 4
warning_sinks = ["slack", "google_chat"]
[[escalation.ladder]]
after = "0m"
sinks = ["slack", "google_chat", "webhook"]
[[escalation.ladder]]
after = "30m"
sinks = ["slack", "google_chat", "pagerduty", "webhook"]
"""

PRIORITIES = """
[promise]
first_response = "60m"
[promise.channels]
messenger = "2h"
[promise.priorities]
high = "30m"
vip = "20m"
[[promise.priority_rules]]
priority = "vip"
min_followers = 100000
[[promise.priority_rules]]
priority = "high"
min_followers = 10000
keywords = ["störung", "ausfall"]
"""


# --- the shipped policies ----------------------------------------------------------------------------


def test_the_built_in_default_answers_within_the_hour_around_the_clock_in_berlin() -> None:
    policy = Policy.default()
    assert policy.promise.first_response == timedelta(minutes=60)
    assert policy.promise.warning_before == timedelta(minutes=15)
    assert policy.promise.timezone == "Europe/Berlin"
    assert policy.promise.always_open
    assert policy.calendar.always_open and policy.calendar.tz == BERLIN
    assert policy.escalation.realert_every == timedelta(minutes=30)


def test_the_policy_deployed_with_the_functions_is_valid() -> None:
    policy = load_policy(ROOT / "functions" / "policy.toml")
    assert policy.brand.name == "Telekom hilft"
    assert policy.promise_for("messenger") == timedelta(hours=2)
    assert policy.priority_for("Totalausfall seit heute früh", followers=12) == "high"
    assert policy.handoff.default_department in policy.departments
    assert "pagerduty" not in policy.escalation.sinks_for(0)


def test_the_weekday_fixture_makes_a_friday_evening_post_due_on_monday_morning() -> None:
    policy = load_policy(POLICIES / "weekday_hours.toml")
    due = policy.calendar.add_business_time(
        datetime(2026, 3, 13, 19, 55, tzinfo=BERLIN), policy.promise_for("x")
    )
    assert due == datetime(2026, 3, 16, 8, 55, tzinfo=BERLIN)


def test_the_demo_fixture_compresses_the_promise_to_seconds() -> None:
    policy = load_policy(POLICIES / "demo.toml")
    assert policy.promise.first_response == timedelta(seconds=40)
    assert policy.promise.warning_before == timedelta(seconds=15)
    assert policy.escalation.realert_every == timedelta(seconds=20)
    assert policy.promise.always_open


# --- strict validation names the key -----------------------------------------------------------------


def test_a_malformed_opening_interval_is_reported_with_its_key_path() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy('[promise.hours]\nmon = ["8-20"]')
    assert str(raised.value) == 'promise.hours.mon[0]: expected "HH:MM-HH:MM"'


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[promise]\nfirst_responce = '60m'", "promise.first_responce: unknown key"),
        ("[promis]\nfirst_response = '60m'", "promis: unknown key"),
        ("[promise]\nfirst_response = 60", 'promise.first_response: expected a duration such as "15m"'),
        ("[promise]\nfirst_response = '1 hour'", 'promise.first_response: invalid duration "1 hour"'),
        ("[promise]\nfirst_response = '0m'", "promise.first_response: must be longer than 0s"),
        (
            "[promise]\nwarning_before = '60m'",
            "promise.warning_before: 1h must be shorter than every promise",
        ),
        (
            PRIORITIES.replace('high = "30m"', 'high = "10m"').replace(
                "[promise.channels]", 'warning_before = "15m"\n[promise.channels]'
            ),
            "promise.warning_before: 15m must be shorter than every promise (promise.priorities.high = 10m)",
        ),
        ("[promise]\nhours = 'weekdays'", 'promise.hours: expected "24/7" or a table of weekdays'),
        ("[promise.hours]\nmonday = ['08:00-20:00']", "promise.hours.monday: unknown key"),
        ("[promise.hours]\nmon = []", "promise.hours: no business hours"),
        (
            "[promise.hours]\nmon = ['08:00-12:00', '11:00-14:00']",
            'promise.hours.mon[1]: overlaps "08:00-12:00"',
        ),
        (
            "[promise.hours]\nmon = ['08:00-24:00', '10:00-11:00']",
            'promise.hours.mon[1]: overlaps "08:00-24:00"',
        ),
        (
            "[promise.hours]\nmon = ['20:00-08:00']",
            'promise.hours.mon[0]: "20:00-08:00" must end after it starts',
        ),
        ("[promise.hours]\nmon = ['20:00-00:00']", "write 24:00 for midnight"),
        (
            "[promise.hours]\nmon = ['25:00-26:00']",
            'promise.hours.mon[0]: "25:00-26:00" is not a time of day',
        ),
        (
            "[promise.hours]\nmon = ['08:00-24:30']",
            'promise.hours.mon[0]: "08:00-24:30" is not a time of day',
        ),
        ("[promise]\ntimezone = 'Europe/Berlln'", 'promise.timezone: unknown time zone "Europe/Berlln"'),
        ("[promise]\nholidays = 'DE-XX'", 'promise.holidays: unknown holiday region "DE-XX"'),
        (
            "[promise]\nholidays = 'Germany'",
            'promise.holidays: expected a country code such as "DE" or "DE-BY"',
        ),
        ("[promise]\nclosed_dates = ['24.12.2026']", 'promise.closed_dates[0]: expected a date "YYYY-MM-DD"'),
        ("[promise]\nclosed_dates = [2026-12-24T12:00:00]", "promise.closed_dates[0]: expected a date"),
        ("[promise.channels]\ntiktok = '2h'", "promise.channels.tiktok: unknown key"),
        (
            "[promise.priorities]\nhigh = '30m'\n[[promise.priority_rules]]\npriority = 'high'",
            "promise.priority_rules[0]: a priority rule needs min_followers or keywords",
        ),
        (
            "[[promise.priority_rules]]\npriority = 'urgent'\nkeywords = ['x']",
            'promise.priority_rules[0].priority: unknown priority "urgent"',
        ),
        (
            "[escalation]\nwarning_sinks = ['slack', 'sms']",
            "escalation.warning_sinks[1]: input should be 'slack', 'google_chat', 'pagerduty' or 'webhook'",
        ),
        ("[escalation]\nmax_level = '4'", "escalation.max_level: input should be a valid integer"),
        ("[escalation]\nmax_level = 0", "escalation.max_level: input should be greater than or equal to 1"),
        ("[escalation]\nrealert_every = '0s'", "escalation.realert_every: must be longer than 0s"),
        (
            LADDER.replace('after = "30m"', 'after = "0m"'),
            "escalation.ladder[1].after: must be later than ladder[0].after",
        ),
        (
            LADDER.replace("max_level = 4", "max_level = 1"),
            "escalation.max_level: 1 leaves ladder steps unused",
        ),
        (
            LADDER.replace('sinks = ["slack", "google_chat", "webhook"]', "sinks = []"),
            "escalation.ladder[0].sinks: ",
        ),
        (
            LADDER.replace('"slack", "google_chat", "webhook"]', '"slack", "slack"]'),
            "escalation.ladder[0].sinks: a sink is listed twice",
        ),
        ("[handoff]\nauto = 'yes'", "handoff.auto: input should be a valid boolean"),
        ("[brand]\naddress_form = 'ihr'", "brand.address_form: input should be 'sie' or 'du'"),
        (
            "[pii]\ncustomer_number_patterns = ['(unclosed']",
            "pii.customer_number_patterns[0]: invalid regular expression",
        ),
        (
            "[departments.festnetz]\npatterns = ['[dsl']",
            "departments.festnetz.patterns[0]: invalid regular expression",
        ),
        (
            "[departments.Festnetz]\nkeywords = ['dsl']",
            'departments.Festnetz: "Festnetz" is not a valid name',
        ),
        (
            "[departments.festnetz]\nsink = { type = 'webhook' }",
            "departments.festnetz.sink.webhook.url: required key is missing",
        ),
        (
            "[departments.festnetz]\nsink = { type = 'ftp', url = 'x' }",
            "departments.festnetz.sink: type must be one of 'webhook', 'email'",
        ),
        (
            "[departments.festnetz]\nsink = { type = 'webhook', url = 'ftp://x' }",
            "departments.festnetz.sink.webhook.url: string should match pattern",
        ),
        (
            "[departments.festnetz]\nsink = { type = 'email', to = 'team@example.com' }",
            "departments.festnetz.sink.email.from: required key is missing",
        ),
        (
            "[departments.festnetz]\nkeywords = ['dsl']\n[handoff]\ndefault_department = 'kundenservice'",
            'handoff.default_department: "kundenservice" is not a department (festnetz)',
        ),
        (
            "[templates.de.sie]\nhandoff_dm = 'Ticket {ticket}'",
            "templates.de.sie.handoff_dm: unknown placeholder {ticket}",
        ),
        (
            "[templates.de.sie]\nhandoff_dm = '{name.__class__}'",
            "templates.de.sie.handoff_dm: unknown placeholder {name.__class__}",
        ),
        ("[templates.de.sie]\nhandoff_dm = 'Hallo {name'", "templates.de.sie.handoff_dm: "),
        ("[templates.de.sie]\nfarewell = 'Tschüss'", "templates.de.sie.farewell: unknown key"),
        ("[templates.fr.sie]\nhandoff_dm = 'Bonjour'", "templates.fr: unknown key"),
        ("[promise\nfirst_response = '60m'", "invalid TOML"),
    ],
)
def test_every_policy_mistake_names_the_offending_key(toml: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(toml)
    assert message in str(raised.value)


def test_all_mistakes_are_reported_at_once() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy("[promise]\nfirst_response = 'soon'\ntimezone = 'Nowhere'\n[escalation]\nmax_level = 0")
    reported = str(raised.value).split("; ")
    assert [line.split(":")[0] for line in reported] == [
        "promise.first_response",
        "promise.timezone",
        "escalation.max_level",
    ]


def test_a_missing_policy_file_is_a_policy_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file .*nowhere.toml"):
        load_policy(tmp_path / "nowhere.toml")


def test_mistakes_in_a_policy_file_name_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[promise]\nfirst_response = '1 hour'\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^{path}: promise\.first_response: invalid duration"):
        load_policy(path)


def test_midnight_is_written_24_00_and_dates_may_be_toml_dates() -> None:
    policy = parse_policy(
        "[promise]\nclosed_dates = [2026-12-24, '2026-12-31']\n[promise.hours]\nfri = ['22:00-24:00']\nsat = ['00:00-02:00']"
    )
    assert policy.promise.closed_dates == (date(2026, 12, 24), date(2026, 12, 31))
    assert policy.calendar.weekly_hours[4] == ((time(22), time(0)),)
    friday_late = datetime(2026, 3, 13, 23, 30, tzinfo=BERLIN)
    assert policy.calendar.add_business_time(friday_late, timedelta(hours=1)) == datetime(
        2026, 3, 14, 0, 30, tzinfo=BERLIN
    )


def test_an_email_sink_reads_its_sender_from_the_from_key() -> None:
    policy = parse_policy(
        "[handoff]\ndefault_department = 'rechnung'\n[departments.rechnung]\n"
        "sink = { type = 'email', to = 'billing@example.com', from = 'hilft@example.com', smtp_host = '127.0.0.1' }"
    )
    sink = policy.departments["rechnung"].sink
    assert sink is not None and sink.type == "email"
    assert (sink.to, sink.from_, sink.smtp_host, sink.smtp_port) == (
        "billing@example.com",
        "hilft@example.com",
        "127.0.0.1",
        25,
    )


# --- promises and priorities -------------------------------------------------------------------------


def test_the_promise_is_the_priority_s_then_the_channel_s_then_the_default() -> None:
    policy = parse_policy(PRIORITIES)
    assert policy.promise_for("x") == timedelta(minutes=60)
    assert policy.promise_for(Platform.MESSENGER) == timedelta(hours=2)
    assert policy.promise_for("messenger", "high") == timedelta(minutes=30)
    assert policy.promise_for("x", "vip") == timedelta(minutes=20)


def test_an_unknown_priority_or_platform_falls_back_to_the_default_promise() -> None:
    policy = parse_policy(PRIORITIES)
    assert policy.promise_for("messenger", "retired-priority") == timedelta(hours=2)
    assert policy.promise_for("mastodon") == timedelta(minutes=60)


def test_channel_overrides_cover_exactly_the_platforms() -> None:
    assert set(ChannelPromises.model_fields) == {platform.value for platform in Platform}


def test_the_first_matching_priority_rule_wins() -> None:
    policy = parse_policy(PRIORITIES)
    assert policy.priority_for("Frage zur Rechnung", followers=250_000) == "vip"
    assert policy.priority_for("Frage zur Rechnung", followers=20_000) == "high"
    assert policy.priority_for("Frage zur Rechnung", followers=20) is None
    assert policy.priority_for("Frage zur Rechnung", followers=None) is None


def test_priority_keywords_ignore_case_and_umlaut_spelling() -> None:
    policy = parse_policy(PRIORITIES)
    assert policy.priority_for("GROSSE STÖRUNG in Kiel", followers=None) == "high"
    assert policy.priority_for("schon wieder eine Stoerung", followers=None) == "high"
    assert policy.priority_for("Totalausfall!", followers=None) == "high"  # a substring is enough


# --- escalation --------------------------------------------------------------------------------------


def test_alert_levels_follow_the_ladder_then_repeat_every_realert_interval() -> None:
    escalation = parse_policy(LADDER).escalation
    offsets = [escalation.fire_offset(level) for level in range(1, 6)]
    assert offsets == [
        timedelta(0),
        timedelta(minutes=30),
        timedelta(minutes=60),
        timedelta(minutes=90),
        None,
    ]


def test_without_a_ladder_level_one_fires_at_due_and_each_next_level_one_interval_later() -> None:
    escalation = Policy.default().escalation
    assert [escalation.fire_offset(level) for level in (1, 2, 4, 5)] == [
        timedelta(0),
        timedelta(minutes=30),
        timedelta(minutes=90),
        None,
    ]


def test_level_zero_is_the_warning_and_has_no_fire_offset() -> None:
    with pytest.raises(ValueError, match="level 0"):
        Policy.default().escalation.fire_offset(0)


def test_each_level_goes_to_its_ladder_step_s_sinks_and_beyond_to_the_last_step_s() -> None:
    escalation = parse_policy(LADDER).escalation
    assert escalation.sinks_for(0) == ("slack", "google_chat")
    assert escalation.sinks_for(1) == ("slack", "google_chat", "webhook")
    assert escalation.sinks_for(2) == ("slack", "google_chat", "pagerduty", "webhook")
    assert escalation.sinks_for(4) == ("slack", "google_chat", "pagerduty", "webhook")
    assert escalation.sinks_for(5) == ()


def test_by_default_the_warning_does_not_page_and_alerts_go_everywhere() -> None:
    escalation = Policy.default().escalation
    assert escalation.sinks_for(0) == ("slack", "google_chat", "webhook")
    assert escalation.sinks_for(1) == SINK_NAMES


# --- derived objects ---------------------------------------------------------------------------------


def test_the_calendar_is_built_once_per_policy() -> None:
    policy = load_policy(POLICIES / "weekday_hours.toml")
    assert policy.calendar is policy.calendar
    assert not policy.calendar.always_open
    assert policy.calendar.holiday_region == "DE"


def test_template_overrides_hold_only_the_texts_the_policy_sets() -> None:
    policy = parse_policy(
        "[templates.de.du]\nsign_off = '^an'\npublic_reply = 'Hey {name}, schau mal in deine DMs.'"
    )
    assert policy.template_overrides("de", "du") == {
        "public_reply": "Hey {name}, schau mal in deine DMs.",
        "sign_off": "^an",
    }
    assert policy.template_overrides("de", "sie") == {}
    assert policy.template_overrides("fr", "sie") == {}


def test_policies_are_immutable() -> None:
    policy = Policy.default()
    with pytest.raises(ValueError, match="frozen"):
        policy.promise.first_response = timedelta(minutes=5)  # type: ignore[misc]
