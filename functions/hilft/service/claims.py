"""Send once: a claim document is created before a message goes out, so a retried or concurrent
task never sends a second one. ``sent`` is final; an ``in_progress`` claim blocks until it expires
(a crashed sender); a ``failed`` or ``rate_limited`` claim may be taken again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hilft.core.errors import Conflict
from hilft.service.ports import Snapshot, Store


def claim_once(store: Store, collection: str, claim_id: str, fields: dict[str, Any], *, now: datetime,
               ttl: timedelta, what: str) -> Snapshot | None:
    """Take the claim: None when this caller may send now, else the claim already ``sent``.

    Raises ``Conflict`` (a 409 the task queue retries) while another sender holds it.
    """
    taking = {"state": "in_progress", "expires_at": now + ttl}
    if store.create(collection, claim_id, {**fields, **taking, "created_at": now}):
        return None
    existing = store.get(collection, claim_id)
    data = existing.data if existing else {}
    if data.get("state") == "sent":
        return existing
    expires = data.get("expires_at")
    if data.get("state") == "in_progress" and isinstance(expires, datetime) and expires > now:
        raise Conflict(f"{what} in progress")
    store.update(collection, claim_id, {**taking, "doc_id": fields.get("doc_id")})
    return None
