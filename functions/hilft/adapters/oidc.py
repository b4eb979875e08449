"""Verifies the Google ID tokens of hilft's authenticated callers: Cloud Tasks and Cloud Scheduler
(``deadline``, ``sweep``, ``poll``) and staff behind Cloud Run IAM (``board``, ``ack``, ``handoff``).

Cloud Run IAM checks the token first in production; this check makes the function safe on its own
and lets the local Cloud Tasks emulator's signed tokens exercise the same code path.

Cloud Run removes the signature of the token it verified before the request reaches the container:
the token arrives as ``header.payload.SIGNATURE_REMOVED_BY_GOOGLE`` (Google, "Authenticating
service-to-service", cloud.google.com/run/docs/authenticating/service-to-service; Cloud Run
troubleshooting, #signature-removed). Such a token is trusted only when the deployment says Cloud
Run IAM guards this function (``cloud_run_iam``: no ``allUsers`` invoker, so nothing reaches the
code unless Cloud Run verified that very token), and even then its issuer, audience, expiry,
issue time and e-mail are checked as for a signed one. Anywhere else it is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import jwt

from hilft.core.errors import Forbidden, MissingSecret, TransientError, Unauthorized

SIGNATURE_REMOVED = "SIGNATURE_REMOVED_BY_GOOGLE"
"""What Cloud Run puts in place of the signature of the token it verified."""

LEEWAY_SECONDS = 30
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud"]


class OidcVerifier:
    def __init__(self, jwks_url: str, issuers: Iterable[str], *, cloud_run_iam: bool = False) -> None:
        self._jwks_url = jwks_url
        self._issuers = list(issuers)
        self._cloud_run_iam = cloud_run_iam
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    @property
    def jwks(self) -> jwt.PyJWKClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = jwt.PyJWKClient(self._jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        return self._client

    def verify(self, authorization: str | None, *, audience: str | None,
               allowed_emails: Iterable[str] | None) -> dict[str, Any]:
        """The verified claims of a service caller (Cloud Tasks, Cloud Scheduler) addressed to
        ``audience`` whose verified e-mail is one of ``allowed_emails``; else Unauthorized / Forbidden.

        Both are required: without them there is nothing to check a token against (a configuration
        error, never "any audience, any caller")."""
        allowed = {email for email in allowed_emails or () if email}
        if not audience:
            raise MissingSecret("no OIDC audience configured")
        if not allowed:
            raise MissingSecret("no allowed caller e-mail configured")
        claims = self._decode(authorization, [audience])
        if claims.get("email") not in allowed or claims.get("email_verified") is not True:
            raise Forbidden("caller identity not allowed")
        return claims

    def verify_staff(self, authorization: str | None, *, audiences: Iterable[str]) -> str:
        """The verified e-mail of a staff caller whose token is addressed to one of ``audiences``
        (the function's own URLs, from the deployment; never from the request)."""
        accepted = sorted({audience for audience in audiences if audience})
        if not accepted:
            raise MissingSecret("HILFT_STAFF_AUDIENCES must be set while HILFT_STAFF_AUTH=iam")
        claims = self._decode(authorization, accepted)
        email = claims.get("email")
        if not isinstance(email, str) or not email or claims.get("email_verified") is not True:
            raise Unauthorized("identity token carries no verified e-mail")
        return email

    def _decode(self, authorization: str | None, audiences: list[str]) -> dict[str, Any]:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing bearer token")
        token = authorization.split(" ", 1)[1].strip()
        try:
            if token.count(".") == 2 and token.rsplit(".", 1)[1] == SIGNATURE_REMOVED:
                return self._decode_verified_by_cloud_run(token, audiences)
            key = self.jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=["RS256"], audience=audiences, issuer=self._issuers,
                options={"require": _REQUIRED_CLAIMS}, leeway=LEEWAY_SECONDS)
        except jwt.PyJWKClientConnectionError as exc:
            raise TransientError("token keys unavailable") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid token") from exc
        return claims

    def _decode_verified_by_cloud_run(self, token: str, audiences: list[str]) -> dict[str, Any]:
        """A token whose signature Cloud Run checked and removed: its claims, checked like any other's."""
        if not self._cloud_run_iam:
            raise Unauthorized("token without signature")  # nothing in front of us checked it
        if jwt.get_unverified_header(token).get("alg") != "RS256":
            raise Unauthorized("invalid token")
        claims: dict[str, Any] = jwt.decode(
            token, algorithms=["RS256"], audience=audiences, issuer=self._issuers, leeway=LEEWAY_SECONDS,
            options={"verify_signature": False, "verify_exp": True, "verify_iat": True, "verify_nbf": True,
                     "verify_aud": True, "verify_iss": True, "require": _REQUIRED_CLAIMS})
        return claims
