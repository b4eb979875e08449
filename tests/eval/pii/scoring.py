"""Scores hilft.core.pii on a labelled set: recall, precision, leak-free, needless handoffs.

- recall: a labelled value counts as found when a detected span of the same kind overlaps it;
- precision: a detected span is correct when it overlaps a labelled value of its kind;
- leak-free: every non-space character of the label's secret (e.g. the house number and street, the
  e-mail local part, the last six digits of a phone number) lies inside some detected span, of any kind;
- needless handoffs: posts without personal data in which anything is detected (each would be a DM).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hilft.core.pii import PiiSpan

KINDS = ("phone", "iban", "email", "customer_number", "address", "birthdate", "card")


def from_nth_digit_from_end(value: str, n: int) -> str:
    """The tail of ``value`` from its n-th digit counted from the end (a label's secret part)."""
    seen = 0
    for index in range(len(value) - 1, -1, -1):
        if value[index].isdigit():
            seen += 1
            if seen == n:
                return value[index:]
    return value


@dataclass(frozen=True)
class Label:
    """One labelled value in a generated post (both generators write these)."""

    kind: str
    value: str  # exact substring of the post
    secret: str  # substring of value that must not survive redaction


@dataclass
class Post:
    text: str
    lang: str  # "de", "en" or "mix"
    locale: str
    part: str  # "pii" or "negative"
    labels: list[Label] = field(default_factory=list)


@dataclass(frozen=True)
class BrandData:
    """The brand's own public data, as configured in the policy under test."""

    handle: str
    phone_numbers: tuple[str, ...]
    addresses: tuple[str, ...]
    email_domains: tuple[str, ...]
    ticket_example_digits: int = 8


@dataclass(frozen=True)
class Item:
    text: str
    lang: str
    labels: Sequence[tuple[str, str, str]]  # (kind, value, secret)
    group: str = ""  # e.g. the Faker locale the values came from


@dataclass
class Score:
    labelled: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, lang)
    found: Counter[tuple[str, str]] = field(default_factory=Counter)
    leak_free: Counter[tuple[str, str]] = field(default_factory=Counter)
    predicted: Counter[tuple[str, str]] = field(default_factory=Counter)
    correct: Counter[tuple[str, str]] = field(default_factory=Counter)
    clean_posts: Counter[str] = field(default_factory=Counter)  # lang
    handed_off: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, text)
    leaks: list[tuple[str, str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str, str]] = field(default_factory=list)

    @staticmethod
    def _sum(counter: Counter[tuple[str, str]], kind: str | None, lang: str | None) -> int:
        return sum(n for (k, lg), n in counter.items() if kind in (None, k) and lang in (None, lg))

    def recall(self, kind: str | None = None, lang: str | None = None) -> float:
        total = self._sum(self.labelled, kind, lang)
        return self._sum(self.found, kind, lang) / total if total else 1.0

    def precision(self, kind: str | None = None, lang: str | None = None) -> float:
        total = self._sum(self.predicted, kind, lang)
        return self._sum(self.correct, kind, lang) / total if total else 1.0

    def leak_free_rate(self, kind: str | None = None, lang: str | None = None) -> float:
        total = self._sum(self.labelled, kind, lang)
        return self._sum(self.leak_free, kind, lang) / total if total else 1.0

    def handoff_rate(self, lang: str | None = None) -> float:
        total = sum(n for lg, n in self.clean_posts.items() if lang in (None, lg))
        return sum(n for lg, n in self.handed_off.items() if lang in (None, lg)) / total if total else 0.0

    def table(self, title: str) -> str:
        lines = [f"\n== {title}",
                 f"{'kind':<16}{'lang':<6}{'labelled':>9}{'recall':>9}{'leak-free':>11}{'predicted':>11}{'precision':>11}"]
        langs = sorted({lang for _, lang in self.labelled} | set(self.clean_posts))
        for kind in [*KINDS, None]:
            for lang in [*langs, None]:
                labelled, predicted = self._sum(self.labelled, kind, lang), self._sum(self.predicted, kind, lang)
                if not labelled and not predicted:
                    continue
                lines.append(
                    f"{kind or 'overall':<16}{lang or 'all':<6}{labelled:>9}{self.recall(kind, lang):>9.1%}"
                    f"{self.leak_free_rate(kind, lang):>11.1%}{predicted:>11}{self.precision(kind, lang):>11.1%}"
                )
        for lang in [*langs, None]:
            total = sum(n for lg, n in self.clean_posts.items() if lang in (None, lg))
            lines.append(f"needless handoffs {lang or 'all':<4}{self.handoff_rate(lang):>8.1%} of {total} posts "
                         "without personal data")
        return "\n".join(lines)

    def summary(self, title: str) -> str:
        return (f"{title:<12} recall {self.recall():6.1%}  precision {self.precision():6.1%}  "
                f"leak-free {self.leak_free_rate():6.1%}  needless handoffs {self.handoff_rate():5.1%}")

    def examples(self, limit: int = 40) -> str:
        rows = [*(f"  missed      {k:<16}{v!r}" for k, v, _ in self.misses[:limit]),
                *(f"  leaked      {k:<16}{v!r}" for k, v, _ in self.leaks[:limit]),
                *(f"  false alarm {k:<16}{v!r}   in {t!r}" for k, v, t in self.false_alarms[:limit])]
        return "\n".join(rows)


