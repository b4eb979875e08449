"""Filling in posts Meta sent as ids only: the ``enrich`` task.

Page mentions and Instagram mentions arrive without text or author. The webhook stores them at
once (the promise runs from that moment) and enqueues an ``enrich`` task; this service, called by
``deadline`` for that task, reads text and author from the Graph API, redacts the text, routes it
and, when personal data or a private department calls for it, schedules the automatic handoff —
all outside the webhook request, so the webhook stays fast and independent of Graph's health.

Failures follow the handoff's rules: a rate limit reschedules the task at Meta's reset, a Graph
outage answers 503 so Cloud Tasks retries, a rejected token is an operator's ERROR line. Nothing
here ever stops the clock: a post Graph cannot read stays open and is alerted when due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hilft.adapters import meta_client as mc
from hilft.adapters.firestore_store import MENTIONS, Snapshot
from hilft.core import ids
from hilft.core.errors import TransientError
from hilft.core.pii import DEFAULT_CUSTOMER_NUMBER_PATTERNS, PiiConfig, redact_text
from hilft.core.policy import Policy
from hilft.core.routing import route
from hilft.logs import get_logger
from hilft.service.ports import Clock, MentionReader, Scheduler, Store

log = get_logger("hilft.enrich")

HANDOFF_DELAY = timedelta(seconds=1)
MISSING_POST_RETRIES = 8  # the task is enqueued before its document is committed
UNREADABLE = "unreadable"  # enrichment state when Graph will never give this post's text


@dataclass
class EnrichResult:
    outcome: str  # enriched | nothing_to_do | rate_limited | unreadable | config_error | missing


class EnrichService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 reader: MentionReader | None) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.reader = reader
        pii = policy.pii
        self.pii_config = PiiConfig(default_region=pii.default_region,
                                    customer_number_patterns=(*DEFAULT_CUSTOMER_NUMBER_PATTERNS,
                                                              *pii.customer_number_patterns),
                                    ignore_patterns=tuple(pii.ignore_patterns))

    def run(self, payload: Mapping[str, Any], *, retries: int = 0) -> EnrichResult:
        """One ``enrich`` task. ``retries`` is Cloud Tasks' retry count of this delivery."""
        doc_id = payload.get("doc_id")
        lookup = payload.get("lookup")
        if not isinstance(doc_id, str) or not ids.is_doc_id(doc_id) or not isinstance(lookup, dict):
            return EnrichResult("nothing_to_do")
        attempt = int(payload.get("attempt") or 0)
        snap = self.store.get(MENTIONS, doc_id)
        if snap is None:
            if retries < MISSING_POST_RETRIES:
                raise TransientError("post not stored yet")
            return EnrichResult("missing")
        if not snap.data.get("needs_enrichment") or snap.data.get("status") == "deleted":
            return EnrichResult("nothing_to_do")
        if self.reader is None:
            log.error("enrichment impossible: no Meta page access token configured", doc_id=doc_id)
            return EnrichResult("config_error")
        now = self.clock()
        try:
            fetched = self.reader.fetch_mention({k: str(v) for k, v in lookup.items()})
        except mc.MetaRateLimited as exc:
            self._retry_later(doc_id, payload, snap.data, attempt, now + timedelta(seconds=exc.retry_after), now)
            return EnrichResult("rate_limited")
        except mc.MetaTokenError as exc:
            # An operator must renew the token; the post stays open and its promise still alerts.
            log.error("enrichment impossible: Meta access token rejected", doc_id=doc_id, code=exc.code)
            self._mark_unreadable(doc_id, "token_rejected", now)
            return EnrichResult("config_error")
        except mc.RetryableMetaError as exc:
            raise TransientError("meta graph api unavailable") from exc
        except (mc.MetaApiError, ValueError) as exc:
            log.warning("enrichment impossible: Graph refused the read", doc_id=doc_id,
                        code=getattr(exc, "code", None), subcode=getattr(exc, "subcode", None))
            self._mark_unreadable(doc_id, "graph_refused", now)
            return EnrichResult(UNREADABLE)
        return self._fill(doc_id, fetched, now)

    # -- internals -------------------------------------------------------------------------

    def _fill(self, doc_id: str, fetched: Mapping[str, str | None], now: datetime) -> EnrichResult:
        text = fetched.get("text") or ""
        redacted, pii_kinds = redact_text(text, self.pii_config)
        handoff: dict[str, Any] = {}
        applied: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            handoff.clear()
            applied.clear()
            if snap is None or not snap.data.get("needs_enrichment") or snap.data.get("status") == "deleted":
                return None
            data = snap.data
            decision = route(text, data.get("lang"), self.policy.departments,
                             self.policy.handoff.default_department)
            updates: dict[str, Any] = {
                "text": redacted, "pii_kinds": sorted(str(k) for k in pii_kinds), "needs_enrichment": False,
                "department": decision.department, "enriched_at": now, "enrichment": "done",
            }
            for field in ("author_id", "author_handle", "author_name"):
                if fetched.get(field):
                    updates[field] = fetched[field]
            wants = bool(self.policy.handoff.auto and data.get("kind") != "dm"
                         and data.get("status") in ("open", "overdue") and not data.get("handoff_pending")
                         and (pii_kinds or decision.requires_private))
            if wants:
                updates["handoff_pending"] = True
                handoff.update(department=decision.department, reason="pii" if pii_kinds else "department",
                               data=data)
            applied["yes"] = True
            return updates

        self.store.mutate(MENTIONS, doc_id, decide)
        if not applied:
            return EnrichResult("nothing_to_do")
        log.info("mention enriched", doc_id=doc_id, pii=len(pii_kinds), handoff=bool(handoff))
        if handoff:
            data = handoff["data"]
            raw_due = data.get("due_at")
            due = raw_due if isinstance(raw_due, datetime) else now
            self.scheduler.schedule(ids.task_id(doc_id, "handoff", 0, due), now + HANDOFF_DELAY,
                                    {"doc_id": doc_id, "platform": data.get("platform"),
                                     "post_id": data.get("post_id"), "due_at": due.isoformat(),
                                     "kind": "handoff", "department": handoff["department"],
                                     "reason": handoff["reason"], "pii": handoff["reason"] == "pii"}, now)
        return EnrichResult("enriched")

    def _retry_later(self, doc_id: str, payload: Mapping[str, Any], data: Mapping[str, Any], attempt: int,
                     at: datetime, now: datetime) -> None:
        raw_due = data.get("due_at")
        due = raw_due if isinstance(raw_due, datetime) else now
        self.scheduler.schedule(ids.task_id(doc_id, "enrich", attempt + 1, due), max(at, now),
                                {**payload, "attempt": attempt + 1}, now)
        log.warning("platform rate limit: enrichment rescheduled", doc_id=doc_id, attempt=attempt + 1)

    def _mark_unreadable(self, doc_id: str, reason: str, now: datetime) -> None:
        self.store.update(MENTIONS, doc_id, {"enrichment": UNREADABLE, "enrichment_error": reason,
                                             "enrichment_failed_at": now})
