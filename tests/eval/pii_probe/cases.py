"""The reviewer's case lists (cases/c1.txt … c8.txt): each line run through the shipped policy, the
redacted text and whether the post would be handed off written to test-artifacts/pii_probe_cases.txt.

The lists carry no labels (the reviewer read the output by eye), so they are a report, not a gate:
``.venv/bin/python -m tests.eval.pii_probe.cases`` (from the repository root). Line format as the
reviewer's: ``lang|text``, ``\\n`` for a line break, ``<NB>`` for a no-break space, ``#`` a comment.
"""

from __future__ import annotations

from pathlib import Path

from hilft.core.pii import detect, redact
from hilft.core.policy import load_policy

ROOT = Path(__file__).resolve().parents[3]
CASES = Path(__file__).resolve().parent / "cases"


def report() -> str:
    config = load_policy(ROOT / "functions" / "policy.toml").pii.config()
    out: list[str] = []
    for path in sorted(CASES.glob("c*.txt")):
        out.append(f"== {path.name}")
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                out.append(line)
                continue
            lang = None
            if "|" in line[:4]:
                lang, line = line.split("|", 1)
            text = line.replace("\\n", "\n").replace("<NB>", "\u00a0")
            spans = detect(text, config, lang)
            out.append(f"{'HANDOFF' if spans else 'clean  '} {redact(text, spans)!r}")
    return "\n".join(out)


if __name__ == "__main__":
    text = report()
    print(text)
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "pii_probe_cases.txt").write_text(text + "\n", encoding="utf-8")
