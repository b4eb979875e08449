"""Verifies the OIDC bearer token Cloud Tasks and Cloud Scheduler attach to their calls.

Cloud Run IAM checks the token in production too; this check makes the function safe on its own
and lets the local Cloud Tasks emulator's signed tokens exercise the same code path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import jwt

from hilft.core.errors import Forbidden, TransientError, Unauthorized


class OidcVerifier:
    def __init__(self, jwks_url: str, issuers: Iterable[str]) -> None:
        self._jwks_url = jwks_url
        self._issuers = list(issuers)
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    @property
    def jwks(self) -> jwt.PyJWKClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = jwt.PyJWKClient(self._jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        return self._client

    def verify_any_audience(self, authorization: str | None, *, audiences: Iterable[str]) -> dict:
        """Verify a Google ID token addressed to one of ``audiences`` (a staff caller's token)."""
        accepted = sorted(set(audiences))
        if not accepted:
            raise Unauthorized("no audience configured")
        return self._decode(authorization, accepted)

    def verify(self, authorization: str | None, *, audience: str | None,
               allowed_emails: Iterable[str] | None) -> dict:
        """Return the verified claims, or raise Unauthorized / Forbidden."""
        claims = self._decode(authorization, audience)
        allowed = set(allowed_emails or ())
        if allowed and (claims.get("email") not in allowed or not claims.get("email_verified", False)):
            raise Forbidden("caller identity not allowed")
        return claims

    def _decode(self, authorization: str | None, audience: str | list[str] | None) -> dict:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing bearer token")
        token = authorization.split(" ", 1)[1].strip()
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims: dict = jwt.decode(
                token, key.key, algorithms=["RS256"], audience=audience,
                issuer=self._issuers, options={"require": ["exp", "iat", "iss", "aud"],
                                               "verify_aud": audience is not None},
                leeway=30,
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise TransientError("token keys unavailable") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid token") from exc
        return claims
