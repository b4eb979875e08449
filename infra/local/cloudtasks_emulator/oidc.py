"""OIDC identity tokens shaped like the ones Google mints for Cloud Tasks, plus their JWKS.

The key is generated at start and never leaves the process except as its public JWK, so
receivers verify emulator tokens exactly as they verify Google's: by fetching the JWKS.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

GOOGLE_ISSUER = "https://accounts.google.com"
TOKEN_LIFETIME = 3600
_REFRESH_MARGIN = 300  # mint a new token once a cached one has less than this left


def subject_for(email: str) -> str:
    """Stable, numeric-looking 21-digit id, like a service account's unique id."""
    digest = hashlib.sha256(email.lower().encode()).digest()
    return "1" + str(int.from_bytes(digest[:10], "big") % 10**20).zfill(20)


class OidcIssuer:
    """Signs RS256 ID tokens; caches them per (email, audience) as Google's token service does."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_numbers = self._key.public_key().public_numbers()
        self.kid = hashlib.sha256(f"{public_numbers.n}:{public_numbers.e}".encode()).hexdigest()[:40]
        self._cache: dict[tuple[str, str], tuple[str, int]] = {}
        self._lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [jwk]}

    def token(self, email: str, audience: str, now: float) -> str:
        issued_at = int(now)
        with self._lock:
            cached = self._cache.get((email, audience))
            if cached and cached[1] - issued_at > _REFRESH_MARGIN:
                return cached[0]
        subject = subject_for(email)
        claims = {
            "iss": GOOGLE_ISSUER,
            "aud": audience,
            "azp": subject,
            "sub": subject,
            "email": email,
            "email_verified": True,
            "iat": issued_at,
            "exp": issued_at + TOKEN_LIFETIME,
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
        with self._lock:
            self._cache[(email, audience)] = (token, issued_at + TOKEN_LIFETIME)
        return token


class JwksServer:
    """Serves ``/jwks`` and ``/.well-known/openid-configuration`` over plain HTTP."""

    def __init__(self, issuer: OidcIssuer, host: str, port: int) -> None:
        self._issuer = issuer
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="cloudtasks-jwks",
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/jwks"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path in ("/jwks", "/oauth2/v3/certs"):
                    self._json(200, server._issuer.jwks())
                elif path == "/.well-known/openid-configuration":
                    self._json(200, {
                        "issuer": GOOGLE_ISSUER,
                        "jwks_uri": server.jwks_url,
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "response_types_supported": ["id_token"],
                        "subject_types_supported": ["public"],
                        "claims_supported": ["aud", "azp", "email", "email_verified", "exp", "iat",
                                             "iss", "sub"],
                    })
                else:
                    self._json(404, {"error": "not found"})

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=3600")
                self.end_headers()
                self.wfile.write(body)

        return Handler
