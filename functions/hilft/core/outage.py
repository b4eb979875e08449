"""Outage detection, pure: what a post is about and where, and when a topic+place spikes.

Every customer post is reduced to a **signal**: a *topic* (an outage word such as "störung",
"kein netz", "internet weg" plus the department its keywords name, e.g. ``festnetz``) and a
*place* (its postcode region, ``core.places``). Posts without an outage word are no signal. A
signal counts on its key ``topic|place`` and on the nationwide key ``topic|*``.

The spike test (method ``poisson`` in ``[outage]`` of the policy)
-----------------------------------------------------------------
Time is cut into slots (``slot``, default 20 s). At the end of every slot and for every key:

* ``C`` = posts of the key in the last ``window`` (default 5 min);
* ``λ`` = what the key's own history expects in that window: per key an exponentially weighted
  mean of posts per minute **for the same hour of the day** (24 buckets in the policy's time zone,
  updated at the end of each hour with half-life ``baseline_half_life``, default 7 days), never
  below ``baseline_floor`` (posts per minute a key without history is assumed to have). Every
  hour is learned, an outage hour too: a one-off burst weighs about a tenth in the next days'
  expectation at that hour, and a volume that comes back at the same hour every day (a TV
  evening) stops being a spike after a day or two. Thin history raises ``λ`` (``KeyState.rate``):
  an hour learned on ``n`` days counts ``1 + 2/n²`` times, and an hour of the day the detector has
  not learned yet (its first day) takes the key's busiest learned hour, and in its very first hour
  a key is also held to its own rate earlier in that hour, so a cold start does not page on
  ordinary traffic it has not seen;
* spike ⇔ ``C ≥ min_count`` and ``C ≥ min_ratio · λ`` and ``P(X ≥ C | Poisson(λ)) ≤ p_value``.

One outage, one incident. About 40 % of the posts about a local outage name no place ("Internet
weg seit Mittag"); they count only on the topic's nationwide key, and the detector derives a
*placeless* counter per topic from that (``topic|?`` = nationwide less regional posts; it learns a
baseline, never opens an incident). While regions of a topic are elevated or in an incident, its
placeless posts up to ``placeless_ratio`` (default 1) per post of those regions are taken as
theirs: the nationwide key is tested on what neither explains — its count less those regions'
posts less the placeless posts attributed to them. A nationwide burst still opens: its placeless
posts are far more than its scattered regions' posts, and a local and a nationwide burst at once
open both. The topic's *single* elevated region is also tested with those placeless posts added
(count + attributed against its expectation + the placeless key's), so a local outage whose posts
often name no place opens sooner; capped at ``placeless_ratio`` times its own posts, a region with
one or two posts is never carried by a placeless burst.

An incident resolves when its key has not been *elevated* (``C ≥ λ + 3√λ`` and at least 2) for
``resolve_after``.

Anchors compared
----------------
* Twitter's seasonal anomaly detection (``AnomalyDetection``, S-H-ESD, 2015): seasonal
  decomposition plus a robust test on the residual. We keep its idea — compare with the same
  time of day, not with the last hour — but use a per-hour EWMA: our keys are sparse counts
  (a Leitregion sees a few posts a day), where a Poisson tail is the honest test and ESD on
  residuals of mostly-zero series is not.
* Downdetector: "an incident is only reported when the number of reports is significantly
  higher than the typical volume for that time of day" — the same baseline, per place.
* Commercial listening suites' "spike alerts" (Brandwatch Signals, Talkwalker, Sprinklr):
  volume against a learned expected range, with a minimum volume so one angry customer is no
  spike — our ``min_count`` and ``min_ratio``.
* EWMA control charts (Roberts 1959) — the baseline's smoothing.

Everything here is a function of its inputs; the state is plain JSON-able data the service keeps
in one Firestore document — bounded: at most ``max_keys`` keys (the coldest are forgotten first,
never one with an open incident), no post ids.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hilft.core.places import Place, find_place
from hilft.core.routing import find_keyword, fold

if TYPE_CHECKING:
    from hilft.core.policy import Policy

NATIONWIDE = "*"
PLACELESS = "?"  # internal counter key ``topic|?``: the topic's posts that name no place (never an incident)
GENERAL_TOPIC = "allgemein"
THIN_HISTORY = 2.0  # how much a bucket learned on one day is raised (see ``KeyState.rate``)

# Outage words match whole words (with German/English inflection: "Ausfalls", "outages"), so
# "down" is not "Download" or "Downgrade" and "offline" not "Offline-Karten"; a trailing "*" also
# takes compounds ("störung*": "Störungen", "Störungsmeldung"; "kein netz*": "kein Netzempfang").
DEFAULT_OUTAGE_WORDS: tuple[str, ...] = (
    "störung*", "stoerung*", "ausfall", "ausgefallen", "totalausfall", "netzausfall", "kein netz*",
    "keinen empfang", "kein empfang", "kein internet*", "kein wlan*", "kein signal", "internet weg",
    "netz weg", "alles tot", "geht nicht", "geht nix", "funktioniert nicht", "keine verbindung",
    "down", "offline", "outage", "no signal", "not working",
)
_INFLECTION = r"(?:e|en|n|s|es|er|ern)?"


@lru_cache(maxsize=64)
def _word_patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    patterns = []
    for word in words:
        folded = fold(word.strip())
        if not folded.strip("*"):
            continue
        body = re.escape(folded.rstrip("*")).replace(r"\ ", r"\s+")
        tail = "" if folded.endswith("*") else rf"{_INFLECTION}(?![\w-])"
        patterns.append(re.compile(rf"(?<!\w){body}{tail}"))
    return tuple(patterns)


def names_outage(text: str, words: Sequence[str]) -> bool:
    """Does the text name one of the outage ``words`` (whole words; ``word*`` also compounds)?"""
    folded = fold(text)
    return any(pattern.search(folded) for pattern in _word_patterns(tuple(words)))


class IncidentStatus(StrEnum):
    """An incident document's ``status``: open → acknowledged (staff or PagerDuty) → resolved (quiet)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


