"""The brand's own post whose webhook did not say what it answers: the ``brand_lookup`` task.

Threads' ``publish`` webhook (Meta's documented payload) names the brand's new post but not the
post it replies to, so a reply the brand wrote in the Threads app could not stop any clock. The
ingest marks such a post and enqueues a ``brand_lookup`` task; this service, called by
``deadline`` for it, reads the post back through the channel (``BrandPostReader``) and hands it to
the ingest as a brand reply — outside the webhook request, as ``enrich`` does for Meta mentions.

A rate limit reschedules the task at the platform's time, an outage answers 503 (Cloud Tasks
retries), a rejected token is an operator's ERROR line, a post that is gone is nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hilft.channels import BrandPostReader, Gateway
from hilft.core import ids
from hilft.core.errors import (
    MalformedPayload,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PrivateChannelRefused,
)
from hilft.core.models import ParsedBatch
from hilft.logs import get_logger
from hilft.service.ports import Clock, Scheduler

if TYPE_CHECKING:
    from hilft.service.ingest import IngestService

log = get_logger("hilft.brand_lookup")

KIND = "brand_lookup"
MAX_ATTEMPTS = 20  # rate-limit reschedules before giving up (the customer's promise still alerts)


@dataclass
class LookupResult:
    outcome: str  # answered | no_open_post | not_a_reply | gone | rate_limited | config_error | nothing_to_do


def lookup_task(platform: str, post_id: str, brand_account_id: str | None, now: datetime,
                attempt: int = 0) -> tuple[str, dict[str, Any]]:
    """The task name and payload that look up the brand's post ``post_id``."""
    doc_id = ids.mention_doc_id(platform, post_id)
    name = ids.task_id(doc_id, KIND, 0, datetime.fromtimestamp(0).astimezone(), attempt=attempt)
    return name, {"doc_id": doc_id, "platform": platform, "post_id": post_id, "kind": KIND,
                  "account": brand_account_id or "", "attempt": attempt, "asked_at": now.isoformat()}


class BrandLookupService:
    def __init__(self, *, ingest: IngestService, scheduler: Scheduler, clock: Clock,
                 gateways: Callable[[str], Gateway | None]) -> None:
        self.ingest = ingest
        self.scheduler = scheduler
        self.clock = clock
        self.gateways = gateways

    def run(self, payload: Mapping[str, Any]) -> LookupResult:
        platform, post_id, account = payload.get("platform"), payload.get("post_id"), payload.get("account")
        if not isinstance(platform, str) or not isinstance(post_id, str) or not isinstance(account, str):
            raise MalformedPayload("a brand_lookup task needs platform, post_id and account")
        gateway = self.gateways(platform)
        if not isinstance(gateway, BrandPostReader):
            return LookupResult("nothing_to_do")
        now = self.clock()
        try:
            mention = gateway.brand_post(post_id, account)
        except PlatformRateLimited as exc:
            attempt = int(payload.get("attempt") or 0) + 1
            if attempt > MAX_ATTEMPTS:
                log.warning("brand post lookup given up after rate limits", platform=platform)
                return LookupResult("rate_limited")
            at = exc.retry_at if isinstance(exc.retry_at, datetime) else now + timedelta(minutes=1)
            name, task = lookup_task(platform, post_id, account, now, attempt)
            self.scheduler.schedule(name, max(at, now), task, now)
            return LookupResult("rate_limited")
        except PlatformConfigError as exc:
            log.error("brand post lookup impossible: platform configuration error", platform=platform,
                      reason=exc.message)
            return LookupResult("config_error")
        except (PlatformRefused, PrivateChannelRefused, MalformedPayload):
            return LookupResult("gone")  # deleted meanwhile, or not readable: nothing it could answer
        if not mention.in_reply_to:
            return LookupResult("not_a_reply")
        result = self.ingest.ingest(ParsedBatch(events=(mention,)), frozenset({account}))
        return LookupResult("answered" if result.answered else "no_open_post")
