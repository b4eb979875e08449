"""The pure outage detector: signals from texts, the Poisson spike test, incidents open and resolve.

Synthetic traffic comes from bench/outage.py (the same model ``make bench`` reports on): a
normal day/week with daily and weekly rhythm and extra-Poisson noise, and an injected burst.
"""

from __future__ import annotations

import math

import pytest
from bench import outage as traffic
from hypothesis import given, settings
from hypothesis import strategies as st

from hilft.core import outage
from hilft.core.errors import PolicyError
from hilft.core.outage import DetectorParams, DetectorState, Topic, poisson_tail, signal_of
from hilft.core.places import regions
from hilft.core.policy import parse_policy

TOPICS = (Topic("festnetz", "Festnetz", ("festnetz", "dsl", "internet", "router")),
          Topic("mobilfunk", "Mobilfunk", ("handy", "lte", "5g", "mobilfunk")),
          Topic("tv", "MagentaTV", ("magentatv", "magenta tv")))
PARAMS = DetectorParams()


# -- signals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key", "place_label"), [
    ("Seit heute früh kein Internet in 53113 Bonn", "festnetz|de-53", "53113 Bonn"),
    ("Köln: Internet weg!!", "festnetz|de-50", "Köln"),
    ("@telekom LTE geht nicht, Raum Essen", "mobilfunk|de-45", "Essen"),
    ("MagentaTV Störung schon wieder", "tv|*", ""),
    ("kein Netz in Bonn", "allgemein|de-53", "Bonn"),
    ("Störungsmeldung: Internet in 53113 Bonn", "festnetz|de-53", "53113 Bonn"),  # störung* takes compounds
    ("seit heute kein Netzempfang", "allgemein|*", ""),
    ("Telekom down?! Router aus", "festnetz|*", ""),
    ("Internet weg, Router Fehlercode 10012", "festnetz|*", ""),  # an error code is no postcode
    ("Störung seit 2 Tagen, Auftrag 12345 immer noch offen", "allgemein|*", ""),
    ("Kein Internet seit 20000 Sekunden lol", "festnetz|*", ""),
])
def test_signal_topic_and_place(text: str, key: str, place_label: str) -> None:
    signal = signal_of(text, TOPICS, outage.DEFAULT_OUTAGE_WORDS)
    assert signal is not None
    assert (signal.key, signal.place_label) == (key, place_label)
    topic = key.split("|")[0]
    assert signal.keys == ((key,) if key.endswith("|*") else (key, f"{topic}|*"))


@pytest.mark.parametrize("text", [
    "Danke für die schnelle Hilfe in Bonn!", "Wie ändere ich meinen Tarif?", "",
    "Wo finde ich den Download der Rechnung?", "Downgrade meines Tarifs bitte",  # "down" is a word
    "Offline-Karten in der App?", "Ausfallzeiten werden erstattet?",
])
def test_no_outage_word_no_signal(text: str) -> None:
    assert signal_of(text, TOPICS, outage.DEFAULT_OUTAGE_WORDS) is None


def test_describe_reads_like_the_board_row() -> None:
    from datetime import UTC, datetime, timedelta
    now = datetime(2026, 11, 20, 10, 12, tzinfo=UTC)
    assert outage.describe("Störung Festnetz", "53113 Bonn", 37, now - timedelta(minutes=12), now) == (
        "Störung Festnetz, 53113 Bonn — 37 posts in 12 min")
    assert outage.describe("Störung", "", 1, now, now) == "Störung, bundesweit — 1 post in 1 min"
    assert outage.describe("Störung Festnetz", "53113 Bonn", 37, now - timedelta(minutes=12), now, "de") == (
        "Störung Festnetz, 53113 Bonn — 37 Beiträge in 12 Min.")
    assert outage.describe("Störung", "", 1, now, now, "de") == "Störung, bundesweit — 1 Beitrag in 1 Min."


# -- the Poisson tail --------------------------------------------------------------------------------


