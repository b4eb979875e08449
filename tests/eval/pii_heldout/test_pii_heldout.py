"""The held-out PII set (tests/eval/pii_heldout/generate.py: mimesis values, posts written fresh), scored
with the SHIPPED policy (functions/policy.toml) by the same scorer as tests/eval/pii.

The tables (per kind and language, per kind and locale, every miss, leak and false alarm) are written to
test-artifacts/pii_heldout.txt (and printed with -s). Gates: MIN_* below, and README, "Personal data".
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hilft.core.pii import PiiKind, detect
from hilft.core.policy import Policy, load_policy
from tests.eval.pii.scoring import KINDS, Item, Score, scored_by_locale
from tests.eval.pii_heldout import generate

ROOT = Path(__file__).resolve().parents[3]

# Gates, a little below the figures reached after the fixes this set led to (README: recall 100 %, precision
# 100 %, leak-free 99.9 %, needless handoffs 0.0 %). The set is seeded, so these figures do not move from run
# to run: the margin is for a new mimesis release within the pinned major version, whose data may differ.
# Built from other seeds (same templates, other values) the set scored 99.0-99.7 % recall, 99.0-99.5 %
# leak-free, 100 % precision and no needless handoff, addresses the weakest kind at 94.7-99.0 %: so 98 %
# overall leaves that room and still fails on about one value in fifty lost, and 90 % per kind fails when a
# whole class breaks (birth dates stood at 59 % before the fixes, hidden in an overall 92.6 %).
MIN_RECALL = MIN_PRECISION = MIN_LEAK_FREE = 0.98
MAX_NEEDLESS_HANDOFFS = 0.01
MIN_RECALL_PER_KIND = 0.90
SHIPPED_POLICY = ROOT / "functions" / "policy.toml"
ARTIFACTS = ROOT / "test-artifacts"


@cache
def shipped_policy() -> Policy:
    return load_policy(SHIPPED_POLICY)


def brand_data(policy: Policy) -> generate.BrandData:
    own = policy.pii.own
    return generate.BrandData(handle="@Telekom_hilft", phone_numbers=tuple(own.phone_numbers),
                              addresses=tuple(own.addresses), email_domains=tuple(own.email_domains))


@cache
def posts() -> tuple[generate.Post, ...]:
    return tuple(generate.build(brand_data(shipped_policy())))


@cache
def items() -> tuple[Item, ...]:
    return tuple(Item(p.text, p.lang, [(lb.kind, lb.value, lb.secret) for lb in p.labels], p.locale) for p in posts())


@cache
def scored() -> Score:
    config = shipped_policy().pii.config()
    return scored_by_locale(items(), lambda text: detect(text, config),
                            title=f"held-out set ({len(items())} posts, mimesis), shipped policy: per kind and language",
                            locale_title="per kind and locale (the mimesis locale the values came from)",
                            locales=generate.LOCALES, artifact=ARTIFACTS / "pii_heldout.txt")


def test_heldout_set_is_reproducible_varied_and_covers_every_kind_and_locale() -> None:
    first, again = posts(), generate.build(brand_data(shipped_policy()))
    assert [p.text for p in first] == [p.text for p in again]
    with_pii = [p for p in first if p.labels]
    assert len(first) >= 1200 and 0.45 <= len(with_pii) / len(first) <= 0.65
    assert {p.locale for p in first} == set(generate.LOCALES)
    assert {p.lang for p in with_pii} == {"de", "en", "mix"}
    assert {label.kind for p in with_pii for label in p.labels} == set(KINDS) == {k.value for k in PiiKind}
    assert len({p.text for p in first}) >= 0.97 * len(first)


def test_iban_check_digits_are_computed_independently_and_right() -> None:
    # ISO 13616's own example, and the German one every bank prints
    assert generate.iban_check_digits("GB", "WEST12345698765432") == "82"
    assert generate.iban_check_digits("DE", "370400440532013000") == "89"


def test_heldout_set_stays_at_the_level_reached_with_the_shipped_policy() -> None:
    result = scored()
    assert sum(result.labelled.values()) >= 900 and sum(result.clean_posts.values()) >= 500
    checks = [
        ("recall", result.recall(), result.recall() >= MIN_RECALL, f">= {MIN_RECALL:.0%}"),
        ("precision", result.precision(), result.precision() >= MIN_PRECISION, f">= {MIN_PRECISION:.0%}"),
        ("leak-free", result.leak_free_rate(), result.leak_free_rate() >= MIN_LEAK_FREE, f">= {MIN_LEAK_FREE:.0%}"),
        ("needless handoffs", result.handoff_rate(), result.handoff_rate() <= MAX_NEEDLESS_HANDOFFS,
         f"<= {MAX_NEEDLESS_HANDOFFS:.0%}"),
        *((f"{kind} recall", result.recall(kind), result.recall(kind) >= MIN_RECALL_PER_KIND,
           f">= {MIN_RECALL_PER_KIND:.0%}") for kind in KINDS),
    ]
    failures = [f"{what} {value:.1%} (gate {gate})" for what, value, ok, gate in checks if not ok]
    assert not failures, "held-out set (see test-artifacts/pii_heldout.txt): " + "; ".join(failures)
