"""Meta's webhook handshake and signature, shared by every Meta product hilft listens to
(Facebook Pages, Instagram and Messenger through ``meta_webhook``, Threads through
``threads_webhook``): the GET subscription check (``hub.mode``, ``hub.verify_token``,
``hub.challenge``) and ``X-Hub-Signature-256`` (``sha256=`` + hex HMAC-SHA256 of the raw body
with the app secret). Each product has its own app, so the secret and the variable that names it
are the caller's. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from hilft.core.errors import Forbidden, InvalidSignature, MissingSecret

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_PREFIX = "sha256="
_CHALLENGE = re.compile(r"[A-Za-z0-9._-]{1,512}")  # echoed back: never markup


def verify_subscription(params: Mapping[str, str], verify_token: str | None, *, variable: str) -> str:
    """The challenge to echo for a subscription check. Fails closed: no configured token
    (``variable`` names it) is a server error; a wrong token, mode or challenge is ``Forbidden``."""
    if not verify_token:
        raise MissingSecret(f"{variable} is not configured")
    offered = params.get("hub.verify_token") or ""
    challenge = params.get("hub.challenge") or ""
    token_matches = hmac.compare_digest(offered.encode(), verify_token.encode())
    if params.get("hub.mode") != "subscribe" or not token_matches or not _CHALLENGE.fullmatch(challenge):
        raise Forbidden("subscription verification failed")
    return challenge


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return _SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header_value: str | None, app_secret: str | None, *, variable: str) -> None:
    """Check ``X-Hub-Signature-256`` over exactly the bytes received: Meta escapes non-ASCII
    (``\\u00fc``) and slashes, so a re-serialised document would not match. No secret configured
    (``variable`` names it): ``MissingSecret``, so the webhook fails closed."""
    if not app_secret:
        raise MissingSecret(f"{variable} is not configured")
    if not header_value:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER}")
    expected = sign(body, app_secret).encode()
    offered = header_value.strip().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, offered.lower()):
        raise InvalidSignature()