@given(count=st.integers(min_value=0, max_value=60), expected=st.floats(min_value=0.01, max_value=40))
def test_poisson_tail_matches_the_direct_sum(count: int, expected: float) -> None:
    direct = 1.0 - sum(math.exp(-expected) * expected ** k / math.factorial(k) for k in range(count))
    assert poisson_tail(count, expected) == pytest.approx(max(direct, 0.0), rel=1e-6, abs=1e-12)


def test_poisson_tail_far_tail_is_not_rounded_to_zero() -> None:
    assert 0 < poisson_tail(40, 0.1) < 1e-60
    assert poisson_tail(8, 0.6) == pytest.approx(2.448e-7, rel=1e-3)


# -- spikes and incidents ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(posts=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["festnetz|de-53", "tv|*", "mobilfunk|de-10"])),
                      max_size=PARAMS.min_count - 1))
def test_fewer_than_min_count_posts_never_open_an_incident(posts: list[tuple[int, str]]) -> None:
    state = DetectorState(last_slot=999)
    counts: dict[int, dict[str, int]] = {}
    for offset, key in posts:
        counts.setdefault(1000 + offset, {})[key] = counts.get(1000 + offset, {}).get(key, 0) + 1
    verdicts = outage.advance(state, counts, 1100, PARAMS)
    assert [v for v in verdicts if v.action == "open"] == []


def test_a_burst_opens_one_incident_that_grows_then_resolves_after_the_quiet_period() -> None:
    state = DetectorState(last_slot=999)
    counts = {1000 + i: {"festnetz|de-53": 3, "festnetz|*": 3} for i in range(10)}
    verdicts = outage.advance(state, counts, 1000 + 9 + PARAMS.resolve_after_slots + PARAMS.window_slots, PARAMS)
    actions = [(v.action, v.key) for v in verdicts]
    assert actions[0] == ("open", "festnetz|de-53")
    assert ("open", "festnetz|*") not in actions  # the region explains the nationwide count
    assert {a for a, _ in actions} == {"open", "grow", "resolve"}
    opened = verdicts[0]
    assert opened.slot == 1002 and opened.count == 9  # the third slot: 9 posts ≥ min_count 8
    grown = sum(v.count for v in verdicts if v.action == "grow")
    assert opened.count + grown == 30
    resolved = [v for v in verdicts if v.action == "resolve"]
    assert len(resolved) == 1 and resolved[0].incident == opened.incident
    # quiet = no elevated window for resolve_after: the last posts leave the window after 15 slots
    assert resolved[0].slot == 1009 + PARAMS.window_slots - 1 + PARAMS.resolve_after_slots
    assert state.keys["festnetz|de-53"].incident is None


def test_state_survives_a_round_trip_through_a_document() -> None:
    state = DetectorState(last_slot=999)
    outage.advance(state, {1000 + i: {"tv|*": 4} for i in range(5)}, 1010, PARAMS)
    copy = DetectorState.from_dict(state.as_dict())
    assert copy.as_dict() == state.as_dict()
    assert copy.keys["tv|*"].incident is not None
    # and it goes on from where it was: the incident grows rather than reopening
    verdicts = outage.advance(copy, {1011: {"tv|*": 2}}, 1011, PARAMS)
    assert [v.action for v in verdicts] == ["grow"]


STATE_BOUND = 512 * 1024  # half of Firestore's 1 MiB per document


