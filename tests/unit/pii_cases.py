"""What the PII class tests share: the shipped policy's detector and two ways to look at its answer."""

from __future__ import annotations

from pathlib import Path

from hilft.core.pii import PiiConfig, detect, redact_text
from hilft.core.policy import load_policy

SHIPPED_POLICY = load_policy(Path(__file__).resolve().parents[2] / "functions" / "policy.toml")
SHIPPED = SHIPPED_POLICY.pii.config()


def found(text: str, config: PiiConfig = SHIPPED, language: str | None = None) -> list[tuple[str, str]]:
    """(kind, matched text) of every span the detector reports."""
    return [(span.kind.value, text[span.start : span.end]) for span in detect(text, config, language)]


def redacted(text: str, language: str | None = None) -> str:
    """The text as hilft stores it under the shipped policy."""
    return redact_text(text, SHIPPED, language)[0]
