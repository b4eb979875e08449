"""Filling in posts a platform sent as ids only: the ``enrich`` task.

Page mentions and Instagram mentions arrive without text or author. The webhook stores them at
once (the promise runs from that moment) and enqueues an ``enrich`` task; this service, called by
``deadline`` for that task, reads text and author from the Graph API, redacts the text, routes it
and, when personal data or a private department calls for it, schedules the automatic handoff —
all outside the webhook request, so the webhook stays fast and independent of Graph's health.

Failures follow the handoff's rules: a rate limit reschedules the task at Meta's reset, a Graph
outage answers 503 so Cloud Tasks retries, a rejected token is an operator's ERROR line. Nothing
here ever stops the clock: a post Graph cannot read stays open and is alerted when due.

X's Activity API names the author of a reply or quote by id only (its ``includes`` is empty): a
lookup of type ``x_user`` reads handle, name and follower count (``GET /2/users/:id``), fills the
fields still empty, lets the follower count tighten the promise, and only then schedules the
handoff ingest held back (``then``), so its greeting names the author. A failed lookup leaves the
author unknown and still schedules that handoff; so does an X outage that outlasts Cloud Tasks' first
few retries, after which the lookup alone is retried: a greeting never holds personal data in public.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hilft.core import ids
from hilft.core.document import MentionDoc
from hilft.core.errors import (
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PlatformUnavailable,
    TransientError,
)
from hilft.core.models import Kind, Status
from hilft.core.pii import redact_text
from hilft.core.policy import Policy
from hilft.core.routing import route
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, Clock, MentionReader, Scheduler, Snapshot, Store, UserReader

log = get_logger("hilft.enrich")

HANDOFF_DELAY = timedelta(seconds=1)
MISSING_POST_RETRIES = 8  # the task is enqueued before its document is committed
# An author lookup holding a handoff back rides out a blip of X (Cloud Tasks' first retries, seconds
# apart) but not an outage: after these retries the handoff goes without the author's name.
AUTHOR_RETRIES_BEFORE_HANDOFF = 3
AUTHOR_RETRY_AFTER_OUTAGE = timedelta(minutes=1)  # then the lookup alone, under Cloud Tasks' retries
UNREADABLE = "unreadable"  # enrichment state when Graph will never give this post's text


@dataclass
class EnrichResult:
    outcome: str  # enriched | nothing_to_do | rate_limited | unavailable | unreadable | config_error | missing


class EnrichService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 reader: MentionReader | None, users: UserReader | None = None) -> None:
        self.store = store
        self.users = users
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.reader = reader
        # The shipped policy's whole PII configuration: the brand's own numbers, addresses, domains
        # and ticket formats, extra phone regions, customer-number patterns.
        self.pii_config = policy.pii.config()

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
        post = MentionDoc.from_snapshot(snap)
        if lookup.get("type") == "x_user":
            return self._author(doc_id, payload, post, attempt, retries)
        if not post.needs_enrichment or post.status == Status.DELETED:
            return EnrichResult("nothing_to_do")
        if self.reader is None:
            log.error("enrichment impossible: no Meta page access token configured", doc_id=doc_id)
            return EnrichResult("config_error")
        now = self.clock()
        try:
            fetched = self.reader.fetch_mention({k: str(v) for k, v in lookup.items()})
        except PlatformRateLimited as exc:
            retry_at = exc.retry_at if isinstance(exc.retry_at, datetime) else now + timedelta(minutes=1)
            self._retry_later(doc_id, payload, post, attempt, retry_at, now)
            return EnrichResult("rate_limited")
        except PlatformConfigError:
            # An operator must renew the token; the post stays open and its promise still alerts.
            log.error("enrichment impossible: Meta access token rejected", doc_id=doc_id)
            self._mark_unreadable(doc_id, "token_rejected", now)
            return EnrichResult("config_error")
        except PlatformUnavailable as exc:
            raise TransientError("meta graph api unavailable") from exc
        except PlatformRefused as exc:
            log.warning("enrichment impossible: Graph refused the read", doc_id=doc_id, why=exc.message)
            self._mark_unreadable(doc_id, "graph_refused", now)
            return EnrichResult(UNREADABLE)
        return self._fill(doc_id, fetched, now, post.lang)

    # -- X authors named by id only ---------------------------------------------------------

    def _author(self, doc_id: str, payload: Mapping[str, Any], post: MentionDoc, attempt: int,
                retries: int) -> EnrichResult:
        now = self.clock()
        user_id = str(payload["lookup"].get("id") or "")
        if post.status == Status.DELETED or post.author_handle or post.author_id != user_id:
            self._then(payload, now)
            return EnrichResult("nothing_to_do")
        if self.users is None:
            log.error("author lookup impossible: no X user access token configured", doc_id=doc_id)
            self._then(payload, now)
            return EnrichResult("config_error")
        try:
            user = self.users.fetch_user(user_id)
        except PlatformRateLimited as exc:
            # The handoff does not wait a rate-limit window for a greeting: it goes now, the lookup later.
            self._then(payload, now)
            retry_at = exc.retry_at if isinstance(exc.retry_at, datetime) else now + timedelta(minutes=1)
            self._retry_later(doc_id, {k: v for k, v in payload.items() if k != "then"}, post, attempt,
                              retry_at, now)
            return EnrichResult("rate_limited")
        except PlatformConfigError:
            log.error("author lookup impossible: X access token rejected", doc_id=doc_id)
            self._then(payload, now)
            return EnrichResult("config_error")
        except PlatformUnavailable as exc:
            if not _holds(payload) or retries < AUTHOR_RETRIES_BEFORE_HANDOFF:
                raise TransientError("x api unavailable") from exc
            # X is down for longer than a blip: the handoff (which takes personal data out of public
            # view) goes now with a greeting that names no one; the lookup alone retries later.
            self._then(payload, now)
            self._retry_later(doc_id, {k: v for k, v in payload.items() if k != "then"}, post, attempt,
                              now + AUTHOR_RETRY_AFTER_OUTAGE, now, why="x api unavailable")
            return EnrichResult("unavailable")
        except PlatformRefused as exc:
            log.warning("author lookup impossible: X refused the read", doc_id=doc_id, why=exc.message)
            self._then(payload, now)
            return EnrichResult(UNREADABLE)
        tasks: list[tuple[str, datetime, dict[str, Any]]] = []

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            tasks.clear()
            if snap is None:
                return None
            held = MentionDoc.from_snapshot(snap)
            if held.status == Status.DELETED or held.author_handle:
                return None
            updates = {field: value for field, value in (("author_handle", user.get("handle")),
                                                         ("author_name", user.get("name")),
                                                         ("author_followers", user.get("followers")))
                       if value is not None and getattr(held, field) is None}
            sooner, promise_tasks = self._tighter_promise(doc_id, held.updated(updates), held.text, now)
            tasks.extend(promise_tasks)
            return {**updates, **sooner} or None

        self.store.mutate(MENTIONS, doc_id, decide)
        if tasks:
            self.scheduler.schedule_many(tasks, now)
        self._then(payload, now)
        log.info("author looked up", doc_id=doc_id, priority_changed=bool(tasks))
        return EnrichResult("enriched")

    def _then(self, payload: Mapping[str, Any], now: datetime) -> None:
        """The task ingest held back until the author is known (the handoff); its name dedupes repeats."""
        then = payload.get("then")
        if isinstance(then, dict) and isinstance(then.get("task"), str) and isinstance(then.get("payload"), dict):
            self.scheduler.schedule(then["task"], now + HANDOFF_DELAY, then["payload"], now)

    # -- internals -------------------------------------------------------------------------

    def _fill(self, doc_id: str, fetched: Mapping[str, str | None], now: datetime, lang: str | None) -> EnrichResult:
        text = fetched.get("text") or ""
        redacted, pii_kinds = redact_text(text, self.pii_config, lang)  # the platform's language picks phone regions
        handoff: dict[str, Any] = {}  # what to enqueue once the document holds the text
        applied: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            handoff.clear()
            applied.clear()
            if snap is None:
                return None
            post = MentionDoc.from_snapshot(snap)
            if not post.needs_enrichment or post.status == Status.DELETED:
                return None
            decision = route(text, post.lang, self.policy.departments, self.policy.handoff.default_department)
            updates: dict[str, Any] = {
                "text": redacted, "pii_kinds": sorted(str(k) for k in pii_kinds), "needs_enrichment": False,
                "department": decision.department, "enriched_at": now, "enrichment": "done",
            }
            for field in ("author_id", "author_handle", "author_name"):
                if fetched.get(field):
                    updates[field] = fetched[field]
            sooner, promise_tasks = self._tighter_promise(doc_id, post, text, now)
            updates.update(sooner)
            if promise_tasks:
                handoff["promise_tasks"] = promise_tasks
            wants = bool(self.policy.handoff.auto and post.kind != Kind.DM and post.unanswered
                         and not post.handoff_pending and (pii_kinds or decision.requires_private))
            if wants:
                updates["handoff_pending"] = True
                handoff.update(department=decision.department, reason="pii" if pii_kinds else "department",
                               post=post)
            applied["yes"] = True
            return updates

        self.store.mutate(MENTIONS, doc_id, decide)
        if not applied:
            return EnrichResult("nothing_to_do")
        log.info("mention enriched", doc_id=doc_id, pii=len(pii_kinds), handoff="post" in handoff)
        if "promise_tasks" in handoff:
            # After the commit: a crash in between leaves a past-due open post, which the sweep alerts.
            self.scheduler.schedule_many(handoff["promise_tasks"], now)
        if "post" in handoff:
            post: MentionDoc = handoff["post"]
            due = post.due_at or now
            self.scheduler.schedule(ids.task_id(doc_id, "handoff", 0, due), now + HANDOFF_DELAY,
                                    {"doc_id": doc_id, "platform": post.platform.value,
                                     "post_id": post.post_id, "due_at": due.isoformat(),
                                     "kind": "handoff", "department": handoff["department"],
                                     "reason": handoff["reason"], "pii": handoff["reason"] == "pii"}, now)
        return EnrichResult("enriched")

    def _tighter_promise(self, doc_id: str, post: MentionDoc, text: str,
                         now: datetime) -> tuple[dict[str, Any], list[tuple[str, datetime, dict[str, Any]]]]:
        """A priority the text calls for (an outage, say) may promise a sooner answer: move the due
        time earlier, never later, and only while nothing was alerted yet. The old tasks go stale
        (``deadline`` ignores a task whose due time is not the document's)."""
        due, created = post.due_at, post.started_at
        if post.status != Status.OPEN or post.alert_level is not None or due is None or created is None:
            return {}, []
        priority = self.policy.priority_for(text, post.author_followers)
        if priority is None or priority == post.priority:
            return {}, []
        promise = self.policy.promise_for(post.platform.value, priority)
        new_due = self.policy.calendar.add_business_time(min(created, now), promise)
        if new_due >= due:
            return {}, []
        warn_at = new_due - self.policy.promise.warning_before
        base = {"doc_id": doc_id, "platform": post.platform.value, "post_id": post.post_id,
                "due_at": new_due.isoformat()}
        tasks: list[tuple[str, datetime, dict[str, Any]]] = []
        if warn_at > now:
            tasks.append((ids.task_id(doc_id, "warning", 0, new_due), warn_at, {**base, "kind": "warning", "level": 0}))
        tasks.append((ids.task_id(doc_id, "due", 1, new_due), max(new_due, now), {**base, "kind": "due", "level": 1}))
        return ({"priority": priority, "promise_seconds": promise.total_seconds(), "due_at": new_due,
                 "warn_at": warn_at}, tasks)

    def _retry_later(self, doc_id: str, payload: Mapping[str, Any], post: MentionDoc, attempt: int,
                     at: datetime, now: datetime, *, why: str = "platform rate limit") -> None:
        due = post.due_at or now
        # An edit's enrichment (``edit_rank``) retries under names of its own, not the first version's.
        name = ids.task_id(doc_id, "enrich", attempt + 1, due, attempt=int(payload.get("edit_rank") or 0))
        self.scheduler.schedule(name, max(at, now),
                                {**payload, "attempt": attempt + 1}, now)
        log.warning("enrichment rescheduled", doc_id=doc_id, attempt=attempt + 1, why=why)

    def _mark_unreadable(self, doc_id: str, reason: str, now: datetime) -> None:
        self.store.update(MENTIONS, doc_id, {"enrichment": UNREADABLE, "enrichment_error": reason,
                                             "enrichment_failed_at": now})


def _holds(payload: Mapping[str, Any]) -> bool:
    """Whether this lookup holds back a task of ingest's (``then``, the handoff)."""
    return isinstance(payload.get("then"), dict)
