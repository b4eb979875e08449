"""The outside reviewer's probe set (tests/eval/pii_probe/generate.py: Faker values in the reviewer's own care
post templates), scored with the SHIPPED policy (functions/policy.toml) by the shared scorer, on the three
seeds the reviewer used, once as written and once with the reviewer's "card followed by expiry or a count"
class switched on (``card_digit``).

The tables (per kind and language, per kind and locale, every miss, leak and false alarm) are written to
test-artifacts/pii_probe_<seed>[_card_digit].txt (and printed with -s). Gates: the issue's (recall,
precision, leak-free >= 95 %, needless handoffs < 2 %) on every run, and each kind's recall >= 90 %. The
first measurement: README.md beside this file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from hilft.core.pii import detect
from hilft.core.policy import load_policy
from tests.eval.pii.scoring import KINDS, Item, Score, from_nth_digit_from_end, scored_by_locale
from tests.eval.pii_probe import generate

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_POLICY = ROOT / "functions" / "policy.toml"
ARTIFACTS = ROOT / "test-artifacts"
SEEDS = (77731, 9001, 31337)  # the reviewer's

MIN_RECALL = MIN_PRECISION = MIN_LEAK_FREE = 0.95
MAX_NEEDLESS_HANDOFFS = 0.02
# a whole class breaking hides in the overall figure (card recall was 73-79 % with card+digit while the
# overall recall stood at 96-97 %): each kind's recall has a gate of its own
MIN_RECALL_PER_KIND = 0.90


def secret(kind: str, value: str, given: str) -> str:
    """The part that must be gone, as the reviewer's run.py counted it: a phone number's last six digits,
    an IBAN's or card's last ten, else the generator's secret (street line, e-mail local part, the value)."""
    if kind == "phone":
        return from_nth_digit_from_end(value, 6)
    if kind in ("iban", "card"):
        return from_nth_digit_from_end(value, 10)
    return given


@cache
def items(seed: int, card_digit: bool) -> tuple[Item, ...]:
    return tuple(Item(p.text, p.lang, [(k, v, secret(k, v, s)) for k, v, s in p.labels], p.locale)
                 for p in generate.build(seed=seed, card_digit=card_digit))


@cache
def scored(seed: int, card_digit: bool) -> Score:
    config = load_policy(SHIPPED_POLICY).pii.config()
    name = f"pii_probe_{seed}{'_card_digit' if card_digit else ''}"
    return scored_by_locale(items(seed, card_digit), lambda text: detect(text, config),
                            title=f"probe set seed {seed}{' with card+digit' if card_digit else ''} "
                                  f"({len(items(seed, card_digit))} posts, Faker), shipped policy",
                            locale_title="per kind and locale (the Faker locale the values came from)",
                            locales=generate.LOCALES, artifact=ARTIFACTS / f"{name}.txt")


def test_probe_set_is_reproducible_and_covers_every_kind_and_locale() -> None:
    first, again = items(SEEDS[0], True), generate.build(seed=SEEDS[0], card_digit=True)
    assert [i.text for i in first] == [p.text for p in again]
    with_pii = [i for i in first if i.labels]
    assert len(with_pii) == 700 and len(first) == 1220
    assert {i.group for i in first} == set(generate.LOCALES)
    assert {k for i in with_pii for k, _, _ in i.labels} == set(KINDS)


@pytest.mark.parametrize("card_digit", [False, True], ids=["as-written", "card+digit"])
@pytest.mark.parametrize("seed", SEEDS)
def test_probe_set_meets_the_gates_with_the_shipped_policy(seed: int, card_digit: bool) -> None:
    result = scored(seed, card_digit)
    checks = [
        ("recall", result.recall(), result.recall() >= MIN_RECALL, ">= 95 %"),
        ("precision", result.precision(), result.precision() >= MIN_PRECISION, ">= 95 %"),
        ("leak-free", result.leak_free_rate(), result.leak_free_rate() >= MIN_LEAK_FREE, ">= 95 %"),
        ("needless handoffs", result.handoff_rate(), result.handoff_rate() < MAX_NEEDLESS_HANDOFFS, "< 2 %"),
        *((f"{kind} recall", result.recall(kind), result.recall(kind) >= MIN_RECALL_PER_KIND, ">= 90 %")
          for kind in KINDS),
    ]
    failures = [f"{what} {value:.1%} (gate {gate})" for what, value, ok, gate in checks if not ok]
    assert not failures, f"probe set seed {seed} (see test-artifacts/pii_probe_*.txt): " + "; ".join(failures)
