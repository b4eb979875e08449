"""A holding reply from the board: staff check (or edit) the text, a task carries it to
``deadline`` (which holds the platform tokens), and it is sent once, publicly, as the post's
first response — recorded with who sent it.

Exactly once like a DM: a claim document (``replies/{id}``) is created before sending; a retry
after the platform accepted finds it ``sent`` and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hilft.channels import Gateway
from hilft.core import holding, ids, pii, templates
from hilft.core.document import MentionDoc
from hilft.core.errors import MalformedPayload, NotFound, PlatformConfigError, PlatformRateLimited
from hilft.core.models import Kind
from hilft.core.policy import Policy
from hilft.logs import get_logger
from hilft.service.answers import AnswerRecorder
from hilft.service.claims import claim_once, send_once
from hilft.service.ports import MENTIONS, REPLIES, Clock, Scheduler, Store

log = get_logger("hilft.holding")


@dataclass(frozen=True)
class HoldingResult:
    outcome: str
    reply_id: str | None = None


def default_text(policy: Policy, post: MentionDoc, now: datetime) -> str | None:
    """The template text for a post on the board (None when it gets no public reply: DMs)."""
    due = post.due_at
    if post.kind == Kind.DM or (due is None and not post.radar):
        return None
    tz = ZoneInfo(policy.promise.timezone)
    fresh = policy.calendar.add_business_time(now, policy.promise_for(post.platform.value, post.priority))
    language = templates.pick_language(post.lang, policy.brand.default_language)
    form = policy.brand.address_form
    # a radar item without a promise (radar.first_response = "none"): the reply makes a fresh one
    target = fresh if due is None else holding.holding_target(due, now, fresh)
    return holding.holding_text(target, now, tz, language, form,
                                overrides=policy.template_overrides(language, form), name=post.author_handle)


class HoldingReplyService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 gateways: Callable[[str], Gateway | None], claim_ttl: timedelta) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.gateways = gateways
        self.claim_ttl = claim_ttl
        self.answers = AnswerRecorder(store, scheduler, clock, claim_ttl=claim_ttl)

    def request(self, doc_id: str, *, text: str, requested_by: str) -> HoldingResult:
        """Check the staff member's text and queue the reply for ``deadline``."""
        if not isinstance(text, str) or not text.strip() or len(text) > holding.MAX_LENGTH:
            raise MalformedPayload(f"text must be 1-{holding.MAX_LENGTH} characters")
        if pii.detect(text, self.policy.pii.config()):
            raise MalformedPayload("the text contains personal data: a public reply must not")
        snap = self.store.get(MENTIONS, doc_id)
        if snap is None:
            raise NotFound("no such post")
        post = MentionDoc.from_snapshot(snap)
        if not post.unanswered:
            return HoldingResult("already_answered")
        if post.kind == Kind.DM:
            raise MalformedPayload("a DM gets no public holding reply")
        now = self.clock()
        self.scheduler.schedule(ids.task_id(doc_id, "holding-reply", 0, now), now,
                                {"doc_id": doc_id, "kind": "holding_reply", "text": text.strip(),
                                 "requested_by": requested_by}, now)
        log.info("holding reply requested", doc_id=doc_id)
        return HoldingResult("queued")

    def send(self, doc_id: str, *, text: str, requested_by: str) -> HoldingResult:
        """Run by ``deadline``: claim, reply publicly, record the first response."""
        snap = self.store.get(MENTIONS, doc_id)
        if snap is None:
            return HoldingResult("missing")
        post = MentionDoc.from_snapshot(snap)
        if not post.unanswered:  # answered, handed off or deleted since staff queued it
            log.info("holding reply dropped: the post no longer waits", doc_id=doc_id, status=post.status.value)
            return HoldingResult("already_answered")
        claim_id = ids.holding_reply_id(doc_id)
        now = self.clock()
        sent = claim_once(self.store, REPLIES, claim_id, {"doc_id": doc_id, "requested_by": requested_by,
                                                          "expire_at": post.expire_at},
                          now=now, ttl=self.claim_ttl, what="holding reply")
        if sent is not None:
            return HoldingResult("already_sent", sent.data.get("reply_id"))
        gateway = self.gateways(post.platform.value)
        if gateway is None:
            self.store.update(REPLIES, claim_id, {"state": "failed"})
            raise PlatformConfigError("no client configured for this platform")
        try:
            reply_id = gateway.public_reply(post, text, send=send_once(self.store, REPLIES, claim_id, "holding_reply"))
        except PlatformRateLimited as exc:
            self.store.update(REPLIES, claim_id, {"state": "rate_limited"})
            retry_at = exc.retry_at if isinstance(exc.retry_at, datetime) else now + timedelta(minutes=1)
            self.scheduler.schedule(ids.task_id(doc_id, "holding-reply", 1, retry_at), max(retry_at, now),
                                    {"doc_id": doc_id, "kind": "holding_reply", "text": text,
                                     "requested_by": requested_by}, now)
            return HoldingResult("rate_limited")
        except Exception:
            self.store.update(REPLIES, claim_id, {"state": "failed"})
            raise
        self.store.update(REPLIES, claim_id, {"state": "sent", "reply_id": reply_id, "sent_at": now})
        self.answers.mark_answered(doc_id, answered_at=now, answered_by=requested_by, via=str(reply_id),
                                   extra={"holding_reply_id": str(reply_id)})
        log.info("holding reply sent", doc_id=doc_id)
        return HoldingResult("sent", str(reply_id))