ACTIVE_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)  # listed on the board, still folding


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DetectorParams:
    """The ``[outage]`` section, as numbers. Defaults are the policy file's defaults."""

    slot_seconds: int = 20
    window_slots: int = 15  # 5 min
    min_count: int = 8
    min_ratio: float = 3.0
    p_value: float = 1e-6
    baseline_floor: float = 0.02  # posts per minute
    baseline_half_life_days: float = 7.0
    resolve_after_slots: int = 90  # 30 min
    timezone: str = "Europe/Berlin"
    nationwide: bool = True
    max_keys: int = 600  # the state stays well under Firestore's 1 MiB (~0.8 KB per key at most)
    placeless_ratio: float = 1.0  # placeless posts a local outage may bring per post naming its place

    @property
    def hour_weight(self) -> float:
        """EWMA weight of one day's observation of an hour bucket."""
        return 1.0 - 0.5 ** (1.0 / self.baseline_half_life_days)


@dataclass(frozen=True, slots=True)
class Signal:
    """What the detector counts for one post. ``keys`` are the counter keys (local and nationwide)."""

    topic: str
    topic_label: str
    place: str  # "de-53" or "*" when the text names none
    place_label: str  # "53113 Bonn", "Bonn", "" when none

    @property
    def key(self) -> str:
        return f"{self.topic}|{self.place}"

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,) if self.place == NATIONWIDE else (self.key, f"{self.topic}|{NATIONWIDE}")


