"""The fresh PII set (tests/eval/pii_fresh/generate.py: Faker and mimesis values in care posts written without
the detector in view), scored with the SHIPPED policy (functions/policy.toml) by the shared scorer.

The tables (per kind and language, per kind and locale, every miss, leak and false alarm) are written to
test-artifacts/pii_fresh.txt (and printed with -s). Gates: the issue's (recall, precision, leak-free >= 95 %,
needless handoffs < 2 %). The first measurement and the classes it failed on: README.md beside this file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hilft.core.pii import PiiKind, detect
from hilft.core.policy import Policy, load_policy
from tests.eval.pii.scoring import KINDS, BrandData, Item, Score, scored_by_locale
from tests.eval.pii_fresh import generate

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_POLICY = ROOT / "functions" / "policy.toml"
ARTIFACTS = ROOT / "test-artifacts"

MIN_RECALL = MIN_PRECISION = MIN_LEAK_FREE = 0.95
MAX_NEEDLESS_HANDOFFS = 0.02


@cache
def shipped_policy() -> Policy:
    return load_policy(SHIPPED_POLICY)


def brand_data(policy: Policy) -> BrandData:
    own = policy.pii.own
    return BrandData(handle="@Telekom_hilft", phone_numbers=tuple(own.phone_numbers),
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
                            title=f"fresh set ({len(items())} posts, Faker + mimesis), shipped policy: per kind and language",
                            locale_title="per kind and locale (the Faker locale the values came from)",
                            locales=generate.LOCALES, artifact=ARTIFACTS / "pii_fresh.txt")


def test_fresh_set_is_reproducible_varied_and_covers_every_kind_locale_and_language() -> None:
    first, again = posts(), generate.build(brand_data(shipped_policy()))
    assert [p.text for p in first] == [p.text for p in again]
    assert [p.labels for p in first] == [p.labels for p in again]
    with_pii = [p for p in first if p.labels]
    assert len(with_pii) == generate.POSITIVE_POSTS and len(first) == generate.POSITIVE_POSTS + generate.NEGATIVE_POSTS
    assert {p.locale for p in first} == set(generate.LOCALES)
    assert {p.lang for p in with_pii} == {p.lang for p in first} == {"de", "en", "mix"}
    assert {label.kind for p in with_pii for label in p.labels} == set(KINDS) == {k.value for k in PiiKind}
    assert {(label.kind, p.locale) for p in with_pii for label in p.labels} == {
        (kind, locale) for kind in KINDS for locale in generate.LOCALES}
    assert len({p.text for p in first}) == len(first)
    for post in with_pii:  # every label is in its post and its secret in its value
        assert all(lb.value in post.text and lb.secret and lb.secret in lb.value for lb in post.labels), post.text


def test_another_seed_gives_other_posts() -> None:
    other = generate.build(brand_data(shipped_policy()), seed=generate.SEED + 1)
    assert len({p.text for p in other} & {p.text for p in posts()}) < 0.05 * len(other)


def test_fresh_set_meets_the_gates_with_the_shipped_policy() -> None:
    result = scored()
    checks = [
        ("recall", result.recall(), result.recall() >= MIN_RECALL, ">= 95 %"),
        ("precision", result.precision(), result.precision() >= MIN_PRECISION, ">= 95 %"),
        ("leak-free", result.leak_free_rate(), result.leak_free_rate() >= MIN_LEAK_FREE, ">= 95 %"),
        ("needless handoffs", result.handoff_rate(), result.handoff_rate() < MAX_NEEDLESS_HANDOFFS, "< 2 %"),
    ]
    failures = [f"{what} {value:.1%} (gate {gate})" for what, value, ok, gate in checks if not ok]
    assert not failures, "fresh set (see test-artifacts/pii_fresh.txt): " + "; ".join(failures)
