"""Personal data in public posts: find it, redact it.

A brand must never discuss phone numbers, bank details, contract numbers or addresses in public; a post
that carries them is handed off to a private message and shown to staff only in redacted form. Precision
matters as much as recall: every false alarm turns a quick public answer into a DM hand-off, so prices,
bandwidths, outage dates, times, ticket numbers and bare street names must not count.

Detectors (all pure, no I/O):

- phone: ``phonenumbers.PhoneNumberMatcher`` at ``Leniency.VALID`` in ``PiiConfig.default_region``.
  Service numbers (toll-free 0800, shared-cost 0180, premium 0900) are hotlines, not personal data.
- iban: a candidate with or without spaces, kept only if the checksum is right (``stdnum.iban``).
- email: a plain address (obfuscated forms like "name [at] host" are not recognised).
- customer_number: ``PiiConfig.customer_number_patterns``; the span is the regex group ``number`` when the
  pattern has one (the default patterns do: the label "Kundennummer" stays readable), else the whole match.
- address: a German street with house number and/or a postcode with city; adjacent parts are one span.
  Prepositional streets ("Am Markt 3a") count only next to a postcode or after an address cue ("wohne"),
  because "Im Jahr 2024" has the same shape.
- birthdate: a date with a year next to a birth cue ("geb.", "geboren am", "DOB", "… geboren"); the span is
  the date.

A span inside a match of ``PiiConfig.ignore_patterns`` (e.g. the brand's own ticket numbers) is never PII.
Overlaps resolve to the longest span, ties to the most specific kind. Finally every other occurrence of a
detected text is detected too (even inside an ignored match), so a number written twice is redacted twice.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType
from stdnum import iban as stdnum_iban

from hilft.core.errors import PolicyError

# Customer, contract and order numbers: a label, an optional "ist"/"is"/":" and a number of at least five
# digits (compact, or written in groups of 2-4 digits), optionally with a short letter prefix ("AB-12345").
_NUMBER_LABEL = (
    r"(?:kunden|vertrags|vertragskonto|auftrags|bestell|rechnungs|kundenkonto)[-\s]?(?:nummer|nr\.?|no\.?)"
    r"|kd\.?[-\s]?nr\.?|knr\.?|buchungskonto(?:nummer)?|anschlusskennung|zugangsnummer"
    r"|(?:customer|client|account|acct\.?|contract|order|invoice)[-\s]?(?:number|no\.?|nr\.?|id|#)"
)
_NUMBER_VALUE = (
    r"(?<![0-9A-Za-z])(?P<number>(?:[A-Z]{1,4}[-/]?)?"
    r"(?:[0-9]{2,4}(?:\s[0-9]{2,4}){2,5}|[0-9](?:[./-]?[0-9]){4,24})(?![0-9]))"
)
DEFAULT_CUSTOMER_NUMBER_PATTERNS: tuple[str, ...] = (
    r"(?i)\b(?:" + _NUMBER_LABEL + r")\s{0,3}[:#=(.-]{0,3}\s{0,3}"
    r"(?:(?:ist|lautet|wäre|is|was)\s{1,3}[:#]?\s{0,3})?" + _NUMBER_VALUE,
)


@dataclass(frozen=True)
class PiiConfig:
    """What counts as personal data for one brand; hashable, so compiled patterns are cached per config.

    Patterns are Python regexes used as given (write ``(?i)`` for case-insensitive). A bad pattern or region
    raises ``PolicyError`` here, when the policy is loaded, not on the first post.
    """

    default_region: str = "DE"
    customer_number_patterns: tuple[str, ...] = DEFAULT_CUSTOMER_NUMBER_PATTERNS
    ignore_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise PolicyError(f"pii.default_region: unknown region {self.default_region!r}")
        for key, patterns in (
            ("customer_number_patterns", self.customer_number_patterns),
            ("ignore_patterns", self.ignore_patterns),
        ):
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise PolicyError(f"pii.{key}: invalid regex {pattern!r}: {error}") from error


class PiiKind(StrEnum):
    PHONE = "phone"
    IBAN = "iban"
    EMAIL = "email"
    CUSTOMER_NUMBER = "customer_number"
    ADDRESS = "address"
    BIRTHDATE = "birthdate"


@dataclass(frozen=True)
class PiiSpan:
    """``text[start:end]`` is personal data of this kind."""

    kind: PiiKind
    start: int
    end: int


# Higher wins a tie between overlapping spans of equal length: checksummed and labelled finds are surer.
_SPECIFICITY = {
    PiiKind.IBAN: 6,
    PiiKind.EMAIL: 5,
    PiiKind.CUSTOMER_NUMBER: 4,
    PiiKind.BIRTHDATE: 3,
    PiiKind.PHONE: 2,
    PiiKind.ADDRESS: 1,
}

_SERVICE_NUMBER_TYPES = frozenset(
    {PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.PREMIUM_RATE}
)

# "02.03.2026" is a valid number in Duisburg (0203) to phonenumbers; in a post it is a date.
_DATE_SHAPED = re.compile(
    r"[0-3]?[0-9]\s?([./-])\s?[01]?[0-9]\s?\1\s?(?:[0-9]{2}|[0-9]{4})\.?|(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]"
)

_IBAN_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])[A-Za-z]{2}[0-9]{2}(?:[ ]?[0-9A-Za-z]{4}){2,7}(?:[ ]?[0-9A-Za-z]{1,3})?(?![0-9A-Za-z])"
)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)

_UPPER = "A-ZÄÖÜ"
_LOWER = "a-zäöüß"
_WORD = rf"[{_UPPER}][{_LOWER}]+"
_STREET_SUFFIX = (
    r"(?:straße|strasse|str\.|weg|platz|gasse|ring|damm|ufer|allee|chaussee|steig|pfad|kamp|wall|graben"
    r"|zeile|promenade|gürtel|twiete)"
)
_STREET_WORD = (
    r"(?:Straße|Strasse|Str\.|Weg|Platz|Gasse|Ring|Damm|Ufer|Allee|Chaussee|Steig|Pfad|Kamp|Wall|Graben"
    r"|Markt|Tor|Brücke|Berg|Hof|Garten|Park|Promenade|Zeile|Gürtel)"
)
# "Hauptstraße", "Konrad-Adenauer-Straße", "Berliner Str.", "Alter Markt", "Am Markt", "Unter den Linden".
_SUFFIX_STREET = (
    rf"{_WORD}(?:-{_WORD})*(?:{_STREET_SUFFIX}|-{_STREET_WORD})"
    rf"|(?:[{_UPPER}][{_LOWER}]{{2,}}er|[{_UPPER}][{_LOWER}]+-[{_UPPER}][{_LOWER}]+er"
    rf"|Alte|Neue|Große|Kleine|Lange|Hohe|Obere|Untere|Sankt|St\.)\s{_STREET_WORD}"
)
_PREPOSITION_STREET = (
    rf"(?:Am|An\sder|An\sden|Auf\sdem|Auf\sder|Im|In\sder|In\sden|Unter\sden|Zum|Zur|Hinter\sder"
    rf"|Hinter\sdem|Vor\sdem|Beim|Alt)\s(?P<weak_name>{_WORD})(?:-{_WORD})?"
)
_HOUSE_NUMBER = r"[1-9][0-9]{0,3}(?:\s?[a-zA-Z](?![a-zA-Zäöüß]))?(?:\s?[-/]\s?[1-9][0-9]{0,3}[a-z]?)?"
# A number followed by a unit or a time is a quantity, not a house number ("Speicherplatz 50 GB").
_NOT_A_HOUSE_NUMBER_AFTER = (
    r"(?![0-9]|[.,:][0-9]|\s?(?:%|€|\$|x\b|GB|MB|KB|TB|GHz|Mbit|MBit|Kbit|Gbit|Euro|EUR|Uhr|h\b|min\b|mal\b"
    r"|Mal\b|Tage|Stunden|Minuten|Sekunden|Wochen|Monate|Jahre|Balken|Leute|Kunden|Geräte|Prozent))"
)
_STREET = re.compile(
    rf"(?<![{_UPPER}{_LOWER}0-9-])(?:(?P<strong>{_SUFFIX_STREET})|(?P<weak>{_PREPOSITION_STREET}))"
    rf"\s{{1,2}}{_HOUSE_NUMBER}{_NOT_A_HOUSE_NUMBER_AFTER}"
)
# Compound nouns that end like a street but are not one ("Speicherplatz 2", "Firewall 3").
_NOT_STREETS = frozenset(
    (
        "Arbeitsplatz Speicherplatz Parkplatz Sitzplatz Stellplatz Spielplatz Marktplatz Firewall Umweg "
        "Rückweg Heimweg Ausweg Hinweg Lösungsweg Rechtsweg Postweg Übertragungsweg Dienstweg Arbeitsweg "
        "Schulweg Datenweg Vertriebsweg Leitweg"
    ).split()
)
# Time and other nouns after "Am"/"Im"/"Zum" that make "Im Jahr 2024" look like "Am Markt 3".
_NOT_PREPOSITION_STREETS = frozenset(
    (
        "Jahr Monat Moment Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Wochenende Januar "
        "Februar März April Mai Juni Juli August September Oktober November Dezember Sommer Winter Herbst "
        "Frühjahr Ende Anfang Schnitt Durchschnitt Prinzip Grunde Vergleich Vertrag Tarif Netz Glück "
        "Schluss Beispiel Test Speedtest Router Handy Telefon Abend Morgen Mittag Vormittag Nachmittag "
        "Tag Tage Stück"
    ).split()
)
_CITY = (
    rf"(?:(?:Bad|Sankt|St\.)\s)?(?P<city_head>{_WORD})(?:-{_WORD})*"
    rf"(?:\s(?:am\s(?:Main|Rhein|Neckar|Inn|Lech|See)|an\sder\s{_WORD}|ob\sder\sTauber"
    rf"|im\s(?:Breisgau|Allgäu|Taunus|Schwarzwald|Odenwald|Harz|Sauerland|Rheinland)))?(?:\s\({_WORD}\))?"
)
_POSTCODE_CITY = re.compile(
    rf"(?<![0-9.,])(?P<postcode>0[1-9][0-9]{{3}}|[1-9][0-9]{{4}})\s{{1,2}}(?P<city>{_CITY})"
)
# Capitalised nouns that follow a count, not a postcode ("50000 Haushalte", "10000 Euro").
_NOT_CITIES = frozenset(
    (
        "Euro Eur Dollar Pfund Kunden Haushalte Haushalten Nutzer Nutzern User Usern Menschen Leute "
        "Follower Followern Tweets Posts Anschlüsse Anschlüssen Mal Jahre Jahren Tage Tagen Stunden "
        "Minuten Sekunden Mbit Kbit Gbit Meter Metern Kilometer Punkte Seiten Zeichen Anrufe Mails "
        "Einwohner Einwohnern Bytes Fragen Beschwerden Stück Likes Views Retweets Downloads Geräte "
        "Geräten Router Leitungen Mitarbeiter Mitarbeitern Kilobyte Megabyte Gigabyte Nachrichten Tickets "
        "Fälle Fällen Orte Orten Schritte Customers Users People Homes Households Days Hours Minutes "
        "Years Times"
    ).split()
)
_QUANTITY_BEFORE = re.compile(
    r"(?i)(?:über|ueber|rund|ca\.|circa|etwa|fast|knapp|mehr\sals|bis\szu|mindestens|nur|only|about|over"
    r"|nearly|almost|more\sthan|up\sto|€|\$)\s*$"
)
_ADDRESS_CUE_BEFORE = re.compile(
    r"(?i)(?:wohne|wohnen|wohnt|wohnhaft|adresse|anschrift|umgezogen|umzug|zuhause|zu\shause|daheim"
    r"|address|live\s(?:at|in)|lives\s(?:at|in)|moved\sto)\b[^.!?\n0-9]{0,40}$"
)
_ADDRESS_JOINER = re.compile(r"[\s,;/–-]{0,4}(?:in\s)?\s?")

_MONTH = (
    r"(?:Januar|Jänner|Februar|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
    r"|January|February|March|May|June|July|October|December"
    r"|Jan|Feb|Mär|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Okt|Oct|Nov|Dez|Dec)"
)
_DATE_WITH_YEAR = (
    r"(?:[0-3]?[0-9]\s?[./-]\s?[01]?[0-9]\s?[./-]\s?(?:19|20)?[0-9]{2}(?![0-9])"
    r"|(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9](?![0-9])"
    rf"|[0-3]?[0-9](?:\.|st|nd|rd|th)?\s(?:of\s)?{_MONTH}\.?,?\s(?:19|20)[0-9]{{2}}(?![0-9])"
    rf"|{_MONTH}\.?\s[0-3]?[0-9](?:st|nd|rd|th)?,?\s(?:19|20)[0-9]{{2}}(?![0-9]))"
)
_BIRTHDATE = re.compile(
    r"(?i)\b(?:geb\.?|geboren|geburtsdatum|geb\.?-?datum|geburtstag|born|date\sof\sbirth|birth\s?date"
    r"|birthday|d\.o\.b\.?|dob)(?![a-z])"
    r"(?:\s{0,3}(?:[:=-]|am|on|ist|is|was|der|den|the|lautet|bin\sich|ich)){0,3}\s{0,3}"
    rf"(?P<date>{_DATE_WITH_YEAR})"
    # or the cue right after the date: "am 12.03.1985 geboren"
    rf"|(?<![0-9])(?P<date_before_cue>{_DATE_WITH_YEAR})\s{{0,3}}\(?\s{{0,2}}(?:geboren|geb\.|born)(?![a-z])"
)


_BIRTH_CUE = re.compile(r"(?i)geb|born|birth|dob|d\.o\.b")
_ANY_DIGIT = re.compile(r"\d")  # any script: phonenumbers reads "０１７１ …" too


@dataclass(frozen=True)
class _Candidate:
    kind: PiiKind
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class _CompiledConfig:
    region: str
    customer_numbers: tuple[re.Pattern[str], ...]
    ignore: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=64)
def _compile(config: PiiConfig) -> _CompiledConfig:
    return _CompiledConfig(
        region=config.default_region.upper(),
        customer_numbers=tuple(re.compile(pattern) for pattern in config.customer_number_patterns),
        ignore=tuple(re.compile(pattern) for pattern in config.ignore_patterns),
    )


def detect(text: str, config: PiiConfig = PiiConfig()) -> list[PiiSpan]:
    """Personal data in ``text``: sorted, non-overlapping spans."""
    compiled = _compile(config)
    candidates = list(_emails(text))
    if _ANY_DIGIT.search(text):  # every other kind contains a digit; most posts have none
        candidates += [
            *_phones(text, compiled.region),
            *_ibans(text),
            *_customer_numbers(text, compiled.customer_numbers),
            *_addresses(text),
            *_birthdates(text),
        ]
    if compiled.ignore and candidates:
        ignored = [match.span() for pattern in compiled.ignore for match in pattern.finditer(text)]
        candidates = [c for c in candidates if not any(s <= c.start and c.end <= e for s, e in ignored)]
    chosen = _resolve_overlaps(candidates)
    chosen = _add_repeated_occurrences(text, chosen)
    return [PiiSpan(c.kind, c.start, c.end) for c in chosen]


def redact(text: str, spans: Sequence[PiiSpan]) -> str:
    """``text`` with every span replaced by a marker such as ``⟨phone⟩``; overlapping spans become one."""
    pieces: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not 0 <= span.start <= span.end <= len(text):
            raise ValueError(f"span {span.start}:{span.end} outside a text of length {len(text)}")
        if span.end <= cursor:
            continue  # inside the span just redacted
        if span.start < cursor:
            cursor = span.end  # overlaps the previous span: extend its marker over this one
            continue
        pieces.append(text[cursor : span.start])
        pieces.append(f"⟨{span.kind.value}⟩")
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_text(text: str, config: PiiConfig = PiiConfig()) -> tuple[str, tuple[PiiKind, ...]]:
    """Redacted text and the kinds found (each once, in order of first appearance)."""
    spans = detect(text, config)
    return redact(text, spans), tuple(dict.fromkeys(span.kind for span in spans))


def _phones(text: str, region: str) -> Iterator[_Candidate]:
    for match in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
        if _DATE_SHAPED.fullmatch(match.raw_string):
            continue
        if phonenumbers.number_type(match.number) in _SERVICE_NUMBER_TYPES:
            continue
        yield _Candidate(PiiKind.PHONE, match.start, match.end)


def _ibans(text: str) -> Iterator[_Candidate]:
    for match in _IBAN_CANDIDATE.finditer(text):
        candidate = match.group()
        # The candidate may have swallowed a following word ("... 3201 bitte"): retry up to each space.
        ends = [len(candidate), *(i for i in range(len(candidate) - 1, 14, -1) if candidate[i] == " ")]
        for end in ends:
            if stdnum_iban.is_valid(candidate[:end].upper()):
                yield _Candidate(PiiKind.IBAN, match.start(), match.start() + end)
                break


def _emails(text: str) -> Iterator[_Candidate]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield _Candidate(PiiKind.EMAIL, match.start(), match.end())


def _customer_numbers(text: str, patterns: Sequence[re.Pattern[str]]) -> Iterator[_Candidate]:
    for pattern in patterns:
        use_group = "number" in pattern.groupindex
        for match in pattern.finditer(text):
            start, end = match.span("number") if use_group else match.span()
            if start >= 0 and end > start:
                yield _Candidate(PiiKind.CUSTOMER_NUMBER, start, end)


@dataclass
class _AddressPart:
    start: int
    end: int
    has_street: bool
    has_postcode: bool
    weak: bool  # a prepositional street alone: needs a postcode or an address cue to count


def _addresses(text: str) -> list[_Candidate]:
    """Streets with house number and postcodes with city; a street and a postcode that touch are one span."""
    parts: list[_AddressPart] = []
    for match in _STREET.finditer(text):
        strong = match.group("strong")
        if strong is not None and strong in _NOT_STREETS:
            continue
        if match.group("weak_name") in _NOT_PREPOSITION_STREETS:
            continue
        parts.append(_AddressPart(match.start(), match.end(), True, False, weak=strong is None))
    for match in _POSTCODE_CITY.finditer(text):
        if match.group("city_head") in _NOT_CITIES:
            continue
        if _QUANTITY_BEFORE.search(text, max(0, match.start() - 12), match.start()):
            continue
        parts.append(_AddressPart(match.start(), match.end(), False, True, weak=False))
    if not parts:
        return []
    parts.sort(key=lambda part: part.start)
    merged: list[_AddressPart] = []
    for part in parts:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.has_street != part.has_street
            and last.has_postcode != part.has_postcode
            and (part.start < last.end or _ADDRESS_JOINER.fullmatch(text, last.end, part.start))
        ):
            end = max(last.end, part.end)
            merged[-1] = _AddressPart(last.start, end, True, True, weak=last.weak and part.weak)
            continue
        merged.append(part)
    return [
        _Candidate(PiiKind.ADDRESS, part.start, part.end)
        for part in merged
        if not part.weak or _ADDRESS_CUE_BEFORE.search(text, max(0, part.start - 60), part.start)
    ]


def _birthdates(text: str) -> Iterator[_Candidate]:
    if not _BIRTH_CUE.search(text):
        return
    for match in _BIRTHDATE.finditer(text):
        start, end = match.span("date") if match.group("date") else match.span("date_before_cue")
        yield _Candidate(PiiKind.BIRTHDATE, start, end)


def _resolve_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Longest first, then most specific; a candidate overlapping one already chosen is dropped."""
    starts: list[int] = []
    chosen: list[_Candidate] = []  # kept sorted by start, non-overlapping
    for candidate in sorted(candidates, key=lambda c: (-c.length, -_SPECIFICITY[c.kind], c.start)):
        if candidate.length == 0:
            continue
        index = bisect_left(starts, candidate.start)
        if index > 0 and chosen[index - 1].end > candidate.start:
            continue
        if index < len(chosen) and chosen[index].start < candidate.end:
            continue
        starts.insert(index, candidate.start)
        chosen.insert(index, candidate)
    return chosen


def _add_repeated_occurrences(text: str, chosen: list[_Candidate]) -> list[_Candidate]:
    """A text that is PII once is PII wherever else it appears in the post (even where context is missing)."""
    if not chosen:
        return chosen
    extra: list[_Candidate] = []
    kinds_by_text = {text[c.start : c.end]: c.kind for c in reversed(chosen)}
    for needle, kind in kinds_by_text.items():
        position = text.find(needle)
        while position != -1:
            extra.append(_Candidate(kind, position, position + len(needle)))
            position = text.find(needle, position + 1)
    if len(extra) == len(chosen):
        return chosen
    return _resolve_overlaps([*chosen, *extra])
