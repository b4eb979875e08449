"""The classes of misses and false alarms an independent corpus found, each as a family of cases.

Every case runs with the SHIPPED policy (functions/policy.toml): its customer-number pattern, its regions
and its [pii.own] table are part of what is tested.
"""

from __future__ import annotations

import pytest

from hilft.core.pii import PiiConfig, redact_text
from tests.unit.pii_cases import SHIPPED, found

# ---------------------------------------------------------------- phone numbers next to other numbers


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0170 1234567 5G geht nicht", "0170 1234567"),
        ("+49 170 1234567 50 Mbit bezahlt", "+49 170 1234567"),
        ("ruft an 0171 2345678 12 Uhr ist gut", "0171 2345678"),
        ("Nummer 030 12345678 3x angerufen", "030 12345678"),
        ("+49 221 1234567 2 Balken", "+49 221 1234567"),
    ],
)
def test_a_phone_number_followed_by_another_number_is_still_found(text: str, number: str) -> None:
    spans = found(text)
    # German numbers have no fixed length, so a trailing digit may be read as part of the number: either
    # way the whole number is covered and nothing after the next word is
    assert [kind for kind, _ in spans] == ["phone"] and number in spans[0][1]
    assert len(spans[0][1]) <= len(number) + 3


def test_two_numbers_in_a_row_and_a_repeated_number_are_all_redacted() -> None:
    redacted, _ = redact_text("0170 1234567 0171 7654321 und nochmal 0170 1234567", SHIPPED)
    assert redacted == "⟨phone⟩ ⟨phone⟩ und nochmal ⟨phone⟩"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("call me on 020 7946 0958 please", "en"),  # GB national
        ("ring me on (415) 555-2671 after 5", "en"),  # US national
        ("ruft mich an: 0664 1234567", "de"),  # AT mobile
        ("erreichbar unter 044 668 18 00", "de"),  # CH Zurich
    ],
)
def test_national_numbers_of_the_configured_regions_count_in_posts_of_their_language(text: str, language: str) -> None:
    assert [kind for kind, _ in found(text, language=language)] == ["phone"]


def test_a_region_counts_only_in_posts_of_its_language() -> None:
    assert found("Tarif 4155552671 ist falsch", language="de") == []  # a US number's shape in a German post


# ---------------------------------------------------------------- customer numbers: label after, "ist die"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2031402085 = meine Vertragsnummer, warum 20 € mehr?", "2031402085"),
        ("meine Kundennummer ist die 193 017 6630", "193 017 6630"),
        ("4455667788 (account number) still no refund", "4455667788"),
        ("7788990011 ist meine Kundennummer", "7788990011"),
        ("my account no. is 55 66 77 88", "55 66 77 88"),
        ("wohne in Kapfenberg 391 957 91274 = meine Vertragsnummer", "391 957 91274"),
        ("Kto.-Nr. 532013000 bei der Sparkasse", "532013000"),
        ("sort code 20-00-00 account 12345678", "12345678"),
    ],
)
def test_customer_number_with_the_label_before_or_after(text: str, number: str) -> None:
    assert found(text) == [("customer_number", number)]


def test_the_shipped_customer_number_pattern_redacts_the_repeat_too() -> None:
    redacted, _ = redact_text("Kundennummer 2535144032. Nochmal: 2535144032!", SHIPPED)
    assert redacted == "Kundennummer ⟨customer_number⟩. Nochmal: ⟨customer_number⟩!"


def test_a_custom_pattern_without_a_number_group_still_redacts_the_repeat() -> None:
    config = PiiConfig(customer_number_patterns=(r"(?i)mitgliedsnummer:?\s*\d{8}",))
    redacted, _ = redact_text("Mitgliedsnummer: 12345678, nochmal 12345678", config)
    assert redacted == "Mitgliedsnummer: ⟨customer_number⟩, nochmal ⟨customer_number⟩"


# ---------------------------------------------------------------- street shapes


@pytest.mark.parametrize(
    "street",
    [
        "Lange Reihe 24b",
        "Platz der Einheit 16 b",
        "Weg am Hang 31a",
        "Straße des 17. Juni 135",
        "Konrad-Adenauer-Straße 7",
        "van der Dussenplatz 5",
        "Marion-Hartung-Platz 12",
        "221B Baker Street",
        "786 Timothy Summit Suite 625",
        "Flat 3, Bradley Roads",
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
    ],
)
def test_street_line_with_house_number_is_redacted_whole(street: str) -> None:
    redacted, kinds = redact_text(f"Ich wohne {street}, seit Freitag kein Netz", SHIPPED)
    assert kinds == ("address",) and street not in redacted
    assert not any(part in redacted for part in street.split() if any(ch.isdigit() for ch in part))


def test_an_all_lowercase_post_keeps_no_house_number() -> None:
    redacted, _ = redact_text("wohne lange reihe 24b, 20099 hamburg, seit montag kein netz", SHIPPED)
    assert "24b" not in redacted and "⟨address⟩" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "in 53113 Bonn ist seit 14 Uhr Störung",
        "Ganz 80331 München ohne Netz",
        "Testsieger-Platz 1 im Netztest und bei mir kein Empfang",
        "MagentaTV Programmplatz 162 ist schwarz",
        "Frankfurter Allee 5G? Fehlanzeige",
        "In der Hauptstraße ist seit gestern alles tot",
        "24102 Störungsmeldungen und ihr sagt nichts",
        "outage in Leeds LS1 4AP since 9am",
        "court 3 of my tennis club has no signal",
        "ring 2 times and hang up, that's your service",
        "der weg 2 km zum nächsten shop ist zu weit",
    ],
)
def test_places_counts_and_compounds_are_not_addresses(text: str) -> None:
    assert found(text) == []


