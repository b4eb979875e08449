"""Cloud Run removes the signature of the ID token it verified before passing the request on: the
token reaches the code as ``header.payload.SIGNATURE_REMOVED_BY_GOOGLE`` (Google, "Authenticating
service-to-service"; Cloud Run troubleshooting, #signature-removed). Every Cloud Tasks and Cloud
Scheduler call, and every staff call under IAM, arrives like that in production.

Such a token is accepted only where the deployment says Cloud Run IAM guards the function
(``HILFT_CLOUD_RUN_IAM=true``), and its issuer, audience, expiry, issue time and e-mail are checked
all the same. Anywhere else — public functions, the setting off, the local stack — anyone could
write one, so it is refused (the attack: a hand-made token with a stripped signature).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import flask
import jwt
import pytest

from hilft import handlers, web
from hilft.adapters.oidc import SIGNATURE_REMOVED, OidcVerifier
from hilft.app import App
from hilft.core.errors import Forbidden, HilftError, Unauthorized
from hilft.settings import Settings
from tests.security.google_keys import GOOGLE_KEY, ISSUER

DEADLINE = "https://hilft-deadline-123456789012.europe-west3.run.app"
TASKS_SA = "hilft-tasks@acme-care-prod.iam.gserviceaccount.com"
BOARD = "https://hilft-board-123456789012.europe-west3.run.app"




def _claims(**overrides: Any) -> dict[str, Any]:
    """Google's ID token claims; an override of None leaves the claim out."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": DEADLINE, "iat": now, "exp": now + 600, "email": TASKS_SA,
              "email_verified": True, "sub": "1234"} | overrides
    return {name: value for name, value in claims.items() if value is not None}


def signed(**overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), GOOGLE_KEY, algorithm="RS256", headers={"kid": "google-1"})


def stripped(**overrides: Any) -> str:
    """What Cloud Run hands the container: the signed token with its signature replaced."""
    return signed(**overrides).rsplit(".", 1)[0] + "." + SIGNATURE_REMOVED


def hand_made(**overrides: Any) -> str:
    """An attacker's token in the stripped shape: no key needed to write it."""
    def b64(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'google-1'})}.{b64(_claims(**overrides))}.{SIGNATURE_REMOVED}"


def verify(jwks: str, token: str, *, cloud_run_iam: bool, audience: str = DEADLINE) -> dict[str, Any]:
    return OidcVerifier(jwks, [ISSUER], cloud_run_iam=cloud_run_iam).verify(
        f"Bearer {token}", audience=audience, allowed_emails=[TASKS_SA])


# -- the verifier ---------------------------------------------------------------------------------


def test_a_token_cloud_run_verified_is_accepted_behind_cloud_run_iam(google_keys):
    assert verify(google_keys, stripped(), cloud_run_iam=True)["email"] == TASKS_SA


@pytest.mark.parametrize("token", [stripped, hand_made], ids=["cloud-run-stripped", "hand-made"])
def test_without_cloud_run_iam_a_token_without_signature_is_refused(google_keys, token):
    with pytest.raises(Unauthorized):
        verify(google_keys, token(), cloud_run_iam=False)


@pytest.mark.parametrize(("claims", "error"), [
    pytest.param({"aud": "https://hilft-sweep-123456789012.europe-west3.run.app"}, Unauthorized, id="other-audience"),
    pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, Unauthorized, id="expired"),
    pytest.param({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, Unauthorized, id="issued-later"),
    pytest.param({"iss": "https://evil.example"}, Unauthorized, id="other-issuer"),
    pytest.param({"exp": None}, Unauthorized, id="no-expiry"),
    pytest.param({"email": "intruder@evil-project.iam.gserviceaccount.com"}, Forbidden, id="other-email"),
    pytest.param({"email_verified": False}, Forbidden, id="unverified-email"),
    pytest.param({"email": None}, Forbidden, id="no-email"),
])
def test_behind_cloud_run_iam_the_claims_are_still_checked(google_keys, claims, error):
    with pytest.raises(error):
        verify(google_keys, stripped(**claims), cloud_run_iam=True)


