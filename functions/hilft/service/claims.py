"""Send once: a claim document is created before a message goes out, so a retried or concurrent
task never sends a second one. ``sent`` is final; an ``in_progress`` claim blocks until it expires
(a crashed sender); a ``failed`` or ``rate_limited`` claim may be taken again — inside
``Store.mutate`` (a write with a precondition on the claim as read, retried when it moved), so of
two callers taking over the same failed claim at once exactly one gets it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hilft.channels import SendOnce
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
    seen: dict[str, Snapshot | None] = {}

    def take(snap: Snapshot | None) -> dict[str, Any] | None:
        seen.clear()
        data = snap.data if snap is not None else {}
        expires = data.get("expires_at")
        if snap is None or data.get("state") == "sent":
            seen["final"] = snap  # sent; or gone (expired by TTL) since the create: the retry creates it
            return None
        if data.get("state") == "in_progress" and isinstance(expires, datetime) and expires > now:
            seen["busy"] = snap
            return None
        return {**taking, "doc_id": fields.get("doc_id")}

    store.mutate(collection, claim_id, take)
    if "busy" in seen:
        raise Conflict(f"{what} in progress")
    if "final" in seen:
        if seen["final"] is None:
            raise Conflict(f"{what} claim vanished, retry")
        return seen["final"]
    return None


def send_once(store: Store, collection: str, claim_id: str, part: str) -> SendOnce:
    """What a gateway needs to make one send of the claim ``collection/claim_id`` idempotent:
    its key (claim and ``part``: a handoff's DM and its public note are two sends) and a memo in
    the claim document (fields ``memo_<part>_<name>``) for the next attempt of the same send."""

    def field(name: str) -> str:
        return f"memo_{part}_{name}"

    def recall(name: str) -> str | None:
        snap = store.get(collection, claim_id)
        value = snap.data.get(field(name)) if snap is not None else None
        return value if isinstance(value, str) and value else None

    def note(name: str, value: str) -> None:
        store.update(collection, claim_id, {field(name): value})

    return SendOnce(key=f"{collection}/{claim_id}/{part}", recall=recall, note=note)
