"""Spikes become incidents: the scheduled evaluation, the incident documents, their alerts, storm folding.

How posts are counted (the scale design)
----------------------------------------
No write per post goes to a shared document. Every customer post is already written once, as its
``mentions`` document (with ``received_at``). The detector runs as a **scheduled evaluation** per
slot (default 20 s): with ``outage.trigger = "tasks"`` the webhook, after storing posts, enqueues
one named Cloud Task for the current slot (per instance at most one create per slot; the name
dedupes across instances), which fires ``grace`` after the slot ends; the minute ``sweep``
evaluates too (the only trigger with ``trigger = "sweep"``, the backstop otherwise, and it
resolves quiet incidents when no posts come). An evaluation reads the posts received since the last one
(one range query on ``received_at``), finds their topic and place in the redacted text
(``core.outage.signal_of``), counts them per key and slot, runs ``core.outage.advance`` and writes
the detector's state back to one document (``outage_state/detector``) — once per evaluation, so
at most once per slot, whatever the traffic. At 10,000 posts/min that is ~3,300 reads per
evaluation and no extra write per post; only posts that belong to an open incident get one more
write each (``incident_id``, set at most once, seconds after their creation).

Incidents
---------
``incidents/{id}``: ``key``, ``topic``/``topic_label``, ``place``/``place_label``, ``status``
(``open`` → ``acknowledged`` → ``resolved``), ``first_seen``, ``last_seen``, ``count``, ``samples``
(post ids with the **redacted** excerpt only), ``alerts``. ``incidents_open/{key_id}`` points at a
key's open incident. Each incident alerts the configured sinks once when it opens (its own
PagerDuty ``dedup_key`` and Chat thread, ``core.incident_alerts``), again when it has doubled since
the last message (at most every ``update_every``), and once when it resolves.

Storm folding
-------------
When a post of an incident comes due (or escalates) — marked as a member by an evaluation, or
naming the topic and place of an open incident — its alert goes into the incident's alert (also
after the incident resolved: the outage may be over, its posts' promises still come due together):
the first post at an escalation level claims ``incident_alerts/{incident}-{level}`` (``create()``:
exactly one wins) and sends one message per sink with the count and the oldest due
time; one follow-up ``fold_window`` later sends the final count if it grew. So 300 posts due in
the same second are at most two messages per sink per level, not 300. Posts outside any incident
keep their own alerts. The deadline service asks through its ``AlertFolder`` hook
(``IncidentService.fold_alert``, wired in app.py); it knows nothing of incidents.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hilft.core import document, outage
from hilft.core.alerts import Alert, AlertAction
from hilft.core.document import MentionDoc, as_doc
from hilft.core.errors import TransientError, TransientSinkError
from hilft.core.incident_alerts import IncidentAlert, IncidentEvent
from hilft.core.models import Kind, Status
from hilft.core.outage import DetectorState, Signal, Verdict
from hilft.core.policy import Policy
from hilft.logs import get_logger
from hilft.service.ports import MENTIONS, Clock, Scheduler, Snapshot, Store

log = get_logger("hilft.incidents")

INCIDENTS = "incidents"
INCIDENTS_OPEN = "incidents_open"
INCIDENT_ALERTS = "incident_alerts"
OUTAGE_STATE = "outage_state"
STATE_DOC = "detector"
RECENT_PER_KEY = 400  # doc ids kept per key for the window (marked when its incident opens)
CATCH_UP_SLOTS = 180  # after a gap, read at most this many slots of posts (an hour of 20 s slots)
MARK_IN_SERIES = 20  # more members than this are marked by MARK_WORKERS threads
MARK_WORKERS = 8
LEASE = timedelta(seconds=60)  # an evaluation longer than this loses the state document to the next one
FOLD_MEMORY = timedelta(days=4)  # members of an incident resolved this long ago still fold (promises run)
ACTIVITY_CACHE = timedelta(seconds=10)


class IncidentQueries(Protocol):
    def received_between(self, after: datetime, through: datetime, limit: int = 2000) -> list[Snapshot]: ...
    def incident_members(self, incident_id: str, limit: int = 5000) -> list[Snapshot]: ...
    def open_incidents(self, limit: int = 50) -> list[Snapshot]: ...


class IncidentSink(Protocol):
    name: str

    def send(self, alert: IncidentAlert) -> None: ...


@dataclass
class _Seen:
    doc_id: str
    slot: int
    received_at: datetime
    excerpt: str
    post_id: str
    platform: str
    signal: Signal
    marked: str | None


def eval_task_doc_id(slot: int) -> str:
    """40 hex characters naming one slot's evaluation (``deadline`` accepts only such ids)."""
    return hashlib.sha256(f"outage-eval\x1f{slot}".encode()).hexdigest()[:40]


