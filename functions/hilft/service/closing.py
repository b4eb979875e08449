"""Reopening a closing message staff judge to need an answer after all: from that moment the
post gets the policy's promise, counted from now in business time, with its warning and due
tasks — exactly as if it had just arrived. If its day is rolled up already, the roll-up reads it
again (``count_again_in_rollup``). Tasks and roll-up are written before the post: a crash in
between leaves nothing unalerted or uncounted (a task or roll-up that finds the post still
closed does nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hilft.core import document, ids
from hilft.core.document import MentionDoc
from hilft.core.errors import NotFound
from hilft.core.models import Status
from hilft.core.policy import Policy
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, Clock, Scheduler, Snapshot, Store
from hilft.service.report import count_again_in_rollup

log = get_logger("hilft.closing")


@dataclass(frozen=True)
class ReopenResult:
    outcome: str


class ReopenService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock

    def reopen(self, doc_id: str, by: str) -> ReopenResult:
        snap = self.store.get(MENTIONS, doc_id)
        if snap is None:
            raise NotFound("no such post")
        post = MentionDoc.from_snapshot(snap)
        if post.status != Status.NO_REPLY_NEEDED:
            return ReopenResult("not_closing")
        now = self.clock()
        platform = post.platform.value
        promise = self.policy.promise_for(platform, post.priority)
        due_at = self.policy.calendar.add_business_time(now, promise)
        warn_at = due_at - self.policy.promise.warning_before
        base = {"doc_id": doc_id, "platform": platform, "post_id": post.post_id,
                "due_at": due_at.isoformat()}
        tasks = [(ids.task_id(doc_id, "due", 1, due_at), due_at, {**base, "kind": "due", "level": 1})]
        if warn_at > now:
            tasks.append((ids.task_id(doc_id, "warning", 0, due_at), warn_at, {**base, "kind": "warning", "level": 0}))
        self.scheduler.schedule_many(tasks, now)  # first: a crash after this loses nothing
        # The roll-up, too: before the commit (a crash after it leaves the report nothing to miss)
        # and after it (a roll-up job that read the post still closed in between left it out).
        count_again_in_rollup(self.store, self.policy, doc_id, post.received_at)

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            if current is None:
                return None
            return document.reopen(MentionDoc.from_snapshot(current), now=now, by=by, due_at=due_at,
                                   warn_at=warn_at, promise=promise)

        if self.store.mutate(MENTIONS, doc_id, decide) is not None:
            count_again_in_rollup(self.store, self.policy, doc_id, post.received_at)
        log.info("closing message reopened", doc_id=doc_id)
        return ReopenResult("reopened")
