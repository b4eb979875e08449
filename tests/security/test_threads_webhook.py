"""Attack: forge a Threads delivery. Threads has its own Meta app and app secret: a body unsigned,
signed wrongly, signed with the Facebook Page app's secret (which other functions hold), with X's
secret, or a signed body altered after signing must be refused with 401, and nothing may be
stored or scheduled. The subscription check answers only the Threads app's verify token."""

from __future__ import annotations

import json
import time

import pytest

import deliveries
from tests.stack_fixtures import CREDENTIALS

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

FORGED_ID = "17900000000000666"
FORGED = json.dumps({
    "app_id": "1", "topic": "moderate", "target_id": CREDENTIALS.threads_id, "time": int(time.time()),
    "values": {"field": "replies", "value": {
        "id": FORGED_ID, "username": "angreifer", "text": "Dringend! Ruft an: 0171 6666666",
        "replied_to": {"id": "17900000000000500"}, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()),
        "root_post": {"id": "17900000000000500", "owner_id": CREDENTIALS.threads_id, "username": "telekom_hilft"}}},
}).encode()


def forge(body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return headers


def nothing_happened(e2e, tasks_client) -> None:
    """Nothing of the forged post: no document, no task, no call to Threads. Scoped to it, so work a
    previous test left in flight (a task dispatched just before the queue was purged) cannot blur it."""
    from hilft.core.ids import mention_doc_id
    from stack import QUEUE

    doc_id = mention_doc_id("threads", FORGED_ID)
    assert e2e.mention("threads", FORGED_ID) is None
    assert not [d for d in e2e.mentions() if "6666666" in str(d) or d.get("post_id") == FORGED_ID]
    tasks = list(tasks_client.list_tasks(request={"parent": QUEUE, "response_view": "FULL"}))
    assert not [t for t in tasks if doc_id.encode() in t.http_request.body]
    assert not [r for r in e2e.fakes.threads.requests if FORGED_ID in str(r)]


@pytest.mark.parametrize("signature", [
    None,
    "",
    "sha256=",
    "sha256=" + "0" * 64,
    deliveries.hub_signature(FORGED, CREDENTIALS.meta_secret),  # the Facebook Page app's secret
    deliveries.hub_signature(FORGED, CREDENTIALS.x_client_secret),
    deliveries.hub_signature(FORGED, ""),
    deliveries.hub_signature(FORGED, CREDENTIALS.threads_verify),  # the verify token is no signing key
    deliveries.hub_signature(FORGED, CREDENTIALS.threads_secret).replace("sha256=", "sha1="),
], ids=["unsigned", "empty", "prefix-only", "zeros", "meta-page-app-secret", "x-secret", "empty-secret",
        "verify-token", "wrong-algorithm"])
def test_forged_deliveries_are_401_and_change_nothing(e2e, tasks_client, signature):
    answer = e2e.http.post(e2e.url("threads_webhook"), content=FORGED, headers=forge(FORGED, signature))
    assert answer.status_code == 401
    assert "0171" not in answer.text
    nothing_happened(e2e, tasks_client)


def test_a_signed_body_altered_after_signing_is_refused(e2e, tasks_client):
    signature = deliveries.hub_signature(FORGED, CREDENTIALS.threads_secret)
    altered = FORGED.replace(b"angreifer", b"angreifer2")
    padded = FORGED + b" "
    for body in (altered, padded, json.dumps(json.loads(FORGED), indent=1).encode()):
        assert e2e.http.post(e2e.url("threads_webhook"), content=body,
                             headers=forge(body, signature)).status_code == 401
    nothing_happened(e2e, tasks_client)


def test_the_same_body_signed_with_the_threads_secret_is_accepted(e2e):
    """The control: the refusals above are about the signature, not the body."""
    signature = deliveries.hub_signature(FORGED, CREDENTIALS.threads_secret)
    answer = e2e.http.post(e2e.url("threads_webhook"), content=FORGED, headers=forge(FORGED, signature))
    assert answer.status_code == 200 and answer.json()["stored"] == 1


def test_the_subscription_check_is_no_oracle_for_other_apps_tokens(e2e):
    url = e2e.url("threads_webhook")
    for token in (CREDENTIALS.meta_verify, CREDENTIALS.threads_secret, ""):
        answer = e2e.http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": token,
                                           "hub.challenge": "1158201444"})
        assert answer.status_code == 403 and "1158201444" not in answer.text
