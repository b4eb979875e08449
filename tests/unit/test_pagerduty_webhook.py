"""Acknowledging in PagerDuty acknowledges the post: V3 webhook parsing and signature."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hilft.core.errors import InvalidSignature
from hilft.core.pagerduty_webhook import acknowledged_doc_id, verify_signature


def event(event_type: str, incident_key: str | None) -> dict:
    return {"event": {"id": "01DEN8ZJ0KZ6O5QV4D1K2ZMPLZ", "event_type": event_type, "resource_type": "incident",
                      "occurred_at": "2026-11-20T10:00:00Z", "data": {"id": "PGR0VU2", "type": "incident",
                                                                       "incident_key": incident_key}}}


def test_acknowledged_hilft_incident_names_the_document():
    assert acknowledged_doc_id(event("incident.acknowledged", "hilft-abc123")) == "abc123"


@pytest.mark.parametrize("payload", [event("incident.triggered", "hilft-abc"), event("incident.acknowledged", "other-1"),
                                     event("incident.acknowledged", None), {"event": "nope"}])
def test_other_events_are_not_acknowledgements(payload):
    assert acknowledged_doc_id(payload) is None


def test_signature_accepts_any_current_v1_and_rejects_others():
    body = b'{"event":{}}'
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    verify_signature(body, f"v1=deadbeef, v1={good}", "s3cret")
    for header in (None, "", "v1=deadbeef", f"v0={good}"):
        with pytest.raises(InvalidSignature):
            verify_signature(body, header, "s3cret")
