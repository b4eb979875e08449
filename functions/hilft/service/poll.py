"""Channels without usable webhooks (Bluesky, Mastodon), fetched on Cloud Scheduler's beat; and
the deleted-post check of Threads, whose webhooks say nothing when a customer deletes.

One run: for every configured channel and each of its sources (notifications, the brand's own
posts, one per radar keyword), read the source's cursor (``poll_cursors/{id}``), fetch at most
``max_pages`` pages within the run's time budget, hand each page to the same ``IngestService``
as the webhooks, and save the cursor only after the page's items are stored. So:

* a crash between storing and saving re-reads that page next minute; ``create()`` dedupes;
* a run stopped by its bounds continues from its cursor next time; after downtime it catches up;
* overlapping runs are harmless: each source is leased to one run (``lease_until``), a cursor is
  saved only under the run's own lease, and everything a second reader stored would dedupe anyway;
* a platform's rate limit parks the source until the time it names; an outage is retried next run;
* no channel starves another: the channels take turns going first (one turn per minute), and
  each may use the run's time budget only up to its share (the n-th of n channels until the
  budget's end, the first until 1/n of it; time one leaves unused goes to the next).

Deleted posts (no webhook tells): each run asks the platform about a batch of the channel's stored
posts (every status but deleted: a handed-off post holds personal data, an answered one its text),
rotating through them by document id, and ingests a ``Deletion`` for those gone. The batch is the
channel's ``check_batch`` where it names one (Mastodon's and Threads' are small: one request per
post), and a rate limit the check meets parks it until the time the platform names.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from hilft.channels.polling import Poller
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformConfigError, PlatformRateLimited, PlatformUnavailable
from hilft.logs import get_logger
from hilft.service.ingest import IngestService
from hilft.service.ports import POLL_CURSORS, Clock, Snapshot, Store

log = get_logger("hilft.poll")

DELETE_CHECK_SOURCE = "deleted-check"


class LivePosts(Protocol):
    """A platform's posts not yet deleted, ordered by document id, after ``after`` (exclusive)."""

    def __call__(self, platform: str, after: str | None, limit: int) -> list[Snapshot]: ...


def cursor_doc_id(platform: str, source: str) -> str:
    return hashlib.sha256(f"poll\x1f{platform}\x1f{source}".encode()).hexdigest()[:40]


@dataclass
class PollResult:
    sources: int = 0
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    answered: int = 0
    deleted: int = 0
    brand: int = 0
    ignored: int = 0
    skipped: int = 0  # leased by an overlapping run, or parked by a rate limit
    checked: int = 0  # stored posts asked about (deleted-post check)
    errors: list[dict[str, str]] = field(default_factory=list)
    progressed: int = 0  # sources whose run ended without an error

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def add(self, ingested: Any) -> None:
        for name in ("stored", "duplicates", "answered", "deleted", "brand", "ignored"):
            setattr(self, name, getattr(self, name) + int(getattr(ingested, name, 0)))