def test_the_state_document_stays_under_half_a_mebibyte_in_a_broad_storm_of_many_keys() -> None:
    """Ten topics in all 96 regions: a day of scattered posts, then every key busy in one window
    (most open an incident). The state is one Firestore document: it must stay bounded."""
    from datetime import UTC, datetime

    from tests.unit.memory import document_size

    topics = [f"topic{i}" for i in range(10)]
    places = sorted({region.code for region in regions().values()})
    start = outage.slot_of(datetime(2026, 11, 20, tzinfo=UTC), PARAMS.slot_seconds)
    day = 86400 // PARAMS.slot_seconds
    counts = {slot: {f"{t}|{p}": 1 for t in topics for p in places[slot % 5::5]} for slot in range(start, start + day, 9)}
    for slot in range(start + day, start + day + PARAMS.window_slots):
        counts[slot] = {f"{t}|{p}": 3 for t in topics for p in places} | {f"{t}|*": 30 for t in topics}
    state = DetectorState(last_slot=start - 1)
    biggest = 0
    last = start + day + 2 * PARAMS.window_slots
    # the day in hourly chunks, the storm slot by slot (as the service evaluates): its peak is measured
    for through in [*range(start + 179, start + day, 180), *range(start + day, last + 1)]:
        outage.advance(state, {s: c for s, c in counts.items() if state.last_slot < s <= through}, through, PARAMS)
        biggest = max(biggest, document_size("outage_state", "detector", {"state": state.as_dict()}))
    assert sum(1 for k in state.keys.values() if k.incident) > 100  # a broad storm indeed
    assert biggest < STATE_BOUND, biggest
    assert len(state.keys) <= PARAMS.max_keys


def test_past_max_keys_the_coldest_keys_go_never_one_with_an_incident() -> None:
    params = DetectorParams(max_keys=4)
    state = DetectorState(last_slot=999)
    outage.advance(state, {1000 + i: {"tv|de-10": 4} for i in range(5)}, 1004, params)  # opens an incident
    assert state.keys["tv|de-10"].incident is not None
    outage.advance(state, {1005: {"a|de-20": 1, "b|de-30": 2, "c|de-40": 3, "d|de-50": 4}}, 1005, params)
    assert set(state.keys) == {"tv|de-10", "b|de-30", "c|de-40", "d|de-50"}  # "a" had the fewest posts


def test_a_nationwide_outage_without_places_opens_the_nationwide_key() -> None:
    state = DetectorState(last_slot=999)
    verdicts = outage.advance(state, {1000 + i: {"mobilfunk|*": 3} for i in range(6)}, 1006, PARAMS)
    assert [(v.action, v.key) for v in verdicts if v.action == "open"] == [("open", "mobilfunk|*")]


# -- placeless posts: one local outage is one incident ------------------------------------------------


def _series(slots: int, **per_slot: int) -> dict[int, dict[str, int]]:
    """``slots`` slots from 1000 with the given posts per slot; ``placeless`` posts name no place
    (they count on the topic's nationwide key only, as ``Signal.keys`` has it)."""
    counts: dict[int, dict[str, int]] = {}
    for index in range(slots):
        slot_counts: dict[str, int] = {}
        for name, n in per_slot.items():
            topic, place = name.split("__") if "__" in name else (name, "")
            if not n:
                continue
            keys = [f"{topic}|*"] if place == "" else [f"{topic}|de-{place}", f"{topic}|*"]
            for key in keys:
                slot_counts[key] = slot_counts.get(key, 0) + n
        counts[1000 + index] = slot_counts
    return counts


def _opened(counts: dict[int, dict[str, int]], through: int = 1030) -> list[tuple[str, int]]:
    verdicts = outage.advance(DetectorState(last_slot=999), counts, through, PARAMS)
    return [(v.key, v.slot) for v in verdicts if v.action == "open"]


def test_a_local_burst_with_two_fifths_placeless_posts_opens_only_its_local_incident() -> None:
    """3 posts a slot name Bonn, 2 name no place (40 %): before, the 2 alone opened ``festnetz|*``
    (one outage, two incidents); now they are taken as Bonn's, up to ``placeless_ratio`` per post."""
    opened = _opened(_series(20, festnetz__53=3, festnetz=2))
    assert [key for key, _ in opened] == ["festnetz|de-53"]


def test_the_placeless_posts_help_the_single_elevated_region_open_sooner() -> None:
    """2 posts a slot name the place, 1 does not: the region alone has 8 posts in the 4th slot; with
    its placeless posts (tested against both keys' expectations) it opens in the 3rd."""
    assert _opened(_series(10, festnetz__53=2, festnetz=1)) == [("festnetz|de-53", 1002)]
    assert _opened(_series(10, festnetz__53=2)) == [("festnetz|de-53", 1003)]


