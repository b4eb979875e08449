"""Attack: forge a Facebook/Instagram delivery to ``meta_webhook`` — a comment with a phone number,
which would be stored, put on the promise clock and possibly answered under the brand's name.
Unsigned, signed wrongly, signed with another app's secret (Threads', X's), with the verify
token, with SHA-1, or a signed body altered after signing: 401, and nothing is stored or
scheduled. The subscription check answers only the Meta app's verify token, and never echoes
markup."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

import deliveries
from hilft.channels import hub
from tests.security.inprocess import answer, app_with_post

META_SECRET, THREADS_SECRET, VERIFY = "meta-app-secret", "threads-app-secret", "meta-verify-token"
FORGED_ID = "820000000000001_966666666666666"
FORGED = deliveries.facebook_comment(FORGED_ID, deliveries.Author("966666666666666", None, "Angreifer"),
                                     "Dringend! Ruft an: 0171 6666666", datetime.now(UTC))


@pytest.fixture
def app():
    return app_with_post(meta_app_secret=META_SECRET, meta_verify_token=VERIFY, threads_app_secret=THREADS_SECRET,
                         meta_page_ids=frozenset({deliveries.PAGE_ID}))[0]


def _post(app, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"} | ({hub.SIGNATURE_HEADER: signature} if signature is not None else {})
    return answer(app, "meta_webhook", body=body, headers=headers)


def _nothing_stored(app, before: int, scheduled: int) -> None:
    from hilft.service.ports import MENTIONS

    assert len(app.store.data.get(MENTIONS, {})) == before
    assert "6666666" not in json.dumps(app.store.data, default=str)
    assert len(app.scheduler.calls) == scheduled


@pytest.mark.parametrize("signature", [
    None, "", "sha256=", "sha256=" + "0" * 64,
    hub.sign(FORGED, THREADS_SECRET), hub.sign(FORGED, "s3cret"), hub.sign(FORGED, ""), hub.sign(FORGED, VERIFY),
    "sha1=" + hmac.new(META_SECRET.encode(), FORGED, hashlib.sha1).hexdigest(),
], ids=["unsigned", "empty", "prefix-only", "zeros", "threads-app-secret", "x-secret", "empty-secret",
        "verify-token", "sha1"])
def test_forged_meta_deliveries_are_401_and_change_nothing(app, signature):
    from hilft.service.ports import MENTIONS

    before, scheduled = len(app.store.data.get(MENTIONS, {})), len(app.scheduler.calls)
    response = _post(app, FORGED, signature)
    assert response.status_code == 401
    assert "0171" not in response.get_data(as_text=True)
    _nothing_stored(app, before, scheduled)


def test_a_signed_meta_body_altered_after_signing_is_refused(app):
    from hilft.service.ports import MENTIONS

    before, scheduled = len(app.store.data.get(MENTIONS, {})), len(app.scheduler.calls)
    signature = hub.sign(FORGED, META_SECRET)
    for body in (FORGED.replace(b"Angreifer", b"Angreifer2"), FORGED + b" ",
                 json.dumps(json.loads(FORGED), indent=1).encode()):
        assert _post(app, body, signature).status_code == 401
    _nothing_stored(app, before, scheduled)


def test_the_same_meta_body_signed_with_the_meta_secret_is_accepted(app):
    """The control: the refusals above are about the signature, not the body."""
    response = _post(app, FORGED, hub.sign(FORGED, META_SECRET))
    assert response.status_code == 200 and response.get_json()["stored"] == 1


@pytest.mark.parametrize(("token", "challenge"), [
    (THREADS_SECRET, "1158201444"), (META_SECRET, "1158201444"), ("", "1158201444"), ("\u00e9", "1158201444"),
    (VERIFY, "<script>alert(1)</script>"), (VERIFY, "1" * 513),
])
def test_the_meta_subscription_check_answers_only_its_token_and_echoes_no_markup(app, token, challenge):
    from urllib.parse import urlencode

    query = urlencode({"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge})
    response = answer(app, "meta_webhook", method="GET", path="/?" + query)
    assert response.status_code == 403 and challenge not in response.get_data(as_text=True)