class PollService:
    def __init__(self, *, store: Store, ingest: IngestService, pollers: Callable[[], Sequence[Poller]],
                 clock: Clock, live_posts: LivePosts, radar_keywords: Sequence[str] = (),
                 max_pages: int = 10, time_budget: timedelta = timedelta(seconds=45),
                 lease: timedelta = timedelta(seconds=120), delete_check_batch: int = 50,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ingest = ingest
        self.pollers = pollers
        self.clock = clock
        self.live_posts = live_posts
        self.radar_keywords = tuple(radar_keywords)
        self.max_pages = max_pages
        self.time_budget = time_budget.total_seconds()
        self.lease = lease
        self.delete_check_batch = delete_check_batch
        self.monotonic = monotonic

    def run(self) -> PollResult:
        result = PollResult()
        started = self.monotonic()
        owner = uuid.uuid4().hex
        pollers = self._in_turn(list(self.pollers()))
        for position, poller in enumerate(pollers):
            share_ends = started + self.time_budget * (position + 1) / len(pollers)
            try:
                brand_ids = poller.brand_ids()
                sources = poller.sources(self.radar_keywords)
            except (PlatformConfigError, PlatformRateLimited, PlatformUnavailable) as exc:
                self._failed(result, poller.platform, "*", exc)
                continue
            for source in sources:
                if self._out_of_time(share_ends):
                    break
                result.sources += 1
                self._poll_source(poller, source, brand_ids, owner, share_ends, result)
            if not self._out_of_time(share_ends):
                self._check_deleted(poller, brand_ids, owner, result)
        log.info("poll run", **{k: v for k, v in result.as_dict().items() if k != "errors"},
                 errors=len(result.errors))
        return result

    def _in_turn(self, pollers: list[Poller]) -> list[Poller]:
        """The channels in this run's order: a different one goes first each minute."""
        if not pollers:
            return pollers
        turn = int(self.clock().timestamp() // 60) % len(pollers)
        return pollers[turn:] + pollers[:turn]

    # -- one source ------------------------------------------------------------------------
    def _poll_source(self, poller: Poller, source: str, brand_ids: frozenset[str], owner: str,
                     share_ends: float, result: PollResult) -> None:
        platform = poller.platform
        doc_id = cursor_doc_id(platform, source)
        now = self.clock()
        snap = self._take_lease(doc_id, platform, source, owner, now)
        if snap is None:
            result.skipped += 1
            return
        parked = snap.data.get("retry_at")
        if isinstance(parked, datetime) and parked > now:
            result.skipped += 1
            self._release(doc_id, owner, {})
            return
        state = snap.data.get("state") if isinstance(snap.data.get("state"), dict) else None
        pages = 0
        after: dict[str, Any] = {"retry_at": None, "last_error": None}
        try:
            with contextlib.closing(poller.walk(source, state, now)) as walk:  # type: ignore[type-var]
                for page in walk:
                    ingested = self.ingest.ingest(page.batch, brand_ids)  # 1. store the items
                    result.add(ingested)
                    if not self._save(doc_id, owner, {"state": page.state}):  # 2. then the cursor
                        log.warning("poll lease lost, stopping this source", platform=platform, source_id=doc_id)
                        return
                    pages += 1
                    result.pages += 1
                    result.fetched += page.fetched
                    if pages >= self.max_pages or self._out_of_time(share_ends):
                        break
            result.progressed += 1
        except PlatformRateLimited as exc:
            after = {"retry_at": exc.retry_at, "last_error": "rate_limited"}
            self._failed(result, platform, source, exc)
        except (PlatformConfigError, PlatformUnavailable) as exc:  # store and queue faults propagate: 503
            after = {"last_error": type(exc).__name__}
            self._failed(result, platform, source, exc)
        finally:
            self._release(doc_id, owner, {**after, "polled_at": self.clock(), "pages": pages})

    def _failed(self, result: PollResult, platform: str, source: str, exc: Exception) -> None:
        kind = type(exc).__name__
        result.errors.append({"platform": platform, "source_id": cursor_doc_id(platform, source), "error": kind})
        if isinstance(exc, PlatformConfigError):
            # An operator must act (app password revoked, token expired); this line feeds the log alert.
            log.error("poll impossible: platform configuration error", platform=platform, reason=exc.message)
        else:
            log.warning("poll source failed, next run retries", platform=platform, error=kind)

    # -- deleted posts ---------------------------------------------------------------------
    def _check_deleted(self, poller: Poller, brand_ids: frozenset[str], owner: str, result: PollResult) -> None:
        doc_id = cursor_doc_id(poller.platform, DELETE_CHECK_SOURCE)
        now = self.clock()
        snap = self._take_lease(doc_id, poller.platform, DELETE_CHECK_SOURCE, owner, now)
        if snap is None:
            return
        parked = snap.data.get("retry_at")
        if isinstance(parked, datetime) and parked > now:
            self._release(doc_id, owner, {})
            return
        raw = snap.data.get("state")
        state: dict[str, Any] = raw if isinstance(raw, dict) else {}
        after = state.get("after") if isinstance(state.get("after"), str) else None
        fields: dict[str, Any] = {"retry_at": None}
        try:
            # Rotate through the stored posts by document id; at the end, start over in the same batch.
            own = getattr(poller, "check_batch", None)
            batch = max(1, min(self.delete_check_batch, own if isinstance(own, int) else self.delete_check_batch))
            posts = self.live_posts(poller.platform, after, batch)
            more = len(posts) >= batch
            if after is not None and not more:
                seen = {p.id for p in posts}
                posts += [p for p in self.live_posts(poller.platform, None, batch - len(posts)) if p.id not in seen]
                more = bool(posts)
            stored = [doc for doc in map(MentionDoc.from_snapshot, posts) if doc.post_id]
            if stored:
                found = poller.check(stored)
                result.checked += len(stored)
                if found.events:
                    result.add(self.ingest.ingest(found, brand_ids))
            fields["state"] = {"after": posts[-1].id if more else None}
        except PlatformRateLimited as exc:
            fields = {"retry_at": exc.retry_at}
            self._failed(result, poller.platform, DELETE_CHECK_SOURCE, exc)
        except (PlatformConfigError, PlatformUnavailable) as exc:
            self._failed(result, poller.platform, DELETE_CHECK_SOURCE, exc)
        finally:
            self._release(doc_id, owner, {**fields, "polled_at": self.clock()})

    # -- lease and cursor ------------------------------------------------------------------
    def _take_lease(self, doc_id: str, platform: str, source: str, owner: str, now: datetime) -> Snapshot | None:
        """The cursor document, leased to this run; None while another run holds it."""
        fresh = {"platform": platform, "source": source, "state": None, "lease_owner": owner,
                 "lease_until": now + self.lease, "created_at": now}
        if self.store.create(POLL_CURSORS, doc_id, fresh):
            return Snapshot(doc_id, fresh, None)
        verdict: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            verdict.clear()
            if snap is None:
                return None
            until = snap.data.get("lease_until")
            if snap.data.get("lease_owner") not in (None, owner) and isinstance(until, datetime) and until > now:
                return None
            verdict["mine"] = True
            return {"lease_owner": owner, "lease_until": now + self.lease}

        snap = self.store.mutate(POLL_CURSORS, doc_id, decide)
        return snap if snap is not None and verdict.get("mine") else None

    def _save(self, doc_id: str, owner: str, fields: dict[str, Any]) -> bool:
        saved: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            saved.clear()
            if snap is None or snap.data.get("lease_owner") != owner:
                return None
            saved["yes"] = True
            return fields

        self.store.mutate(POLL_CURSORS, doc_id, decide)
        return bool(saved)

    def _release(self, doc_id: str, owner: str, fields: dict[str, Any]) -> None:
        self._save(doc_id, owner, {**fields, "lease_owner": None, "lease_until": None})

    def _out_of_time(self, share_ends: float) -> bool:
        return self.monotonic() >= share_ends
