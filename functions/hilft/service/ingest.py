"""Webhook events in, `mentions` documents and deadline tasks out: exactly once per post.

Order of writes: tasks are enqueued before the document is created, so a crash between the two
loses nothing (the platform redelivers; the task names dedupe; `deadline` tolerates a missing
document). ``create()`` is the exactly-once gate for the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hilft.adapters.firestore_store import ANSWERS, MENTIONS
from hilft.core import ids
from hilft.core.models import Deletion, Kind, Mention, ParsedBatch, Platform
from hilft.core.pii import DEFAULT_CUSTOMER_NUMBER_PATTERNS, PiiConfig, redact_text
from hilft.core.policy import Policy
from hilft.core.routing import radar_match, route
from hilft.logs import get_logger
from hilft.service.answers import AnswerRecorder, pending_task_ids
from hilft.service.ports import Clock, Scheduler, Store

log = get_logger("hilft.ingest")

# Posts on the brand's own Facebook page or Instagram account are addressed to the brand.
_OWNED_SURFACES = {Platform.FACEBOOK, Platform.INSTAGRAM, Platform.MESSENGER}


HANDOFF_DELAY = timedelta(seconds=1)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    answered: int = 0
    deleted: int = 0
    ignored: int = 0
    brand: int = 0
    doc_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def retention(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


class IngestService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 retention_days: int = 90) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.retention_days = retention_days
        self.answers = AnswerRecorder(store, scheduler, clock)
        pii = policy.pii
        self.pii_config = PiiConfig(default_region=pii.default_region,
                                    customer_number_patterns=(*DEFAULT_CUSTOMER_NUMBER_PATTERNS,
                                                              *pii.customer_number_patterns),
                                    ignore_patterns=tuple(pii.ignore_patterns))

    def ingest(self, batch: ParsedBatch, brand_ids: frozenset[str]) -> IngestResult:
        result = IngestResult()
        for name in batch.ignored:
            log.info("event type ignored", event_type=name)
            result.ignored += 1
        for event in batch.events:
            if isinstance(event, Deletion):
                self._delete(event, result)
            elif event.is_brand:
                self._brand_post(event, result)
            else:
                self._customer_post(event, brand_ids, result)
        return result

    # -- customer posts --------------------------------------------------------------------
    def _addressed_to_brand(self, m: Mention, brand_ids: frozenset[str]) -> bool:
        if m.kind == Kind.DM or m.platform in _OWNED_SURFACES:
            return True
        if m.in_reply_to_author_id and m.in_reply_to_author_id in brand_ids:
            return True
        return bool(set(m.mentioned_user_ids) & brand_ids)

    def _customer_post(self, m: Mention, brand_ids: frozenset[str], result: IngestResult) -> None:
        radar = False
        if not self._addressed_to_brand(m, brand_ids):
            if not radar_match(m.text, self.policy.radar.keywords, self.policy.radar.exclude):
                result.ignored += 1
                return
            radar = True
        now = self.clock()
        doc_id = ids.mention_doc_id(m.platform.value, m.post_id)
        redacted, pii_kinds = redact_text(m.text, self.pii_config)
        decision = route(m.text, m.lang, self.policy.departments, self.policy.handoff.default_department)
        priority = self.policy.priority_for(m.text, m.author.followers)
        promise = self.policy.promise_for(m.platform.value, priority)
        start = min(m.created_at, now)
        due_at = self.policy.calendar.add_business_time(start, promise)
        warn_at = due_at - self.policy.promise.warning_before
        base = {"doc_id": doc_id, "platform": m.platform.value, "post_id": m.post_id,
                "due_at": due_at.isoformat()}

        # 1) enqueue first: a crash after this and before the create loses nothing.
        if warn_at > now:
            self.scheduler.schedule(ids.task_id(doc_id, "warning", 0, due_at), warn_at,
                                    {**base, "kind": "warning", "level": 0}, now)
        self.scheduler.schedule(ids.task_id(doc_id, "due", 1, due_at), due_at,
                                {**base, "kind": "due", "level": 1}, now)
        wants_handoff = bool(self.policy.handoff.auto and m.kind != Kind.DM
                             and (pii_kinds or decision.requires_private))
        if wants_handoff:
            reason = "pii" if pii_kinds else "department"
            # A moment later than now: the document below is committed first in the usual case.
            self.scheduler.schedule(ids.task_id(doc_id, "handoff", 0, due_at), now + HANDOFF_DELAY,
                                    {**base, "kind": "handoff", "department": decision.department,
                                     "reason": reason, "pii": bool(pii_kinds)}, now)

        # 2) the exactly-once gate.
        doc: dict[str, Any] = {
            "platform": m.platform.value,
            "post_id": m.post_id,
            "kind": m.kind.value,
            "conversation_id": m.conversation_id,
            "in_reply_to": m.in_reply_to,
            "author_id": m.author.id,
            "author_handle": m.author.handle,
            "author_name": m.author.name,
            "author_followers": m.author.followers,
            "brand_account_id": m.brand_account_id,
            "text": redacted,
            "pii_kinds": sorted(str(k) for k in pii_kinds),
            "lang": m.lang,
            "url": m.url,
            "radar": radar,
            "priority": priority,
            "department": decision.department,
            "status": "open",
            "created_at": m.created_at,
            "received_at": now,
            "due_at": due_at,
            "warn_at": warn_at,
            "promise_seconds": promise.total_seconds(),
            "answered_at": None,
            "alert_level": None,
            "next_alert_at": None,
            "acknowledged": False,
            "handoff_pending": wants_handoff,
            "alerts": {},
            "expire_at": retention(now, self.retention_days),
            "schema": 1,
        }
        if not self.store.create(MENTIONS, doc_id, doc):
            result.duplicates += 1
            log.info("duplicate delivery", doc_id=doc_id, platform=m.platform.value)
            return
        result.stored += 1
        result.doc_ids.append(doc_id)
        log.info("mention stored", doc_id=doc_id, platform=m.platform.value, kind=m.kind.value,
                 radar=radar, pii=len(pii_kinds), department=decision.department)

        # 3) an answer that arrived before the post (out of order, or written natively)?
        target = m.conversation_id if m.kind == Kind.DM else m.post_id
        if target:
            answer = self.store.get(ANSWERS, ids.answer_key(m.platform.value, target))
            if answer is not None:
                answered_at = answer.data.get("answered_at")
                if isinstance(answered_at, datetime) and (m.kind != Kind.DM or answered_at >= m.created_at):
                    if self.answers.mark_answered(doc_id, answered_at=answered_at,
                                                  answered_by=answer.data.get("answered_by"),
                                                  via=str(answer.data.get("via") or "")):
                        result.answered += 1

    # -- brand posts -----------------------------------------------------------------------
    def _brand_post(self, m: Mention, result: IngestResult) -> None:
        result.brand += 1
        platform = m.platform.value
        answered_by = m.author.handle or m.author.id
        marker: dict[str, Any] = {"answered_at": m.created_at, "answered_by": m.author.handle or m.author.id,
                  "via": m.post_id, "platform": platform, "expire_at": retention(self.clock(), 30)}
        if m.kind == Kind.DM:
            if not m.conversation_id:
                return
            self.store.set(ANSWERS, ids.answer_key(platform, m.conversation_id), marker)
            for snap in self.store.open_in_conversation(platform, m.conversation_id):
                created = snap.data.get("created_at")
                if isinstance(created, datetime) and created <= m.created_at:
                    if self.answers.mark_answered(snap.id, answered_at=m.created_at,
                                                  answered_by=answered_by, via=m.post_id):
                        result.answered += 1
            return
        if not m.in_reply_to:
            return  # the brand's own top-level post: never an item to answer
        # First answer wins; the marker also covers a customer post that has not arrived yet.
        self.store.create(ANSWERS, ids.answer_key(platform, m.in_reply_to), marker)
        target = ids.mention_doc_id(platform, m.in_reply_to)
        if self.answers.mark_answered(target, answered_at=m.created_at,
                                      answered_by=answered_by, via=m.post_id):
            result.answered += 1

    # -- deletions -------------------------------------------------------------------------
    def _delete(self, d: Deletion, result: IngestResult) -> None:
        now = self.clock()
        doc_id = ids.mention_doc_id(d.platform.value, d.post_id)
        forget: dict[str, Any] = {"text": "", "author_id": None, "author_handle": None, "author_name": None,
                  "author_followers": None, "url": None, "pii_kinds": [], "conversation_id": None,
                  "status": "deleted", "deleted_at": d.deleted_at or now, "next_alert_at": None}
        for _ in range(5):
            prior = self.store.mutate(MENTIONS, doc_id, lambda snap: dict(forget) if snap else None)
            if prior is not None:
                for name in pending_task_ids(doc_id, prior.data):
                    self.scheduler.delete(name)
                break
            # Deleted before we saw it: a tombstone keeps a late delivery from resurrecting it.
            tombstone = {"platform": d.platform.value, "post_id": d.post_id, **forget,
                         "received_at": now, "expire_at": retention(now, self.retention_days)}
            if self.store.create(MENTIONS, doc_id, tombstone):
                break
        result.deleted += 1
        log.info("post deleted", doc_id=doc_id, platform=d.platform.value)