@pytest.mark.parametrize("shape", [
    pytest.param(lambda: stripped().rsplit(".", 1)[0] + ".signature_removed_by_google", id="lower-case-marker"),
    pytest.param(lambda: stripped().rsplit(".", 1)[0] + ".", id="empty-signature"),
    pytest.param(lambda: stripped().replace(stripped().split(".")[0], base64.urlsafe_b64encode(
        b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()), id="alg-none"),
    pytest.param(lambda: stripped() + ".extra", id="four-segments"),
])
def test_only_the_exact_stripped_shape_skips_the_signature(google_keys, shape):
    with pytest.raises(Unauthorized):
        verify(google_keys, shape(), cloud_run_iam=True)


@pytest.mark.parametrize("cloud_run_iam", [True, False])
def test_a_fully_signed_token_works_everywhere(google_keys, cloud_run_iam):
    assert verify(google_keys, signed(), cloud_run_iam=cloud_run_iam)["email"] == TASKS_SA


@pytest.mark.parametrize(("audience", "emails"), [("", [TASKS_SA]), (None, [TASKS_SA]), (DEADLINE, []),
                                                  (DEADLINE, None), (DEADLINE, [""])])
def test_the_verifier_never_checks_against_nothing(google_keys, audience, emails):
    """No "any audience" or "any caller" path: without both there is nothing to verify against."""
    verifier = OidcVerifier(google_keys, [ISSUER], cloud_run_iam=True)
    with pytest.raises(HilftError) as caught:
        verifier.verify(f"Bearer {signed()}", audience=audience, allowed_emails=emails)
    assert caught.value.http_status == 500


# -- through the entry points ------------------------------------------------------------------


def _deadline(google_keys: str, header: str, value: str, **settings: Any) -> tuple[int, list[str]]:
    app = App(Settings(oidc_jwks_url=google_keys, oidc_issuers=frozenset({ISSUER}), deadline_url=DEADLINE,
                       tasks_service_account=TASKS_SA, **settings))
    reached: list[str] = []

    class Service:
        def fire(self, payload: dict[str, Any]) -> Any:
            reached.append("fire")
            return type("Fired", (), {"outcome": "alerted", "sinks": ()})()

    app.__dict__["deadline_service"] = Service()
    with flask.Flask(__name__).test_request_context("/", method="POST", base_url=DEADLINE,
                                                    json={"kind": "due", "doc_id": "a" * 40},
                                                    headers={header: f"Bearer {value}"}):
        response = web.handle("deadline", flask.request, lambda: handlers.deadline(app, flask.request))
    return response.status_code, reached


@pytest.mark.parametrize("header", ["Authorization", "X-Serverless-Authorization"])
def test_deadline_accepts_cloud_tasks_through_cloud_run(google_keys, header):
    assert _deadline(google_keys, header, stripped(), cloud_run_iam=True) == (200, ["fire"])


def test_deadline_refuses_a_token_without_signature_when_nothing_guards_it(google_keys):
    assert _deadline(google_keys, "Authorization", hand_made())[0] == 401
    assert _deadline(google_keys, "Authorization", stripped(), cloud_run_iam=False) == (401, [])


def test_the_header_cloud_run_checked_is_the_one_read(google_keys):
    """With X-Serverless-Authorization present, Cloud Run checks that one and passes Authorization on
    untouched: a stripped-looking token there proves nothing."""
    app = App(Settings(oidc_jwks_url=google_keys, oidc_issuers=frozenset({ISSUER}), deadline_url=DEADLINE,
                       tasks_service_account=TASKS_SA, cloud_run_iam=True))
    app.__dict__["deadline_service"] = None
    headers = {"X-Serverless-Authorization": f"Bearer {stripped(aud='https://elsewhere.example')}",
               "Authorization": f"Bearer {hand_made()}"}
    with flask.Flask(__name__).test_request_context("/", method="POST", json={"kind": "due", "doc_id": "a" * 40},
                                                    headers=headers):
        response = web.handle("deadline", flask.request, lambda: handlers.deadline(app, flask.request))
    assert response.status_code == 401


def _board_identity(google_keys: str, token: str, *, cloud_run_iam: bool, host: str = BOARD) -> str:
    app = App(Settings(oidc_jwks_url=google_keys, oidc_issuers=frozenset({ISSUER}), staff_auth="iam",
                       staff_audiences=frozenset({BOARD}), cloud_run_iam=cloud_run_iam))
    with flask.Flask(__name__).test_request_context("/", base_url=host,
                                                    headers={"X-Serverless-Authorization": f"Bearer {token}"}):
        return app.staff(flask.request)


def test_staff_through_cloud_run_iam_are_recognised(google_keys):
    token = stripped(aud=BOARD, email="anna@brand.example")
    assert _board_identity(google_keys, token, cloud_run_iam=True) == "anna@brand.example"


@pytest.mark.parametrize(("token", "cloud_run_iam"), [
    pytest.param(lambda: hand_made(aud=BOARD, email="ciso@brand.example"), False, id="hand-made-public-board"),
    pytest.param(lambda: stripped(aud="https://other.example", email="anna@brand.example"), True, id="other-audience"),
    pytest.param(lambda: stripped(aud=BOARD, email="anna@brand.example", email_verified=False), True,
                 id="unverified-email"),
    pytest.param(lambda: stripped(aud=BOARD, email="anna@brand.example", exp=int(time.time()) - 3600,
                                  iat=int(time.time()) - 7200), True, id="expired"),
])
def test_staff_tokens_without_signature_are_checked_or_refused(google_keys, token, cloud_run_iam):
    with pytest.raises(Unauthorized):
        _board_identity(google_keys, token(), cloud_run_iam=cloud_run_iam)
