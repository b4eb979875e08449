"""What happens when a promised time comes: warn, flag overdue, alert, escalate, resolve.

At-least-once safe: Cloud Tasks may deliver a task more than once, and the sweep may process
the same post. Per post and level each sink gets one alert: a claim with an expiry is written
before sending (``alerts.<level>.state = in_progress``), the sinks that accepted are recorded,
and ``sent`` is written at the end. A retry after a failed send sends only what is missing; a
retry after success sends nothing.

Storm folding hooks in through ``AlertFolder``: before a post's warning/overdue alert goes to its
sinks, the folder may take it into a bigger alert (the post's outage incident,
``IncidentService``); then nothing is sent for the post itself and its claim is recorded as sent
(escalation continues as usual). Without a folder (``NO_FOLDING``) every alert is sent.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hilft.core import document, ids
from hilft.core.alerts import Alert, AlertAction
from hilft.core.document import AlertProgress, AlertState, MentionDoc, NoClaim
from hilft.core.errors import NotFound, SinkMisconfigured, SinkUnavailable, TransientError, TransientSinkError
from hilft.core.policy import Policy
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, AlertSink, Clock, Scheduler, Snapshot, Store

log = get_logger("hilft.deadline")

_POOL_LOCK = threading.Lock()
SINK_THREADS = 32  # one pool per instance: threads start on demand and are reused across alerts


class AlertFolder(Protocol):
    """The deadline service's one extension point: may this trigger alert go into a bigger one?

    ``fold_alert`` is called once per claimed warning/overdue alert that still has sinks to reach, after
    the claim is written and before anything is sent, with the alert and the post as stored when it
    was claimed (no second read). True: the folder took the alert (sent it, or will, in its own
    message); the deadline service sends nothing for it and records the level as sent. False: the
    alert goes to its sinks as usual. Exceptions propagate (a ``TransientError`` makes Cloud Tasks
    retry the task; the claim keeps a retry from sending twice). Resolve and acknowledge notes are
    never offered.
    """

    def fold_alert(self, alert: Alert, post: MentionDoc) -> bool: ...


class NoFolding:
    """The default folder: every alert is sent on its own."""

    def fold_alert(self, alert: Alert, post: MentionDoc) -> bool:
        return False


NO_FOLDING: AlertFolder = NoFolding()


@dataclass
class FireResult:
    outcome: str
    sinks: tuple[str, ...] = ()


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


class DeadlineService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 sinks: Mapping[str, AlertSink], claim_ttl: timedelta, sweep_grace: timedelta,
                 board_url: str | None = None, folder: AlertFolder = NO_FOLDING) -> None:
        self.sweep_grace = sweep_grace
        self.folder = folder
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.sinks = sinks
        self.board_url = board_url
        self.claim_ttl = claim_ttl
        self._sender_pool: ThreadPoolExecutor | None = None

    # -- entry -------------------------------------------------------------------------------
    def fire(self, payload: Mapping[str, Any]) -> FireResult:
        kind = payload.get("kind")
        doc_id = payload.get("doc_id")
        if not isinstance(doc_id, str) or kind not in {"warning", "due", "escalate", "resolve", "acknowledged"}:
            return FireResult("ignored")
        if kind == "acknowledged":
            return self.tell_acknowledged(doc_id)
        now = self.clock()
        not_before = _parse_time(payload.get("not_before"))
        if not_before and now < not_before - timedelta(seconds=1):
            # Beyond Cloud Tasks' 30-day horizon: hop again towards the real time.
            hop = {k: v for k, v in payload.items() if k != "not_before"}
            due = _parse_time(payload.get("due_at")) or not_before
            self.scheduler.schedule(ids.task_id(doc_id, f"{kind}-hop-{now.date()}", int(payload.get("level") or 0),
                                                due), not_before, hop, now)
            return FireResult("rescheduled")
        if kind == "resolve":
            return self.resolve(doc_id)
        level = int(payload.get("level") or 0)
        return self.alert(doc_id, level, expected_due=_parse_time(payload.get("due_at")))

    # -- alerting ----------------------------------------------------------------------------
    def alert(self, doc_id: str, level: int, expected_due: datetime | None = None) -> FireResult:
        now = self.clock()
        outcome: dict[str, str] = {}
        read_as: list[tuple[Snapshot, MentionDoc]] = []  # the last snapshot decided on, as a document

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            outcome.clear()
            read_as.clear()
            if snap is None:
                outcome["o"] = "missing"
                return None
            read = MentionDoc.from_snapshot(snap)
            read_as.append((snap, read))
            claim = document.claim_alert(
                read, level, now, claim_ttl=self.claim_ttl, expected_due=expected_due,
                level_exists=level < 1 or self.policy.escalation.fire_offset(level) is not None)
            if claim is NoClaim.IN_PROGRESS:
                raise TransientError("alert in progress elsewhere")
            if isinstance(claim, NoClaim):
                outcome["o"] = claim
                return None
            return claim

        snap = self.store.mutate(MENTIONS, doc_id, decide)
        if outcome.get("o") or snap is None:
            result = outcome.get("o", "missing")
            log.info("deadline: nothing to do", doc_id=doc_id, level=level, outcome=result)
            return FireResult(result)

        # the document decide() read (once per alert, not twice); parsed again only if mutate() returned another
        doc = read_as[0][1] if read_as and read_as[0][0] is snap else MentionDoc.from_snapshot(snap)
        due = doc.due_at
        if due is None:
            raise ValueError("an open post without a due time")  # ingest always sets one
        already = doc.sinks_sent(level)
        wanted = [name for name in self.policy.escalation.sinks_for(level) if name in self.sinks]
        alert = self._alert_for(doc_id, doc, level, AlertAction.TRIGGER, now)
        missing: list[str] = [n for n in wanted if n not in already]
        sent: list[str] = []
        failed: list[str] = []
        if missing and self.folder.fold_alert(alert, doc):
            log.info("alert folded into incident", doc_id=doc_id, level=level)
        else:
            sent, failed = self._send(alert, missing)
        sinks_sent = sorted(already | set(sent))

        updates: dict[str, Any] = {}
        if failed:
            updates[f"alerts.{level}"] = AlertState(state=AlertProgress.FAILED, sinks_sent=sinks_sent,
                                                    failed_at=now).to_store()
            self.store.update(MENTIONS, doc_id, updates)
            raise TransientSinkError(f"{len(failed)} alert sink(s) unavailable")

        if level >= 1:
            offset = self.policy.escalation.fire_offset(level + 1)
            next_at = due + offset if offset is not None else None
            if next_at is not None:
                # Enqueue before the commit below; the name dedupes repeats.
                self.scheduler.schedule(ids.task_id(doc_id, "escalate", level + 1, due), max(next_at, now),
                                        {"doc_id": doc_id, "kind": "escalate", "level": level + 1,
                                         "due_at": due.isoformat()}, now)
            updates.update(document.raise_level(doc, level, next_at) or {})
        updates[f"alerts.{level}"] = AlertState(state=AlertProgress.SENT, sinks_sent=sinks_sent,
                                                sent_at=now).to_store()
        self.store.update(MENTIONS, doc_id, updates)
        log.info("alert sent", doc_id=doc_id, level=level, sinks=",".join(sinks_sent))
        return FireResult("alerted", tuple(sinks_sent))

    def _alert_for(self, doc_id: str, doc: MentionDoc, level: int, action: AlertAction,
                   now: datetime) -> Alert:
        if doc.due_at is None:
            raise ValueError("an alert needs the post's due time")
        return Alert(action=action, level=level, platform=doc.platform.value,
                     post_id=doc.post_id, doc_id=doc_id,
                     author_handle=doc.author_handle, excerpt=doc.text,
                     due_at=doc.due_at, now=now, url=doc.url, board_url=self.board_url,
                     department=doc.department, timezone=self.policy.calendar.tz)

    def _send(self, alert: Alert, names: list[str]) -> tuple[list[str], list[str]]:
        """Send one alert to its sinks at once (bounded), so a slow sink delays none of the others;
        the claim before and the record after stay per alert, as before."""
        if len(names) <= 1:
            outcomes = [self._send_one(alert, name) for name in names]
        else:
            # Each worker runs in a copy of this request's context: its log lines keep the trace id.
            outcomes = list(self._pool().map(
                lambda name: contextvars.copy_context().run(self._send_one, alert, name), names))
        sent = [name for name, outcome in zip(names, outcomes, strict=True) if outcome == "sent"]
        failed = [name for name, outcome in zip(names, outcomes, strict=True) if outcome == "failed"]
        return sent, failed

    def _pool(self) -> ThreadPoolExecutor:
        """The instance's sender threads, made on first use (not per alert: a storm sends hundreds)."""
        with _POOL_LOCK:
            if self._sender_pool is None:
                self._sender_pool = ThreadPoolExecutor(max_workers=SINK_THREADS, thread_name_prefix="hilft-sink")
            return self._sender_pool

    def _send_one(self, alert: Alert, name: str) -> str:
        try:
            self.sinks[name].send(alert)
            return "sent"
        except SinkUnavailable:
            log.warning("alert sink unavailable, will retry", sink=name, doc_id=alert.doc_id)
            return "failed"
        except SinkMisconfigured:
            # Not retried forever: a configuration error is logged once per alert and skipped.
            log.error("alert sink rejected the alert: check its configuration", sink=name, doc_id=alert.doc_id)
            return "skipped"

    # -- resolve / acknowledge -----------------------------------------------------------------
    def resolve(self, doc_id: str) -> FireResult:
        """The post got answered after alerts went out: close the incident everywhere it was raised."""
        now = self.clock()
        snap = self.store.get(MENTIONS, doc_id)
        if snap is None:
            return FireResult("missing")
        doc = MentionDoc.from_snapshot(snap)
        resolved = doc.alert_state("resolve")
        if resolved is not None and resolved.state is AlertProgress.SENT:
            return FireResult(NoClaim.ALREADY_SENT)
        raised = doc.sinks_alerted()
        done = doc.sinks_sent("resolve")
        alert = self._alert_for(doc_id, doc, doc.alert_level or 0, AlertAction.RESOLVE, now)
        sent, failed = self._send(alert, sorted(n for n in raised - done if n in self.sinks))
        state = AlertState(state=AlertProgress.FAILED if failed else AlertProgress.SENT,
                           sinks_sent=sorted(done | set(sent)))
        self.store.update(MENTIONS, doc_id, {"alerts.resolve": state.to_store()})
        if failed:
            raise TransientSinkError("resolve not delivered everywhere")
        return FireResult("resolved", tuple(sorted(done | set(sent))))

    def acknowledge(self, doc_id: str, by: str | None) -> FireResult:
        now = self.clock()
        changed: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            changed.clear()
            if snap is None:
                return None
            updates = document.acknowledge(MentionDoc.from_snapshot(snap), now, by)
            if updates is not None:
                changed["yes"] = True
            return updates

        snap = self.store.mutate(MENTIONS, doc_id, decide)
        if snap is None:
            raise NotFound("no such post")
        if not changed:
            return FireResult("already_acknowledged")
        level = MentionDoc.from_snapshot(snap).alert_level
        if level and by != "pagerduty":
            # Staff functions hold no sink secrets: ``deadline`` tells PagerDuty, by task.
            self.scheduler.schedule(ids.task_id(doc_id, "acknowledged", level, now), now,
                                    {"doc_id": doc_id, "kind": "acknowledged"}, now)
        log.info("alert acknowledged", doc_id=doc_id)
        return FireResult("acknowledged")

    def tell_acknowledged(self, doc_id: str) -> FireResult:
        """Acknowledge the post's open PagerDuty incident (run by ``deadline``, which has the key)."""
        snap = self.store.get(MENTIONS, doc_id)
        doc = MentionDoc.from_snapshot(snap) if snap is not None else None
        if doc is None or not doc.acknowledged or not doc.alert_level:
            return FireResult("ignored")
        if "pagerduty" not in self.sinks:
            return FireResult("no_sink")
        alert = self._alert_for(doc_id, doc, doc.alert_level, AlertAction.ACKNOWLEDGE, self.clock())
        sent, failed = self._send(alert, ["pagerduty"])
        if failed:
            raise TransientError("pagerduty unavailable")  # Cloud Tasks retries the task
        return FireResult("acknowledged", tuple(sent))

    # -- sweep -------------------------------------------------------------------------------
    def sweep(self, limit: int = 200) -> dict[str, int]:
        """Backstop for lost tasks: past-due open posts and missed re-alerts."""
        now = self.clock()
        counts = {"overdue_alerted": 0, "realerted": 0, "errors": 0}
        for snap in self.store.open_past_due(now - self.sweep_grace, limit):
            counts["overdue_alerted"] += self._sweep_one(snap.id, 1)
        for snap in self.store.overdue_realert_due(now - self.sweep_grace, limit):
            doc = MentionDoc.from_snapshot(snap)
            if doc.acknowledged:
                continue
            counts["realerted"] += self._sweep_one(snap.id, (doc.alert_level or 1) + 1)
        return counts

    def _sweep_one(self, doc_id: str, level: int) -> int:
        try:
            return 1 if self.alert(doc_id, level).outcome == "alerted" else 0
        except TransientError:
            log.warning("sweep: will retry on next run", doc_id=doc_id, level=level)
            return 0
