"""Google's token-signing key as the security tests play it: one RSA key and its JWKS on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from fakes.base import FakeServer, Response

ISSUER = "https://accounts.google.com"
GOOGLE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def serve_google_keys() -> Iterator[str]:
    """Google's JWKS endpoint on loopback, publishing only GOOGLE_KEY (kid ``google-1``)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(GOOGLE_KEY.public_key()))
    server = FakeServer()
    server.route("GET", r"/certs", lambda req, m: Response(200, {"keys": [{**jwk, "kid": "google-1",
                                                                            "alg": "RS256", "use": "sig"}]}))
    server.start()
    yield f"{server.url}/certs"
    server.stop()
