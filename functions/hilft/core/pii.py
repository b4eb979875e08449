"""Personal data in public posts: find it, redact it.

A brand must never discuss phone numbers, bank or card details, contract numbers or addresses in public; a
post that carries them is handed off to a private message and shown to staff only in redacted form.
Precision matters as much as recall: every false alarm turns a quick public answer into a DM hand-off, so
prices, bandwidths, counts, outage dates and times, calendar weeks, firmware versions, the brand's own
hotline, address, e-mail domain and ticket numbers, and a postcode with a city alone must not count.

Detectors (all pure, no I/O, each linear in the length of the text):

The text is read in NFKC ("０１７１" and "＠" are "0171" and "@", no-break spaces are spaces); spans are
offsets into the text as given.

- phone: digit groups (with spaces, dashes, en dashes, slashes, dots, brackets) parsed by ``phonenumbers``,
  kept if valid and not a service number (toll-free 0800, shared-cost 0180, premium 0900). National numbers
  are read in ``PiiConfig.default_region`` and in the configured ``regions`` whose language is the post's
  (an English post: GB, US; a German one: AT, CH; a post of a handful of words, whose language is unknown:
  all of them); a configured region the post names ("Wien", "+43", "@gmx.at", "London", "USA") is read first,
  in a post of any language. The language is the platform's, passed to ``detect``, else guessed from common
  words (as many English as German ones: unknown). A number right after a device or parcel label ("Seriennummer SN:",
  "serial", "Sendungsnr.") is none.
  Numbers of any country written with "+" or "00" count. When a run of groups is no valid number ("0170
  1234567 5G", "+49 170 1234567 50 Mbit"), shorter runs are tried; a valid run of 12+ digits is cut before
  a later area code or prefix ("0228", "+49") when both sides are valid numbers ("0228 456789 0228
  987654"), and a run of six or more digits right after a number is redacted with it. Dates, times, prices
  and version numbers are masked first, but not dotted groups that start with a trunk "0" or go on a number
  before them ("0171.234.5678", "0179/62.42.06.92", "03968.70 68 60").
- iban: two letters, two check digits and the account, groups separated as people type them (one
  separator class with cards: spaces, doubled spaces, dots, dashes, slashes, line breaks), kept only if the
  checksum is right (``stdnum.iban``).
- card: 13-19 digits (compact, or grouped 4-4-4-4 / 4-6-5 / 4-3-3-3 with one separator throughout, looked for
  before the version-number mask) with a card-issuer prefix and a valid Luhn check digit; a run that fails is
  read again without its trailing groups ("4111 1111 1111 1111 12/27", "… 4444 2 mal belastet"); never from a
  "+"; not right after "IMEI", "Seriennummer", "S/N", "Sendungsnr." or a voucher code (device and parcel numbers
  pass the Luhn check too).
- email: an address with any letters in the local part, or obfuscated ("name[at]host.de",
  "name (at) host (dot) de", "name at host dot de", "name @ host . de"), or "name at host.de" (a real
  top-level domain) when the local part has an address's marks, the host is a mail provider's, an e-mail cue
  comes before, the word is "ät", or the post is German; not at one of the brand's own domains.
- customer_number: ``PiiConfig.customer_number_patterns``; the span is the regex group ``number`` when the
  pattern has one (the default patterns do: the label "Kundennummer" stays readable), else the number inside
  the match. The defaults read the label before ("Kundennummer ist die 193 017 6630") or after the number
  ("2031402085 = meine Vertragsnummer", "(account number)"), with an aside in brackets or a few words ending
  in "ist"/":" between label and number ("Kundennummer bei euch ist …").
- address: a street line with house number (German or English shape), see ``hilft.core.pii_address``; a
  postcode with city alone is no personal data.
- birthdate: a date with a year next to a birth cue ("geb.", "*", "geboren am", "DOB", "… geboren",
  "… als Geburtsdatum"; up to four words between: "Geboren wurde ich am …"), in digits in any order
  ("11-23-1980", "1980/11/23") or words ("neunten Dezember 1967", "twenty-third of November 1980"); the
  span is the date. A cue with a date after it is that date's, so a date before it is not a birth date too
  ("Umzug zum 25.03.2026, Geburtsdatum 18.09.1990").

A span inside a match of ``PiiConfig.ignore_patterns`` (the brand's own ticket numbers) and the brand's own
phone numbers, addresses and e-mail domains are never PII. Overlaps resolve to the longest span, ties to
the most specific kind. Finally every other occurrence of a detected text is detected too (even inside an
ignored match), so a number written twice is redacted twice, also with other grouping ("253 514 4032" and
"2535144032").

Only the first ``MAX_TEXT_CHARS`` characters (64,000: above X's 25,000 and Facebook's 63,206) are examined;
``redact_text`` cuts the rest off, so nothing unexamined is stored. The worst case at that length is a
fraction of a second (``make bench``, row "PII detection worst case").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb

from hilft.core.errors import PolicyError
from hilft.core.pii_address import find_addresses, own_street_keys

# X allows 25,000 characters in a post, Facebook 63,206; the rest of a longer text is neither examined nor
# stored. Every detector is linear, so this bounds the worst case (see bench/pii.py).
MAX_TEXT_CHARS = 64_000

# Customer, contract and order numbers: a label, an optional "ist (die)"/"is"/":" and a number of at least
# five digits (compact, or written in groups of 2-4 digits), optionally with a short letter prefix
# ("AB-12345"); or the number first and the label after it ("2031402085 = meine Vertragsnummer").
_NUMBER_LABEL = (
    # "kunden?": the one-n spelling ("Kundenummer") is as common in posts as the right one
    r"(?:kunden?|vertrags?|vertragskonto|auftrags?|bestell(?:ungs?)?|rechnungs|kundenkonto|mitglieds)[-\s]?"
    r"(?:nummer|numer|nr\.?|no\.?|id)|kd\.?[-\s]?(?:nr\.?|nummer)|knr\.?|(?:buchungs|vertrags|kunden)konto(?:nummer)?"
    r"|anschlusskennung|zugangsnummer|acct\.?|konto(?:nummer|[-\s]?nr\.?)|kto\.?[-\s]?(?:nr\.?|nummer)"
    r"|(?:customer|client|account|acct\.?|acc\.?|contract|order|invoice|membership)[-\s]?(?:number|no\.?|nr\.?|id|#)"
    r"|(?:customer|account|client)\s?ref(?:erence)?(?:\.|\s(?:number|no\.?))?"
    r"|account"
)
# only before a number, the bare noun names it: "es geht um den Vertrag 0478233761" (after one it is the
# next sentence's: "… 03867/857256 Vertrag auf meine Mutter umschreiben")
# ("acc 12345678": the short form too)
_NUMBER_LABEL_BEFORE = _NUMBER_LABEL + r"|vertrag|contract|acc(?![a-z])"
# after a number, the bare "account" names it only at the end of the phrase ("… 4471 my account." but not
# "810-503-5718 my account says …", where the number is a phone number)
_NUMBER_LABEL_AFTER = _NUMBER_LABEL.removesuffix(r"|account") + r"|account(?=\s{0,3}(?:[.,;:!?)]|$))"
_NUMBER_VALUE = (
    r"(?<![0-9A-Za-z])(?=(?:[A-Za-z]{1,4}[-/]?)?[0-9])(?![0-3]?[0-9][./][01]?[0-9][./](?:19|20)?[0-9]{2}(?![0-9]))"
    r"(?P<number>(?:[A-Z]{1,4}[-/]?)?"
    r"(?:[0-9]{2,5}(?:\s[0-9]{2,5}){1,5}|[0-9](?:[./-]?[0-9]){4,24})(?![0-9]))"
)
_IS = r"(?:ist|lautet|wäre|is|was)"
# between label and number: an aside in brackets ("Kundennummer (steht auf der Rechnung): …"), or up to four
# words that end in "ist"/":" ("Kundennummer bei euch ist …"), so a later number of another kind is not taken
_LABEL_ASIDE = (
    r"(?:\s{0,3}\([^()\n]{1,40}\)|(?:\s{1,3}(?!" + _IS + r"\b)[^\W\d_]{1,15}){1,4}(?=\s{0,3}(?:" + _IS + r"\b|:)))?"
)
DEFAULT_CUSTOMER_NUMBER_PATTERNS: tuple[str, ...] = (
    r"(?i)\b(?=[kvabrmzcoi])(?:" + _NUMBER_LABEL_BEFORE + r")" + _LABEL_ASIDE + r"\s{0,3}[:#=(.-]{0,3}\s{0,3}"
    r"(?:" + _IS + r"\s{0,3}[:#]?\s{0,3}(?:(?:die|der|the)\s{1,3})?[:#]?\s{0,3})?" + _NUMBER_VALUE,
    r"(?i)" + _NUMBER_VALUE + r"\s{0,3}(?:[=:(\u2013-]\s{0,3})?(?:(?:das|dies|this|that|it)\s{0,3})?"
    r"(?:(?:ist|is|=|als|wäre|'s|’s)\s{1,3})?"
    r"(?:(?:meine|mein|my|die|der|unsere|our|the)\s{1,3})?(?:" + _NUMBER_LABEL_AFTER + r")(?![a-z])"
    # not when the label introduces the next number ("… 42139 customer no 757 709 24010")
    r"(?!\s{0,3}[:#=.-]{0,3}\s{0,3}(?:(?:ist|is|lautet)\s{1,3})?(?:[A-Za-z]{1,4}[-/]?)?[0-9])",
)
# Which language a country's national numbers are written in: a national number valid in one of the
# configured regions counts only in a post of that language (unknown regions count in every post).
_REGION_LANGUAGE = {
    "DE": "de", "AT": "de", "CH": "de", "LI": "de", "LU": "de",
    "GB": "en", "US": "en", "IE": "en", "CA": "en", "AU": "en", "NZ": "en",
}

# A post that names a country reads national numbers in that country first (when it is a configured region):
# "01 8097891" in a post from Vienna is a Vienna number, not the German shared-cost prefix 0180. Plain
# alternatives only (no groups, no look-arounds), so the scan stays cheap; the match is classified after.
_REGION_NAMES = {
    "AT": "Wien Vienna Österreich Oesterreich Austria Jänner Graz Linz Salzburg Innsbruck Klagenfurt Stiege Servus",
    "CH": "Schweiz Switzerland Suisse Zürich Zurich Basel Luzern Genf Grüezi",
    "GB": "London England Großbritannien Grossbritannien Britain UK Schottland Scotland Wales Manchester Birmingham "
          "Liverpool Leeds Glasgow Edinburgh Bristol",
    "US": "USA Amerika America Staaten States Kalifornien California Texas Florida Chicago Boston Seattle",
}
_REGION_OF_NAME = {name: region for region, names in _REGION_NAMES.items() for name in names.split()}
_REGION_HINT = re.compile(
    r"\+4[134]|004[134]|\.at|\.ch|\.uk|A-[1-9]|CH-[1-9]|"
    + "|".join(sorted(_REGION_OF_NAME, key=len, reverse=True))
)
_REGION_OF_CODE = {"41": "CH", "43": "AT", "44": "GB"}


def _hinted_region(text: str) -> str | None:
    """The first country the post names ("Wien", "+43", "…@gmx.at", "CH-8001", "London", "USA"), or None."""
    for hint in _REGION_HINT.finditer(text):
        found, start, end = hint.group(), hint.start(), hint.end()
        if found in _REGION_OF_NAME:
            if (start == 0 or not text[start - 1].isalpha()) and (end == len(text) or not text[end].isalpha()):
                return _REGION_OF_NAME[found]
        elif found.startswith("."):
            if end == len(text) or not text[end].isalnum():  # a domain's end: ".at", not ".attached"
                return {".at": "AT", ".ch": "CH"}.get(found, "GB")
        elif (start == 0 or not text[start - 1].isalnum()) and not (
            found.startswith("00") and start >= 2 and text[start - 2].isdigit()  # a group of an IBAN: "3704 0044"
        ):  # "+43", "0043", "A-1010" standing alone
            return "CH" if found.startswith("CH") else _REGION_OF_CODE.get(found[-2:], "AT")
    return None


@dataclass(frozen=True)
class PiiConfig:
    """What counts as personal data for one brand; hashable, so compiled patterns are cached per config.

    Patterns are Python regexes used as given (write ``(?i)`` for case-insensitive). A bad pattern, region
    or own phone number raises ``PolicyError`` here, when the policy is loaded, not on the first post.
    """

    default_region: str = "DE"
    customer_number_patterns: tuple[str, ...] = DEFAULT_CUSTOMER_NUMBER_PATTERNS
    ignore_patterns: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # more countries whose national numbers count (in posts of their language)
    own_phone_numbers: tuple[str, ...] = ()  # the brand's hotlines and switchboards, any format
    own_addresses: tuple[str, ...] = ()  # "Friedrich-Ebert-Allee 140, 53113 Bonn"
    own_email_domains: tuple[str, ...] = ()  # "telekom.de" (subdomains too)

    def __post_init__(self) -> None:
        for region in (self.default_region, *self.regions):
            if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
                key = "default_region" if region == self.default_region else "regions"
                raise PolicyError(f"pii.{key}: unknown region {region!r}")
        for key, patterns in (
            ("customer_number_patterns", self.customer_number_patterns),
            ("ignore_patterns", self.ignore_patterns),
        ):
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise PolicyError(f"pii.{key}: invalid regex {pattern!r}: {error}") from error
        for number in self.own_phone_numbers:
            if _parse_own_number(number, self.default_region) is None:
                raise PolicyError(f"pii.own.phone_numbers: not a phone number: {number!r}")


class PiiKind(StrEnum):
    PHONE = "phone"
    IBAN = "iban"
    EMAIL = "email"
    CUSTOMER_NUMBER = "customer_number"
    ADDRESS = "address"
    BIRTHDATE = "birthdate"
    CARD = "card"


@dataclass(frozen=True)
class PiiSpan:
    """``text[start:end]`` is personal data of this kind."""

    kind: PiiKind
    start: int
    end: int


# Higher wins a tie between overlapping spans of equal length: checksummed and labelled finds are surer.
_SPECIFICITY = {
    PiiKind.CARD: 7,
    PiiKind.IBAN: 6,
    PiiKind.EMAIL: 5,
    PiiKind.CUSTOMER_NUMBER: 4,
    PiiKind.BIRTHDATE: 3,
    PiiKind.PHONE: 2,
    PiiKind.ADDRESS: 1,
}

_SERVICE_NUMBER_TYPES = frozenset(
    {PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.UAN,
     PhoneNumberType.VOICEMAIL}
)

_MONTHS_DE = "Januar|Jänner|Februar|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
_MONTH = (
    rf"(?:{_MONTHS_DE}|January|February|March|May|June|July|October|December"
    r"|Jan|Feb|Mär|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Okt|Oct|Nov|Dez|Dec)"
)
# Numbers that are not phone or card numbers, masked before those are looked for: dates ("04.12.2024",
# "02.09.", "2025-09-02", "14/02/1990"), times, prices and decimals, calendar weeks ("KW 37/2025"), version
# and IP numbers ("029593.5.9.440") except the US way of writing a phone number ("206.269.0743").
_NOT_A_NUMBER = re.compile(
    # each branch is guarded by a one-character lookahead, so most positions fail at once
    r"(?<![0-9])(?=[0-9])(?:"
    r"[0-3]?[0-9]\.\s?[01]?[0-9]\.(?:\s?(?:19|20)?[0-9]{2}(?![0-9]))?"
    r"|(?:19|20)[0-9]{2}-[01]?[0-9]-[0-3]?[0-9]"
    r"|[0-3]?[0-9][/-][01]?[0-9][/-](?:19|20)?[0-9]{2}(?![0-9])"
    r"|[01]?[0-9][/-][0-3]?[0-9][/-](?:19|20)[0-9]{2}(?![0-9])"
    r"|[0-2]?[0-9]:[0-5][0-9](?::[0-5][0-9])?"
    # a month and year: "Rechnung 01/2027", "gültig bis 09/2027"
    r"|(?:0?[1-9]|1[0-2])/(?:19|20)[0-9]{2}(?![0-9])"
    # a quantity with its unit: "0228 1810 - 74 min Warteschleife", "+49 170 1234567 50 Mbit" (plural units
    # only, and no "mal": "… 56 78 Tag und Nacht", "ruf 0171 234 56 78 mal an" end with the number's last group)
    r"|[0-9]{1,4}\s?(?i:min(?:uten|utes|s)?|std|stunden|hours|hrs|sek(?:unden)?|seconds|tage|days"
    r"|wochen|weeks|monate|months|jahre|years|[mgk]bit(?:/s)?|mbps|[kmgt]b|€|eur(?:o)?|%|uhr)(?![\w])"
    # (not an area code with a leading zero, "03968.70 68 60", nor the last groups of a dotted number, "62.42.06.92",
    # "0049 33849 969.61")
    r"|(?<![0-9]\.)(?<![0-9][ /])(?!0[0-9]{3})[0-9]{1,6}[.,][0-9]{1,2}(?![0-9.,])"
    # (not a phone number written with dots: US "206.269.0743", a trunk "0" or "00" first "0171.234.5678",
    # after "+", or groups of 2+ digits that go on a number before them: "0179/62.42.06.92", "0043 688 771.484.09")
    r"|(?<![+.])(?!(?:1\.)?[0-9]{3}\.[0-9]{3}\.[0-9]{4}(?![0-9]|\.[0-9])"
    r"|0[0-9]{2,5}(?:\.[0-9]{2,8}){1,3}(?![0-9]|\.[0-9])"
    r"|(?:(?<=[0-9)][ /\u2013-])|(?<=[0-9)]\s[/\u2013-]\s))[0-9]{2,5}(?:\.[0-9]{2,5}){1,3}(?![0-9]|\.[0-9]))"
    r"[0-9]{1,8}(?:\.[0-9]{1,8}){2,6}"
    # a day before a month name: "9. Dezember", "3rd of May"
    rf"|[0-3]?[0-9](?:\.|st|nd|rd|th)?\s?(?:of\s)?{_MONTH}\b"
    r")(?![0-9])"
    r"|\b(?=[KkWw])(?i:(?:kw|week|woche)\s?[0-9]{1,2}(?:\s?/\s?(?:19|20)?[0-9]{2})?)"
    # a month name before a day: "August 09"
    rf"|\b(?=[JFMASONDjfmasond]){_MONTH}\.?\s[0-3]?[0-9](?:st|nd|rd|th)?(?![0-9])"
)
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+])(?:\+|(?<![0-9])\(?(?=[0-9]))[0-9(][0-9 \t\u00a0\u202f()./\u2013-]{3,38}[0-9](?![\w])"
)
_PHONE_GROUP = re.compile(r"\+?\(?[0-9]+\)?")
_MAX_PHONE_DIGITS = 17  # 15 of E.164 and an international prefix
_MAX_ENDS_PER_START = 4
_MAX_PHONE_GROUPS = 7  # "+49 (0) 171 123 45 67" and one more
_MAX_SPLITS = 2  # where a valid run may hide the start of the next number
_SPLIT_FROM_DIGITS = 12  # a reading that long may be a number and the next one's area code ("0228 456789 0228")

# What customers put between the groups of a card number or an IBAN (one class for both): up to three spaces
# (no-break spaces are spaces after NFKC), a dot, dash, en dash or slash with a space either side, a line break.
_GROUP_SEPARATOR = r"(?:[ \t]{1,3}|[ \t]?[./\u2013-][ \t]?|\r?\n)"
_IBAN_CANDIDATE = re.compile(
    rf"(?<![0-9A-Za-z])[A-Za-z]{{2}}{_GROUP_SEPARATOR}?[0-9]{{2}}(?:{_GROUP_SEPARATOR}?[0-9A-Za-z]){{10,30}}"
)
_IBAN_START = re.compile(rf"(?<![0-9A-Za-z])[A-Za-z]{{2}}{_GROUP_SEPARATOR}?[0-9]{{2}}")
_IBAN_REGISTRY = numdb.get("iban")
# compact or loosely grouped (single spaces or dashes), looked for where dates, prices and versions are masked
# (never after "+": "+442074960455 0121 496 0037" is two phone numbers)
_CARD_CANDIDATE = re.compile(r"(?<![\w.,+])[0-6][0-9]{3}(?:[ -]?[0-9]){8,15}(?![\w]|[.,][0-9])")
# grouped as printed on the card (4-4-4-4, 4-4-4-4-3, 4-6-5), one separator throughout: looked for before the
# masks, which would read "4539.7777.7777.7777" as a version number
_GROUPED_CARD = re.compile(
    rf"(?<![\w.,/+-])[0-6][0-9]{{3}}(?:(?P<sep>{_GROUP_SEPARATOR})[0-9]{{4}}(?:(?P=sep)[0-9]{{4}}){{1,2}}"
    rf"(?:(?P=sep)[0-9]{{1,3}})?|(?P<amex_sep>{_GROUP_SEPARATOR})[0-9]{{6}}(?P=amex_sep)[0-9]{{4,5}}"
    # 13 digits printed 4-3-3-3 (and 16, 19 digits in threes after the first four): "4556.737.586.899"
    rf"|(?P<three_sep>{_GROUP_SEPARATOR})[0-9]{{3}}(?:(?P=three_sep)[0-9]{{3}}){{2,4}})(?![\w])"
)
# numbers right after these labels are device, parcel or version numbers (an IMEI passes the Luhn check like a
# card number, a serial number or a version may read as a phone number); a short prefix may come first ("j05f-")
_DEVICE_LABEL = (
    r"(?i)(?:imei|meid|iccid|serien(?:nummer|nr\.?)|serial(?:\s?(?:number|no\.?|nr\.?))?|s/n|sn|geräte(?:nummer|-?id)"
    r"|sendungs(?:nummer|nr\.?)|tracking(?:\s?(?:number|no\.?|nr\.?|id))?|paket(?:nummer|-?nr\.?)"
    r"|parcel\s?(?:number|no\.?)"
    # vouchers and codes: "Gutscheincode 4711-0815-1234" is no phone number
    r"|gutschein(?:code|nummer)?|(?:aktions|rabatt|promo|voucher|coupon|gift\s?card)[-\s]?code|voucher|coupon"
    # and versions, whatever their groups: "Firmware 035.93.620.90"
    r"|(?<![^\W\d_])(?:firmware|fw|version|ver\.?|build|software|sw))"
    r"\s{0,3}[:#=]?\s{0,3}(?:(?:ist|is|lautet)\s{1,3})?"
)
_DEVICE_NUMBER_LABEL = re.compile(_DEVICE_LABEL + "$")
_DEVICE_NUMBER_LABEL_OR_PREFIX = re.compile(_DEVICE_LABEL + r"(?:[A-Za-z0-9]{1,8}[-/])?$")
# Issuer prefixes: Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, Diners 300-305/36/38, Discover 6011/64/65,
# JCB 35/2131/1800, Maestro 50/56-69/0604 (Maestro also 12 digits).
_CARD_PREFIX = re.compile(r"4|5[0-9]|2(?:2[2-9]|[3-6][0-9]|7[01]|720)|3[4578]|30[0-5]|36|6[0-9]|2131|1800|0604")

_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w%+-](?:[\w.%+'-]{0,62}[\w%+-])?"
    # "lena.schmidt @ gmx . de": dots with a space on both sides too, when "@" has (not a mention "hi @brand . ")
    r"(?:\s?@\s?(?:[\w-]{1,63}\.){1,8}|(?:\s@\s|@)(?:[\w-]{1,63}(?:\.|\s\.\s)){1,8})[^\W\d_]{2,24}(?![\w-])"
)
# "janedoe at outlook.com": " at " and a domain with a real top-level domain; an address when the local part
# has the marks of one (dot, digit, underscore, plus, hyphen), the domain is a mail provider's, an e-mail cue
# comes before it, the word is the German "ät", or the post is German ("at" is no German word) and the local
# part no capitalised noun; "look at speedtest.net" in an English post is none of these
_AT_WORD_EMAIL = re.compile(
    r"(?i)(?<![\w.%+'-])(?P<local>[\w%+-](?:[\w.%+'-]{0,62}[\w%+-])?)\s(?P<at>at|ät)\s"
    r"(?P<domain>(?:[\w-]{1,63}\.){1,4}[a-z]{2,24})(?![\w-])"
)
_MAIL_PROVIDER = re.compile(
    r"(?i)(?:^|\.)(?:gmx|web|gmail|googlemail|outlook|hotmail|live|msn|yahoo|ymail|icloud|me|mac|aol|t-online"
    r"|freenet|posteo|mailbox|proton|protonmail|pm|arcor|vodafone|bluewin|sunrise|hispeed|aon|chello|a1|gmx-topmail"
    r"|btinternet|sky|virginmedia|talktalk|comcast|verizon|att|yandex|zoho|mail|email|online|kabelmail|ewe"
    r"|magenta|telekom|o2online|1und1|ionos|fastmail|tutanota|tuta)\.[a-z.]{2,12}$"
)
_LOCAL_PART_MARK = re.compile(r"[._+0-9-]")
# country codes (phonenumbers' regions, and "uk", "eu") and the generic top-level domains mail is sent to
_TOP_LEVEL_DOMAINS = frozenset(
    {region.lower() for region in phonenumbers.SUPPORTED_REGIONS} | {"uk", "eu"}
    | set(
        "com net org info biz edu gov mil int name pro mobi app dev io ai shop online store site email mail tech "
        "cloud digital media berlin hamburg koeln cologne bayern nrw wien swiss london nyc family club group company "
        "solutions services agency law legal consulting studio design art photo blog page xyz top eus gal cat "
        "museum aero coop travel jobs".split()
    )
)
_EMAIL_CUE_BEFORE = re.compile(r"(?i)(?:e-?mail|mail|adresse|address|schreib|write|kontakt|contact|erreich|reach)")
_AT = r"(?:\s?[\[({<]\s?(?:at|ät|@)\s?[\])}>]\s?)"
_DOT = r"(?:\s?[\[({<]\s?(?:dot|punkt|\.)\s?[\])}>]\s?|\s(?:dot|punkt)\s)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?i)(?<![\w.%+'-])(?:[\w%+-]{{1,64}}{_DOT}){{0,3}}[\w%+-](?:[\w.%+'-]{{0,62}}[\w%+-])?"
    rf"(?:{_AT}(?:[\w-]{{1,63}}(?:\.|{_DOT})){{1,4}}[^\W\d_]{{2,24}}"
    rf"|\s(?:at|ät)\s(?:[\w-]{{1,63}}(?:\.|{_DOT})){{0,3}}[\w-]{{1,63}}{_DOT}[^\W\d_]{{2,24}})(?![\w-])"
)
_OBFUSCATION_HINT = re.compile(rf"(?i){_AT}|\s(?:at|ät)\s\S{{1,64}}(?:{_DOT}|\.[a-z])")
_DOMAIN_DOTS = re.compile(rf"(?i){_DOT}|\.")

_DAY_WORD = (
    r"(?:(?:ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun)und)?(?:zwanzig|dreißig)sten"
    r"|erst|zweit|dritt|viert|fünft|sechst|siebt|acht|neunt|zehnt|elft|zwölft"
    r"|(?:drei|vier|fünf|sech|sieb|acht|neun)zehnt"
)
_DAY_WORD_EN = (
    r"(?:twenty|thirty)[-\s]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
    r"|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth"
    r"|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth"
)
_DATE_WITH_YEAR = (
    r"(?:[0-3]?[0-9]\s?[./-]\s?[01]?[0-9]\s?[./-]\s?(?:19|20)?[0-9]{2}(?![0-9])"
    r"|[01]?[0-9]/[0-3]?[0-9]/(?:19|20)[0-9]{2}(?![0-9])"
    r"|(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9](?![0-9])"
    # (after a month name also a two-digit year: "Geb. am 6. Juli 70")
    rf"|[0-3]?[0-9](?:\.|st|nd|rd|th)?\s?(?:of\s)?{_MONTH}\.?,?\s(?:19|20)?[0-9]{{2}}(?![0-9])"
    rf"|(?:{_DAY_WORD})(?:en|er|e)?\s(?:{_MONTH})\s(?:19|20)[0-9]{{2}}(?![0-9])"
    rf"|(?:[0-3]?[0-9](?:st|nd|rd|th))\sof\s{_MONTH}\s(?:19|20)[0-9]{{2}}(?![0-9])"
    rf"|{_MONTH}\.?\s[0-3]?[0-9](?:st|nd|rd|th)?,?\s(?:19|20)[0-9]{{2}}(?![0-9])"
    # the US order with dashes or dots ("11-23-1980"), the year first with slashes or dots ("1980/11/23")
    r"|[01]?[0-9][.-][0-3]?[0-9][.-](?:19|20)[0-9]{2}(?![0-9])"
    r"|(?:19|20)[0-9]{2}[/.][01]?[0-9][/.][0-3]?[0-9](?![0-9])"
    # English days in words: "twenty-third of November 1980", "November the third, 1980"
    rf"|(?:{_DAY_WORD_EN})\s(?:of\s)?{_MONTH}\.?,?\s(?:19|20)[0-9]{{2}}(?![0-9])"
    rf"|{_MONTH}\.?\s(?:the\s)?(?:{_DAY_WORD_EN}),?\s(?:19|20)[0-9]{{2}}(?![0-9]))"
)
_BIRTHDATE = re.compile(
    r"(?i)(?:\b(?=[gbdGBD])(?:geb\.?-?dat(?:um|\.)?|geb\.?|geboh?ren|geburtsdatum|geburtstag|born|date\sof\sbirth"
    r"|birth\s?date|birthday|d\.o\.b\.?|dob)(?![a-z])"
    # up to four words or signs between cue and date: "Geboren wurde ich am …", "date of birth is …"
    # (whole words only, so a word is never tried in pieces)
    r"(?:\s{0,3}[:=(-]|\s{1,3}[^\W\d_]{1,12}(?![^\W\d_])){0,4}?\s{0,3}"
    r"|(?<![\w*])\*\s?)"
    rf"(?P<date>{_DATE_WITH_YEAR})"
)
# or the cue after the date: "am 12.03.1985 geboren", "steht 12.03.1985 als Geburtsdatum", "… as date of birth"
_BIRTH_CUE_WORD = r"(?:geboh?ren|geb\.|born|geburtsdatum|geburtstag|date\sof\sbirth|birth\s?date|birthday|dob|d\.o\.b)"
_BIRTHDATE_CUE_AFTER = re.compile(
    rf"(?i)(?<![0-9])(?P<date>{_DATE_WITH_YEAR})\s{{0,3}}[(,]?\s{{0,2}}(?:(?:als|as|is|ist|=|:)\s{{0,3}})?"
    rf"(?:(?:mein|meine|my|the|das|der)\s{{1,3}})?(?P<cue>{_BIRTH_CUE_WORD})(?![a-z])"
)
_CUE_AFTER = re.compile(rf"(?i){_BIRTH_CUE_WORD}")
_DATE_BEFORE_CUE_CHARS = 80  # "einundzwanzigsten Dezember 1967 als mein Geburtsdatum": 41
# what every birth-date match contains (a cheap test before the patterns); "geb" alone for "geb am 1.2.1980"
_BIRTH_CUE = re.compile(r"(?i)geb(?![a-np-tv-zäöüß])|born|birth|dob|d\.o\.b|\*")
_ANY_DIGIT = re.compile(r"\d")  # any script: "０１７１ …" is a number too
_NUMBER_IN_MATCH = re.compile(r"(?:[A-Za-z]{1,4}[-/])?[0-9](?:[0-9 ./-]*[0-9])?")
_ENGLISH_WORDS = frozenset(
    "the and my is to you your for since please not on at of with it i me this that have has was no can why "
    "what when still just".split()
)
_GERMAN_WORDS = frozenset(
    "der die das und ist nicht mein meine ich seit bitte mit von für auf ein eine euch ihr wir uns noch schon "
    "warum wann kein keine habe hab geht mich mir dich dir auch aber oder nur sind wird kann immer jetzt hier "
    "heute gibt mal doch nach wie sehr ruft ruf".split()
)
_WORDS = re.compile(r"[^\W\d_]+")


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
    regions: dict[str | None, tuple[str, ...]]  # post language -> regions for national numbers, default first
    customer_numbers: tuple[re.Pattern[str], ...]
    ignore: tuple[re.Pattern[str], ...]
    own_numbers: frozenset[tuple[int, int]]
    own_streets: frozenset[str]
    own_domains: tuple[str, ...]
    hinted: frozenset[str]  # configured regions a post can name (``_REGION_HINT``)


def _parse_own_number(number: str, region: str) -> tuple[int, int] | None:
    try:
        parsed = phonenumbers.parse(number, region.upper())
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed) or parsed.country_code is None or parsed.national_number is None:
        return None
    return parsed.country_code, parsed.national_number


@lru_cache(maxsize=64)
def _compile(config: PiiConfig) -> _CompiledConfig:
    default = config.default_region.upper()
    others = [region.upper() for region in config.regions if region.upper() != default]

    def for_language(language: str | None) -> tuple[str, ...]:
        chosen = [r for r in others if language is None or _REGION_LANGUAGE.get(r, language) == language]
        return (default, *dict.fromkeys(chosen))

    own_numbers = {_parse_own_number(number, default) for number in config.own_phone_numbers}
    return _CompiledConfig(
        # a post whose language is unknown (a handful of words) may carry a number of any configured region
        regions={None: for_language(None), "de": for_language("de"), "en": for_language("en")},
        customer_numbers=tuple(re.compile(pattern) for pattern in config.customer_number_patterns),
        ignore=tuple(re.compile(pattern) for pattern in config.ignore_patterns),
        own_numbers=frozenset(number for number in own_numbers if number is not None),
        own_streets=own_street_keys(config.own_addresses),
        own_domains=tuple(domain.casefold().strip(".") for domain in config.own_email_domains),
        hinted=frozenset(others) & frozenset(_REGION_NAMES),
    )


def detect(text: str, config: PiiConfig = PiiConfig(), language: str | None = None) -> list[PiiSpan]:
    """Personal data in ``text`` (its first ``MAX_TEXT_CHARS`` characters): sorted, non-overlapping spans.

    ``language`` ("de", "en", …) picks the regions national phone numbers are read in; without it the
    language is guessed from common words.
    """
    original = text[:MAX_TEXT_CHARS]
    text, origin = _compatibility_form(original)
    compiled = _compile(config)
    candidates = list(_emails(text, compiled.own_domains, language))
    if _ANY_DIGIT.search(text):  # every other kind contains a digit; most posts have none
        masked = _NOT_A_NUMBER.sub(lambda m: "\x00" * (m.end() - m.start()), text)
        post_language = _language(text, language)
        language_regions = compiled.regions.get(post_language, compiled.regions[None])
        candidates += [
            *_phones(masked, language_regions, compiled.own_numbers,
                     lambda: _regions_named_first(text, language_regions, compiled.hinted)),
            *_ibans(text),
            *_cards(text, masked),
            *_customer_numbers(text, compiled.customer_numbers),
            *(_Candidate(PiiKind.ADDRESS, s, e) for s, e in find_addresses(text, compiled.own_streets)),
            *_birthdates(text),
        ]
    if compiled.ignore and candidates:
        candidates = _drop_ignored(text, candidates, compiled.ignore)
    chosen = _resolve_overlaps(candidates, len(text))
    chosen = _add_repeated_occurrences(text, chosen)
    if origin is None:
        return [PiiSpan(c.kind, c.start, c.end) for c in chosen]
    spans: list[PiiSpan] = []
    for candidate in chosen:
        start, end = origin[candidate.start], origin[candidate.end - 1] + 1
        if spans and start < spans[-1].end:  # both ends inside one character that NFKC made several ("½")
            spans[-1] = PiiSpan(spans[-1].kind, spans[-1].start, max(end, spans[-1].end))
        else:
            spans.append(PiiSpan(candidate.kind, start, end))
    return spans


def _regions_named_first(text: str, regions: tuple[str, ...], hinted: frozenset[str]) -> tuple[str, ...]:
    """``regions`` (those of the post's language, default first), with a configured region the post names
    ("Wien", "+43", "…@gmx.at") first, in a post of any language."""
    named = _hinted_region(text) if hinted else None
    if named is None or named not in hinted:
        return regions
    return (named, *(region for region in regions if region != named))


def _compatibility_form(text: str) -> tuple[str, list[int] | None]:
    """``text`` in NFKC (full-width "０１７１" and "＠" become "0171" and "@", no-break spaces spaces), and for
    each of its characters the index of the original character it came from; ``None`` when nothing changes.

    Character by character, so each piece maps back to exactly one original character.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        form = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        pieces.append(form)
        origin.extend([index] * len(form))
    return "".join(pieces), origin


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


TRUNCATED_MARKER = "⟨…⟩"


def redact_text(
    text: str, config: PiiConfig = PiiConfig(), language: str | None = None
) -> tuple[str, tuple[PiiKind, ...]]:
    """Redacted text and the kinds found (each once, in order of first appearance).

    A text longer than ``MAX_TEXT_CHARS`` (longer than any platform allows) is cut there: what was not
    examined is not kept.
    """
    examined = text[:MAX_TEXT_CHARS]
    spans = detect(examined, config, language)
    redacted = redact(examined, spans)
    if len(text) > MAX_TEXT_CHARS:
        redacted += TRUNCATED_MARKER
    return redacted, tuple(dict.fromkeys(span.kind for span in spans))


def _language(text: str, language: str | None) -> str | None:
    if language:
        return language.replace("_", "-").split("-")[0].lower()
    english = german = 0
    for word in _WORDS.findall(text[:2000].casefold()):
        english += word in _ENGLISH_WORDS
        german += word in _GERMAN_WORDS
    if english == german:
        return None
    return "en" if english > german else "de"


def _phones(
    masked: str, regions: tuple[str, ...], own: frozenset[tuple[int, int]],
    named_first: Callable[[], tuple[str, ...]],
) -> Iterator[_Candidate]:
    """Valid phone numbers among runs of digit groups; when a run is no number, shorter runs are tried.

    Bounded work per digit group: a number starts at "+", "0" or "(" (or any digit for a region without a
    trunk prefix), spans at most ``_MAX_PHONE_GROUPS`` groups of which at most two are single digits, and
    at most ``_MAX_ENDS_PER_START`` ends are tried; a number written again is parsed once (cache).
    """
    cache: dict[str, phonenumbers.PhoneNumber | None] = {}
    groups: list[tuple[int, int, int]] = []
    national: list[tuple[str, ...]] = []  # the regions for national numbers, the named one first: looked up once

    def parse(first: int, last: int) -> phonenumbers.PhoneNumber | None:
        key = _phone_key(masked[groups[first][0] : groups[last][1]])
        if key not in cache:
            international = key.startswith(("+", "00"))
            if not international and not national:
                national.append(named_first())
            cache[key] = _valid_number(key, regions if international else national[0])
        return cache[key]

    def may_start(group: str) -> bool:
        if _may_start_a_number(group, regions):
            return True
        if not national:  # a region without a trunk "0" the post names: "Bin in den USA, Nummer (415) 555-2671"
            national.append(named_first())
        return _may_start_a_number(group, national[0])

    def starts_a_number(first: int) -> bool:
        """A valid reading starts at group ``first`` ("+49 4172 394760 035849 2496": the second number)."""
        if masked[groups[first][0]] != "0":
            return False
        ends, digits = [], 0
        for last in range(first, min(len(groups), first + _MAX_PHONE_GROUPS)):
            digits += groups[last][2]
            if digits > _MAX_PHONE_DIGITS:
                break
            if digits >= 6:
                ends.append(last)
        return any(parse(first, last) is not None for last in reversed(ends[-_MAX_ENDS_PER_START:]))

    for match in _PHONE_CANDIDATE.finditer(masked):
        base = match.start()
        groups = [(base + g.start(), base + g.end(), sum(ch.isdigit() for ch in g.group()))
                  for g in _PHONE_GROUP.finditer(match.group())]
        index = 0
        while index < len(groups):
            start = groups[index][0]
            if not may_start(masked[start : groups[index][1]]):
                index += 1
                continue
            ends, digits, singles = [], 0, 0
            for last in range(index, min(len(groups), index + _MAX_PHONE_GROUPS)):
                digits += groups[last][2]
                singles += groups[last][2] == 1 and masked[groups[last][0]] != "("
                if digits > _MAX_PHONE_DIGITS or singles > 2:
                    break
                if digits >= 6:
                    ends.append(last)
            found = None
            for last in reversed(ends[-_MAX_ENDS_PER_START:]):
                number = parse(index, last)
                if number is not None:
                    found = last, number
                    if sum(g[2] for g in groups[index : last + 1]) >= _SPLIT_FROM_DIGITS:
                        found = _split_before_next_number(index, last, number, groups, masked, parse)
                    break
            if found is None:
                index += 1
                continue
            cut = found[0] < last  # the rest of the reading is the next number ("02732 32304 035320 21182")
            last, number = found
            # a run of six or more digits right after a number is more of it (or another number): never leak it;
            # not when it starts the next number, which is read on its own
            while (not cut and last + 1 < len(groups) and groups[last + 1][2] >= 6
                   and masked[groups[last + 1][0]].isdigit() and not starts_a_number(last + 1)):
                last += 1
            end = groups[last][1]
            if masked[start] == "(" and ")" not in masked[start:end]:
                start += 1
            if masked[end - 1] == ")" and "(" not in masked[start:end]:
                end -= 1
            service = phonenumbers.number_type(number) in _SERVICE_NUMBER_TYPES
            device = _DEVICE_NUMBER_LABEL_OR_PREFIX.search(masked, max(0, start - 40), start) is not None
            if not (service or device) and (number.country_code, number.national_number) not in own:
                yield _Candidate(PiiKind.PHONE, start, end)
            index = last + 1


def _split_before_next_number(
    first: int, last: int, number: phonenumbers.PhoneNumber, groups: list[tuple[int, int, int]], masked: str,
    parse: Callable[[int, int], phonenumbers.PhoneNumber | None],
) -> tuple[int, phonenumbers.PhoneNumber]:
    """The reading of groups ``first..last`` to keep: cut before a later group that starts with "0" or "+" when
    both sides are valid numbers ("0228 456789 0228 987654" is two numbers, though the whole is a valid one).

    German numbers have no fixed length, so the longest valid reading would swallow the next number's area
    code. Bounded: the last ``_MAX_SPLITS`` such groups, each with at most ``_MAX_ENDS_PER_START`` tails.
    """
    tried = 0
    for split in range(last, first, -1):
        if tried == _MAX_SPLITS:
            break
        # an area code, mobile or country prefix starts the next number: "0228", "0176", "+49" (not "05")
        prefix = masked[groups[split][0] : groups[split][1]].lstrip("(")[:1]  # "(02483) 70248" too
        if prefix not in "0+" or (prefix == "0" and groups[split][2] < 3) or sum(g[2] for g in groups[first:split]) < 6:
            continue
        tried += 1
        head = parse(first, split - 1)
        if head is None:
            continue
        ends, digits = [], 0
        for tail_last in range(split, min(len(groups), split + _MAX_PHONE_GROUPS)):
            digits += groups[tail_last][2]
            if digits > _MAX_PHONE_DIGITS:
                break
            if digits >= 6:
                ends.append(tail_last)
        if any(parse(split, tail_last) is not None for tail_last in reversed(ends[-_MAX_ENDS_PER_START:])):
            return split - 1, head
    return last, number


def _phone_key(raw: str) -> str:
    """The digits of a written number, "+" kept, the "(0)" of "+49 (0)171 …" dropped: what is parsed."""
    if raw.startswith(("+", "00")):
        raw = raw.replace("(0)", "")
    return ("+" if raw.startswith("+") else "") + "".join(ch for ch in raw if ch.isdigit())


def _may_start_a_number(group: str, regions: tuple[str, ...]) -> bool:
    digits = group.lstrip("+(")
    if group.startswith("+") or digits.startswith("0"):
        return True
    return any(_trunk_prefix(region) != "0" for region in regions)


@lru_cache(maxsize=256)
def _trunk_prefix(region: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (metadata.national_prefix or "") if metadata is not None else ""


def _valid_number(digits: str, regions: tuple[str, ...]) -> phonenumbers.PhoneNumber | None:
    """The number as read in the first region (default first) where it is valid.

    The home region's reading wins: "0180 978916" in a German post is a German shared-cost hotline, even
    though "01 80978916" would be a Vienna number.
    """
    international = digits.startswith(("+", "00"))
    for region in regions[:1] if international else regions:
        if not international and _trunk_prefix(region) == "0" and not digits.startswith("0"):
            continue
        try:
            number = phonenumbers.parse(digits, region)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def _ibans(text: str) -> Iterator[_Candidate]:
    last_end = 0
    for start_match in _IBAN_START.finditer(text):
        start = start_match.start()
        length = _iban_length(text[start : start + 2].upper()) if start >= last_end else 0
        candidate = _IBAN_CANDIDATE.match(text, start) if length else None
        if candidate is None:
            continue
        # the country's IBAN length decides where it ends ("... 3201 bitte", "... 00 – warum")
        positions = [i for i, ch in enumerate(candidate.group()) if ch.isalnum()][:length]
        compact = "".join(candidate.group()[i] for i in positions).upper()
        if len(compact) == length and stdnum_iban.is_valid(compact):
            last_end = start + positions[-1] + 1
            yield _Candidate(PiiKind.IBAN, start, last_end)


@lru_cache(maxsize=1024)
def _iban_length(country: str) -> int:
    """The length of an IBAN of this country (0: no IBAN country), from the registry stdnum ships."""
    info = _IBAN_REGISTRY.info(country)
    bban = info[0][1].get("bban") if info and info[0][0] == country else None
    return 4 + sum(int(n) for n in re.findall(r"([0-9]+)!", bban)) if bban else 0


def _cards(text: str, masked: str) -> Iterator[_Candidate]:
    """Card numbers; a run that fails the check is read again without its trailing groups, longest first
    ("4111 1111 1111 1111 12/27", "… 4444 2 mal belastet", "5555555555554444 3 times": the expiry or a count
    follows the card)."""
    for pattern, source in ((_CARD_CANDIDATE, masked), (_GROUPED_CARD, text)):
        for match in pattern.finditer(source):
            end = _card_end(match.group())
            if end and not _DEVICE_NUMBER_LABEL.search(text, max(0, match.start() - 30), match.start()):
                yield _Candidate(PiiKind.CARD, match.start(), match.start() + end)


def _card_end(run: str) -> int:
    """The end (in ``run``) of its longest reading that is a card number (a whole number of its groups, grouped
    as cards are printed, an issuer prefix, 13-19 digits or 12 for Maestro, a valid Luhn check digit); 0 when
    none is."""
    digits = "".join(ch for ch in run if ch.isdigit())
    if not _CARD_PREFIX.match(digits):
        return 0
    shortest = 12 if digits[0] in "056" else 13
    # a group's end in the run and the digits up to it: at most 19 digits, so a handful of readings
    ends: list[tuple[int, int]] = []
    count = 0
    for index, ch in enumerate(run):
        if ch.isdigit():
            count += 1
            if index + 1 == len(run) or not run[index + 1].isdigit():
                ends.append((index + 1, count))
    sizes = [count - (ends[i - 1][1] if i else 0) for i, (_, count) in enumerate(ends)]
    for group, (end, count) in reversed(list(enumerate(ends))):
        if count < shortest:
            break
        if count <= 19 and _printed_like_a_card(sizes[: group + 1]) and luhn.is_valid(digits[:count]):
            return end
    return 0


def _printed_like_a_card(sizes: list[int]) -> bool:
    """Digit groups as cards are printed: one run, fours (the last of three or four: "… 1111 123"), 4-6-5 or 4-6-4,
    or 4 then threes. Not "4242 4242 4242 4243 09" (card and month) nor "5370 24071934 04222" (phone numbers)."""
    if len(sizes) == 1:
        return True
    first, rest = sizes[0], sizes[1:]
    return first == 4 and (
        (all(size == 4 for size in rest[:-1]) and rest[-1] in (3, 4))
        or (rest[0] == 6 and len(rest) == 2 and rest[1] in (4, 5))
        or all(size == 3 for size in rest)
    )


def _emails(text: str, own_domains: tuple[str, ...], language: str | None) -> Iterator[_Candidate]:
    plain = "@" in text
    obfuscated = _OBFUSCATION_HINT.search(text) is not None
    if not (plain or obfuscated):
        return
    for pattern, needed in ((_EMAIL, plain), (_OBFUSCATED_EMAIL, obfuscated)):
        if not needed:
            continue
        for match in pattern.finditer(text):
            if own_domains and _is_own_domain(match.group(), own_domains):
                continue
            yield _Candidate(PiiKind.EMAIL, match.start(), match.end())
    if obfuscated:
        post_language: list[str | None] = []  # guessed once, when first needed
        position = 0
        while (at_word := _AT_WORD_EMAIL.search(text, position)) is not None:
            if _is_at_word_email(at_word, text, own_domains, language, post_language):
                position = at_word.end()
                yield _Candidate(PiiKind.EMAIL, at_word.start(), at_word.end())
            else:
                # "contact me at maria.brown at host.com": the rejected domain may be the next local part
                position = at_word.start("domain")


def _is_at_word_email(
    match: re.Match[str], text: str, own_domains: tuple[str, ...], language: str | None, post_language: list[str | None]
) -> bool:
    domain = match.group("domain")
    if domain.rsplit(".", 1)[-1].casefold() not in _TOP_LEVEL_DOMAINS or (
        own_domains and _is_own_domain(match.group(), own_domains)
    ):
        return False
    if (
        _LOCAL_PART_MARK.search(match.group("local"))
        or _MAIL_PROVIDER.search(domain)
        or match.group("at").casefold() == "ät"
        or _EMAIL_CUE_BEFORE.search(text, max(0, match.start() - 40), match.start())
    ):
        return True
    if not post_language:  # the " at " of the addresses themselves is no English word
        post_language.append(_language(_AT_WORD_EMAIL.sub(" ", text), language))
    # (nor a capitalised German noun: "die Seite at heise.de")
    local = match.group("local")
    return post_language[0] not in (None, "en") and not (local[:1].isupper() and local[1:].islower())


def _is_own_domain(address: str, own_domains: tuple[str, ...]) -> bool:
    tail = re.split(rf"(?i)@|{_AT}|\s(?:at|ät)\s", address, maxsplit=1)[-1]
    domain = _DOMAIN_DOTS.sub(".", tail).replace(" ", "").casefold()
    return any(domain == own or domain.endswith("." + own) for own in own_domains)


def _customer_numbers(text: str, patterns: Sequence[re.Pattern[str]]) -> Iterator[_Candidate]:
    for pattern in patterns:
        use_group = "number" in pattern.groupindex
        for match in pattern.finditer(text):
            start, end = match.span("number") if use_group else match.span()
            if not use_group:
                # the span is the number inside the match, so its repeats elsewhere are found too
                numbers = list(_NUMBER_IN_MATCH.finditer(text, start, end))
                if numbers:
                    longest = max(numbers, key=lambda m: m.end() - m.start())
                    start, end = longest.span()
            if start >= 0 and end > start:
                yield _Candidate(PiiKind.CUSTOMER_NUMBER, start, end)


def _birthdates(text: str) -> Iterator[_Candidate]:
    if not _BIRTH_CUE.search(text):
        return
    # a cue with its date after it is that date's: a date before it is another ("Umzug zum 25.03.2026
    # Geburtsdatum 18.09.1990")
    cues_with_date = set()
    for match in _BIRTHDATE.finditer(text):
        cues_with_date.add(match.start())
        yield _Candidate(PiiKind.BIRTHDATE, *match.span("date"))
    # the date ends at most a few words before its cue: look only there (the date patterns are many)
    searched = 0
    for cue in _CUE_AFTER.finditer(text):
        start = max(searched, cue.start() - _DATE_BEFORE_CUE_CHARS)
        for match in _BIRTHDATE_CUE_AFTER.finditer(text, start, cue.end()):
            if match.start("cue") not in cues_with_date:
                yield _Candidate(PiiKind.BIRTHDATE, *match.span("date"))
        searched = cue.end()


def _drop_ignored(text: str, candidates: list[_Candidate], patterns: Sequence[re.Pattern[str]]) -> list[_Candidate]:
    """Drop candidates that lie inside one match of an ignore pattern (linear: a running furthest end)."""
    furthest = [0] * (len(text) + 1)  # furthest[i]: the end of the longest ignored match starting at i
    any_match = False
    for pattern in patterns:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                furthest[match.start()] = max(furthest[match.start()], match.end())
                any_match = True
    if not any_match:
        return candidates
    reach = 0
    for i in range(len(furthest)):  # reach: the furthest end of a match starting at or before i
        reach = furthest[i] = max(reach, furthest[i])
    return [c for c in candidates if furthest[c.start] < c.end]


def _resolve_overlaps(candidates: list[_Candidate], length: int) -> list[_Candidate]:
    """Longest first, then most specific; a candidate overlapping one already chosen is dropped."""
    taken = bytearray(length)
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (-c.length, -_SPECIFICITY[c.kind], c.start)):
        if candidate.length == 0 or any(taken[candidate.start : candidate.end]):
            continue
        taken[candidate.start : candidate.end] = b"\x01" * candidate.length
        chosen.append(candidate)
    chosen.sort(key=lambda c: c.start)
    return chosen


_FEW_NEEDLES = 8


def _add_repeated_occurrences(text: str, chosen: list[_Candidate]) -> list[_Candidate]:
    """A text that is PII once is PII wherever else it appears in the post (even where context is missing).

    Any occurrence counts, also inside a longer word or number: redacting too much is safer than leaking.
    Linear: a handful of needles are searched one by one; many are found in one pass over the text, looking
    up each position's first characters in a table of needles.
    """
    if not chosen:
        return chosen
    kinds_by_text = {text[c.start : c.end]: c.kind for c in reversed(chosen)}
    extra: list[_Candidate] = []

    def add(needle: str, position: int) -> None:
        extra.append(_Candidate(kinds_by_text[needle], position, position + len(needle)))

    if len(kinds_by_text) <= _FEW_NEEDLES:
        for needle in kinds_by_text:
            position = text.find(needle)
            while position != -1:
                add(needle, position)
                position = text.find(needle, position + 1)
    else:
        # needles by their first characters, then by length: each position costs a few dictionary lookups
        prefix = min(4, *(len(needle) for needle in kinds_by_text))
        table: dict[str, dict[int, set[str]]] = {}
        for needle in kinds_by_text:
            table.setdefault(needle[:prefix], {}).setdefault(len(needle), set()).add(needle)
        for position in range(len(text) - prefix + 1):
            by_length = table.get(text[position : position + prefix])
            if by_length is None:
                continue
            for length, needles in by_length.items():
                if text[position : position + length] in needles:
                    add(text[position : position + length], position)
    extra += _repeats_grouped_differently(text, chosen)
    if set(extra) <= set(chosen):
        return chosen
    return _resolve_overlaps([*chosen, *extra], len(text))


_DIGIT_GROUPS = re.compile(r"[0-9]+(?:[ ./\u2013-]{1,3}[0-9]+)*")
_DIGITS = re.compile(r"[0-9]+")
_NUMBER_KINDS = frozenset({PiiKind.CUSTOMER_NUMBER, PiiKind.PHONE, PiiKind.CARD})


def _repeats_grouped_differently(text: str, chosen: list[_Candidate]) -> list[_Candidate]:
    """A found number written again with other grouping ("253 514 4032, nochmal: 2535144032"): the same digits
    from one group's start to a group's end. Linear: a few set lookups per digit group (one per key length).
    """
    keys: dict[str, PiiKind] = {}
    for candidate in chosen:
        if candidate.kind in _NUMBER_KINDS:
            digits = "".join(ch for ch in text[candidate.start : candidate.end] if ch.isdigit())
            if len(digits) >= 6:
                keys.setdefault(digits, candidate.kind)
    if not keys:
        return []
    lengths = sorted({len(key) for key in keys})
    found: list[_Candidate] = []
    for run in _DIGIT_GROUPS.finditer(text):
        groups = list(_DIGITS.finditer(run.group()))
        digits = "".join(group.group() for group in groups)
        if len(digits) < lengths[0]:
            continue
        # offset in ``digits`` after each group -> that group's end in the text
        ends: dict[int, int] = {}
        offset = 0
        for group in groups:
            offset += group.end() - group.start()
            ends[offset] = run.start() + group.end()
        offset = 0
        for group in groups:
            for length in lengths:
                end = ends.get(offset + length)
                if end is not None and digits[offset : offset + length] in keys:
                    found.append(_Candidate(keys[digits[offset : offset + length]], run.start() + group.start(), end))
            offset += group.end() - group.start()
    return found
