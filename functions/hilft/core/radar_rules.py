"""X Filtered Stream rules from the policy's ``[radar]``, and the diff that keeps X's rules in sync.

Account Activity and the X Activity API deliver only events *about the brand's accounts*, so on
X the keyword radar listens through Filtered Stream: X matches every public post against the
rules and delivers the matches to the registered webhook (``x_webhook``, same CRC and signature).

One rule, for example::

    (telekom OR "t-online" OR magentatv OR "magenta tv") -#anzeige -#werbung (lang:de OR lang:en)
    -is:retweet -from:1000000001

Keywords that are not one plain word are quoted (``t-online`` unquoted would be ``t`` minus
``online``); ``#tags`` and ``@names`` stay operators. A rule longer than ``radar.max_rule_length``
(at most 2,048: X's filtered-stream webhooks, an Enterprise feature) is split: the keywords spread
over several rules, each with the full exclusions, tagged ``<rule_tag>``, ``<rule_tag>:2``, … Only
rules with hilft's tag are ever deleted by a sync; anybody else's rules are listed and left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hilft.core.policy import Radar

_PLAIN = re.compile(r"[#@]?[\w]+", re.UNICODE)


class RuleError(ValueError):
    """The radar section cannot be expressed as rules within the length limit."""


@dataclass(frozen=True, slots=True)
class StreamRule:
    value: str
    tag: str


def term(keyword: str) -> str:
    """One keyword as a rule term: a plain word, ``#tag`` or ``@name`` as is, anything else quoted."""
    keyword = " ".join(keyword.split())
    if _PLAIN.fullmatch(keyword):
        return keyword.lower() if not keyword.startswith("@") else keyword
    return '"' + keyword.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _suffix(radar: Radar, brand_user_ids: Iterable[str]) -> str:
    parts = [f"-{term(word)}" for word in radar.exclude]
    languages = list(dict.fromkeys(radar.languages))
    if len(languages) == 1:
        parts.append(f"lang:{languages[0]}")
    elif languages:
        parts.append("(" + " OR ".join(f"lang:{code}" for code in languages) + ")")
    parts.append("-is:retweet")
    parts += [f"-from:{user_id}" for user_id in sorted(set(brand_user_ids))]
    return " ".join(parts)


def _group(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def build_rules(radar: Radar, brand_user_ids: Iterable[str] = ()) -> tuple[StreamRule, ...]:
    """The stream rules for ``radar``: () without keywords; several rules when one would be too long."""
    terms = list(dict.fromkeys(term(keyword) for keyword in radar.keywords))
    if not terms:
        return ()
    suffix = _suffix(radar, brand_user_ids)
    limit = radar.max_rule_length
    chunks: list[list[str]] = [[]]
    for item in terms:
        candidate = [*chunks[-1], item]
        if chunks[-1] and len(f"{_group(candidate)} {suffix}") > limit:
            chunks.append([item])
        else:
            chunks[-1] = candidate
    rules = []
    for index, chunk in enumerate(chunks, start=1):
        value = f"{_group(chunk)} {suffix}"
        if len(value) > limit:
            raise RuleError(f"radar: a rule for {chunk[0]!r} is {len(value)} characters, over "
                            f"radar.max_rule_length = {limit} (shorten radar.exclude or the brand accounts)")
        rules.append(StreamRule(value, radar.rule_tag if index == 1 else f"{radar.rule_tag}:{index}"))
    return tuple(rules)


def is_ours(tag: str | None, rule_tag: str) -> bool:
    return bool(tag) and (tag == rule_tag or str(tag).startswith(f"{rule_tag}:"))


@dataclass(frozen=True)
class SyncPlan:
    """What a sync does: ``add`` rules X lacks, ``delete`` (ids) hilft's rules the policy no longer
    has, ``keep`` hilft's rules that stay, ``foreign`` rules of others that are left alone."""

    add: tuple[StreamRule, ...] = ()
    delete: tuple[tuple[str, str, str], ...] = ()  # (id, value, tag)
    keep: tuple[tuple[str, str, str], ...] = ()
    foreign: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def changes(self) -> bool:
        return bool(self.add or self.delete)

    def lines(self) -> list[str]:
        """The diff, one line per rule: ``+ value [tag]``, ``- value [tag]``, ``= value [tag]``."""
        out = [f"+ {rule.value}  [{rule.tag}]" for rule in self.add]
        out += [f"- {value}  [{tag}]  (id {rule_id})" for rule_id, value, tag in self.delete]
        out += [f"= {value}  [{tag}]" for _, value, tag in self.keep]
        out += [f"  {value}  [{tag or 'no tag'}]  (not hilft's: left alone)" for _, value, tag in self.foreign]
        return out


def plan_sync(wanted: Sequence[StreamRule], existing: Iterable[Mapping[str, Any]], rule_tag: str) -> SyncPlan:
    """Compare the wanted rules with X's (``GET /2/tweets/search/stream/rules`` ``data``).

    A rule is the same when its value is the same (X refuses a second rule with an equal value);
    a changed tag alone is not worth a delete and add.
    """
    ours: list[tuple[str, str, str]] = []
    foreign: list[tuple[str, str, str]] = []
    for rule in existing:
        entry = (str(rule.get("id")), str(rule.get("value")), str(rule.get("tag") or ""))
        (ours if is_ours(entry[2], rule_tag) else foreign).append(entry)
    wanted_values = {rule.value for rule in wanted}
    have_values = {value for _, value, _ in ours}
    return SyncPlan(
        add=tuple(rule for rule in wanted if rule.value not in have_values),
        delete=tuple(entry for entry in ours if entry[1] not in wanted_values),
        keep=tuple(entry for entry in ours if entry[1] in wanted_values),
        foreign=tuple(foreign),
    )
