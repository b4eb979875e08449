"""PII detection: throughput at tweet length and the worst case at the length cap.

Throughput: ``redact_text`` with the shipped policy over tweet-length posts (the hand-written corpus of
tests/fixtures/pii, consecutive posts joined up to 280 characters), one process, one thread, CPU time
(``time.process_time``): posts per second per core; and the same over PII-dense posts (only the corpus posts
that carry personal data, joined the same way: several values per post, the costliest tweets). Worst case: the
densest texts of ``MAX_TEXT_CHARS`` characters we know for each detector (distinct e-mail addresses, valid phone
numbers, digit groups, IBAN and street shapes), CPU milliseconds for one post; anything longer is cut at
the cap, so this is the most one post can cost.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from bench.harness import ROOT, median
from hilft.core.pii import MAX_TEXT_CHARS, redact_text
from hilft.core.policy import load_policy

WORST_CASES: dict[str, Callable[[random.Random], str]] = {
    "distinct e-mails": lambda r: f"kunde{r.randrange(10**9)}@mail{r.randrange(10**4)}.de ",
    "distinct phone numbers": lambda r: f"0171 {r.randrange(10**7):07d} ",
    "digit groups": lambda r: f"0{r.randrange(10)} {r.randrange(100):02d} ",
    "random digit groups 0-9999": lambda r: f"{r.randrange(10**4)} ",
    "iban shapes": lambda r: f"DE{r.randrange(100):02d} {r.randrange(10**4):04d} {r.randrange(10**4):04d} x ",
    "street lines": lambda r: f"Hauptstraße {r.randrange(1, 999)}, {r.randrange(10**4, 10**5)} Bonn ",
}


def _fill(make: Callable[[random.Random], str], size: int) -> str:
    rng, pieces, total = random.Random(7), [], 0  # noqa: S311 - reproducible test text, not secrets
    while total < size:
        pieces.append(make(rng))
        total += len(pieces[-1])
    return "".join(pieces)[:size]


def measure(runs: int, rounds: int = 20) -> dict[str, Any]:
    config = load_policy(ROOT / "functions" / "policy.toml").pii.config()
    corpus = ROOT / "tests" / "fixtures" / "pii" / "corpus.jsonl"
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    posts = _tweets([row["text"] for row in rows])
    dense = _tweets([row["text"] for row in rows if row["pii"]])
    values = [redact_text(post, config)[0].count("⟨") for post in dense]

    def rate(texts: list[str]) -> float:
        for post in texts:  # compile patterns, fill caches
            redact_text(post, config)
        rates = []
        for _ in range(runs):
            started = time.process_time()
            for _ in range(rounds):
                for post in texts:
                    redact_text(post, config)
            rates.append(rounds * len(texts) / (time.process_time() - started))
        return median(rates)

    worst: dict[str, float] = {}
    for name, make in WORST_CASES.items():
        text = _fill(make, MAX_TEXT_CHARS)
        samples = []
        for _ in range(runs):
            started = time.process_time()
            redact_text(text, config)
            samples.append(time.process_time() - started)
        worst[name] = round(min(samples) * 1000, 1)
    return {
        "runs": runs, "posts": len(posts), "mean_post_chars": round(sum(map(len, posts)) / len(posts)),
        "posts_per_s_per_core": round(rate(posts)), "dense_posts": len(dense),
        "dense_mean_post_chars": round(sum(map(len, dense)) / len(dense)),
        "dense_values_per_post": round(sum(values) / len(values), 1),
        "dense_posts_per_s_per_core": round(rate(dense)), "cap_chars": MAX_TEXT_CHARS, "worst_case_ms": worst,
    }


def _tweets(texts: list[str]) -> list[str]:
    """Consecutive texts joined up to tweet length (250-280 characters)."""
    posts, current = [], ""
    for text in texts:
        current = f"{current} {text}".strip()
        if len(current) >= 250:
            posts.append(current[:280])
            current = ""
    return posts
