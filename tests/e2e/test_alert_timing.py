"""README: "the alert comes at the due second". Measured end to end: when each sink received the
warning and the overdue alert, against the ``warn_at`` / ``due_at`` stored with the post.

Never early, at most 1 s late, for every sink the policy names. The receive time is taken by the
fake sink when it reads the request (same machine, same wall clock as the functions that stored
the due time), so the measurement includes the Cloud Tasks dispatch, the ``deadline`` function,
Firestore and the HTTP hop to the sink.

Scope: a warm ``deadline`` instance. The first alert an instance sends also pays its start-up
(lazy imports and clients: about 0.9 s here), so the test first lets another post's warning go
out. On Cloud Run ``deadline`` scales to zero, so the first alert after an idle spell is later by
the cold start.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta

import pytest

from tests.alert_proof import alerted, alerts_about
from tests.conftest import FIXTURES
from tests.e2e.builders import aaa_tweet

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

LATE_AT_MOST = 1.0  # seconds


def _seconds(text: str) -> float:
    assert text.endswith("s"), f"the e2e policy writes durations in seconds: {text!r}"
    return float(text[:-1])


def _policy() -> dict:
    return tomllib.loads((FIXTURES / "policy" / "e2e.toml").read_text())


def test_warning_overdue_and_escalation_reach_every_sink_never_early_and_at_most_one_second_late(e2e):
    policy = _policy()
    warning_sinks = set(policy["escalation"]["warning_sinks"])
    first_step, second_step = policy["escalation"]["ladder"][:2]
    assert _seconds(first_step["after"]) == 0, "level 1 fires at the due time itself"

    warm_up, body = aaa_tweet("Kein Netz am Bahnhof.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, warm_up, 0), timeout=20, what="the warm-up post's warning")

    post_id, body = aaa_tweet("Seit heute früh kein Internet in Leipzig.")
    assert e2e.post_x(body).status_code == 200
    e2e.wait(alerted(e2e, post_id, 2), timeout=25, what="the escalation to level 2")
    doc = e2e.mention("x", post_id)
    warn_at: datetime = doc["warn_at"]
    due_at: datetime = doc["due_at"]
    assert due_at - warn_at == timedelta(seconds=_seconds(policy["promise"]["warning_before"]))

    expected = {0: warn_at.timestamp(), 1: due_at.timestamp(),
                2: due_at.timestamp() + _seconds(second_step["after"])}
    got = [d for d in alerts_about(e2e, post_id) if d.level in expected]
    assert {d.sink for d in got if d.level == 0} == warning_sinks
    assert {d.sink for d in got if d.level == 1} == set(first_step["sinks"])
    assert {d.sink for d in got if d.level == 2} == set(second_step["sinks"])

    lateness = {(d.level, d.sink): d.received_at - expected[d.level] for d in got}
    early = {k: round(v, 3) for k, v in lateness.items() if v < 0}
    late = {k: round(v, 3) for k, v in lateness.items() if v > LATE_AT_MOST}
    assert not early, f"alerts received before their time (level, sink) -> seconds: {early}"
    assert not late, f"alerts more than {LATE_AT_MOST} s late (level, sink) -> seconds: {late}"