def test_a_verb_that_ends_like_a_street_does_not_swallow_a_phone_number() -> None:
    assert found("the engineer should ring 523-309-7558 first") == [("phone", "523-309-7558")]


# ---------------------------------------------------------------- IBAN, e-mail, birth date, card


@pytest.mark.parametrize(
    "iban",
    [
        "DE 89 3704 0044 0532 0130 00",
        "DE89-3704-0044-0532-0130-00",
        "DE89.3704.0044.0532.0130.00",
        "DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000",
    ],
)
def test_iban_with_any_separator_is_found_whole(iban: str) -> None:
    assert found(f"Bitte auf {iban} erstatten") == [("iban", iban)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Mail an max.muster[at]gmx.de bitte", "max.muster[at]gmx.de"),
        ("schreibt an anna (at) web (dot) de", "anna (at) web (dot) de"),
        ("contact jane at example dot co dot uk", "jane at example dot co dot uk"),
        ("Mail an jürgen.müller@example.org", "jürgen.müller@example.org"),
        ("Mail an max @ gmx.de", "max @ gmx.de"),
        ("my email is john dot smith at gmail dot com", "john dot smith at gmail dot com"),
    ],
)
def test_obfuscated_and_non_ascii_e_mail_addresses_are_found_whole(text: str, address: str) -> None:
    assert found(text) == [("email", address)]


def test_at_without_a_spelled_dot_is_english_not_an_address() -> None:
    assert found("I was at home all day, router at 2 bars") == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Max Muster *06.07.1970 bitte umschreiben", "06.07.1970"),
        ("geb. 14.November 1983", "14.November 1983"),
        ("geboren am neunten Dezember 1967", "neunten Dezember 1967"),
        ("geboren am einundzwanzigsten März 1990", "einundzwanzigsten März 1990"),
        ("born on the 3rd of May 1980", "3rd of May 1980"),
        ("DOB 05/14/1980", "05/14/1980"),
        ("im Ausweis steht 24.10.1985 als Geburtsdatum", "24.10.1985"),
        ("my passport says November 6, 1997 as date of birth", "November 6, 1997"),
    ],
)
def test_birth_dates_in_digits_and_words(text: str, date: str) -> None:
    assert found(text) == [("birthdate", date)]


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117"]
)
def test_card_number_with_a_valid_check_digit_is_found(card: str) -> None:
    assert found(f"Karte {card} doppelt belastet") == [("card", card)]


@pytest.mark.parametrize("digits", ["4111 1111 1111 1112", "1789456123456789012", "9999 9999 9999 9995"])
def test_digits_without_an_issuer_prefix_or_check_digit_are_not_a_card(digits: str) -> None:
    assert ("card", digits) not in found(f"Nummer {digits} im System")


# ---------------------------------------------------------------- dates, times, versions


@pytest.mark.parametrize(
    "text",
    [
        "Störung vom 04.12.2024 23:31 Uhr",
        "Rechnung vom 07.07.2019 – 50,97 €",
        "Techniker 02.09.–09.09.2025 angekündigt",
        "Baustelle KW 37/2025",
        "Firmware 029593.5.9.440 macht Abbrüche",
        "seit August 09 2025 kaputt",
        "Termin am 9. Dezember 2025 um 10:15",
        "bill from 03/11/2025 is wrong",
    ],
)
def test_dates_times_and_versions_are_not_phone_numbers(text: str) -> None:
    assert found(text) == []


# ---------------------------------------------------------------- the brand's own public data


@pytest.mark.parametrize(
    "text",
    [
        "Eure Zentrale +49 228 181-0 verbindet ins Nichts",
        "Zentrale 0228 1810 geht nicht ran",
        "Hotline 0800 3301000 hängt",
        "Brief an Friedrich-Ebert-Allee 140, 53113 Bonn kam zurück",
        "Habe an eure Zentrale in der Friedrich-Ebert-Allee 140 geschrieben",
        "Ist die Mail von rechnung@telekom.de echt?",
        "Mail von service@mail.telekom.de erhalten",
        "Ticketnummer 16491855 seit 3 Tagen offen",
        "Ticket-Nr. 16491855: Techniker kam nicht",
        "Ticket #16491855 geschlossen",
        "Störungsticket 16491855",
    ],
)
def test_the_brands_own_numbers_addresses_domains_and_tickets_are_not_personal(text: str) -> None:
    assert found(text) == []


def test_own_data_does_not_hide_a_customers_data_next_to_it() -> None:
    text = "Zentrale 0228 1810 sagt, ich soll hier schreiben: 0171 2345678, kunde@t-online.de"
    assert found(text) == [("phone", "0171 2345678"), ("email", "kunde@t-online.de")]


def test_without_the_own_table_the_brands_switchboard_would_count() -> None:
    bare = PiiConfig(default_region="DE")
    assert found("Zentrale 0228 1810 geht nicht ran", bare) == [("phone", "0228 1810")]
