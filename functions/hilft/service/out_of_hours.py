"""The out-of-hours acknowledgment: "Danke! Unser Team ist ab Montag, 8:00 Uhr wieder für Sie da
und meldet sich bis 8:55 Uhr." — sent by ``deadline`` (which holds the platform tokens), once per
author per closed period (claimed with ``create()`` on ``out_of_hours/{key}`` before sending).

It is an acknowledgment, not the first response: the post's promise keeps running. It is skipped
when the post was answered, handed off or deleted before the task ran, when the team is back by
the time it would go out (a rate-limited retry at 9:30 must not say "ab 8:00 Uhr wieder für Sie
da"), and beyond ``max_per_minute`` acknowledgments per platform (a night-time storm: the claim
records ``skipped`` with the reason, the post's promise still runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hilft.channels import Gateway
from hilft.core import ids, templates
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformRateLimited
from hilft.core.policy import Policy
from hilft.core.promise_phrase import out_of_hours_phrases
from hilft.logs import get_logger
from hilft.service.claims import claim_once, send_once
from hilft.service.ports import MENTIONS, OUT_OF_HOURS, OWN_MESSAGES, Clock, Scheduler, Snapshot, Store

log = get_logger("hilft.out_of_hours")


@dataclass(frozen=True)
class OutOfHoursResult:
    outcome: str
    message_id: str | None = None


class OutOfHoursService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 gateways: Callable[[str], Gateway | None], claim_ttl: timedelta) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.gateways = gateways
        self.claim_ttl = claim_ttl

    def send(self, payload: dict[str, Any]) -> OutOfHoursResult:
        doc_id, key, template = str(payload["doc_id"]), str(payload["key"]), str(payload["template"])
        reopens_at = datetime.fromisoformat(str(payload["reopens_at"]))
        snap = self.store.get(MENTIONS, doc_id)
        post = MentionDoc.from_snapshot(snap) if snap is not None else None
        if post is None or not post.unanswered:
            return OutOfHoursResult("not_needed")  # answered, handed off or deleted meanwhile
        now = self.clock()
        if now >= reopens_at:
            self.store.update(MENTIONS, doc_id, {"out_of_hours_skipped": "team_open"})
            log.info("out-of-hours acknowledgment dropped: the team is back", doc_id=doc_id)
            return OutOfHoursResult("team_open")
        if not self._claim(key, doc_id, post, now):
            return OutOfHoursResult("already_sent")
        if not self._within_budget(post.platform.value, now):
            self.store.update(OUT_OF_HOURS, key, {"state": "skipped", "reason": "storm"})
            self.store.update(MENTIONS, doc_id, {"out_of_hours_skipped": "storm"})
            log.warning("out-of-hours acknowledgment skipped: per-minute limit reached", doc_id=doc_id,
                        platform=post.platform.value, limit=self.policy.promise.out_of_hours.max_per_minute)
            return OutOfHoursResult("storm")
        gateway = self.gateways(post.platform.value)
        if gateway is None:
            self.store.update(OUT_OF_HOURS, key, {"state": "failed"})
            return OutOfHoursResult("no_platform_client")
        tz = ZoneInfo(self.policy.promise.timezone)
        language = templates.pick_language(post.lang, self.policy.brand.default_language)
        form = self.policy.brand.address_form
        reopens, promise = out_of_hours_phrases(reopens_at, post.due_at or reopens_at, now, tz, language)
        text = templates.render(template, language=language, address_form=form,
                                overrides=self.policy.template_overrides(language, form),
                                name=post.author_handle if template == "out_of_hours_reply"
                                else post.author_name or post.author_handle,
                                case_ref=None, promise=promise, department=None, private_channel=None,
                                reopens=reopens)
        # The platform reports the brand's own messages back to hilft: mark the send as under way
        # first, and record the message id right after, so its echo never counts as an answer.
        self.store.update(MENTIONS, doc_id, {"out_of_hours_sending_at": now})
        try:
            send = send_once(self.store, OUT_OF_HOURS, key, template)
            message_id = (gateway.send_private(post, text, now, send=send) if template == "out_of_hours_dm"
                          else gateway.public_reply(post, text, send=send))
        except PlatformRateLimited as exc:
            self.store.update(MENTIONS, doc_id, {"out_of_hours_sending_at": None})
            self.store.update(OUT_OF_HOURS, key, {"state": "rate_limited"})
            retry_at = exc.retry_at if isinstance(exc.retry_at, datetime) else now + timedelta(minutes=1)
            self.scheduler.schedule(ids.task_id(doc_id, "out-of-hours", 1, retry_at), max(retry_at, now),
                                    dict(payload), now)
            return OutOfHoursResult("rate_limited")
        except Exception:
            self.store.update(MENTIONS, doc_id, {"out_of_hours_sending_at": None})
            self.store.update(OUT_OF_HOURS, key, {"state": "failed"})
            raise
        self.store.set(OWN_MESSAGES, ids.own_message_key(post.platform.value, str(message_id)),
                       {"doc_id": doc_id, "kind": "out_of_hours", "sent_at": now, "expire_at": post.expire_at})
        self.store.update(OUT_OF_HOURS, key, {"state": "sent", "message_id": str(message_id), "sent_at": now})
        self.store.update(MENTIONS, doc_id, {"out_of_hours_sent_at": now})
        log.info("out-of-hours acknowledgment sent", doc_id=doc_id, template=template)
        return OutOfHoursResult("sent", str(message_id))

    def _within_budget(self, platform: str, now: datetime) -> bool:
        """Take one of this minute's acknowledgments for ``platform`` (a counter document per
        platform and minute, in the claims' collection so TTL removes it)."""
        limit = self.policy.promise.out_of_hours.max_per_minute
        minute = now.astimezone(UTC).strftime("%Y%m%d%H%M")
        counter = f"rate-{platform}-{minute}"
        if self.store.create(OUT_OF_HOURS, counter, {"count": 1, "platform": platform,
                                               "expire_at": now + timedelta(days=1)}):
            return True
        taken: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            count = int(snap.data.get("count", 0)) if snap is not None else limit
            taken["ok"] = count < limit
            return {"count": count + 1} if taken["ok"] else None

        self.store.mutate(OUT_OF_HOURS, counter, decide)
        return taken.get("ok", False)

    def _claim(self, key: str, doc_id: str, post: MentionDoc, now: datetime) -> bool:
        """True: this call may send. False: this author already got the answer this closed period."""
        return claim_once(self.store, OUT_OF_HOURS, key, {"doc_id": doc_id, "expire_at": post.expire_at}, now=now,
                          ttl=self.claim_ttl, what="out-of-hours answer") is None
