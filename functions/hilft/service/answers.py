"""Stopping the clock: marking a customer post answered (by a brand reply or a handoff).

Shared by ingest (brand replies seen on the webhook) and the handoff flow. What the first
response writes is decided by ``core.document`` (``mark_answered``, ``mark_handed_off``); this
module runs it inside the store's read-modify-write and cleans up the post's pending tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hilft.core import ids
from hilft.core.document import UNANSWERED, MentionDoc, mark_answered, mark_handed_off
from hilft.core.models import Status
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, Clock, Scheduler, Snapshot, Store

log = get_logger("hilft.answers")

__all__ = ["UNANSWERED", "AnswerRecorder", "pending_task_ids"]


def pending_task_ids(doc_id: str, post: MentionDoc) -> list[str]:
    """Names of the tasks a post may still have queued (warning, due and the next escalation)."""
    due = post.due_at
    if due is None:
        return []
    names = [ids.task_id(doc_id, "warning", 0, due), ids.task_id(doc_id, "due", 1, due)]
    level = post.alert_level or 0
    if level >= 1:
        names.append(ids.task_id(doc_id, "escalate", level + 1, due))
    return names


class AnswerRecorder:
    def __init__(self, store: Store, scheduler: Scheduler, clock: Clock, *, claim_ttl: timedelta) -> None:
        self.store = store
        self.scheduler = scheduler
        self.clock = clock
        self.claim_ttl = claim_ttl  # how long hilft's own acknowledgment may be under way (its echo's window)

    def mark_answered(self, doc_id: str, *, answered_at: datetime, answered_by: str | None,
                      via: str, extra: dict[str, Any] | None = None,
                      seen_on_platform: bool = False) -> MentionDoc | None:
        """Record the first response; later answers change nothing. Returns the post as it was
        when this call stopped the clock, else None. ``seen_on_platform``: a brand post ingest
        saw (``core.document.mark_answered`` tells it from hilft's own acknowledgment's echo)."""
        echo_window = self.claim_ttl if seen_on_platform else None
        return self._stop_clock(doc_id, lambda doc: mark_answered(doc, answered_at=answered_at,
                                                                   answered_by=answered_by, via=via, extra=extra,
                                                                   echo_window=echo_window),
                                via=via, status=Status.ANSWERED)

    def mark_handed_off(self, doc_id: str, *, at: datetime, via: str, handoff_id: str, department: str,
                        private_reply_id: str | None) -> MentionDoc | None:
        """The handoff is the post's first response (status ``handed_off``)."""
        return self._stop_clock(doc_id, lambda doc: mark_handed_off(doc, at=at, via=via, handoff_id=handoff_id,
                                                                     department=department,
                                                                     private_reply_id=private_reply_id),
                                via=via, status=Status.HANDED_OFF)

    def _stop_clock(self, doc_id: str, transition: Callable[[MentionDoc], dict[str, Any] | None], *,
                    via: str, status: Status) -> MentionDoc | None:
        prior: dict[str, MentionDoc] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            prior.clear()
            if snap is None:
                return None
            doc = MentionDoc.from_snapshot(snap)
            updates = transition(doc)
            if updates is not None:
                prior["doc"] = doc
            return updates

        self.store.mutate(MENTIONS, doc_id, decide)
        doc = prior.get("doc")
        if doc is None:
            return None
        log.info("post answered", doc_id=doc_id, via=via, status=status.value)
        for name in pending_task_ids(doc_id, doc):
            self.scheduler.delete(name)
        if doc.overdue_alerts_were_sent() and doc.due_at is not None:
            now = self.clock()
            self.scheduler.schedule(ids.task_id(doc_id, "resolve", 0, doc.due_at), now,
                                    {"kind": "resolve", "doc_id": doc_id}, now)
        return doc
