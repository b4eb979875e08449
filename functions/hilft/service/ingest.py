"""Webhook events in, `mentions` documents and deadline tasks out: exactly once per post.

Order of writes: tasks are enqueued before the document is created, so a crash between the two
loses nothing (the platform redelivers; the task names dedupe; `deadline` tolerates a missing
document). ``create()`` is the exactly-once gate for the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hilft.adapters.firestore_store import ANSWERS, MENTIONS, Snapshot
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
# Set by the first response; a stub's values win over the late post's defaults.
ANSWER_FIELDS = frozenset({"status", "answered_at", "answered_by", "answered_via", "expire_at"})


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

        # 1) enqueue first (concurrently): a crash after this and before the create loses nothing.
        tasks: list[tuple[str, datetime, dict[str, Any]]] = []
        if warn_at > now:
            tasks.append((ids.task_id(doc_id, "warning", 0, due_at), warn_at, {**base, "kind": "warning", "level": 0}))
        tasks.append((ids.task_id(doc_id, "due", 1, due_at), due_at, {**base, "kind": "due", "level": 1}))
        wants_handoff = bool(self.policy.handoff.auto and m.kind != Kind.DM
                             and (pii_kinds or decision.requires_private))
        if wants_handoff:
            reason = "pii" if pii_kinds else "department"
            # A moment later than now: the document below is committed first in the usual case.
            tasks.append((ids.task_id(doc_id, "handoff", 0, due_at), now + HANDOFF_DELAY,
                          {**base, "kind": "handoff", "department": decision.department,
                           "reason": reason, "pii": bool(pii_kinds)}))
        self.scheduler.schedule_many(tasks, now)

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
            if self._fill_answered_stub(doc_id, doc):
                result.stored += 1
                result.answered += 1
                result.doc_ids.append(doc_id)
            else:
                result.duplicates += 1
                log.info("duplicate delivery", doc_id=doc_id, platform=m.platform.value)
            return
        result.stored += 1
        result.doc_ids.append(doc_id)
        log.info("mention stored", doc_id=doc_id, platform=m.platform.value, kind=m.kind.value,
                 radar=radar, pii=len(pii_kinds), department=decision.department)

        # 3) DMs: was the conversation answered (by a brand DM) after this message, out of order?
        if m.kind == Kind.DM and m.conversation_id:
            answer = self.store.get(ANSWERS, ids.answer_key(m.platform.value, m.conversation_id))
            answered_at = answer.data.get("answered_at") if answer else None
            if isinstance(answered_at, datetime) and answered_at >= m.created_at and answer is not None:
                if self.answers.mark_answered(doc_id, answered_at=answered_at,
                                              answered_by=answer.data.get("answered_by"),
                                              via=str(answer.data.get("via") or "")):
                    result.answered += 1

    def _fill_answered_stub(self, doc_id: str, doc: dict[str, Any]) -> bool:
        """The brand answered this post before it reached us: complete the stub its reply left.

        Only one delivery completes it (precondition on the stub); others are duplicates.
        """
        filled: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            filled.clear()
            if snap is None or not snap.data.get("stub"):
                return None
            answered_at = snap.data.get("answered_at")
            updates = {k: v for k, v in doc.items() if k not in ANSWER_FIELDS}
            updates["stub"] = False
            updates["status"] = snap.data.get("status") or "answered"
            if isinstance(answered_at, datetime):
                updates["first_response_seconds"] = max(0.0, (answered_at - doc["created_at"]).total_seconds())
                updates["breached"] = answered_at > doc["due_at"]
            filled["yes"] = True
            return updates

        self.store.mutate(MENTIONS, doc_id, decide)
        if not filled:
            return False
        for name in pending_task_ids(doc_id, doc):
            self.scheduler.delete(name)
        log.info("mention stored, already answered", doc_id=doc_id, platform=doc["platform"])
        return True

    # -- brand posts -----------------------------------------------------------------------
    def _brand_post(self, m: Mention, result: IngestResult) -> None:
        result.brand += 1
        platform = m.platform.value
        answered_by = m.author.handle or m.author.id
        if m.kind == Kind.DM:
            if not m.conversation_id:
                return
            marker = {"answered_at": m.created_at, "answered_by": answered_by, "via": m.post_id,
                      "platform": platform, "expire_at": retention(self.clock(), 30)}
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
        target = ids.mention_doc_id(platform, m.in_reply_to)
        for _ in range(5):
            if self.answers.mark_answered(target, answered_at=m.created_at, answered_by=answered_by, via=m.post_id):
                result.answered += 1
                return
            if self.store.get(MENTIONS, target) is not None:
                return  # answered already, deleted, or handed off: the first response stands
            # The customer post has not reached us (out of order, or answered natively on the
            # platform before its webhook came): leave an answered stub its delivery completes.
            stub = {"platform": platform, "post_id": m.in_reply_to, "status": "answered", "stub": True,
                    "answered_at": m.created_at, "answered_by": answered_by, "answered_via": m.post_id,
                    "expire_at": retention(self.clock(), self.retention_days)}
            if self.store.create(MENTIONS, target, stub):
                result.answered += 1
                return

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