def signal_of(text: str, topics: Sequence[Topic], words: Sequence[str]) -> Signal | None:
    """The post's topic and place, or None when it names no outage word.

    The topic is the first in ``topics`` whose keywords the text names (same matching as routing:
    start of a word, case and umlaut spelling ignored), else ``allgemein``. The text is read, never
    kept: only the topic, the region code and the label of the place leave this function.
    """
    if not text or not names_outage(text, words):
        return None
    topic_name, topic_label = GENERAL_TOPIC, "Störung"
    for topic in topics:
        if find_keyword(text, topic.keywords) is not None:
            topic_name, topic_label = topic.name, f"Störung {topic.label}"
            break
    place: Place | None = find_place(text)
    if place is None:
        return Signal(topic_name, topic_label, NATIONWIDE, "")
    return Signal(topic_name, topic_label, place.region.code, _place_label(place))


def _place_label(place: Place) -> str:
    if place.postcode:
        return place.label if " " in place.label else f"{place.postcode} {place.region.name}"
    return place.region.name if place.label == place.region.name else place.label


def slot_of(moment: datetime, slot_seconds: int) -> int:
    return int(moment.timestamp()) // slot_seconds


def slot_start(slot: int, slot_seconds: int) -> datetime:
    return datetime.fromtimestamp(slot * slot_seconds, UTC)


def incident_id(key: str, opened_slot: int) -> str:
    """Incident document id: hashed (no hot-spotting, nothing personal), stable per key and start."""
    return hashlib.sha256(f"incident\x1f{key}\x1f{opened_slot}".encode()).hexdigest()[:40]


def key_id(key: str) -> str:
    """Document-id form of a key (``incidents_open/{key_id}`` points at a key's open incident)."""
    return hashlib.sha256(f"outage-key\x1f{key}".encode()).hexdigest()[:40]


# -- the Poisson tail --------------------------------------------------------------------------


def poisson_tail(count: int, expected: float) -> float:
    """P(X ≥ count) for X ~ Poisson(expected), accurate in the far tail (summed from ``count`` up)."""
    if count <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    if count <= expected:
        # Near the mean the tail is large; 1 - CDF is fine there.
        term = math.exp(-expected)
        cdf = term
        for k in range(1, count):
            term *= expected / k
            cdf += term
        return max(0.0, min(1.0, 1.0 - cdf))
    log_term = -expected + count * math.log(expected) - math.lgamma(count + 1)
    term = math.exp(log_term)
    total = term
    k = count
    while term > total * 1e-15 and k < count + 10_000:
        k += 1
        term *= expected / k
        total += term
    return min(1.0, total)


def is_spike(count: int, expected: float, params: DetectorParams) -> bool:
    return (count >= params.min_count and count >= params.min_ratio * expected
            and poisson_tail(count, expected) <= params.p_value)


def is_elevated(count: int, expected: float) -> bool:
    return count >= max(2.0, expected + 3.0 * math.sqrt(expected))


# -- state ---------------------------------------------------------------------------------------


