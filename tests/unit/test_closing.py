"""Closing messages ("Danke, läuft wieder") measured on a labelled set: precision first."""

from __future__ import annotations

from pathlib import Path

import pytest

from hilft.core import pii
from hilft.core.closing import closing_phrase
from hilft.core.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
SET = ROOT / "tests" / "fixtures" / "closing" / "labelled.tsv"
PII = load_policy(ROOT / "functions" / "policy.toml").pii.config()  # the shipped policy, as ingest uses it


def closing(text: str, lang: str) -> bool:
    """As ingest decides: a closing phrase, and no personal data in the message."""
    return closing_phrase(text, lang) is not None and not pii.detect(text, PII, lang)


def _labelled() -> list[tuple[int, str, str]]:
    rows = []
    for line in SET.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, lang, text = line.split("\t", 2)
            rows.append((int(label), lang, text))
    return rows


def test_precision_is_perfect_and_recall_high_on_the_labelled_set(capsys):
    rows = _labelled()
    predicted = [(label, closing(text, lang), text) for label, lang, text in rows]
    tp = sum(1 for label, said, _ in predicted if label and said)
    fp = [text for label, said, text in predicted if not label and said]
    fn = [text for label, said, text in predicted if label and not said]
    precision = tp / (tp + len(fp)) if tp + len(fp) else 0.0
    recall = tp / (tp + len(fn))
    with capsys.disabled():
        print(f"\nclosing messages ({len(rows)} labelled): precision {precision:.1%}, recall {recall:.1%}")
    assert not fp, f"needs-an-answer posts taken for closing: {fp}"
    assert recall >= 0.85, f"missed closings: {fn}"


@pytest.mark.parametrize("text", ["Danke?", "danke " + "sehr " * 20, "thanks, still broken", ""])
def test_questions_long_texts_and_complaints_are_never_closing(text):
    assert closing_phrase(text, "de") is None and closing_phrase(text, "en") is None
