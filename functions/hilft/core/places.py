"""Where a post is: German postcodes and city names in its text, mapped to a postcode region.

A place is what makes an outage actionable ("kein Netz in 53113 Bonn"), so the detector keys its
counts by it. Every place is reduced to its **Leitregion**, the first two digits of the postcode
(``de-53`` = Bonn): fine enough for a network region, coarse enough that "53113", "53179" and
"Bonn" land on one key, and never personal (a five-digit postcode next to a street is part of an
address; the two-digit region is not).

The tables are shipped with the functions (``hilft/data/de_postcode_regions.csv`` and
``de_cities.csv``, sources named in their headers) and read once from the package: nothing is
fetched at run time. (pgeocode, the usual Python postcode package, downloads GeoNames files on
first use, which Cloud Functions must not do; no package on PyPI ships German postcode regions
offline.)
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from hilft.core.routing import fold

# Five digits standing alone: not part of a longer number, a decimal, or a phone number written
# in groups ("0228 12345 678").
_POSTCODE = re.compile(r"(?<![\d.,/+-])(?<!\d\s)(\d{5})(?![\d.,/-]\d)(?!\d)(?!\s\d)")
# Words before an ambiguous city name that make it a place ("in Essen", "Raum Halle").
_CONTEXT_WORDS = "in|aus|bei|um|raum|region|naehe|grossraum|stadtgebiet|ganz"
_CONTEXT = rf"(?:{_CONTEXT_WORDS})"
# Five digits are a postcode only in a postcode's context: a city name of the table right after
# ("53113 Bonn"), or one of these words right before ("in 53113", "PLZ: 53113", "bei 53113").
# "Auftrag 12345", "Fehlercode 10012" and "seit 20000 Sekunden" name no place.
_POSTCODE_BEFORE = re.compile(
    rf"(?<!\w)(?:{_CONTEXT_WORDS}|nahe|im|plz|postleitzahl|gebiet|ort|wohnort)\s*[:.]?\s*$")


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # "de-53"
    name: str  # "Bonn"
    state: str  # "NW"


@dataclass(frozen=True, slots=True)
class Place:
    """A region found in a text, and how it was found (``label`` is what the text said)."""

    region: Region
    label: str  # "53113 Bonn", "Bonn", "53113"
    postcode: str | None = None


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("hilft.data").joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    """Two-digit postcode prefix → region."""
    return {row["prefix"]: Region(f"de-{row['prefix']}", row["region"], row["state"])
            for row in _read("de_postcode_regions.csv")}


@lru_cache(maxsize=1)
def _city_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(display name, prefix, pattern on folded text), longest names first ("Frankfurt (Oder)" before "Frankfurt")."""
    rows = sorted(_read("de_cities.csv"), key=lambda row: -len(row["name"]))
    compiled = []
    for row in rows:
        name = fold(row["name"])
        body = re.escape(name).replace(r"\ ", r"\s+")
        if row["needs_context"] == "1":
            pattern = re.compile(rf"(?:(?<!\w){_CONTEXT}\s+|\d{{5}}\s+){body}(?!\w)")
        else:
            pattern = re.compile(rf"(?<!\w){body}(?!\w)")
        compiled.append((row["name"], row["prefix"], pattern))
    return tuple(compiled)


def region_of_postcode(postcode: str) -> Region | None:
    if len(postcode) != 5 or not postcode.isdigit():
        return None
    return regions().get(postcode[:2])


def find_place(text: str) -> Place | None:
    """The first place the text names: a postcode (with the city after it, if any), else a city.

    ``"Seit heute früh kein Netz in 53113 Bonn"`` → de-53, label "53113 Bonn";
    ``"Köln: Internet weg"`` → de-50, label "Köln"; ``"Essen ist fertig"`` → None.
    """
    for match in _POSTCODE.finditer(text):
        region = region_of_postcode(match.group(1))
        if region is None:
            continue
        after = text[match.end():match.end() + 40]
        # With the postcode in front, an ambiguous name ("45127 Essen") counts as a place.
        city = _city_after(match.group(1), after) if after[:1].isspace() else None
        if city is None and not _POSTCODE_BEFORE.search(fold(text[max(0, match.start() - 30):match.start()])):
            continue  # five digits without a postcode's context: an order number, an error code
        label = f"{match.group(1)} {city[0]}" if city and city[1] == match.group(1)[:2] else match.group(1)
        return Place(region, label, match.group(1))
    city = _city_in(text)
    if city is None:
        return None
    region = regions().get(city[1])
    return Place(region, city[0]) if region else None


def _city_after(postcode: str, after: str) -> tuple[str, str] | None:
    """The table's city named right after a postcode ("53113 Bonn"), if any."""
    folded = fold(f"{postcode} {after.lstrip()}")
    for name, prefix, pattern in _city_patterns():  # longest first: "Frankfurt (Oder)" before "Frankfurt"
        found = pattern.match(folded) or pattern.match(folded, len(postcode) + 1)
        if found:
            return name, prefix
    return None


def _city_in(text: str) -> tuple[str, str] | None:
    folded = fold(text)
    best: tuple[int, str, str] | None = None
    for name, prefix, pattern in _city_patterns():
        found = pattern.search(folded)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), name, prefix)
    return (best[1], best[2]) if best else None
