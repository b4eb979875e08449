"""Scores PII detection on the labelled corpus of customer posts (tests/fixtures/pii/corpus.jsonl).

A predicted span is correct when it overlaps an occurrence of a labelled value of the same kind. Run with
``-s`` to see the table of recall and precision per kind, and the misses and false alarms.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hilft.core.pii import PiiConfig, PiiKind, detect
from hilft.core.policy import load_policy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pii"
CORPUS = FIXTURES / "corpus.jsonl"
# Always the shipped policy: its [pii.own] table declares the brand's ticket numbers, hotlines and addresses.
BRAND_CONFIG = load_policy(Path(__file__).resolve().parents[2] / "functions" / "policy.toml").pii.config()

MIN_RECALL = 0.95
MIN_PRECISION = 0.95


@dataclass
class Score:
    true_positives: Counter[str] = field(default_factory=Counter)  # predictions that hit a label
    predicted: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)  # labels hit by a prediction
    labelled: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, kind: str | None = None) -> float:
        found, labelled = self._pick(self.found, kind), self._pick(self.labelled, kind)
        return found / labelled if labelled else 1.0

    def precision(self, kind: str | None = None) -> float:
        correct, predicted = self._pick(self.true_positives, kind), self._pick(self.predicted, kind)
        return correct / predicted if predicted else 1.0

    @staticmethod
    def _pick(counter: Counter[str], kind: str | None) -> int:
        return counter[kind] if kind else sum(counter.values())


def load_corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def labelled_occurrences(post: dict) -> list[tuple[str, int, int]]:
    occurrences = []
    for label in post["pii"]:
        value, position = label["value"], post["text"].find(label["value"])
        while position != -1:
            occurrences.append((label["kind"], position, position + len(value)))
            position = post["text"].find(value, position + 1)
    return occurrences


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score_corpus(posts: list[dict], config: PiiConfig) -> Score:
    score = Score()
    for post in posts:
        text = post["text"]
        labels = labelled_occurrences(post)
        spans = detect(text, config)
        for kind, start, end in labels:
            score.labelled[kind] += 1
            if any(s.kind == kind and overlaps(s.start, s.end, start, end) for s in spans):
                score.found[kind] += 1
            else:
                score.misses.append((kind, text[start:end]))
        for span in spans:
            score.predicted[span.kind] += 1
            if any(kind == span.kind and overlaps(span.start, span.end, s, e) for kind, s, e in labels):
                score.true_positives[span.kind] += 1
            else:
                score.false_alarms.append((span.kind.value, text[span.start : span.end]))
    return score


def print_table(score: Score) -> None:
    print(
        f"\n{'kind':<16}{'labelled':>9}{'found':>7}{'recall':>8}{'predicted':>10}{'correct':>8}{'precision':>10}"
    )
    for kind in [*(k.value for k in PiiKind), None]:
        name = kind or "overall"
        print(
            f"{name:<16}{Score._pick(score.labelled, kind):>9}{Score._pick(score.found, kind):>7}"
            f"{score.recall(kind):>8.1%}{Score._pick(score.predicted, kind):>10}"
            f"{Score._pick(score.true_positives, kind):>8}{score.precision(kind):>10.1%}"
        )
    for kind, value in score.misses:
        print(f"  missed      {kind:<16}{value!r}")
    for kind, value in score.false_alarms:
        print(f"  false alarm {kind:<16}{value!r}")


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load_corpus()


def test_corpus_is_big_varied_and_about_half_personal(corpus: list[dict]) -> None:
    with_pii = [post for post in corpus if post["pii"]]
    assert len(corpus) >= 200
    assert 0.4 <= len(with_pii) / len(corpus) <= 0.6
    assert {post["lang"] for post in corpus} == {"de", "en"}
    assert {label["kind"] for post in with_pii for label in post["pii"]} == {k.value for k in PiiKind}
    assert len({post["text"] for post in corpus}) == len(corpus)


def test_every_label_is_an_exact_substring_of_its_post(corpus: list[dict]) -> None:
    for post in corpus:
        for label in post["pii"]:
            assert label["value"] in post["text"]
            assert PiiKind(label["kind"])


def test_detection_meets_recall_and_precision_on_the_corpus(corpus: list[dict]) -> None:
    score = score_corpus(corpus, BRAND_CONFIG)
    print_table(score)
    assert score.recall() >= MIN_RECALL, f"recall {score.recall():.1%} below {MIN_RECALL:.0%}"
    assert score.precision() >= MIN_PRECISION, f"precision {score.precision():.1%} below {MIN_PRECISION:.0%}"


def test_scorer_punishes_a_detector_that_finds_nothing(corpus: list[dict]) -> None:
    nothing_counts = PiiConfig(customer_number_patterns=(), ignore_patterns=(r"(?s).+",))
    score = score_corpus(corpus, nothing_counts)
    assert score.recall() == 0.0
