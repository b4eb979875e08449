"""Log audit: no post text, handle, name, phone number, IBAN, e-mail, token or secret of the fixtures
in any log line the stack wrote.

A representative day runs first on the shared e2e stack (every X and Meta fixture, PII posts that
are handed off automatically, a manual handoff, a bad signature, warnings, overdue alerts, an ack),
then every line of every log in ``test-artifacts/stack-logs-<pid>/`` (this session's stack) is searched, raw and JSON-decoded,
so whatever ran earlier in the session is audited too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.e2e.builders import aaa_tweet
from tests.e2e.conftest import (
    META_SECRET,
    META_TOKEN,
    META_VERIFY,
    PD_KEY,
    STACK_LOG_DIR,
    STAFF_TOKEN,
    WEBHOOK_SECRET,
    X_SECRET,
    X_TOKEN,
    fresh,
)

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

LOG_DIR = STACK_LOG_DIR
FRAGMENT = 20  # characters of post text that must never appear in a log
BRAND_NAMES = {"Telekom_hilft", "Telekom hilft", "Telko hilft", "telkohilft", "hilft", "Twitter for Android"}
TEXT_KEYS = {"text", "full_text", "message"}
NAME_KEYS = {"screen_name", "username", "name"}


def _walk(node: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


def _fragments(text: str) -> set[str]:
    """Overlapping windows of a post text, without the leading @mentions everybody starts with."""
    body = re.sub(r"^(@\w+\s*)+", "", " ".join(text.split()))
    if len(body) <= FRAGMENT:
        return {body} if len(body) >= 8 else set()
    return {body[i:i + FRAGMENT] for i in range(0, len(body) - FRAGMENT + 1, FRAGMENT // 2)}


def _pii_posts() -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in (FIXTURES / "pii" / "corpus.jsonl").read_text().splitlines() if line]
    wanted = {"phone", "iban", "email", "customer_number", "address"}
    chosen: list[dict[str, Any]] = []
    for kind in sorted(wanted):
        chosen += [e for e in entries if any(p["kind"] == kind for p in e["pii"])][:3]
    return chosen


def forbidden_values() -> dict[str, str]:
    """Every value that must not be logged, mapped to what it is (for the failure message)."""
    from fakes.sinks import FAKE_CHAT_KEY, FAKE_CHAT_TOKEN

    values: dict[str, str] = {}
    for platform in ("x", "meta"):
        for path in sorted((FIXTURES / platform).glob("*.json")):
            for key, value in _walk(json.loads(path.read_bytes())):
                if not isinstance(value, str):
                    continue
                if key in TEXT_KEYS:
                    values.update({fragment: f"post text ({path.name})" for fragment in _fragments(value)})
                elif key in NAME_KEYS and value not in BRAND_NAMES and len(value) >= 4:
                    values[value] = f"handle or name ({path.name})"
    for entry in _pii_posts():
        values.update({fragment: "PII post text" for fragment in _fragments(entry["text"])})
        for pii in entry["pii"]:
            values[pii["value"]] = f"{pii['kind']}"
            values[re.sub(r"[\s/.-]", "", pii["value"])] = f"{pii['kind']} (normalised)"
    values.update({"kabelsalat_kiel": "handle (builders)", "Jana K.": "name (builders)"})
    for secret, what in ((X_SECRET, "X client secret"), ("e2e-x-consumer-secret", "X consumer secret"),
                         (X_TOKEN, "X user token"), (META_SECRET, "Meta app secret"), (META_TOKEN, "Meta page token"),
                         (META_VERIFY, "Meta verify token"), (STAFF_TOKEN, "staff token"), (PD_KEY, "PagerDuty key"),
                         (WEBHOOK_SECRET, "alert webhook secret"), (FAKE_CHAT_KEY, "Chat key"),
                         (FAKE_CHAT_TOKEN, "Chat token"), ("XXXXXXXXXXXXXXXXXXXXXXXX", "Slack webhook path secret")):
        values[secret] = what
    return {value: what for value, what in values.items() if value.strip()}


def _searchable(line: str) -> str:
    """The raw line plus its decoded string values (catches ``\\u00fc``-escaped or nested text)."""
    try:
        decoded = json.loads(line)
    except ValueError:
        return line
    return line + "\n" + "\n".join(str(v) for _, v in _walk(decoded))


def audit(log_dir: Path, forbidden: dict[str, str]) -> tuple[int, list[str]]:
    """(lines searched, findings) over every ``*.log`` in ``log_dir``."""
    lines = 0
    findings: list[str] = []
    for path in sorted(log_dir.glob("*.log")):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            lines += 1
            text = _searchable(line)
            for value, what in forbidden.items():
                if value in text:
                    findings.append(f"{path.name}:{number}: {what}: {value!r}")
    return lines, findings


def run_a_representative_day(e2e: Any) -> list[str]:
    """Every fixture, PII posts, a handoff, a bad signature, alerts and an ack; returns doc ids to find in the logs."""
    from hilft.core.ids import mention_doc_id

    for path in sorted((FIXTURES / "x").glob("*.json")):
        assert e2e.post_x(fresh(path.read_bytes())).status_code < 500, path.name
    for path in sorted((FIXTURES / "meta").glob("*.json")):
        assert e2e.post_meta(fresh(path.read_bytes())).status_code < 500, path.name
    pii_ids = []
    for entry in _pii_posts():
        post_id, body = aaa_tweet(entry["text"])
        assert e2e.post_x(body).status_code == 200
        pii_ids.append(post_id)
    plain_id, plain = aaa_tweet("Seit Tagen kein Festnetz in der Gartenstraße, Router blinkt orange.")
    assert e2e.post_x(plain).status_code == 200
    assert e2e.post_x(plain, signature="sha256=bm90IHRoZSBzaWduYXR1cmU=").status_code == 401
    manual_id, manual = aaa_tweet("Bitte ruft mich zurück wegen meines Anschlusses, DSL fällt ständig aus.")
    assert e2e.post_x(manual).status_code == 200
    assert e2e.staff("handoff", {"platform": "x", "post_id": manual_id, "department": "festnetz"}).status_code == 202

    e2e.wait(lambda: any(m.get("level") == 1 and m["post_id"] == plain_id for m in e2e.fakes.webhook.messages),
             timeout=20, what="an overdue alert")
    assert e2e.staff("ack", {"platform": "x", "post_id": plain_id}).status_code == 200
    e2e.wait(lambda: len(e2e.fakes.x.dms) >= 2, timeout=20, what="the automatic and the manual handoff DMs")
    e2e.wait(lambda: (e2e.mention("x", pii_ids[0]) or {}).get("status") == "handed_off", timeout=20,
             what="a PII post handed off")
    return [mention_doc_id("x", post_id) for post_id in (plain_id, manual_id, *pii_ids)]


def test_no_post_text_handle_pii_token_or_secret_appears_in_any_log_line(e2e: Any) -> None:
    doc_ids = run_a_representative_day(e2e)
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in LOG_DIR.glob("*.log"))
    assert all(doc_id in logs for doc_id in doc_ids[:2]), "the day's log lines were not captured: nothing audited"
    for target in ("x_webhook", "meta_webhook", "deadline", "handoff", "ack"):
        assert (LOG_DIR / f"{target}.log").stat().st_size > 0, f"{target} logged nothing"

    forbidden = forbidden_values()
    lines, findings = audit(LOG_DIR, forbidden)
    assert lines > 100
    assert not findings, f"{len(findings)} leak(s) in {lines} log lines:\n" + "\n".join(findings[:40])


def test_the_audit_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The audit itself: a planted phone number, handle, secret and escaped text fragment are found."""
    forbidden = forbidden_values()
    phone = next(value for value, what in forbidden.items() if what == "phone")
    fragment = next(value for value, what in forbidden.items() if what.startswith("post text") and "ä" in value)
    (tmp_path / "planted.log").write_text("\n".join([
        json.dumps({"severity": "INFO", "message": "ok", "doc_id": "abc"}),
        json.dumps({"severity": "INFO", "message": f"call {phone}"}),
        json.dumps({"severity": "ERROR", "handle": "kabelsalat_kiel"}),
        json.dumps({"severity": "ERROR", "url": f"https://x?token={X_TOKEN}"}),
        json.dumps({"severity": "INFO", "excerpt": fragment}, ensure_ascii=True),
    ]) + "\n", encoding="utf-8")
    lines, findings = audit(tmp_path, forbidden)
    assert lines == 5
    assert sorted({f.split(":")[1] for f in findings}) == ["2", "3", "4", "5"], findings