def test_a_nationwide_outage_over_many_regions_and_no_place_opens_the_nationwide_incident() -> None:
    """4 placeless posts a slot and one post each in three of thirty regions (a new three every slot)."""
    counts = _series(20, mobilfunk=4)
    codes = sorted({region.code for region in regions().values()})[:30]
    for index, slot in enumerate(sorted(counts)):
        for code in codes[3 * index % 30: 3 * index % 30 + 3]:
            counts[slot][f"mobilfunk|{code}"] = 1
            counts[slot]["mobilfunk|*"] += 1
    opened = _opened(counts)
    assert [key for key, _ in opened] == ["mobilfunk|*"]
    assert opened[0][1] <= 1002  # as soon as without the attribution: 7 posts a slot


def test_a_local_burst_and_a_nationwide_one_of_the_same_topic_at_once_open_both() -> None:
    """Bonn's burst (3 placed, 2 placeless a slot) explains 3 + 3 posts at most; 8 more placeless
    posts a slot are far beyond that: the nationwide incident opens too."""
    opened = _opened(_series(20, festnetz__53=3, festnetz=2 + 8))
    assert sorted(key for key, _ in opened) == ["festnetz|*", "festnetz|de-53"]


def test_placeless_ratio_comes_from_the_policy_and_zero_takes_no_placeless_post_as_local() -> None:
    params = outage.params_from_policy(parse_policy("[outage]\nplaceless_ratio = 0.0\n"))
    assert params.placeless_ratio == 0.0
    verdicts = outage.advance(DetectorState(last_slot=999), _series(20, festnetz__53=3, festnetz=2), 1030, params)
    assert sorted(v.key for v in verdicts if v.action == "open") == ["festnetz|*", "festnetz|de-53"]
    with pytest.raises(PolicyError, match=r"outage.placeless_ratio"):
        parse_policy("[outage]\nplaceless_ratio = -1\n")


def test_a_placeless_burst_does_not_open_a_quiet_region_with_one_or_two_posts() -> None:
    """The support is capped at ``placeless_ratio`` times the region's own posts: a nationwide burst
    does not drag a region with two posts into an incident of its own."""
    counts = _series(20, festnetz=6)
    counts[1003]["festnetz|de-53"] = 2
    counts[1003]["festnetz|*"] += 2
    assert [key for key, _ in _opened(counts)] == ["festnetz|*"]


