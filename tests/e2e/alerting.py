"""The e2e policy's alerting (tests/fixtures/policy/e2e.toml: promise 5 s, warning 2 s before,
re-alert every 3 s up to level 3) and the proof of absence bound to it. What the sinks accepted
and the waits themselves are ``tests.alert_proof``, shared with the fault tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.alert_proof import later_post_alerted_past
from tests.e2e.builders import aaa_tweet

WARNING_SINKS = ("google_chat", "slack")
ALERTING_KINDS = frozenset({"warning", "due", "escalate"})
REALERT = timedelta(seconds=3)  # the e2e policy's realert_every (and its level-2 ladder step)
MAX_LEVEL = 3


def later_post_escalated_past(e2e: Any, moment: datetime) -> str:
    """A fresh post escalated at least one re-alert step (3 s) past ``moment``: anything due at
    ``moment`` was dispatched seconds before (``tests.alert_proof.later_post_alerted_past``)."""
    return later_post_alerted_past(e2e, moment, new_post=aaa_tweet, margin=REALERT, realert_every=REALERT,
                                   max_level=MAX_LEVEL)
