"""[pii] in the policy: the brand's own public data, phone regions, and the config the detector gets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hilft.core.errors import PolicyError
from hilft.core.pii import DEFAULT_CUSTOMER_NUMBER_PATTERNS, detect
from hilft.core.policy import load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
# every policy the project ships or runs: the deployed one, the demo's, the test fixtures
POLICIES = [
    ROOT / "functions" / "policy.toml",
    ROOT / "tests" / "fixtures" / "demo" / "policy.toml",
    *sorted((ROOT / "tests" / "fixtures" / "policy").glob("*.toml")),
]


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_every_shipped_customer_number_pattern_marks_its_number(path: Path) -> None:
    # without a `number` group the label is part of the span and a repeat of the bare number leaks
    patterns = tomllib.loads(path.read_text(encoding="utf-8")).get("pii", {}).get("customer_number_patterns", [])
    for pattern in patterns:
        assert "number" in re.compile(pattern).groupindex, f"{path.name}: {pattern}"


@pytest.mark.parametrize("path", POLICIES[:2], ids=lambda p: p.parent.name)
def test_the_shipped_and_the_demo_policy_declare_the_brands_own_data(path: Path) -> None:
    own = load_policy(path).pii.own
    assert own.phone_numbers and own.addresses and own.email_domains and own.ticket_patterns


def test_config_adds_the_policys_patterns_to_the_built_in_ones_and_carries_the_own_data() -> None:
    policy = parse_policy(
        """
[pii]
default_region = "AT"
regions = ["DE"]
customer_number_patterns = ['MK-(?P<number>[0-9]{6})']
ignore_patterns = ['Vorgang [0-9]+']
[pii.own]
phone_numbers = ["+43 1 234567"]
addresses = ["Hauptplatz 1, 1010 Wien"]
email_domains = ["Example.AT"]
ticket_patterns = ['Fall-[0-9]+']
"""
    )
    config = policy.pii.config()
    assert config.customer_number_patterns == (*DEFAULT_CUSTOMER_NUMBER_PATTERNS, "MK-(?P<number>[0-9]{6})")
    assert config.ignore_patterns == ("Vorgang [0-9]+", "Fall-[0-9]+")
    assert config.own_email_domains == ("example.at",)
    assert (config.default_region, config.regions) == ("AT", ("DE",))
    text = "01 234567 und Hauptplatz 1, 1010 Wien und info@example.at, Fall-87654321 und MK-123456"
    assert [(span.kind.value, text[span.start : span.end]) for span in detect(text, config)] == [
        ("customer_number", "123456")
    ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[pii.own]\nphone_numbers = ["hotline"]', "pii.own.phone_numbers[0]: not a phone number"),
        ('[pii]\nregions = ["XX"]', "pii.regions[0]: unknown region"),
        ('[pii]\nregions = ["de"]', "pii.regions[0]"),
        ("[pii.own]\nticket_patterns = ['Ticket (']", "pii.own.ticket_patterns[0]: invalid regular expression"),
        ('[pii.own]\nemail_domains = ["not a domain"]', "pii.own.email_domains[0]"),
        ('[pii.own]\nhotline = "0800 1"', "pii.own.hotline: unknown key"),
    ],
)
def test_a_bad_pii_key_is_named_when_the_policy_loads(toml: str, message: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_policy(toml)
