"""PII detection gates, with the SHIPPED policy (functions/policy.toml), on two sets:

- the hand-written corpus (tests/fixtures/pii/corpus.jsonl);
- the generated set (tests/eval/pii/generate.py): Faker values in care-post templates, plus hard negatives.

Gates on each: recall >= 95 %, precision >= 95 %, leak-free >= 95 %, needless handoffs < 2 %. The tables
(per kind and language) are printed (run with -s) and written to test-artifacts/pii_eval_<set>.txt.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from hilft.core.pii import PiiConfig, PiiKind, PiiSpan, detect
from hilft.core.policy import Policy, load_policy
from tests.eval.pii import generate
from tests.eval.pii.scoring import KINDS, Item, Score, score

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_POLICY = ROOT / "functions" / "policy.toml"
CORPUS = ROOT / "tests" / "fixtures" / "pii" / "corpus.jsonl"
ARTIFACTS = ROOT / "test-artifacts"

MIN_RECALL = MIN_PRECISION = MIN_LEAK_FREE = 0.95
MAX_NEEDLESS_HANDOFFS = 0.02


@cache
def shipped_policy() -> Policy:
    return load_policy(SHIPPED_POLICY)


def shipped_config() -> PiiConfig:
    return shipped_policy().pii.config()


def brand_data(policy: Policy) -> generate.BrandData:
    own = policy.pii.own
    return generate.BrandData(handle="@Telekom_hilft", phone_numbers=tuple(own.phone_numbers),
                              addresses=tuple(own.addresses), email_domains=tuple(own.email_domains))


@cache
def generated_items() -> tuple[Item, ...]:
    posts = generate.build(brand_data(shipped_policy()))
    return tuple(
        Item(p.text, p.lang, [(label.kind, label.value, label.secret) for label in p.labels], p.locale) for p in posts
    )


@cache
def corpus_items() -> tuple[Item, ...]:
    posts = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple(Item(p["text"], p["lang"], [(lb["kind"], lb["value"], lb["value"]) for lb in p["pii"]]) for p in posts)


def _detector(config: PiiConfig):
    def run(text: str) -> list[PiiSpan]:
        return detect(text, config)

    return run


@cache
def scored(name: str) -> Score:
    items = generated_items() if name == "generated" else corpus_items()
    result = score(items, _detector(shipped_config()))
    report = result.table(f"{name} set ({len(items)} posts), shipped policy")
    for group in sorted({item.group for item in items if item.group}):
        subset = [item for item in items if item.group == group]
        report += "\n" + score(subset, _detector(shipped_config())).summary(group)
    report += "\n" + result.examples()
    print(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"pii_eval_{name}.txt").write_text(report + "\n", encoding="utf-8")
    return result


def test_generated_set_is_reproducible_varied_and_about_half_personal() -> None:
    policy = shipped_policy()
    first, again = generate.build(brand_data(policy)), generate.build(brand_data(policy))
    assert [p.text for p in first] == [p.text for p in again]
    with_pii = [p for p in first if p.labels]
    assert len(first) >= 1000
    assert 0.4 <= len(with_pii) / len(first) <= 0.65
    assert {p.locale for p in first} == set(generate.LOCALES)
    assert {label.kind for p in with_pii for label in p.labels} == set(KINDS) == {k.value for k in PiiKind}
    assert len({p.text for p in first}) >= 0.97 * len(first)


@pytest.mark.parametrize("name", ["corpus", "generated"])
def test_detection_meets_the_gates_with_the_shipped_policy(name: str) -> None:
    result = scored(name)
    failures = [
        f"{what} {value:.1%} (gate {gate})"
        for what, value, ok, gate in [
            ("recall", result.recall(), result.recall() >= MIN_RECALL, ">= 95 %"),
            ("precision", result.precision(), result.precision() >= MIN_PRECISION, ">= 95 %"),
            ("leak-free", result.leak_free_rate(), result.leak_free_rate() >= MIN_LEAK_FREE, ">= 95 %"),
            ("needless handoffs", result.handoff_rate(), result.handoff_rate() < MAX_NEEDLESS_HANDOFFS, "< 2 %"),
        ]
        if not ok
    ]
    assert not failures, f"{name} set: " + "; ".join(failures)


def test_scorer_punishes_a_detector_that_finds_nothing_or_everything() -> None:
    items = generated_items()
    nothing = score(items, lambda text: [])
    assert nothing.recall() == 0.0 and nothing.leak_free_rate() == 0.0 and nothing.handoff_rate() == 0.0
    everything = score(items, lambda text: [PiiSpan(PiiKind.PHONE, 0, len(text))] if text else [])
    assert everything.handoff_rate() == 1.0 and everything.precision() < 0.5
