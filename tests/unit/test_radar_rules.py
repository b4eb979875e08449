"""Filtered Stream rules from [radar], and the sync plan against X's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hilft.core.policy import Radar
from hilft.core.radar_rules import RuleError, StreamRule, build_rules, plan_sync, term


def test_the_policy_radar_becomes_one_rule() -> None:
    radar = Radar(keywords=("telekom", "t-online", "magentatv", "magenta tv"), exclude=("#anzeige", "#werbung"),
                  languages=("de", "en"))
    (rule,) = build_rules(radar, ["1000000002", "1000000001"])
    assert rule == StreamRule('(telekom OR "t-online" OR magentatv OR "magenta tv") -#anzeige -#werbung '
                              "(lang:de OR lang:en) -is:retweet -from:1000000001 -from:1000000002", "hilft-radar")


@pytest.mark.parametrize(("keyword", "expected"), [
    ("Telekom", "telekom"), ("#Störung", "#störung"), ("@Telekom_hilft", "@Telekom_hilft"),
    ("t-online", '"t-online"'), ("magenta  tv", '"magenta tv"'), ('say "hi"', '"say \\"hi\\""'),
])
def test_terms(keyword: str, expected: str) -> None:
    assert term(keyword) == expected


def test_one_language_needs_no_parentheses_and_no_keywords_no_rules() -> None:
    (rule,) = build_rules(Radar(keywords=("telekom",), languages=("de",)))
    assert rule.value == "telekom lang:de -is:retweet"
    assert build_rules(Radar()) == ()


def test_long_keyword_lists_split_into_tagged_rules_within_the_limit() -> None:
    keywords = tuple(f"stichwort{i:03d}" for i in range(120))
    radar = Radar(keywords=keywords, exclude=("#anzeige",), languages=("de",), max_rule_length=512)
    rules = build_rules(radar, ["1000000001"])
    assert len(rules) > 1
    assert [r.tag for r in rules] == ["hilft-radar"] + [f"hilft-radar:{i}" for i in range(2, len(rules) + 1)]
    assert all(len(r.value) <= 512 for r in rules)
    assert all(r.value.endswith("-#anzeige lang:de -is:retweet -from:1000000001") for r in rules)
    covered = " ".join(r.value for r in rules)
    assert all(k in covered for k in keywords)


def test_a_suffix_longer_than_the_limit_is_an_error_naming_the_key() -> None:
    radar = Radar(keywords=("telekom",), exclude=tuple(f"#werbung{i}" for i in range(20)), max_rule_length=64)
    with pytest.raises(RuleError, match="radar.max_rule_length"):
        build_rules(radar)


@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöü -#", min_size=1, max_size=20)
                .filter(lambda s: s.strip(" #-")), min_size=1, max_size=60))
def test_every_rule_fits_and_every_keyword_is_in_one(keywords: list[str]) -> None:
    radar = Radar(keywords=tuple(keywords), languages=("de",), max_rule_length=256)
    rules = build_rules(radar, ["1"])
    assert all(len(r.value) <= 256 for r in rules)
    for keyword in keywords:
        assert sum(term(keyword) in r.value for r in rules) >= 1


def test_sync_plan_adds_missing_deletes_stale_and_leaves_foreign_rules_alone() -> None:
    wanted = (StreamRule("telekom -is:retweet", "hilft-radar"), StreamRule("magentatv -is:retweet", "hilft-radar:2"))
    existing = [
        {"id": "1", "value": "telekom -is:retweet", "tag": "hilft-radar"},
        {"id": "2", "value": "old keyword -is:retweet", "tag": "hilft-radar:2"},
        {"id": "3", "value": "competitor", "tag": "marketing"},
        {"id": "4", "value": "untagged"},
    ]
    plan = plan_sync(wanted, existing, "hilft-radar")
    assert plan.add == (StreamRule("magentatv -is:retweet", "hilft-radar:2"),)
    assert plan.delete == (("2", "old keyword -is:retweet", "hilft-radar:2"),)
    assert [k[0] for k in plan.keep] == ["1"]
    assert [f[0] for f in plan.foreign] == ["3", "4"]
    assert plan.changes
    lines = plan.lines()
    assert lines[0].startswith("+ magentatv") and lines[1].startswith("- old keyword")
    # applied, the next plan is empty: idempotent
    after = [{"id": "1", "value": "telekom -is:retweet", "tag": "hilft-radar"},
             {"id": "5", "value": "magentatv -is:retweet", "tag": "hilft-radar:2"}]
    assert not plan_sync(wanted, after, "hilft-radar").changes


def test_a_rule_tag_prefix_of_another_tag_is_not_ours() -> None:
    plan = plan_sync((), [{"id": "9", "value": "x", "tag": "hilft-radarish"}], "hilft-radar")
    assert plan.delete == () and len(plan.foreign) == 1


def test_max_rule_length_is_capped_at_what_xs_filtered_stream_webhooks_take() -> None:
    from pydantic import ValidationError

    assert Radar(keywords=("telekom",), max_rule_length=2048).max_rule_length == 2048
    with pytest.raises(ValidationError):
        Radar(keywords=("telekom",), max_rule_length=2049)
