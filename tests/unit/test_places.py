"""Places in post texts: postcodes and city names become postcode regions (Leitregionen)."""

from __future__ import annotations

import pytest

from hilft.core.places import find_place, region_of_postcode, regions


@pytest.mark.parametrize(("text", "code", "label"), [
    ("Seit heute früh kein Netz in 53113 Bonn", "de-53", "53113 Bonn"),
    ("PLZ 53179: Internet weg", "de-53", "53179"),
    ("Internet weg in 53179", "de-53", "53179"),
    ("bei 01067 kein LTE", "de-01", "01067"),
    ("01067 Dresden kein LTE", "de-01", "01067 Dresden"),
    ("Auftrag 12345 offen, Störung in 53113 Bonn", "de-53", "53113 Bonn"),  # the order number is skipped
    ("Köln: Internet weg", "de-50", "Köln"),
    ("KOELN internet weg", "de-50", "Köln"),
    ("muenchen schon wieder störung", "de-80", "München"),
    ("Störung in Frankfurt (Oder)", "de-15", "Frankfurt (Oder)"),
    ("Störung in Frankfurt", "de-60", "Frankfurt"),
    ("Raum Essen alles tot", "de-45", "Essen"),
    ("45127 Essen kein Netz", "de-45", "45127 Essen"),
    ("Bergisch  Gladbach ohne DSL", "de-51", "Bergisch Gladbach"),
    ("in Gießen kein LTE", "de-35", "Gießen"),
])
def test_places_found(text: str, code: str, label: str) -> None:
    place = find_place(text)
    assert place is not None
    assert (place.region.code, place.label) == (code, label)


@pytest.mark.parametrize("text", [
    "Essen ist fertig, Internet trotzdem weg",  # "Essen" the meal
    "Die Halle ist voll",  # a hall, not Halle (Saale)
    "Ruf mich an: 0228 12345 678",  # a phone number written in groups
    "Kundennummer 1234567890",  # a longer number
    "Betrag 12345,67 EUR",  # a decimal
    "Bonner Straße",  # Bonn as part of a word
    "PLZ 00123",  # Leitregion 00 is not assigned
    "Störung seit 2 Tagen, Auftrag 12345 immer noch offen",  # five digits, no postcode's context
    "Internet weg, Router Fehlercode 10012",
    "Kein Internet seit 20000 Sekunden lol",
    "53179: Internet weg",  # a bare number: an order, an error code or a postcode — not counted
    "",
])
def test_no_place(text: str) -> None:
    assert find_place(text) is None


def test_every_assigned_leitregion_is_in_the_table() -> None:
    table = regions()
    unassigned = {"00", "05", "43", "62"}
    assert set(table) == {f"{n:02d}" for n in range(100)} - unassigned
    assert region_of_postcode("53113") is not None and region_of_postcode("53113").name == "Bonn"
    assert region_of_postcode("5311") is None
