"""Attack: forge PagerDuty's "incident acknowledged" for a real post (``dedup_key`` ``hilft-<doc
id>`` is no secret: it is in every alert) to ``pagerduty_webhook``, which would silence the
post's re-alerts while nobody works on it. Unsigned, signed with another secret, signed in
hilft's own outgoing-webhook format with the right secret (``t=…,v1=…`` over ``t.body``), an
older scheme, or a body altered after signing: 401, and the post stays unacknowledged. Without
its secret configured the door acts on nothing. Hostile header bytes: test_signature_headers.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from hilft.core import alerts
from hilft.service.ports import MENTIONS
from tests.security.inprocess import answer, app_with_post

SECRET = "pagerduty-webhook-secret"


def _ack_body(doc_id: str) -> bytes:
    return json.dumps({"event": {"id": "01DEN8ZJ0KZ6O5QV4D1K2ZMPLZ", "event_type": "incident.acknowledged",
                                 "resource_type": "incident", "occurred_at": "2026-11-20T10:00:00Z",
                                 "data": {"id": "PGR0VU2", "type": "incident", "incident_key": f"hilft-{doc_id}"}}}
                      ).encode()


def _v1(body: bytes, secret: str = SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(app, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"} | ({"X-PagerDuty-Signature": signature} if signature else {})
    return answer(app, "pagerduty_webhook", body=body, headers=headers)


def _acknowledged(app, doc_id: str) -> bool:
    return bool(app.store.get(MENTIONS, doc_id).data.get("acknowledged_at"))


FORGERIES = {
    "unsigned": lambda body: None,
    "zeros": lambda body: "v1=" + "0" * 64,
    "other-secret": lambda body: _v1(body, "s3cret"),
    "empty-secret": lambda body: _v1(body, ""),
    "hilft-webhook-format": lambda body: alerts.sign_webhook(body, SECRET, int(time.time())),
    "v0-scheme": lambda body: _v1(body).replace("v1=", "v0="),
    "sha256-prefix": lambda body: _v1(body).replace("v1=", "sha256="),
    "sha1": lambda body: "v1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest(),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_pagerduty_acknowledgement_is_401_and_acknowledges_nothing(forge):
    app, doc_id = app_with_post(pagerduty_webhook_secret=SECRET)
    body = _ack_body(doc_id)
    response = _post(app, body, forge(body))
    assert response.status_code == 401, response.get_data(as_text=True)
    assert not _acknowledged(app, doc_id)


def test_a_signed_acknowledgement_altered_after_signing_is_refused():
    app, doc_id = app_with_post(pagerduty_webhook_secret=SECRET)
    _, other_doc = app_with_post(pagerduty_webhook_secret=SECRET)
    signature = _v1(_ack_body(other_doc))  # a genuine acknowledgement of another post
    for body in (_ack_body(doc_id), _ack_body(other_doc) + b" "):
        assert _post(app, body, signature).status_code == 401
    assert not _acknowledged(app, doc_id)


def test_without_its_secret_the_door_acts_on_nothing():
    app, doc_id = app_with_post()
    body = _ack_body(doc_id)
    assert _post(app, body, _v1(body, "")).status_code >= 400
    assert not _acknowledged(app, doc_id)


def test_the_genuine_acknowledgement_is_accepted():
    """The control: the refusals above are about the signature, not the body."""
    app, doc_id = app_with_post(pagerduty_webhook_secret=SECRET)
    body = _ack_body(doc_id)
    response = _post(app, body, f"v1={'0' * 64}, {_v1(body)}")  # several during a secret rotation
    assert response.status_code == 200 and response.get_json()["outcome"] == "acknowledged"
    assert _acknowledged(app, doc_id)
