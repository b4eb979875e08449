"""Which department a post belongs to, and whether the radar keeps a post that names no one.

Keywords match at the start of a word, ignoring case and the usual ways of writing umlauts, so
"router" finds "Routers", "störung" finds "STOERUNG" and "festnetz" finds "Festnetzanschluss"
(German loves compounds), while "netz" does not fire inside "Festnetz". Regex patterns are for
anything sharper. Only the configured keyword or pattern is reported back, never post text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


class DepartmentRule(Protocol):
    """What routing needs of a department (the policy's Department model provides it)."""

    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def patterns(self) -> Sequence[str]: ...
    @property
    def languages(self) -> Sequence[str]: ...
    @property
    def private(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    department: str
    requires_private: bool  # the department always wants private contact
    matched: str | None  # the keyword, pattern or "language:xx" that decided; None = default


def fold(text: str) -> str:
    """Comparable form of text: composed, case-folded, umlauts spelled out (ß is folded to ss)."""
    return unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)


def find_keyword(text: str, keywords: Sequence[str]) -> str | None:
    """The first keyword (in the order given) that starts a word of `text`, as configured."""
    if not keywords:
        return None
    folded = fold(text)
    for keyword, pattern in _keyword_patterns(tuple(keywords)):
        if pattern.search(folded):
            return keyword
    return None


def radar_match(text: str, keywords: Sequence[str], exclude: Sequence[str] = ()) -> bool:
    """Keep a post that does not @-mention the brand only if it names a keyword and no exclusion."""
    return find_keyword(text, keywords) is not None and find_keyword(text, exclude) is None


def route(
    text: str,
    language: str | None,
    departments: Mapping[str, DepartmentRule],
    default_department: str,
) -> RoutingDecision:
    """The first department in file order whose keywords or patterns match, else the default.

    A department limited to languages only considers posts in one of them; one with languages
    but neither keywords nor patterns takes every post in those languages.
    """
    primary_language = (language or "").replace("_", "-").split("-")[0].lower() or None
    for name, department in departments.items():
        if department.languages and primary_language not in {lang.lower() for lang in department.languages}:
            continue
        matched = find_keyword(text, department.keywords) or _find_pattern(text, department.patterns)
        if matched is None and department.languages and not (department.keywords or department.patterns):
            matched = f"language:{primary_language}"
        if matched is not None:
            return RoutingDecision(name, department.private, matched)
    fallback = departments.get(default_department)
    return RoutingDecision(default_department, bool(fallback and fallback.private), None)


def _find_pattern(text: str, patterns: Sequence[str]) -> str | None:
    normalized = unicodedata.normalize("NFC", text)
    for pattern in patterns:
        if _compiled(pattern).search(normalized):
            return pattern
    return None


@lru_cache(maxsize=256)
def _keyword_patterns(keywords: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # A keyword that itself starts with a non-word character ("#anzeige", "@brand") needs no
    # boundary before it: the character is the boundary.
    compiled = []
    for keyword in keywords:
        folded = fold(keyword.strip())
        if folded:
            boundary = r"(?<!\w)" if folded[0].isalnum() else ""
            compiled.append((keyword, re.compile(boundary + re.escape(folded))))
    return tuple(compiled)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
