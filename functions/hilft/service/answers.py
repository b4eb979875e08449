"""Stopping the clock: marking a customer post answered (by a brand reply or a handoff).

Shared by ingest (brand replies seen on the webhook) and the handoff flow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hilft.core import ids
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, Clock, Scheduler, Snapshot, Store

log = get_logger("hilft.answers")

UNANSWERED = ("open", "overdue")


def pending_task_ids(doc_id: str, data: dict[str, Any]) -> list[str]:
    """Names of the tasks a post may still have queued (warning, due and the next escalation)."""
    due = data.get("due_at")
    if not isinstance(due, datetime):
        return []
    names = [ids.task_id(doc_id, "warning", 0, due), ids.task_id(doc_id, "due", 1, due)]
    level = int(data.get("alert_level") or 0)
    if level >= 1:
        names.append(ids.task_id(doc_id, "escalate", level + 1, due))
    return names


def overdue_alerts_were_sent(data: dict[str, Any]) -> bool:
    """A warning alone is not resolved: it said 'due soon', and the answer came in time."""
    alerts = data.get("alerts") or {}
    return any(isinstance(v, dict) and v.get("sinks_sent") for k, v in alerts.items()
               if k.isdigit() and int(k) >= 1)


class AnswerRecorder:
    def __init__(self, store: Store, scheduler: Scheduler, clock: Clock) -> None:
        self.store = store
        self.scheduler = scheduler
        self.clock = clock

    def mark_answered(self, doc_id: str, *, answered_at: datetime, answered_by: str | None,
                      via: str, new_status: str = "answered",
                      extra: dict[str, Any] | None = None) -> Snapshot | None:
        """Record the first response; later answers change nothing. Returns the prior snapshot
        when this call stopped the clock, else None."""
        applied: dict[str, bool] = {"done": False}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            applied["done"] = False
            if snap is None or snap.data.get("status") not in UNANSWERED:
                return None
            data = snap.data
            created = data.get("created_at") or data.get("received_at")
            seconds = max(0.0, (answered_at - created).total_seconds()) if isinstance(created, datetime) else None
            due = data.get("due_at")
            updates: dict[str, Any] = {
                "status": new_status,
                "answered_at": answered_at,
                "answered_by": answered_by,
                "answered_via": via,
                "first_response_seconds": seconds,
                "breached": bool(isinstance(due, datetime) and answered_at > due),
                "next_alert_at": None,
            }
            updates.update(extra or {})
            applied["done"] = True
            return updates

        snap = self.store.mutate(MENTIONS, doc_id, decide)
        if not applied["done"] or snap is None:
            return None
        log.info("post answered", doc_id=doc_id, via=via, status=new_status)
        for name in pending_task_ids(doc_id, snap.data):
            self.scheduler.delete(name)
        if overdue_alerts_were_sent(snap.data):
            now = self.clock()
            self.scheduler.schedule(ids.task_id(doc_id, "resolve", 0, snap.data["due_at"]), now,
                                    {"kind": "resolve", "doc_id": doc_id}, now)
        return snap