def _occurrences(text: str, value: str) -> Iterable[int]:
    position = text.find(value)
    while position != -1:
        yield position
        position = text.find(value, position + 1)


def score(items: Iterable[Item], detect: Callable[[str], Sequence[PiiSpan]]) -> Score:
    result = Score()
    for item in items:
        text, lang = item.text, item.lang
        spans = detect(text)
        covered = bytearray(len(text))
        for span in spans:
            covered[span.start : span.end] = b"\x01" * (span.end - span.start)
        labels: list[tuple[str, int, int]] = []
        for kind, value, secret in item.labels:
            assert value in text, f"label {value!r} not in post"
            offset = value.find(secret)
            assert offset >= 0, f"secret {secret!r} not in value {value!r}"
            for start in _occurrences(text, value):
                labels.append((kind, start, start + len(value)))
                result.labelled[kind, lang] += 1
                if any(s.kind.value == kind and s.start < start + len(value) and start < s.end for s in spans):
                    result.found[kind, lang] += 1
                else:
                    result.misses.append((kind, value, text))
                secret_start = start + offset
                if all(covered[i] or text[i].isspace() for i in range(secret_start, secret_start + len(secret))):
                    result.leak_free[kind, lang] += 1
                else:
                    result.leaks.append((kind, secret, text))
        if not item.labels:
            result.clean_posts[lang] += 1
            result.handed_off[lang] += bool(spans)
        for span in spans:
            kind = span.kind.value
            result.predicted[kind, lang] += 1
            if any(k == kind and s < span.end and span.start < e for k, s, e in labels):
                result.correct[kind, lang] += 1
            else:
                result.false_alarms.append((kind, text[span.start : span.end], text))
    return result


def scored_by_locale(items: Sequence[Item], detect: Callable[[str], Sequence[PiiSpan]], *, title: str,
                     locale_title: str, locales: Iterable[str], artifact: Path) -> Score:
    """Score a generated set and write its report (per kind and language, per kind and locale, a
    summary per locale, every miss) to ``artifact``; one report shape for every outside-valued set."""
    from dataclasses import replace

    result = score(items, detect)
    by_locale = score([replace(item, lang=item.group) for item in items], detect)
    report = "\n".join([
        result.table(title),
        by_locale.table(locale_title),
        "",
        *(score([i for i in items if i.group == g], detect).summary(g) for g in locales),
        result.summary("all"),
        "",
        result.examples(limit=1000),
    ])
    print(report)
    artifact.parent.mkdir(exist_ok=True)
    artifact.write_text(report + "\n", encoding="utf-8")
    return result
