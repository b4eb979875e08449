from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pytest

from hilft.core.policy import parse_policy
from hilft.core.routing import RoutingDecision, find_keyword, radar_match, route


@dataclass(frozen=True)
class Dept:
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    private: bool = False


DEPARTMENTS = {
    "rechnung": Dept(
        keywords=("rechnung", "abbuchung"), patterns=(r"(?i)\bvertrags?nummer\b",), private=True
    ),
    "festnetz": Dept(keywords=("festnetz", "dsl", "router", "störung")),
    "mobilfunk": Dept(keywords=("handy", "esim", "störung")),
    "international": Dept(languages=("en",)),
    "kundenservice": Dept(),
}


def routed(text: str, language: str | None = "de") -> RoutingDecision:
    return route(text, language, DEPARTMENTS, "kundenservice")


def test_a_post_goes_to_the_department_whose_keyword_it_names() -> None:
    assert routed("Mein Router blinkt nur noch rot") == RoutingDecision("festnetz", False, "router")


def test_the_first_department_in_file_order_wins() -> None:
    # "störung" is a keyword of festnetz and mobilfunk; festnetz comes first.
    assert routed("Störung beim Handy").department == "festnetz"


def test_keywords_ignore_case_and_the_way_umlauts_are_written() -> None:
    decomposed = unicodedata.normalize("NFD", "Große Störung")
    for text in ["GROSSE STÖRUNG", "grosse stoerung", decomposed]:
        assert routed(text).matched == "störung", text


def test_keywords_find_german_compounds_and_plurals_but_not_words_that_merely_contain_them() -> None:
    assert routed("Festnetzanschluss tot").department == "festnetz"
    assert routed("Zwei Routers, beide tot").department == "festnetz"
    assert routed("DSL-Leitung tot").department == "festnetz"
    assert routed("Die Abbuchungen stimmen nicht").department == "rechnung"
    assert routed("Das Onlinerechnungsportal ist toll").department == "kundenservice"


def test_regex_patterns_route_too_and_report_the_pattern_not_the_text() -> None:
    decision = routed("Meine Vertragsnummer ist 12345678")
    assert decision == RoutingDecision("rechnung", True, r"(?i)\bvertrags?nummer\b")


def test_a_private_department_requires_private_contact() -> None:
    assert routed("Falsche Rechnung!").requires_private
    assert not routed("Router kaputt").requires_private


def test_a_post_nobody_claims_goes_to_the_default_department() -> None:
    assert routed("Hallo, eine allgemeine Frage") == RoutingDecision("kundenservice", False, None)


def test_the_default_department_s_privacy_applies_when_it_catches_a_post() -> None:
    departments = {"festnetz": Dept(keywords=("dsl",)), "datenschutz": Dept(private=True)}
    assert route("Wer sieht meine Daten?", "de", departments, "datenschutz") == RoutingDecision(
        "datenschutz", True, None
    )


def test_a_department_limited_to_languages_takes_only_posts_in_them() -> None:
    assert routed("My bill is wrong", "en").department == "international"
    assert routed("My bill is wrong", "en-GB").matched == "language:en"
    assert routed("My bill is wrong", "de").department == "kundenservice"
    assert routed("My bill is wrong", None).department == "kundenservice"


def test_a_language_limit_also_narrows_a_keyword_department() -> None:
    departments = {"dsl_en": Dept(keywords=("dsl",), languages=("en",)), "rest": Dept()}
    assert route("DSL down", "en", departments, "rest").department == "dsl_en"
    assert route("DSL tot", "de", departments, "rest").department == "rest"


def test_routing_works_on_the_departments_of_a_policy_file() -> None:
    policy = parse_policy(
        "[handoff]\ndefault_department = 'kundenservice'\n"
        "[departments.tv]\nkeywords = ['magentatv']\n[departments.kundenservice]\nlabel = 'Kundenservice'"
    )
    decision = route("MagentaTV hängt", "de", policy.departments, policy.handoff.default_department)
    assert decision == RoutingDecision("tv", False, "magentatv")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Bei der Telekom geht mal wieder nichts", True),
        ("T-Online Mail ist down", True),
        ("#MagentaTV läuft nicht", True),
        ("Tolle Angebote der Telekom #Anzeige", False),
        ("Mein Internet ist langsam", False),
        ("Kartellamt prüft Stromanbieter", False),
    ],
)
def test_the_radar_keeps_posts_that_name_the_brand_and_are_not_ads(text: str, kept: bool) -> None:
    assert radar_match(text, ["telekom", "t-online", "magentatv"], ["#anzeige"]) is kept


def test_a_radar_without_keywords_keeps_nothing() -> None:
    assert not radar_match("Telekom", [], [])


def test_an_exclusion_that_starts_with_a_symbol_matches_right_after_a_word() -> None:
    assert find_keyword("Top Angebot!#anzeige", ["#anzeige"]) == "#anzeige"
    assert find_keyword("Top Angebot! #Anzeige", ["#anzeige"]) == "#anzeige"


def test_blank_keywords_never_match() -> None:
    assert find_keyword("irgendein Text", ["", "   "]) is None
