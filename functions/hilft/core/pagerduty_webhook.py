"""PagerDuty's V3 webhooks, so acknowledging the incident in PagerDuty acknowledges the post.

Pure: verify ``X-PagerDuty-Signature`` (``v1=<hex HMAC-SHA256(secret, body)>``, several during a
secret rotation) and pull the post's document id out of ``event.data.incident_key``, which is
the ``dedup_key`` hilft triggered with (``hilft-<doc id>``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from hilft.core.errors import InvalidSignature

PREFIX = "hilft-"


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    """Compared as bytes: ``hmac.compare_digest`` raises on a non-ASCII str, and any caller can
    send one (an unauthenticated 500 would feed the operator's ERROR-log alert)."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    offered = [part.strip()[3:].encode("utf-8", "replace")
               for part in (header or "").split(",") if part.strip().startswith("v1=")]
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise InvalidSignature("invalid PagerDuty signature")


def acknowledged_doc_id(payload: dict[str, Any]) -> str | None:
    """The doc id of an ``incident.acknowledged`` event for one of hilft's incidents, else None."""
    event = payload.get("event")
    if not isinstance(event, dict) or event.get("event_type") != "incident.acknowledged":
        return None
    data = event.get("data")
    key = data.get("incident_key") if isinstance(data, dict) else None
    if isinstance(key, str) and key.startswith(PREFIX) and len(key) > len(PREFIX):
        return key[len(PREFIX):]
    return None
