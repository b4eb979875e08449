"""Attack: an unauthenticated caller sends a signature header no signer would produce — non-ASCII
(``v1=é``), Unicode digits (``t=²``, which ``str.isdigit`` accepts and ``int`` refuses), empty,
huge. Each must be an ordinary wrong signature (401, ``InvalidSignature``), never a 500: a 500
writes an ERROR line, and ERROR lines page the operator (infra/monitoring.tf), so any stranger
could page them at will. Covered for every signature check hilft has: X, Meta, Threads,
PagerDuty, and the helper receivers of hilft's outgoing webhook use."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hilft.app import App
from hilft.channels import hub
from hilft.channels.x import parse as x
from hilft.core import alerts
from hilft.core import pagerduty_webhook as pagerduty
from hilft.core.errors import InvalidSignature
from hilft.settings import Settings
from tests.security.inprocess import answer

BODY = b'{"event":{"event_type":"incident.acknowledged","data":{"incident_key":"hilft-abc"}}}'
SECRET = "s3cret"
NOW = 1_800_000_000

# The class, by hand: what a server hands over as a header value (Latin-1 decoded) and beyond.
HOSTILE = [
    "", " ", "\u00e9", "\u00ff" * 100, "\u00b2", "\u00b2\u00b3", "\u0663\u0663", "\uff11\uff12", "\u00bd",
    "\x00", "\udc80", "\ud83d", "=", ",", "=,=,=", "a" * 8_000, "9" * 5_000, "\u00e9" * 64, "0" * 64, "-1", "+1",
]


def _variants(value: str) -> list[str]:
    """``value`` in every place of each header format: bare, after its prefix, beside a good-looking part."""
    return [value, f"v1={value}", f"sha256={value}", f"t={value}", f"t={value},v1={'0' * 64}",
            f"t={NOW},v1={value}", f"v1={'0' * 64},v1={value}", f"{value},{value}"]


def _refused(check, header: str) -> None:
    with pytest.raises(InvalidSignature):
        check(header)


CHECKS = {
    "x": lambda header: x.verify_signature(BODY, {x.OAUTH2_SIGNATURE_HEADER: header, x.LEGACY_SIGNATURE_HEADER: header},
                                           client_secret=SECRET, consumer_secret=SECRET),
    "meta_and_threads": lambda header: hub.verify_signature(BODY, header, SECRET, variable="META_APP_SECRET"),
    "pagerduty": lambda header: pagerduty.verify_signature(BODY, header, SECRET),
    "outgoing_webhook_receiver": lambda header: alerts.verify_webhook_signature(BODY, header, SECRET, now=NOW),
}


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:12]) + f"x{len(v)}")
def test_hostile_signature_values_are_an_invalid_signature(check, value):
    for header in _variants(value):
        _refused(check, header)


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=200) | st.text(alphabet=st.characters(categories=["Nd", "No"]), max_size=20))
@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_any_text_as_signature_is_an_invalid_signature(check, value):
    for header in _variants(value):
        _refused(check, header)


def test_the_checks_still_accept_the_genuine_signature():
    """The same checks, fed the real thing: the hardening refused nothing it should accept."""
    CHECKS["x"](x.sign(BODY, SECRET))
    CHECKS["meta_and_threads"](hub.sign(BODY, SECRET))
    CHECKS["pagerduty"]("v1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest())
    CHECKS["outgoing_webhook_receiver"](alerts.sign_webhook(BODY, SECRET, NOW))


# -- the public doors, over HTTP -----------------------------------------------------------------

DOORS = {  # entry point -> its signature header
    "x_webhook": "X-Twitter-Webhooks-Signature-OAuth2",
    "meta_webhook": hub.SIGNATURE_HEADER,
    "threads_webhook": hub.SIGNATURE_HEADER,
    "pagerduty_webhook": "X-PagerDuty-Signature",
}
# As a WSGI server hands them over: bytes decoded as Latin-1, so only code points below 256.
WIRE = [value for value in HOSTILE if all(ord(c) < 256 for c in value)]


@pytest.fixture(scope="module")
def app() -> App:
    return App(Settings(oidc_required=False, x_client_secret=SECRET, x_consumer_secret=SECRET, meta_app_secret=SECRET,
                        threads_app_secret=SECRET, pagerduty_webhook_secret=SECRET))


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("value", WIRE, ids=lambda v: repr(v[:12]) + f"x{len(v)}")
def test_public_doors_answer_401_to_hostile_signature_headers(app, door, value):
    header = "HTTP_" + DOORS[door].upper().replace("-", "_")
    for signature in _variants(value):
        response = answer(app, door, body=BODY, headers={"Content-Type": "application/json"},
                          environ={header: signature})
        assert response.status_code == 401, (door, signature[:40], response.get_data(as_text=True))