@dataclass
class KeyState:
    """One key's memory: 24 hour-of-day EWMA sums and weights, this hour's count, the window."""

    sums: list[float] = field(default_factory=lambda: [0.0] * 24)
    weights: list[float] = field(default_factory=lambda: [0.0] * 24)
    hour_count: int = 0
    window: dict[int, int] = field(default_factory=dict)  # slot -> count, last window_slots slots
    incident: str | None = None
    opened_slot: int | None = None
    last_elevated_slot: int | None = None

    def rate(self, hour: int, floor: float, hour_weight: float | None = None, young: bool = False) -> float:
        """Posts per minute expected at ``hour``. Thin history raises the bar (a young detector, or
        one that has not seen this hour yet, must not page on ordinary traffic it has not learned):

        * an hour learned on few days (the EWMA weight of ``n`` days) is raised by ``THIN_HISTORY/n²``
          (3× after one day, 1.5× after two, 4 % more after a week): one day's hour can be a
          quarter of the next day's at the same hour;
        * while the detector is ``young`` (it has not learned this hour of the day yet, e.g. its
          first day), an hour not learned yet takes the key's busiest learned hour, raised as if
          learned on one day (the first morning after a night start rises past the night's rate).
          Once the detector has learned the hour, a key without it had no posts then (a sparse
          place, new since): ``floor``.

        A key with no learned hour at all (a new place) stays at ``floor``; in the detector's very
        first hour ``_step`` also compares with the key's own posts earlier in that hour (``_so_far``).
        ``hour_weight`` (``DetectorParams.hour_weight``) enables both rules."""
        weight = self.weights[hour]
        if hour_weight is None or not 0 < hour_weight < 1:
            return max(floor, self.sums[hour] / weight if weight > 0 else 0.0)
        if weight <= 0 and young:
            busiest = max((s / w for s, w in zip(self.sums, self.weights, strict=True) if w > 0), default=0.0)
            return max(floor, busiest * (1.0 + THIN_HISTORY))
        if weight <= 0:
            return floor
        days = max(1.0, math.log(1.0 - weight) / math.log(1.0 - hour_weight)) if weight < 1 else math.inf
        return max(floor, self.sums[hour] / weight * (1.0 + THIN_HISTORY / days ** 2))

    def as_dict(self) -> dict[str, Any]:
        return {"s": [round(v, 6) for v in self.sums], "w": [round(v, 6) for v in self.weights],
                "h": self.hour_count, "win": {str(k): v for k, v in self.window.items()},
                "inc": self.incident, "os": self.opened_slot, "le": self.last_elevated_slot}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyState:
        return cls(sums=[float(v) for v in data.get("s") or [0.0] * 24],
                   weights=[float(v) for v in data.get("w") or [0.0] * 24],
                   hour_count=int(data.get("h") or 0),
                   window={int(k): int(v) for k, v in (data.get("win") or {}).items()},
                   incident=data.get("inc"), opened_slot=data.get("os"), last_elevated_slot=data.get("le"))