class IncidentService:
    def __init__(self, *, store: Store, queries: IncidentQueries, scheduler: Scheduler, policy: Policy,
                 clock: Clock, sinks: Mapping[str, IncidentSink], board_url: str | None = None,
                 grace: timedelta = timedelta(seconds=5), retention_days: int = 90) -> None:
        self.store = store
        self.queries = queries
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.sinks = sinks
        self.board_url = board_url
        self.grace = grace
        self.retention_days = retention_days
        self.params = outage.params_from_policy(policy)
        self.topics = outage.topics_from_policy(policy)
        self.words = outage.words_from_policy(policy)
        self._scheduled_slot: int | None = None
        self._activity: tuple[datetime, datetime | None] | None = None  # (read at, last_incident_at)

    @property
    def enabled(self) -> bool:
        return self.policy.outage.enabled

    # -- the trigger ------------------------------------------------------------------------------
    def note_ingest(self, stored: int) -> None:
        """After a webhook stored posts: make sure this slot gets evaluated (one task per slot)."""
        if not self.enabled or stored <= 0 or self.policy.outage.trigger != "tasks":
            return
        now = self.clock()
        slot = outage.slot_of(now, self.params.slot_seconds)
        if slot == self._scheduled_slot:
            return
        at = outage.slot_start(slot + 1, self.params.slot_seconds) + self.grace
        doc_id = eval_task_doc_id(slot)
        try:
            self.scheduler.schedule(f"outage-eval-{doc_id}", at,
                                    {"kind": "outage_eval", "doc_id": doc_id, "through_slot": slot}, now)
            self._scheduled_slot = slot
        except TransientError:
            # The posts are stored; the minute sweep evaluates them if this task is missing.
            log.warning("outage evaluation not scheduled; the sweep will evaluate", slot=slot)

    # -- the evaluation ---------------------------------------------------------------------------
    def evaluate(self, through_slot: int | None = None) -> dict[str, Any]:
        """Count the posts since the last evaluation, run the detector, act on its verdicts."""
        if not self.enabled:
            return {"outcome": "disabled"}
        now = self.clock()
        seconds = self.params.slot_seconds
        latest = outage.slot_of(now - self.grace, seconds) - 1  # the last slot that ended `grace` ago
        through = latest if through_slot is None else min(int(through_slot), latest)
        before = self.store.get(OUTAGE_STATE, STATE_DOC)  # a plain read first: most calls find it done
        done = ((before.data.get("state") or {}).get("last_slot") if before else None)
        if isinstance(done, int) and done >= through:
            return {"outcome": "up_to_date", "through_slot": done}
        snap = self._lease(now)
        if snap is None:
            return {"outcome": "busy"}  # another evaluation holds the lease; it covers these slots
        stored = snap.data
        state = DetectorState.from_dict(stored.get("state"))
        # key -> ["slot:doc_id", …] (Firestore holds no array inside an array)
        recent: dict[str, list[tuple[int, str]]] = {
            k: [(int(e.split(":", 1)[0]), e.split(":", 1)[1]) for e in v if ":" in e]
            for k, v in (stored.get("recent") or {}).items()}
        if state.last_slot is not None and state.last_slot >= through:
            self._release(snap)
            return {"outcome": "up_to_date", "through_slot": state.last_slot}
        if state.last_slot is None:  # a fresh detector looks back one window
            state.last_slot = through - self.params.window_slots
        if through - state.last_slot > CATCH_UP_SLOTS:  # long without evaluation: count the last hour only
            for key_state in state.keys.values():
                key_state.window.clear()
                key_state.hour_count = 0
            state.last_slot = through - CATCH_UP_SLOTS
        first = state.last_slot + 1
        after = outage.slot_start(first, seconds) - timedelta(milliseconds=1)
        until = outage.slot_start(through + 1, seconds)
        seen = self._signals(self.queries.received_between(after, until), first, through)
        counts = outage.counts_by_slot((item.slot, item.signal) for item in seen)
        verdicts = outage.advance(state, counts, through, self.params)

        for item in seen:
            for key in item.signal.keys:
                recent.setdefault(key, []).append((item.slot, item.doc_id))
        oldest = through - self.params.window_slots + 1
        recent = {k: [e for e in v if e[0] >= oldest][-RECENT_PER_KEY:] for k, v in recent.items()}
        recent = {k: v for k, v in recent.items() if v}

        by_key: dict[str, list[_Seen]] = {}
        for item in seen:
            for key in item.signal.keys:
                by_key.setdefault(key, []).append(item)
        outcome: dict[str, Any] = {"outcome": "evaluated", "through_slot": through, "posts": len(seen),
                                   "opened": 0, "grown": 0, "resolved": 0}
        for verdict in verdicts:
            if verdict.action == "open":
                self._open(verdict, by_key.get(verdict.key, []), recent.get(verdict.key, []), now)
                outcome["opened"] += 1
            elif verdict.action == "grow":
                self._grow(verdict, by_key.get(verdict.key, []), now)
                outcome["grown"] += 1
            elif verdict.action == "resolve":
                self._resolve(verdict, now)
                outcome["resolved"] += 1
        self._mark_members(state, by_key)
        self._maybe_update_alerts(state, now)
        self._save_state(snap, state, recent)
        if verdicts:
            log.info("outage evaluation", **{k: v for k, v in outcome.items() if k != "outcome"})
        return outcome

    def _signals(self, snaps: Iterable[Snapshot], first: int, through: int) -> list[_Seen]:
        seconds = self.params.slot_seconds
        seen: list[_Seen] = []
        for snap in snaps:
            data = snap.data
            received = data.get("received_at")
            # Thousands of posts per evaluation: read as stored (no model per post on this path).
            if not isinstance(received, datetime) or data.get("stub") or data.get("status") == Status.DELETED:
                continue
            slot = outage.slot_of(received, seconds)
            if not first <= slot <= through:
                continue
            signal = outage.signal_of(str(data.get("text") or ""), self.topics, self.words)
            if signal is None:
                continue
            seen.append(_Seen(snap.id, slot, received, str(data.get("text") or ""), str(data.get("post_id") or ""),
                              str(data.get("platform") or ""), signal, data.get("incident_id")))
        return seen

    def _lease(self, now: datetime) -> Snapshot | None:
        """One evaluation at a time (the sweep and a slot's task may meet): a lease on the state
        document, taken with a precondition; None while another evaluation holds it."""
        token = uuid.uuid4().hex
        lease = {"lease": token, "lease_until": now + LEASE}
        if self.store.get(OUTAGE_STATE, STATE_DOC) is None:
            self.store.create(OUTAGE_STATE, STATE_DOC, {"state": None, "recent": {}, **lease})

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            until = current.data.get("lease_until") if current else None
            if current is None or current.data.get("lease") == token or (
                    isinstance(until, datetime) and until > now):
                return None
            return lease

        self.store.mutate(OUTAGE_STATE, STATE_DOC, decide)
        snap = self.store.get(OUTAGE_STATE, STATE_DOC)
        return snap if snap is not None and snap.data.get("lease") == token else None

    def _release(self, snap: Snapshot) -> None:
        token = snap.data.get("lease")
        self.store.mutate(OUTAGE_STATE, STATE_DOC, lambda current: {"lease_until": None} if current and
                          current.data.get("lease") == token else None)

    def _save_state(self, snap: Snapshot, state: DetectorState,
                    recent: Mapping[str, list[tuple[int, str]]]) -> None:
        """Write the state back and give up the lease, unless the lease was lost (it expired and
        another evaluation took over: its state wins; the verdicts acted on here were idempotent)."""
        now = self.clock()
        active = any(key_state.incident for key_state in state.keys.values())
        token = snap.data.get("lease")
        document = {"state": state.as_dict(),
                    "recent": {k: [f"{slot}:{doc_id}" for slot, doc_id in v] for k, v in recent.items()},
                    "updated_at": now, "lease_until": None,
                    "last_incident_at": now if active else snap.data.get("last_incident_at")}

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            if current is None or current.data.get("lease") != token:
                log.warning("outage evaluation lost its lease; its state is not saved")
                return None
            return document

        self.store.mutate(OUTAGE_STATE, STATE_DOC, decide)

    # -- incident lifecycle ------------------------------------------------------------------------
    def _samples(self, items: Iterable[_Seen], limit: int) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for item in items:
            if len(out) >= limit:
                break
            out.append({"doc_id": item.doc_id, "post_id": item.post_id, "platform": item.platform,
                        "excerpt": item.excerpt[:280]})
        return out

    def _open(self, verdict: Verdict, items: list[_Seen], recent: list[tuple[int, str]], now: datetime) -> None:
        topic, place = verdict.key.split("|", 1)
        signal = items[0].signal if items else None
        topic_label = signal.topic_label if signal else f"Störung {topic}"
        place_label = (signal.place_label if signal and place != outage.NATIONWIDE else "")
        window_start = outage.slot_start(verdict.slot - self.params.window_slots + 1, self.params.slot_seconds)
        first_seen = min((i.received_at for i in items), default=window_start)
        first_seen = min(first_seen, window_start) if recent and recent[0][0] < verdict.slot else first_seen
        doc = {
            "key": verdict.key, "topic": topic, "topic_label": topic_label, "place": place,
            "place_label": place_label, "status": "open", "opened_at": now, "first_seen": first_seen,
            "last_seen": max((i.received_at for i in items), default=now), "count": verdict.count,
            "expected": round(verdict.expected, 3), "opened_slot": verdict.slot, "applied_slot": verdict.slot,
            "samples": self._samples(items, self.policy.outage.sample_posts), "alerts": {},
            "alerted_count": 0, "alerted_at": None,
            "expire_at": now + timedelta(days=self.retention_days),
        }
        if self.store.create(INCIDENTS, verdict.incident, doc):
            log.info("incident opened", incident_id=verdict.incident, key=verdict.key, count=verdict.count)
        self.store.set(INCIDENTS_OPEN, outage.key_id(verdict.key),
                       {"incident_id": verdict.incident, "key": verdict.key, "since": now})
        label = f"{topic_label}, {place_label or 'bundesweit'}"
        self._mark_many([(doc_id, verdict.incident, verdict.key, label) for _, doc_id in recent])
        snap = self.store.get(INCIDENTS, verdict.incident)
        if snap is not None:
            self._send_once(verdict.incident, snap.data, "opened", IncidentEvent.OPENED, now)

    def _grow(self, verdict: Verdict, items: list[_Seen], now: datetime) -> None:
        limit = self.policy.outage.sample_posts

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            if snap is None or int(snap.data.get("applied_slot") or 0) >= verdict.slot:
                return None
            samples = list(snap.data.get("samples") or [])
            known = {s.get("doc_id") for s in samples}
            samples += self._samples((i for i in items if i.doc_id not in known), max(0, limit - len(samples)))
            return {"count": int(snap.data.get("count") or 0) + verdict.count, "applied_slot": verdict.slot,
                    "last_seen": max((i.received_at for i in items), default=now), "samples": samples}

        self.store.mutate(INCIDENTS, verdict.incident, decide)

    def _resolve(self, verdict: Verdict, now: datetime) -> None:
        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            if snap is None or snap.data.get("status") == "resolved":
                return None
            return {"status": "resolved", "resolved_at": now}

        self.store.mutate(INCIDENTS, verdict.incident, decide)
        self.store.set(INCIDENTS_OPEN, outage.key_id(verdict.key), {"incident_id": None, "key": verdict.key,
                                                                    "since": None})
        snap = self.store.get(INCIDENTS, verdict.incident)
        if snap is not None:
            self._send_once(verdict.incident, snap.data, "resolved", IncidentEvent.RESOLVED, now)
        log.info("incident resolved", incident_id=verdict.incident, key=verdict.key)

    def _mark_many(self, marks: Sequence[tuple[str, str, str, str]]) -> None:
        """The posts belong to the incident (``incident_label`` lets the board group them without a
        read). One write per post, in parallel: at 10,000 posts a minute an evaluation marks thousands."""
        def mark(entry: tuple[str, str, str, str]) -> None:
            doc_id, incident_id, key, label = entry
            self.store.update(MENTIONS, doc_id, {"incident_id": incident_id, "outage_key": key,
                                                 "incident_label": label})

        if len(marks) <= MARK_IN_SERIES:
            for entry in marks:
                mark(entry)
            return
        with ThreadPoolExecutor(max_workers=MARK_WORKERS) as pool:
            list(pool.map(mark, marks))

    def _mark_members(self, state: DetectorState, by_key: Mapping[str, list[_Seen]]) -> None:
        """Posts counted in this evaluation whose key has an open incident belong to it (set once)."""
        for key, items in by_key.items():
            key_state = state.keys.get(key)
            if key_state is None or key_state.incident is None:
                continue
            signal = items[0].signal
            place = signal.place_label if key == signal.key else ""  # the nationwide key names no place
            label = f"{signal.topic_label}, {place or 'bundesweit'}"
            marks = []
            for item in items:
                if item.marked is None:
                    item.marked = key_state.incident
                    marks.append((item.doc_id, key_state.incident, key, label))
            self._mark_many(marks)

    def _maybe_update_alerts(self, state: DetectorState, now: datetime) -> None:
        """An open incident that doubled since its last message, and not within update_every: one update."""
        for key_state in state.keys.values():
            if key_state.incident is None:
                continue
            snap = self.store.get(INCIDENTS, key_state.incident)
            if snap is None or snap.data.get("status") != "open":
                continue
            data = snap.data
            alerted, at = int(data.get("alerted_count") or 0), data.get("alerted_at")
            if alerted and int(data.get("count") or 0) >= 2 * alerted and (
                    not isinstance(at, datetime) or now - at >= self.policy.outage.update_every):
                self._send_once(snap.id, data, f"grew-{int(data['count'])}", IncidentEvent.GREW, now)

    # -- sending ----------------------------------------------------------------------------------
    @staticmethod
    def _first_seen(data: Mapping[str, Any], now: datetime) -> datetime:
        first = data.get("first_seen")
        return first if isinstance(first, datetime) else now

    def headline(self, data: Mapping[str, Any], now: datetime) -> str:
        first = self._first_seen(data, now)
        return outage.describe(str(data.get("topic_label") or "Störung"), str(data.get("place_label") or ""),
                               int(data.get("count") or 0), first, max(now, first))

    def _alert(self, incident_id: str, data: Mapping[str, Any], event: IncidentEvent, now: datetime,
               **extra: Any) -> IncidentAlert:
        first = self._first_seen(data, now)
        return IncidentAlert(event=event, incident_id=incident_id, headline=self.headline(data, now),
                             count=int(data.get("count") or 0), first_seen=first, now=now,
                             excerpts=tuple(str(s.get("excerpt") or "") for s in data.get("samples") or []),
                             board_url=self.board_url, timezone=self.policy.promise.timezone, **extra)

    def _deliver(self, alert: IncidentAlert, names: Iterable[str]) -> tuple[list[str], list[str]]:
        from hilft.core.errors import SinkMisconfigured, SinkUnavailable

        sent: list[str] = []
        failed: list[str] = []
        for name in names:
            try:
                self.sinks[name].send(alert)
                sent.append(name)
            except SinkUnavailable:
                failed.append(name)
                log.warning("incident sink unavailable, will retry", sink=name, incident_id=alert.incident_id)
            except SinkMisconfigured:
                log.error("incident sink rejected the alert: check its configuration", sink=name,
                          incident_id=alert.incident_id)
        return sent, failed

    def _send_once(self, incident_id: str, data: Mapping[str, Any], name: str, event: IncidentEvent,
                   now: datetime, only: Sequence[str] | None = None) -> None:
        """Send one incident message to every configured sink that has not had it (recorded per sink)."""
        record = (data.get("alerts") or {}).get(name) or {}
        already = set(record.get("sinks_sent") or [])
        if only is not None:
            names = sorted(n for n in only if n in self.sinks and n not in already)
        elif event is IncidentEvent.RESOLVED:
            raised = set(((data.get("alerts") or {}).get("opened") or {}).get("sinks_sent") or [])
            names = sorted(n for n in raised - already if n in self.sinks)
        else:
            names = sorted(n for n in self.sinks if n not in already)
        if not names:
            return
        sent, failed = self._deliver(self._alert(incident_id, data, event, now,
                                                 sequence=int(data.get("count") or 0)), names)
        updates: dict[str, Any] = {f"alerts.{name}": {"sinks_sent": sorted(already | set(sent)), "at": now}}
        if event in (IncidentEvent.OPENED, IncidentEvent.GREW) and sent:
            updates["alerted_count"] = int(data.get("count") or 0)
            updates["alerted_at"] = now
        self.store.update(INCIDENTS, incident_id, updates)
        if failed:
            raise TransientSinkError(f"{len(failed)} incident sink(s) unavailable")

    # -- storm folding (called for a post's warning/overdue alert) ----------------------------------
    def open_incident_of(self, data: Mapping[str, Any]) -> str | None:
        """The incident a post belongs to: the one an evaluation marked it with (whatever its status:
        the outage may be over, the posts' promises still run and still come due together), else its
        key's open incident."""
        marked = data.get("incident_id")
        if isinstance(marked, str) and self.store.get(INCIDENTS, marked) is not None:
            return marked
        candidates: list[str] = []
        if not candidates:
            signal = outage.signal_of(str(data.get("text") or ""), self.topics, self.words)
            for key in signal.keys if signal else ():
                pointer = self.store.get(INCIDENTS_OPEN, outage.key_id(key))
                if pointer is not None and isinstance(pointer.data.get("incident_id"), str):
                    candidates.append(pointer.data["incident_id"])
                    break
        for incident_id in candidates:
            snap = self.store.get(INCIDENTS, incident_id)
            if snap is not None and snap.data.get("status") in ("open", "acknowledged"):
                return incident_id
        return None

    def may_fold(self, text: str) -> bool:
        """Cheap pre-check, no read in normal times: only a post that names an outage can belong to an
        incident, and only while an incident is open or was within ``FOLD_MEMORY`` (the detector
        state's ``last_incident_at``, read at most every ``ACTIVITY_CACHE`` per instance)."""
        if not (self.enabled and self.policy.outage.fold_alerts and self.sinks):
            return False
        if outage.signal_of(text, self.topics, self.words) is None:
            return False
        now = self.clock()
        if self._activity is None or now - self._activity[0] > ACTIVITY_CACHE:
            snap = self.store.get(OUTAGE_STATE, STATE_DOC)
            last = snap.data.get("last_incident_at") if snap else None
            self._activity = (now, last if isinstance(last, datetime) else None)
        last_incident = self._activity[1]
        return last_incident is not None and now - last_incident <= FOLD_MEMORY

    def fold_alert(self, alert: Alert, post: Mapping[str, Any]) -> bool:
        """``DeadlineService``'s ``AlertFolder`` hook (wired in app.py as its ``folder``): a post's
        warning/overdue alert goes into its incident's alert when the post belongs to one. Posts
        naming no outage cost no read (``may_fold``)."""
        if alert.action is not AlertAction.TRIGGER or not self.may_fold(alert.excerpt):
            return False
        return self.fold(alert.doc_id, post, alert.level)

    def fold(self, doc_id: str, data: Mapping[str, Any], level: int) -> bool:
        """True when the post's alert at ``level`` went (or goes) into its incident's alert instead."""
        if not (self.enabled and self.policy.outage.fold_alerts) or not self.sinks:
            return False
        incident_id = self.open_incident_of(data)
        if incident_id is None:
            return False
        now = self.clock()
        if data.get("incident_id") != incident_id:
            self.store.update(MENTIONS, doc_id, {"incident_id": incident_id})
        claim_id = f"{incident_id}-{level}"
        created = self.store.create(INCIDENT_ALERTS, claim_id, {
            "incident_id": incident_id, "level": level, "creator": doc_id, "created_at": now,
            "first": {"sinks_sent": [], "count": 0}, "followup": None,
            "expire_at": now + timedelta(days=self.retention_days)})
        claim = self.store.get(INCIDENT_ALERTS, claim_id)
        if claim is None:
            return True
        first = claim.data.get("first") or {}
        wanted = [n for n in self.policy.escalation.sinks_for(level) if n in self.sinks]
        missing = [n for n in wanted if n not in set(first.get("sinks_sent") or [])]
        if (created or claim.data.get("creator") == doc_id) and missing:
            self._storm_message(incident_id, claim_id, "first", level, missing, now, extra_member=(doc_id, data))
            fire_at = now + self.policy.outage.fold_window
            self.scheduler.schedule(f"incident-fold-{claim_id}", fire_at,
                                    {"kind": "incident_fold", "doc_id": incident_id, "level": level}, now)
        return True

    def fold_followup(self, incident_id: str, level: int) -> dict[str, Any]:
        """``fold_window`` after the first message: the final count, if it grew (one more message per sink)."""
        claim_id = f"{incident_id}-{level}"
        claim = self.store.get(INCIDENT_ALERTS, claim_id)
        if claim is None:
            return {"outcome": "missing"}
        first = claim.data.get("first") or {}
        done = claim.data.get("followup") or {}
        wanted = [n for n in self.policy.escalation.sinks_for(level) if n in self.sinks]
        missing = [n for n in wanted if n not in set(done.get("sinks_sent") or [])]
        members = self._at_level(incident_id, level, self.clock())
        if len(members) <= int(first.get("count") or 0) or not missing:
            return {"outcome": "nothing_new", "count": len(members)}
        self._storm_message(incident_id, claim_id, "followup", level, missing, self.clock())
        return {"outcome": "sent", "count": len(members)}

    def _at_level(self, incident_id: str, level: int, now: datetime,
                  extra: tuple[str, Mapping[str, Any]] | None = None) -> dict[str, datetime]:
        """Members due (level 0: warned, 1…: that far overdue) and not answered: doc id → due time."""
        members = {s.id: MentionDoc.from_snapshot(s) for s in self.queries.incident_members(incident_id)}
        if extra is not None and extra[0] not in members:
            members[extra[0]] = as_doc(extra[1])
        offset = self.policy.escalation.fire_offset(level) if level >= 1 else None
        out: dict[str, datetime] = {}
        for doc_id, post in members.items():
            due = post.due_at
            if due is None or not post.unanswered:
                continue
            if level == 0:
                if post.warn_at is not None and post.warn_at <= now + timedelta(seconds=1):
                    out[doc_id] = due
            elif offset is not None and due + offset <= now + timedelta(seconds=1):
                if level >= 2 and post.acknowledged:
                    continue
                out[doc_id] = due
        return out

    def _storm_message(self, incident_id: str, claim_id: str, which: str, level: int, names: Sequence[str],
                       now: datetime, extra_member: tuple[str, Mapping[str, Any]] | None = None) -> None:
        incident = self.store.get(INCIDENTS, incident_id)
        data = incident.data if incident else {}
        members = self._at_level(incident_id, level, now, extra_member)
        oldest = min(members.values(), default=None)
        alert = self._alert(incident_id, data, IncidentEvent.STORM, now, level=level, overdue=len(members),
                            oldest_due=oldest, sequence=1 if which == "followup" else 0)
        sent, failed = self._deliver(alert, names)
        claim = self.store.get(INCIDENT_ALERTS, claim_id)
        before = set(((claim.data.get(which) if claim else None) or {}).get("sinks_sent") or [])
        self.store.update(INCIDENT_ALERTS, claim_id, {which: {"sinks_sent": sorted(before | set(sent)),
                                                              "count": len(members), "at": now}})
        log.info("overdue alerts folded into the incident", incident_id=incident_id, level=level,
                 posts=len(members), part=which)
        if failed:
            raise TransientSinkError(f"{len(failed)} incident sink(s) unavailable")

    # -- staff ------------------------------------------------------------------------------------
    def acknowledge(self, incident_id: str, by: str | None, deadlines: Any = None) -> dict[str, Any]:
        """One action for the whole incident: it and every member post are acknowledged (no more
        re-alerts), the sinks are told once on the incident's own key (PagerDuty ``acknowledge``).
        Members that had alerts of their own before the incident opened are acknowledged through
        ``deadlines`` (their PagerDuty incidents too); folded members had none."""
        from hilft.core.errors import NotFound

        now = self.clock()
        changed: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            changed.clear()
            if snap is None or snap.data.get("status") != "open":
                return None
            changed["yes"] = True
            return {"status": "acknowledged", "acknowledged_at": now, "acknowledged_by": by}

        snap = self.store.mutate(INCIDENTS, incident_id, decide)
        if snap is None:
            raise NotFound("no such incident")
        posts = 0
        for member in self.queries.incident_members(incident_id):
            post = MentionDoc.from_snapshot(member)
            updates = document.acknowledge(post, now, by) if post.unanswered else None
            if updates is None:
                continue
            if post.sinks_alerted() and deadlines is not None:
                deadlines.acknowledge(member.id, by)  # its own alerts: PagerDuty is told too
            else:
                self.store.update(MENTIONS, member.id, updates)
            posts += 1
        current = self.store.get(INCIDENTS, incident_id)
        if changed and current is not None and by != "pagerduty":  # acknowledged in PagerDuty: it knows
            raised = set(((current.data.get("alerts") or {}).get("opened") or {}).get("sinks_sent") or [])
            if "pagerduty" in raised and "pagerduty" in self.sinks:
                self._send_once(incident_id, current.data, "acknowledged", IncidentEvent.ACKNOWLEDGED, now,
                                only=("pagerduty",))
        log.info("incident acknowledged", incident_id=incident_id, posts=posts)
        return {"outcome": "acknowledged" if changed else "already_acknowledged", "posts": posts}

    def reply_all(self, incident_id: str, by: str, holding: Any) -> dict[str, Any]:
        """The policy's ``outage.incident_reply`` to every open public post of the incident, each once,
        as a holding reply (it counts as that post's first response; ``deadline`` sends it)."""
        from hilft.core.errors import HilftError, MalformedPayload

        text = self.policy.outage.incident_reply
        if not text:
            raise MalformedPayload("the policy sets no outage.incident_reply")
        outcomes: dict[str, int] = {}
        for member in self.queries.incident_members(incident_id):
            post = MentionDoc.from_snapshot(member)
            if not post.unanswered or post.kind == Kind.DM:
                continue
            try:
                outcome = holding.request(member.id, text=text, requested_by=by).outcome
            except HilftError as exc:  # e.g. the post was deleted meanwhile
                outcome = type(exc).__name__
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        log.info("incident reply requested", incident_id=incident_id, posts=sum(outcomes.values()))
        return {"replies": outcomes}

    def open_incidents(self) -> list[dict[str, Any]]:
        """Open and acknowledged incidents for the board: id, headline, status, count, first/last seen."""
        now = self.clock()
        out = []
        for snap in self.queries.open_incidents():
            data = snap.data
            out.append({"incident_id": snap.id, "headline": self.headline(data, now),
                        "status": data.get("status"), "count": int(data.get("count") or 0),
                        "key": data.get("key"), "first_seen": data.get("first_seen"),
                        "last_seen": data.get("last_seen")})
        return out

    # -- entry points (wired in app.py) ----------------------------------------------------------------
    def run_task(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``deadline`` tasks of kind ``outage_eval`` (one slot's evaluation) and ``incident_fold``."""
        if payload.get("kind") == "incident_fold":
            return self.fold_followup(str(payload.get("doc_id")), int(payload.get("level") or 0))
        through = payload.get("through_slot")
        return self.evaluate(int(through) if isinstance(through, int) else None)

    def sweep(self) -> dict[str, int]:
        """The minute sweep: evaluate up to now (resolves quiet incidents when no posts come)."""
        try:
            result = self.evaluate()
        except TransientError:
            log.warning("sweep: outage evaluation will run again")
            return {"incidents_errors": 1}
        return {f"incidents_{k}": v for k, v in result.items() if isinstance(v, int) and k != "through_slot"}