def test_the_same_volume_is_no_spike_at_an_hour_that_always_has_it() -> None:
    """A key that sees ~3 posts a minute every evening learns it; the same volume at night spikes."""
    state = DetectorState()
    params = PARAMS
    first = outage.slot_of(traffic.START, params.slot_seconds)
    counts: dict[int, dict[str, int]] = {}
    for day in range(10):
        evening = first + (day * 24 + 19) * 180  # 19:00-20:00 local (UTC+1 in November: 18-19 UTC slots)
        for slot in range(evening, evening + 180):
            counts[slot] = {"tv|*": 1}
    last = first + 10 * 24 * 180 - 1
    verdicts = traffic.replay(state, counts, first, last, params)
    opened_days = sorted({(v.slot - first) // (24 * 180) for v in verdicts if v.action == "open"})
    assert opened_days and opened_days[0] == 0 and len(opened_days) <= 2  # learned after a day or two
    night = last + 1 + 3 * 180  # 03:00 the next day
    verdicts = outage.advance(state, {night + i: {"tv|*": 1} for i in range(15)}, night + 15, params)
    assert [v.action for v in verdicts if v.action == "open"] == ["open"]


def test_thin_history_raises_the_bar_and_a_young_detectors_unseen_hour_takes_the_busiest_learned_one() -> None:
    weight = PARAMS.hour_weight
    key = outage.KeyState()
    for hour in range(7):  # a detector started at midnight has learned the night once: 0.5 posts/min
        key.sums[hour], key.weights[hour] = weight * 0.5, weight
    key.sums[3] = weight * 0.2
    assert key.rate(3, 0.02, weight) == pytest.approx(0.2 * 3)  # one day of history: three times
    assert key.rate(7, 0.02, weight, young=True) == pytest.approx(0.5 * 3)  # 07:00 never seen: busiest, raised
    assert key.rate(7, 0.02, weight, young=False) == 0.02  # the detector knows 07:00: the key had no posts
    for _ in range(60):  # two months of the same half a post a minute at 03:00
        key.sums[3] = (1 - weight) * key.sums[3] + weight * 0.5
        key.weights[3] = (1 - weight) * key.weights[3] + weight
    assert key.rate(3, 0.02, weight) == pytest.approx(0.5, rel=0.01)


def test_the_detector_remembers_which_hours_of_the_day_it_has_learned() -> None:
    state = DetectorState()
    first = outage.slot_of(traffic.START, PARAMS.slot_seconds)  # midnight local
    state.last_slot = first - 1
    outage.advance(state, {first + i: {"tv|*": 1} for i in range(0, 360, 30)}, first + 2 * 180 + 1, PARAMS)
    assert state.learned_hours == {0, 1}  # not 23: nothing was counted before the start
    again = DetectorState.from_dict(state.as_dict())
    assert again.learned_hours == {0, 1}
    old = {k: v for k, v in state.as_dict().items() if k != "learned_hours"}
    assert DetectorState.from_dict(old).learned_hours == set(range(24))  # saved by an older version


def test_in_its_first_hour_a_fresh_detector_compares_with_the_keys_posts_earlier_in_that_hour() -> None:
    first = outage.slot_of(traffic.START, PARAMS.slot_seconds)  # midnight local, nothing learned

    def opened(counts: dict[int, dict[str, int]], through: int) -> list[str]:
        state = DetectorState(last_slot=first - 1)
        return [v.key for v in outage.advance(state, counts, through, PARAMS) if v.action == "open"]

    steady = {first + i: {"festnetz|*": 1} for i in range(0, 120, 3)}  # a post a minute for 40 minutes
    window = {first + 120 + i: {"festnetz|*": 1} for i in range(0, 16, 2)}  # then 8 in five minutes
    assert opened({**steady, **window}, first + 140) == []  # ordinary for this key, though above the floor
    burst = {first + i: {"festnetz|*": 1} for i in range(0, 16, 2)}  # the same 8 as the first posts seen
    assert opened(burst, first + 20) == ["festnetz|*"]  # nothing before them: the floor, as always


@pytest.mark.parametrize("seed", [1, 2])
def test_a_busy_cold_start_opens_no_incident_in_its_first_two_days(seed: int) -> None:
    """4,000 outage-word posts a day and nothing learned: the first day's hours are all new, the
    second day's learned once (5 and 9 false incidents before thin history raised the bar)."""
    assert traffic.false_incidents(PARAMS, seed=seed, learn_days=0, days=2, traffic=traffic.BUSY) == 0


# -- the measured figures on synthetic days (the same replay make bench reports) ---------------------


@pytest.mark.parametrize("seed", [17, 18, 19])
def test_an_injected_ten_minute_ramp_opens_its_incident_within_two_minutes(seed: int) -> None:
    state, next_slot = traffic.learned_state(PARAMS, seed=seed, days=7)
    result = traffic.detection(PARAMS, seed=seed, state=state, next_slot=next_slot)
    assert result["ours"] == 1
    assert result["delay_s"] <= 120
    assert result["opened"] == 1  # nothing else opened that day, not even the nationwide key
    assert result["resolved"]


@pytest.mark.parametrize("seed", [17, 18, 19])
def test_a_burst_read_from_post_texts_opens_one_incident_within_two_minutes(seed: int) -> None:
    """The text replay: ~30 % of the burst's posts name no place. They no longer open the topic's
    nationwide incident beside the local one, and they help the local one open in time."""
    state, next_slot = traffic.learned_state(PARAMS, seed=seed, days=7)
    result = traffic.detection(PARAMS, seed=seed, state=state, next_slot=next_slot, from_texts=True)
    assert (result["ours"], result["opened"]) == (1, 1)
    assert result["delay_s"] <= 120


@pytest.mark.parametrize("seed", [17, 18, 19])
def test_a_nationwide_burst_still_opens_its_nationwide_incident(seed: int) -> None:
    state, next_slot = traffic.learned_state(PARAMS, seed=seed, days=7)
    result = traffic.nationwide_detection(PARAMS, seed=seed, state=state, next_slot=next_slot)
    assert result["delay_s"] <= 150
    assert result["others"] == 0


@pytest.mark.parametrize("seed", [17, 18, 19])
def test_a_normal_week_opens_no_incident(seed: int) -> None:
    assert traffic.false_incidents(PARAMS, seed=seed, learn_days=7, days=7) == 0


def test_a_normal_week_from_a_cold_start_opens_no_incident() -> None:
    assert traffic.false_incidents(PARAMS, seed=23, learn_days=0, days=7) == 0


def test_the_detector_is_not_blind_without_the_burst() -> None:
    """Guard against a test that cannot fail: a smaller threshold does open incidents in a normal week."""
    loose = DetectorParams(min_count=2, min_ratio=1.0, p_value=0.05)
    assert traffic.false_incidents(loose, seed=17, learn_days=1, days=2) > 0


# -- the policy section ------------------------------------------------------------------------------


def test_policy_outage_section_defaults_and_checks() -> None:
    policy = parse_policy("")
    params = outage.params_from_policy(policy)
    assert params == DetectorParams(timezone="Europe/Berlin")
    assert outage.words_from_policy(policy) == outage.DEFAULT_OUTAGE_WORDS
    with pytest.raises(PolicyError, match=r"outage.window: must be a multiple of slot"):
        parse_policy('[outage]\nslot = "20s"\nwindow = "50s"\n')
    with pytest.raises(PolicyError, match=r"outage.slot"):
        parse_policy('[outage]\nslot = "7s"\n')
    with pytest.raises(PolicyError, match=r"outage.p_value"):
        parse_policy("[outage]\np_value = 0.9\n")
    custom = parse_policy('[outage]\nwords = ["kaputt"]\n[outage.topics.tv]\nlabel = "TV"\nkeywords = ["tv"]\n')
    assert outage.topics_from_policy(custom) == (Topic("tv", "TV", ("tv",)),)
    assert outage.words_from_policy(custom) == ("kaputt",)


def test_topics_default_to_the_departments_with_keywords() -> None:
    from pathlib import Path
    policy = parse_policy(Path("functions/policy.toml").read_text(encoding="utf-8"))
    names = [t.name for t in outage.topics_from_policy(policy)]
    assert names[:4] == ["rechnung", "festnetz", "mobilfunk", "tv"]
    assert "international" not in names  # no keywords


@settings(max_examples=40, deadline=None)
@given(base=st.lists(st.integers(0, 3), min_size=30, max_size=30),
       extra=st.lists(st.integers(0, 3), min_size=30, max_size=30))
def test_more_posts_never_open_an_incident_later(base: list[int], extra: list[int]) -> None:
    """Monotone: a series with at least as many posts in every slot opens no later (if the smaller one opens)."""
    def first_open(series: list[int]) -> int | None:
        state = DetectorState(last_slot=999)
        counts = {1000 + i: {"tv|*": n} for i, n in enumerate(series) if n}
        opened = [v.slot for v in outage.advance(state, counts, 1000 + len(series), PARAMS) if v.action == "open"]
        return opened[0] if opened else None

    smaller = first_open(base)
    larger = first_open([b + e for b, e in zip(base, extra, strict=True)])
    if smaller is not None:
        assert larger is not None and larger <= smaller