@dataclass
class DetectorState:
    last_slot: int | None = None
    keys: dict[str, KeyState] = field(default_factory=dict)
    learned_hours: set[int] = field(default_factory=set)  # hours of the day the detector has learned

    def as_dict(self) -> dict[str, Any]:
        return {"last_slot": self.last_slot, "keys": {k: v.as_dict() for k, v in self.keys.items()},
                "learned_hours": sorted(self.learned_hours)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DetectorState:
        if not data:
            return cls()
        keys = {k: KeyState.from_dict(v) for k, v in (data.get("keys") or {}).items()}
        # a state saved before ``learned_hours`` existed has been learning: take it as grown up
        learned = data.get("learned_hours", range(24) if keys else ())
        return cls(last_slot=data.get("last_slot"), keys=keys, learned_hours={int(h) for h in learned})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What changed at the end of ``slot``: an incident opened, grew (``new_posts``) or resolved."""

    action: str  # "open" | "grow" | "resolve"
    key: str
    incident: str
    slot: int
    count: int  # posts in the window (open) or new posts in this slot (grow)
    expected: float


@lru_cache(maxsize=4096)
def _hour_of_block(block: int, block_seconds: int, timezone: str) -> int:
    """Local hour of the hour-long block ``block`` (zones move by whole hours, so one block, one hour)."""
    return datetime.fromtimestamp(block * block_seconds, UTC).astimezone(ZoneInfo(timezone)).hour


def _hour(slot: int, params: DetectorParams) -> int:
    return _hour_of_block(slot * params.slot_seconds // 3600, 3600, params.timezone)


def advance(state: DetectorState, counts: Mapping[int, Mapping[str, int]], through_slot: int,
            params: DetectorParams) -> list[Verdict]:
    """Run the detector over every slot after ``state.last_slot`` up to ``through_slot``.

    ``counts`` maps slot → key → posts counted in that slot (only slots with posts). The state is
    updated in place; the verdicts are returned in slot order. A long gap (more than a day) is
    skipped: its hours are not learned, open incidents resolve.
    """
    verdicts: list[Verdict] = []
    start = through_slot if state.last_slot is None else state.last_slot + 1
    slots_per_day = 86400 // params.slot_seconds
    if through_slot - start > slots_per_day:
        start = through_slot - slots_per_day
        for key_state in state.keys.values():
            key_state.window.clear()
            key_state.hour_count = 0
    active = {key for key, key_state in state.keys.items() if key_state.window or key_state.incident}
    seen_before = state.last_slot is not None and state.last_slot == start - 1  # slot start-1 was counted
    for slot in range(start, through_slot + 1):
        hour = _hour(slot, params)
        if (slot > start or seen_before) and hour != _hour(slot - 1, params):
            _learn_hour(state, _hour(slot - 1, params), params)
        verdicts.extend(_step(state, active, slot, counts.get(slot) or {}, hour, params))
        state.last_slot = slot
    _prune(state, through_slot, params)
    return verdicts


def _expected(key_state: KeyState, split: tuple[tuple[int, int], ...], params: DetectorParams,
              young: bool = False) -> float:
    """Posts the key's history expects in one window; ``split`` = (hour, slots of the window in it)."""
    minutes = params.slot_seconds / 60
    return sum(key_state.rate(hour, params.baseline_floor, params.hour_weight, young) * slots
               for hour, slots in split) * minutes


def _so_far(key_state: KeyState, slot: int, params: DetectorParams) -> float:
    """In the detector's first hour (nothing learned yet): what the key's posts of this hour before
    the window expect in one window, at their rate — 0 when the window reaches back to the hour's
    start (then a burst in a fresh deployment's first minutes still opens at the floor)."""
    per_hour = 3600 // params.slot_seconds
    before_slots = slot % per_hour + 1 - params.window_slots
    if before_slots <= 0:
        return 0.0
    in_window = sum(count for s, count in key_state.window.items() if s // per_hour == slot // per_hour)
    before = max(0, key_state.hour_count - in_window)
    return before / before_slots * params.window_slots


def _window_split(slot: int, hour: int, params: DetectorParams) -> tuple[tuple[int, int], ...]:
    """How the window ending at ``slot`` divides between this local hour and the one before."""
    per_hour = 3600 // params.slot_seconds
    in_this_hour = min(params.window_slots, slot % per_hour + 1)
    rest = params.window_slots - in_this_hour
    if rest <= 0:
        return ((hour, in_this_hour),)
    return ((hour, in_this_hour), (_hour(slot - in_this_hour, params), rest))


def _step(state: DetectorState, active: set[str], slot: int, slot_counts: Mapping[str, int], hour: int,
          params: DetectorParams) -> list[Verdict]:
    """One slot. ``active`` holds the keys with posts in the window or an open incident (the rest
    cannot spike, be elevated or resolve), so a slot costs what is going on, not what was ever seen."""
    for key, count in _with_placeless(slot_counts).items():
        if count <= 0:
            continue
        key_state = state.keys.setdefault(key, KeyState())
        key_state.window[slot] = key_state.window.get(slot, 0) + count
        key_state.hour_count += count
        active.add(key)
    if len(state.keys) > params.max_keys:
        active.difference_update(_evict_coldest(state, params.max_keys))
    oldest = slot - params.window_slots + 1
    window_counts: dict[str, int] = {}
    for key in list(active):
        key_state = state.keys[key]
        for old in [s for s in key_state.window if s < oldest]:
            del key_state.window[old]
        if not key_state.window and key_state.incident is None:
            active.discard(key)
            continue
        window_counts[key] = sum(key_state.window.values())

    verdicts: list[Verdict] = []
    split = _window_split(slot, hour, params)
    young = any(h not in state.learned_hours for h, _ in split)
    first_hour = not state.learned_hours  # nothing learned at all: only this hour's own posts tell

    def expected_of(key_state: KeyState) -> float:
        expected = _expected(key_state, split, params, young)
        if not first_hour or key_state.incident is not None:  # an incident's own posts are no baseline
            return expected
        return max(expected, _so_far(key_state, slot, params))
    spiking: dict[str, tuple[int, float]] = {}
    local: dict[str, list[str]] = {}  # topic -> its regions that are elevated or in an incident
    explained: dict[str, int] = {}  # topic -> posts of those regions
    candidates: dict[str, tuple[int, float]] = {}  # elevated regions that did not spike on their own
    for key, count in window_counts.items():
        key_state = state.keys[key]
        expected = expected_of(key_state)
        elevated = is_elevated(count, expected)
        if elevated:
            key_state.last_elevated_slot = slot
        topic, place = key.split("|", 1)
        if place in (NATIONWIDE, PLACELESS):
            continue
        if elevated or key_state.incident is not None:
            local.setdefault(topic, []).append(key)
            explained[topic] = explained.get(topic, 0) + count
        if key_state.incident is not None or is_spike(count, expected, params):
            spiking[key] = (count, expected)
        elif elevated:
            candidates[key] = (count, expected)
    attributed: dict[str, int] = {}  # topic -> its placeless posts taken as the local outages' own
    for topic, keys in local.items():
        placeless_key = f"{topic}|{PLACELESS}"
        placeless = window_counts.get(placeless_key, 0)
        attributed[topic] = min(placeless, math.floor(params.placeless_ratio * explained[topic]))
        if len(keys) != 1 or keys[0] not in candidates or not placeless:
            continue
        # The topic's single elevated region, with the placeless posts it plausibly brought, tested
        # against both keys' expectations together (the placeless count's own noise is priced in).
        count, expected = candidates[keys[0]]
        supported = count + attributed[topic]
        together = expected + expected_of(state.keys[placeless_key])
        if is_spike(supported, together, params):
            spiking[keys[0]] = (count, expected)
    if params.nationwide:
        for key, count in window_counts.items():
            topic, place = key.split("|", 1)
            if place != NATIONWIDE:
                continue
            rest = count - explained.get(topic, 0) - attributed.get(topic, 0)
            key_state = state.keys[key]
            expected = expected_of(key_state)
            if key_state.incident is not None or is_spike(rest, expected, params):
                spiking[key] = (rest, expected)

    for key, (count, expected) in spiking.items():
        key_state = state.keys[key]
        if key_state.incident is None:
            key_state.incident = incident_id(key, slot)
            key_state.opened_slot = slot
            key_state.last_elevated_slot = slot
            verdicts.append(Verdict("open", key, key_state.incident, slot, count, expected))
        else:
            new = slot_counts.get(key, 0)
            if new:
                verdicts.append(Verdict("grow", key, key_state.incident, slot, new, expected))
    for key in window_counts:
        key_state = state.keys[key]
        if key_state.incident is None or key in spiking and key_state.last_elevated_slot == slot:
            continue
        quiet_since = key_state.last_elevated_slot if key_state.last_elevated_slot is not None else slot
        if slot - quiet_since >= params.resolve_after_slots:
            verdicts.append(Verdict("resolve", key, key_state.incident, slot, 0, 0.0))
            key_state.incident = None
            key_state.opened_slot = None
    return verdicts


def _with_placeless(slot_counts: Mapping[str, int]) -> Mapping[str, int]:
    """The slot's counts plus, per topic, its posts that name no place (``topic|?``): the nationwide
    count less the topic's regional ones — derived here, so callers count only local and nationwide."""
    placeless: dict[str, int] = {}
    for key, count in slot_counts.items():
        topic, place = key.split("|", 1)
        if place == NATIONWIDE:
            placeless[topic] = placeless.get(topic, 0) + count
        elif place != PLACELESS:
            placeless[topic] = placeless.get(topic, 0) - count
    extra = {f"{topic}|{PLACELESS}": n for topic, n in placeless.items() if n > 0}
    return {**slot_counts, **extra} if extra else slot_counts


def _learn_hour(state: DetectorState, hour: int, params: DetectorParams) -> None:
    """End of a local hour: fold its posts-per-minute into each key's bucket for that hour."""
    weight = params.hour_weight
    for key_state in state.keys.values():
        observed = key_state.hour_count / 60.0
        key_state.sums[hour] = (1 - weight) * key_state.sums[hour] + weight * observed
        key_state.weights[hour] = (1 - weight) * key_state.weights[hour] + weight
        key_state.hour_count = 0
    if state.keys:  # an hour with nothing counted (before the first post) teaches nothing
        state.learned_hours.add(hour)


def _evict_coldest(state: DetectorState, max_keys: int) -> list[str]:
    """Bound the state (one Firestore document): past ``max_keys`` keys, forget the coldest — the
    fewest posts now, then the lowest learned rate — never a key with an open incident. Only a
    broad storm over many topics and places gets here; a forgotten region's posts still count on
    its topic's nationwide key (they are no longer explained by an elevated region)."""
    candidates = [key for key, key_state in state.keys.items() if key_state.incident is None]
    candidates.sort(key=lambda key: (sum(state.keys[key].window.values()) + state.keys[key].hour_count,
                                     max(state.keys[key].sums), key))
    evicted = candidates[:max(0, len(state.keys) - max_keys)]
    for key in evicted:
        del state.keys[key]
    return evicted


def _prune(state: DetectorState, slot: int, params: DetectorParams) -> None:
    """Forget keys whose history has faded below a tenth of the floor and that hold nothing."""
    for key in [k for k, s in state.keys.items()
                if s.incident is None and not s.window and s.hour_count == 0
                and max(s.sums) < params.baseline_floor * 0.1 and sum(s.weights) > 0]:
        del state.keys[key]


def counts_by_slot(signals: Iterable[tuple[int, Signal]]) -> dict[int, dict[str, int]]:
    """Count (slot, signal) pairs into slot → key → count (local and nationwide keys)."""
    counts: dict[int, dict[str, int]] = {}
    for slot, signal in signals:
        per_slot = counts.setdefault(slot, {})
        for key in signal.keys:
            per_slot[key] = per_slot.get(key, 0) + 1
    return counts


def describe(topic_label: str, place_label: str, count: int, since: datetime, now: datetime,
             lang: str = "en") -> str:
    """One line for alerts and the board: "Störung Festnetz, 53113 Bonn — 37 posts in 12 min"
    (``lang="de"``: "— 37 Beiträge in 12 Min."). The labels are the policy's, in its language."""
    minutes = max(1, math.ceil((now - since) / timedelta(minutes=1)))
    where = place_label or "bundesweit"  # part of the incident's name, like the policy's labels
    if lang == "de":
        noun = "Beitrag" if count == 1 else "Beiträge"
        return f"{topic_label}, {where} — {count} {noun} in {minutes} Min."
    noun = "post" if count == 1 else "posts"
    return f"{topic_label}, {where} — {count} {noun} in {minutes} min"


# -- from the policy ----------------------------------------------------------------------------


def topics_from_policy(policy: Policy) -> tuple[Topic, ...]:
    """``[outage.topics]`` if set, else one topic per department that has keywords (file order)."""
    configured = policy.outage.topics
    if configured:
        return tuple(Topic(name, t.label, tuple(t.keywords)) for name, t in configured.items())
    return tuple(Topic(name, d.label or name, tuple(d.keywords))
                 for name, d in policy.departments.items() if d.keywords)


def words_from_policy(policy: Policy) -> tuple[str, ...]:
    return tuple(policy.outage.words) or DEFAULT_OUTAGE_WORDS


def params_from_policy(policy: Policy) -> DetectorParams:
    outage = policy.outage
    slot = int(outage.slot.total_seconds())
    return DetectorParams(
        slot_seconds=slot,
        window_slots=int(outage.window.total_seconds()) // slot,
        min_count=outage.min_count,
        min_ratio=outage.min_ratio,
        p_value=outage.p_value,
        baseline_floor=outage.baseline_floor,
        baseline_half_life_days=outage.baseline_half_life.total_seconds() / 86400,
        resolve_after_slots=int(outage.resolve_after.total_seconds()) // slot,
        timezone=policy.promise.timezone,
        nationwide=outage.nationwide,
        placeless_ratio=outage.placeless_ratio,
    )
