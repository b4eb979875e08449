"""Attack: claim to be someone else on a staff door behind Cloud Run IAM (``HILFT_STAFF_AUTH=iam``).

The recorded name (``acknowledged_by``, ``requested_by``) must come from a Google ID token whose
signature, issuer, audience and expiry hilft verified itself — an ``alg: none`` token, a token
signed by the attacker's own key, an expired one or one minted for another service records nothing.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import flask
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from hilft import web
from hilft.adapters.oidc import OidcVerifier
from hilft.core.errors import HilftError, Unauthorized
from tests.security.google_keys import GOOGLE_KEY, ISSUER

BOARD = "https://board-abc-ew.a.run.app"
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)




def _token(key: Any = GOOGLE_KEY, kid: str = "google-1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": BOARD, "iat": now, "exp": now + 600, "email": "anna@brand.example",
              "email_verified": True, "sub": "1234"} | overrides
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _unsigned(**overrides: Any) -> str:
    def b64(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISSUER, "aud": BOARD, "iat": now, "exp": now + 600, "email": "ciso@brand.example",
              "email_verified": True} | overrides
    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'google-1'})}.{b64(claims)}."


def _identify(jwks_url: str, headers: dict[str, str], *, base_url: str = BOARD,
              audiences: frozenset[str] = frozenset({BOARD})) -> str:
    app = flask.Flask(__name__)
    with app.test_request_context("/", base_url=base_url, headers=headers):
        return web.staff_identity(flask.request, "iam", None, verifier=OidcVerifier(jwks_url, [ISSUER]),
                                  audiences=audiences)


def test_a_verified_google_identity_is_recorded(google_keys):
    assert _identify(google_keys, {"Authorization": f"Bearer {_token()}"}) == "anna@brand.example"


def test_the_header_cloud_run_validated_wins_over_authorization(google_keys):
    headers = {"X-Serverless-Authorization": f"Bearer {_token()}", "Authorization": "Bearer app-level"}
    assert _identify(google_keys, headers) == "anna@brand.example"


@pytest.mark.parametrize("forged", [
    pytest.param(lambda: _unsigned(), id="alg-none"),
    pytest.param(lambda: _token(key=ATTACKER_KEY), id="attacker-key-same-kid"),
    pytest.param(lambda: _token(exp=int(time.time()) - 3600), id="expired"),
    pytest.param(lambda: _token(aud="https://other-service.a.run.app"), id="other-audience"),
    pytest.param(lambda: _token(iss="https://evil.example"), id="other-issuer"),
    pytest.param(lambda: _token(email_verified=False), id="unverified-email"),
    pytest.param(lambda: _token(email=None), id="no-email"),
    pytest.param(lambda: "not-a-jwt", id="garbage"),
])
@pytest.mark.parametrize("header", ["Authorization", "X-Serverless-Authorization"])
def test_forged_or_foreign_tokens_record_no_name(google_keys, forged, header):
    with pytest.raises(Unauthorized):
        _identify(google_keys, {header: f"Bearer {forged()}"})


def test_without_a_verifier_iam_mode_fails_closed():
    app = flask.Flask(__name__)
    with app.test_request_context("/", base_url=BOARD, headers={"Authorization": f"Bearer {_token()}"}):
        with pytest.raises(HilftError):
            web.staff_identity(flask.request, "iam", None)


OTHER_SERVICE = "https://someone-elses-service-abc-ew.a.run.app"


@pytest.mark.parametrize("header", ["Authorization", "X-Serverless-Authorization"])
def test_a_token_for_another_service_with_a_spoofed_host_is_refused(google_keys, header):
    """The attack: a genuine Google ID token minted for another service (which its owner may hand
    around), presented with ``Host`` set to that service. The audience comes from the deployment
    (``HILFT_STAFF_AUDIENCES``), never from the request, so the Host header cannot widen it."""
    token = _token(aud=OTHER_SERVICE, email="ciso@brand.example")
    with pytest.raises(Unauthorized):
        _identify(google_keys, {header: f"Bearer {token}", "Host": OTHER_SERVICE.removeprefix("https://")},
                  base_url=OTHER_SERVICE)


def test_both_deployed_urls_of_the_function_are_accepted(google_keys):
    legacy = "https://europe-west3-acme.cloudfunctions.net/hilft-board"
    token = _token(aud=legacy)
    assert _identify(google_keys, {"Authorization": f"Bearer {token}"},
                     audiences=frozenset({BOARD, legacy})) == "anna@brand.example"


def test_without_configured_audiences_iam_mode_fails_closed(google_keys):
    """Even a token for the function's own URL: with no audiences configured there is nothing to
    compare it with (the function does not start that way either: test_oidc_fail_closed.py)."""
    with pytest.raises(HilftError) as caught:
        _identify(google_keys, {"Authorization": f"Bearer {_token()}"}, audiences=frozenset())
    assert caught.value.http_status == 500 and "HILFT_STAFF_AUDIENCES" in caught.value.message
