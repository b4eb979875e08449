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
(``core.outage.signal_of``), counts them per key and the slot they were written in (``created_at``;
a post that arrived more than a window after it was written — a replayed backlog — is not counted),
runs ``core.outage.advance`` and writes the detector's state back to one document
(``outage_state/detector``) with one conditional write.

**No document is written more than once per second**, whatever the traffic: an evaluation takes
its lease in a document of its own (``outage_state/lease``, one write; given back by the state
write, which records ``lease_done``), writes the state once, each incident it changes once (an
incident is created with its final content, the opening message already sent), each key's
pointer once and each post once; and an evaluation that comes within ``WRITE_GAP`` of the last
one's writes (a slot's task meeting the sweep) leaves its slots to the next trigger. At 10,000
posts/min that is ~3,300 reads per evaluation and no extra write per post; only posts that belong
to an open incident get one more write each (``incident_id``, seconds after their creation).

The state holds no post ids (a broad storm would outgrow Firestore's 1 MiB): when an incident
opens, the key's earlier posts of the window are read again (one range read per evaluation,
``received_at``) and marked. The state itself is bounded by ``DetectorParams.max_keys``.

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
exactly one wins), schedules the follow-up, then sends one message per sink with the count and
the oldest due time (who got it: ``…-first``). The follow-up ``fold_window`` later sends that first
message to any sink that missed it (a failed sink is not lost when the claiming post is answered
before its retry) and the final count to the others if it grew (``…-followup``). So 300 posts due
in the same second are at most two messages per sink per level, not 300, and each of these
documents is written once during the storm. A storm paged after its incident resolved opens a new PagerDuty
incident on the same key; ``settle_storm`` resolves it (checked every ``SETTLE_EVERY``, reading only
unanswered members until the first pending one) once none of those posts is still unanswered and
unacknowledged. It marks the level's claim settled first: a post coming due later no longer folds
into that resolved page but alerts on its own. Posts outside any incident
keep their own alerts. The deadline service asks through its ``AlertFolder`` hook
(``IncidentService.fold_alert``, wired in app.py); it knows nothing of incidents.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from hilft.core import document, outage
from hilft.core.alerts import Alert, AlertAction
from hilft.core.document import MentionDoc
from hilft.core.errors import TransientError, TransientSinkError
from hilft.core.incident_alerts import IncidentAlert, IncidentEvent
from hilft.core.models import Kind, Status
from hilft.core.outage import ACTIVE_STATUSES, DetectorState, IncidentStatus, Signal, Verdict
from hilft.core.policy import Policy
from hilft.logs import get_logger
from hilft.service.ports import (
    INCIDENT_ALERTS,
    INCIDENTS,
    INCIDENTS_OPEN,
    MENTIONS,
    OUTAGE_STATE,
    Clock,
    IncidentSink,
    Scheduler,
    Snapshot,
    Store,
)

log = get_logger("hilft.incidents")

STATE_DOC = "detector"
LEASE_DOC = "lease"  # the evaluation's lease, apart from the state so that each is written once per evaluation
WRITE_GAP = timedelta(seconds=1)  # no document is written twice within this (Firestore's sustained rate)
EVALUATION_GRACE = timedelta(seconds=5)  # a slot is evaluated this long after it ends (late deliveries)
CATCH_UP_SLOTS = 180  # after a gap, read at most this many slots of posts (an hour of 20 s slots)
MARK_IN_SERIES = 20  # more members than this are marked by MARK_WORKERS threads
MARK_WORKERS = 8
LEASE = timedelta(seconds=60)  # an evaluation longer than this loses the state document to the next one
SETTLE_EVERY = timedelta(minutes=5)  # how often a storm page after the resolve checks whether it can resolve
FOLD_MEMORY = timedelta(days=4)  # members of an incident resolved this long ago still fold (promises run)
ACTIVITY_CACHE = timedelta(seconds=10)


class IncidentQueries(Protocol):
    def received_between(self, after: datetime, through: datetime, limit: int = 2000) -> list[Snapshot]: ...
    def incident_members(self, incident_id: str) -> list[Snapshot]: ...  # all of them (paged by the adapter)
    # Unanswered members due by ``due_by`` (any due time: None), earliest due first, read a page at a
    # time as the caller iterates (it stops at the first it needs).
    def unanswered_members(self, incident_id: str, due_by: datetime | None) -> Iterator[Snapshot]: ...
    def open_incidents(self, limit: int = 50) -> list[Snapshot]: ...


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


@dataclass
class _Plan:
    """What one evaluation does to one incident: its verdicts, folded into one write."""

    key: str
    opened: Verdict | None = None
    grows: list[tuple[int, int]] = field(default_factory=list)  # (slot, new posts)
    resolved: Verdict | None = None


@dataclass
class _Run:
    """One evaluation's shared pieces: its posts by key, the posts to mark and the pointers to set
    (each written once, at the end), and the window's earlier posts once read."""

    first: int
    by_key: dict[str, list[_Seen]]
    marks: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # doc id -> (incident, key, label)
    pointers: dict[str, str | None] = field(default_factory=dict)  # key -> its open incident (None: none)
    earlier: tuple[int, list[_Seen]] | None = None  # (from slot, posts)


def _record(previous: Mapping[str, Any], sent: Iterable[str], failed: Iterable[str], now: datetime) -> dict[str, Any]:
    """Who got one incident message: ``sinks_sent`` grows, ``sinks_failed`` are retried."""
    done = set(previous.get("sinks_sent") or []) | set(sent)
    return {"sinks_sent": sorted(done), "sinks_failed": sorted(set(failed) - done), "at": now}


def eval_task_doc_id(slot: int) -> str:
    """40 hex characters naming one slot's evaluation (``deadline`` accepts only such ids)."""
    return hashlib.sha256(f"outage-eval\x1f{slot}".encode()).hexdigest()[:40]


class IncidentService:
    def __init__(self, *, store: Store, queries: IncidentQueries, scheduler: Scheduler, policy: Policy,
                 clock: Clock, sinks: Mapping[str, IncidentSink], board_url: str | None = None,
                 grace: timedelta = EVALUATION_GRACE, retention_days: int = 90) -> None:
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
        """Count the posts since the last evaluation, run the detector, act on its verdicts.

        Writes each document it touches at most once (the lease, the state, each incident, each
        key's pointer, each post), and never within ``WRITE_GAP`` of the last evaluation's writes:
        an evaluation that comes sooner (a slot's task meeting the sweep) leaves it to the next."""
        if not self.enabled:
            return {"outcome": "disabled"}
        now = self.clock()
        seconds = self.params.slot_seconds
        latest = outage.slot_of(now - self.grace, seconds) - 1  # the last slot that ended `grace` ago
        through = latest if through_slot is None else min(int(through_slot), latest)
        snap = self.store.get(OUTAGE_STATE, STATE_DOC)  # a plain read first: most calls find it done
        stored = snap.data if snap else {}
        done = (stored.get("state") or {}).get("last_slot")
        if isinstance(done, int) and done >= through:
            return {"outcome": "up_to_date", "through_slot": done}
        saved_at = stored.get("updated_at")
        if isinstance(saved_at, datetime) and now - saved_at < WRITE_GAP:
            return {"outcome": "busy"}  # saved within the second: the next trigger covers these slots
        token = self._lease(now, stored.get("lease_done"))
        if token is None:
            return {"outcome": "busy"}  # another evaluation holds the lease; it covers these slots
        state = DetectorState.from_dict(stored.get("state"))
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

        by_key: dict[str, list[_Seen]] = {}
        for item in seen:
            for key in item.signal.keys:
                by_key.setdefault(key, []).append(item)
        outcome: dict[str, Any] = {"outcome": "evaluated", "through_slot": through, "posts": len(seen),
                                   "opened": 0, "grown": 0, "resolved": 0}
        plans: dict[str, _Plan] = {}
        for verdict in verdicts:
            plan = plans.setdefault(verdict.incident, _Plan(verdict.key))
            if verdict.action == "open":
                plan.opened = verdict
                outcome["opened"] += 1
            elif verdict.action == "grow":
                plan.grows.append((verdict.slot, verdict.count))
                outcome["grown"] += 1
            elif verdict.action == "resolve":
                plan.resolved = verdict
                outcome["resolved"] += 1
        # incidents without a verdict this time: a sink that missed the opening, an update when doubled
        for key, key_state in state.keys.items():
            if key_state.incident is not None and key_state.incident not in plans:
                plans[key_state.incident] = _Plan(key)

        run = _Run(first=first, by_key=by_key)
        for incident_id, plan in plans.items():
            if plan.opened is not None:
                self._open(incident_id, plan, run, now)
            else:
                self._update(incident_id, plan, by_key.get(plan.key, []), now)
            if plan.resolved is not None:
                run.pointers[plan.key] = None
        self._mark_members(state, run)
        for key, pointed in run.pointers.items():
            self.store.set(INCIDENTS_OPEN, outage.key_id(key),
                           {"incident_id": pointed, "key": key, "since": now if pointed else None})
        self._mark_many([(doc_id, *mark) for doc_id, mark in run.marks.items()])
        self._save_state(snap, stored, state, token, now)
        if verdicts:
            log.info("outage evaluation", **{k: v for k, v in outcome.items() if k != "outcome"})
        return outcome

    def _signals(self, snaps: Iterable[Snapshot], first: int, through: int) -> list[_Seen]:
        """The posts' signals, each in the slot it was written (``created_at``; the range read is by
        ``received_at``). A post that reached hilft more than the detector's window after it was
        written (X's replay of a gap, a poller catching up) is no signal: a burst of yesterday's
        posts arriving together is no outage now."""
        seconds = self.params.slot_seconds
        window = timedelta(seconds=seconds * self.params.window_slots)
        seen: list[_Seen] = []
        for snap in snaps:
            data = snap.data
            received = data.get("received_at")
            # Thousands of posts per evaluation: read as stored (no model per post on this path).
            if not isinstance(received, datetime) or data.get("stub") or data.get("status") == Status.DELETED:
                continue
            created = data.get("created_at")
            written = min(created, received) if isinstance(created, datetime) else received
            if received - written > window:
                continue  # a replayed or caught-up backlog: news of the past, not of an outage now
            # Counted when it was written (a post delivered late still counts with its neighbours);
            # slots before ``first`` are evaluated already, so a late one counts in the first open slot.
            slot = max(first, outage.slot_of(written, seconds))
            if slot > through:
                continue
            signal = outage.signal_of(str(data.get("text") or ""), self.topics, self.words)
            if signal is None:
                continue
            seen.append(_Seen(snap.id, slot, received, str(data.get("text") or ""), str(data.get("post_id") or ""),
                              str(data.get("platform") or ""), signal, data.get("incident_id")))
        return seen

    def _earlier(self, run: _Run, key: str, window_first: int) -> list[_Seen]:
        """The key's posts of the window that came before this evaluation's range — read again when
        its incident opens (not kept in the state: a broad storm would make the state too large).
        One range read per evaluation, shared by every incident it opens."""
        if window_first >= run.first:
            return []
        if run.earlier is None or run.earlier[0] > window_first:
            seconds = self.params.slot_seconds
            after = outage.slot_start(window_first, seconds) - timedelta(milliseconds=1)
            through = outage.slot_start(run.first, seconds) - timedelta(milliseconds=1)
            run.earlier = (window_first, self._signals(self.queries.received_between(after, through),
                                                       window_first, run.first - 1))
        return [item for item in run.earlier[1] if item.slot >= window_first and key in item.signal.keys]

    def _lease(self, now: datetime, released: Any) -> str | None:
        """One evaluation at a time (the sweep and a slot's task may meet): a lease in a document of its
        own, taken with a precondition — free when it expired or when the state document says its
        holder saved (``lease_done``), so giving it back costs no second write. None while another
        evaluation holds it, or when it was taken within ``WRITE_GAP``."""
        token = uuid.uuid4().hex
        lease = {"token": token, "until": now + LEASE, "taken_at": now}
        taken: list[bool] = []

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            taken.clear()
            data = current.data if current else {}
            until, at = data.get("until"), data.get("taken_at")
            if isinstance(at, datetime) and now - at < WRITE_GAP:
                return None
            if isinstance(until, datetime) and until > now and data.get("token") != released:
                return None
            taken.append(True)
            return lease

        snap = self.store.mutate(OUTAGE_STATE, LEASE_DOC, decide)
        if snap is None:  # the first evaluation ever creates the lease document
            return token if taken and self.store.create(OUTAGE_STATE, LEASE_DOC, lease) else None
        return token if taken else None

    def _save_state(self, snap: Snapshot | None, stored: Mapping[str, Any], state: DetectorState, token: str,
                    now: datetime) -> None:
        """Write the state back in one conditional write — only if the document is still what this
        evaluation read (else another evaluation took over after the lease expired: its state wins;
        the verdicts acted on here were idempotent). ``lease_done`` gives the lease back."""
        active = any(key_state.incident for key_state in state.keys.values())
        # Stamped when saved, not when the evaluation began: after slow sinks the next evaluation's
        # WRITE_GAP counts from this evaluation's last writes (its incidents, pointers, posts, state).
        document: dict[str, Any] = {"state": state.as_dict(), "updated_at": self.clock(), "lease_done": token,
                                    "last_incident_at": now if active else stored.get("last_incident_at")}
        if snap is None:
            if not self.store.create(OUTAGE_STATE, STATE_DOC, document):
                log.warning("outage evaluation lost the state document to another; its state is not saved")
            return
        if "recent" in stored:  # written by earlier versions: post ids are no longer kept here
            document["recent"] = None

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            if current is None or current.update_time != snap.update_time:
                log.warning("outage evaluation lost the state document to another; its state is not saved")
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

    @staticmethod
    def _label(signal: Signal, key: str) -> tuple[str, str]:
        """Topic label and place label of ``key`` (the nationwide key names no place)."""
        return signal.topic_label, signal.place_label if key == signal.key else ""

    def _open(self, incident_id: str, plan: _Plan, run: _Run, now: datetime) -> None:
        """A new incident, created with its final content in one write: the opening message goes to
        the sinks first and the document records who got it (a sink that failed is retried by the
        next evaluations). Its posts of the window, also those before this evaluation, become members."""
        verdict = plan.opened
        assert verdict is not None
        key = plan.key
        window_first = verdict.slot - self.params.window_slots + 1
        items = run.by_key.get(key, [])
        members = self._earlier(run, key, window_first) + items
        topic, place = key.split("|", 1)
        if members:
            topic_label, place_label = self._label(members[0].signal, key)
        else:
            topic_label, place_label = f"Störung {topic}", ""
        label = f"{topic_label}, {place_label or 'bundesweit'}"
        for item in members:
            if item.marked is None and item.doc_id not in run.marks:
                run.marks[item.doc_id] = (incident_id, key, label)
                item.marked = incident_id
        if plan.resolved is None:
            run.pointers[key] = incident_id
        if self.store.get(INCIDENTS, incident_id) is not None:  # opened by an evaluation whose state was lost
            self._update(incident_id, plan, items, now)
            return
        window_start = outage.slot_start(window_first, self.params.slot_seconds)
        count = verdict.count + sum(n for _, n in plan.grows)
        doc: dict[str, Any] = {
            "key": key, "topic": topic, "topic_label": topic_label, "place": place,
            "place_label": place_label, "status": IncidentStatus.OPEN, "opened_at": now,
            "first_seen": min((i.received_at for i in members), default=window_start),
            "last_seen": max((i.received_at for i in members), default=now), "count": count,
            "expected": round(verdict.expected, 3), "opened_slot": verdict.slot,
            "applied_slot": max([verdict.slot, *(s for s, _ in plan.grows)]),
            "samples": self._samples(members, self.policy.outage.sample_posts), "alerts": {},
            "alerted_count": 0, "alerted_at": None,
            "expire_at": now + timedelta(days=self.retention_days),
        }
        sent, failed = self._deliver(self._alert(incident_id, doc, IncidentEvent.OPENED, now, sequence=count),
                                     sorted(self.sinks))
        doc["alerts"]["opened"] = _record({}, sent, failed, now)
        if sent:
            doc["alerted_count"], doc["alerted_at"] = count, now
        if plan.resolved is not None:  # opened and quiet again within one (catch-up) evaluation
            doc.update(status=IncidentStatus.RESOLVED, resolved_at=now)
            if sent:
                done, missed = self._deliver(self._alert(incident_id, doc, IncidentEvent.RESOLVED, now), sent)
                doc["alerts"]["resolved"] = _record({}, done, missed, now)
        if self.store.create(INCIDENTS, incident_id, doc):
            log.info("incident opened", incident_id=incident_id, key=key, count=count)

    def _update(self, incident_id: str, plan: _Plan, items: list[_Seen], now: datetime) -> None:
        """Everything an evaluation changes on an existing incident, in one write: new posts, the
        resolve, the messages sent (resolved; grew when it doubled; opened to a sink that missed it)."""
        snap = self.store.get(INCIDENTS, incident_id)
        if snap is None:
            return
        data = snap.data
        applied = int(data.get("applied_slot") or 0)
        new_posts = sum(n for slot, n in plan.grows if slot > applied)
        view = {**data, "count": int(data.get("count") or 0) + new_posts}
        status = data.get("status")
        alerts = data.get("alerts") or {}
        sends: list[tuple[str, IncidentEvent, list[str]]] = []
        opened = alerts.get("opened") or {}
        retry = sorted(n for n in set(opened.get("sinks_failed") or []) - set(opened.get("sinks_sent") or [])
                       if n in self.sinks)
        if retry and status == IncidentStatus.OPEN and plan.resolved is None:
            sends.append(("opened", IncidentEvent.OPENED, retry))
        if plan.resolved is not None and status != IncidentStatus.RESOLVED:
            raised = set(opened.get("sinks_sent") or [])
            already = set((alerts.get("resolved") or {}).get("sinks_sent") or [])
            sends.append(("resolved", IncidentEvent.RESOLVED, sorted(n for n in raised - already if n in self.sinks)))
        elif status == IncidentStatus.OPEN:
            alerted, at = int(data.get("alerted_count") or 0), data.get("alerted_at")
            count = int(view["count"])
            if alerted and count >= 2 * alerted and (
                    not isinstance(at, datetime) or now - at >= self.policy.outage.update_every):
                sends.append((f"grew_{count}", IncidentEvent.GREW, sorted(self.sinks)))
        results: dict[str, tuple[list[str], list[str]]] = {}
        for name, event, names in sends:
            if names:
                results[name] = self._deliver(self._alert(incident_id, view, event, now,
                                                          sequence=int(view["count"])), names)
        if not (new_posts or plan.resolved is not None or results):
            return
        last_grow = max((slot for slot, _ in plan.grows), default=0)
        limit = self.policy.outage.sample_posts

        def decide(current: Snapshot | None) -> dict[str, Any] | None:
            if current is None:
                return None
            cur = current.data
            updates: dict[str, Any] = {}
            fresh = sum(n for slot, n in plan.grows if slot > int(cur.get("applied_slot") or 0))
            if fresh:
                samples = list(cur.get("samples") or [])
                known = {s.get("doc_id") for s in samples}
                samples += self._samples((i for i in items if i.doc_id not in known), max(0, limit - len(samples)))
                updates.update(count=int(cur.get("count") or 0) + fresh, applied_slot=last_grow, samples=samples,
                               last_seen=max((i.received_at for i in items), default=now))
            if plan.resolved is not None and cur.get("status") != IncidentStatus.RESOLVED:
                updates.update(status=IncidentStatus.RESOLVED, resolved_at=now)
            for name, (sent, failed) in results.items():
                updates[f"alerts.{name}"] = _record((cur.get("alerts") or {}).get(name) or {}, sent, failed, now)
                if name != "resolved" and sent:
                    updates.update(alerted_count=int(view["count"]), alerted_at=now)
            return updates or None

        self.store.mutate(INCIDENTS, incident_id, decide)
        if plan.resolved is not None and status != IncidentStatus.RESOLVED:
            log.info("incident resolved", incident_id=incident_id, key=plan.key)

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

    def _mark_members(self, state: DetectorState, run: _Run) -> None:
        """Posts counted in this evaluation whose key has an open incident belong to it (set once)."""
        for key, items in run.by_key.items():
            key_state = state.keys.get(key)
            if key_state is None or key_state.incident is None:
                continue
            topic_label, place_label = self._label(items[0].signal, key)
            label = f"{topic_label}, {place_label or 'bundesweit'}"
            for item in items:
                if item.marked is None and item.doc_id not in run.marks:
                    item.marked = key_state.incident
                    run.marks[item.doc_id] = (key_state.incident, key, label)

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
                   now: datetime, only: Sequence[str]) -> None:
        """Send one incident message to the sinks in ``only`` that have not had it (recorded per sink)."""
        record = (data.get("alerts") or {}).get(name) or {}
        already = set(record.get("sinks_sent") or [])
        names = sorted(n for n in only if n in self.sinks and n not in already)
        if not names:
            return
        sent, failed = self._deliver(self._alert(incident_id, data, event, now,
                                                 sequence=int(data.get("count") or 0)), names)
        self.store.update(INCIDENTS, incident_id, {f"alerts.{name}": _record(record, sent, failed, now)})
        if failed:
            raise TransientSinkError(f"{len(failed)} incident sink(s) unavailable")

    # -- storm folding (called for a post's warning/overdue alert) ----------------------------------
    def open_incident_of(self, post: MentionDoc) -> str | None:
        """The incident a post belongs to: the one an evaluation marked it with (whatever its status:
        the outage may be over, the posts' promises still run and still come due together), else its
        key's open incident."""
        marked = post.incident_id
        if marked is not None and self.store.get(INCIDENTS, marked) is not None:
            return marked
        candidates: list[str] = []
        if not candidates:
            signal = outage.signal_of(post.text, self.topics, self.words)
            for key in signal.keys if signal else ():
                pointer = self.store.get(INCIDENTS_OPEN, outage.key_id(key))
                if pointer is not None and isinstance(pointer.data.get("incident_id"), str):
                    candidates.append(pointer.data["incident_id"])
                    break
        for incident_id in candidates:
            snap = self.store.get(INCIDENTS, incident_id)
            if snap is not None and snap.data.get("status") in ACTIVE_STATUSES:
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

    def fold_alert(self, alert: Alert, post: MentionDoc) -> bool:
        """``DeadlineService``'s ``AlertFolder`` hook (wired in app.py as its ``folder``): a post's
        warning/overdue alert goes into its incident's alert when the post belongs to one. Posts
        naming no outage cost no read (``may_fold``)."""
        if alert.action is not AlertAction.TRIGGER or not self.may_fold(alert.excerpt):
            return False
        return self.fold(alert.doc_id, post, alert.level)

    def fold(self, doc_id: str, post: MentionDoc, level: int) -> bool:
        """True when the post's alert at ``level`` went (or goes) into its incident's alert instead.

        The first post at a level claims ``incident_alerts/{incident}-{level}`` (``create()``: exactly
        one wins), schedules the follow-up *before* sending (so a sink that fails now is not lost
        when this post is answered before its retry), sends, and records who got the message in
        ``…-first`` — each document written once in the storm (the claim once more, later, when its
        storm page is settled: from then on the post is not folded, it alerts on its own)."""
        if not (self.enabled and self.policy.outage.fold_alerts) or not self.sinks:
            return False
        incident_id = self.open_incident_of(post)
        if incident_id is None:
            return False
        now = self.clock()
        if post.incident_id != incident_id:
            self.store.update(MENTIONS, doc_id, {"incident_id": incident_id})
        claim_id = f"{incident_id}-{level}"
        expire_at = now + timedelta(days=self.retention_days)
        if self.store.create(INCIDENT_ALERTS, claim_id, {"incident_id": incident_id, "level": level,
                                                          "creator": doc_id, "created_at": now,
                                                          "expire_at": expire_at}):
            sent_before: set[str] = set()
        else:
            claim = self.store.get(INCIDENT_ALERTS, claim_id)
            if claim is not None and claim.data.get("creator") != doc_id and claim.data.get("settled_at"):
                return False  # the level's storm page was resolved in PagerDuty: this post pages itself
            if claim is None or claim.data.get("creator") != doc_id:
                return True  # another post of the incident sends (or sent) the message
            first = self.store.get(INCIDENT_ALERTS, f"{claim_id}-first")  # the creator's retry
            sent_before = set(((first.data if first else None) or {}).get("sinks_sent") or [])
        missing = [n for n in self._storm_sinks(level) if n not in sent_before]
        if missing:
            self.scheduler.schedule(f"incident-fold-{claim_id}", now + self.policy.outage.fold_window,
                                    {"kind": "incident_fold", "doc_id": incident_id, "level": level}, now)
            self._storm_message(incident_id, claim_id, "first", level, missing, now, extra_member=(doc_id, post))
        return True

    def _storm_sinks(self, level: int) -> list[str]:
        return [n for n in self.policy.escalation.sinks_for(level) if n in self.sinks]

    def fold_followup(self, incident_id: str, level: int) -> dict[str, Any]:
        """``fold_window`` after the first message: the first message to every sink that missed it
        (it failed, and its post may have been answered since), then the final count to the others
        if it grew (one more message per sink). A sink still failing makes Cloud Tasks retry this."""
        claim_id = f"{incident_id}-{level}"
        if self.store.get(INCIDENT_ALERTS, claim_id) is None:
            return {"outcome": "missing"}
        now = self.clock()
        first_snap = self.store.get(INCIDENT_ALERTS, f"{claim_id}-first")
        first = first_snap.data if first_snap else {}
        done_snap = self.store.get(INCIDENT_ALERTS, f"{claim_id}-followup")
        done = set(((done_snap.data if done_snap else None) or {}).get("sinks_sent") or [])
        had_first = set(first.get("sinks_sent") or [])
        wanted = self._storm_sinks(level)
        missed = [n for n in wanted if n not in had_first]
        members = self._at_level(incident_id, level, now)
        grew = len(members) > int(first.get("count") or 0)
        followup = [n for n in wanted if n in had_first and n not in done] if grew else []
        outcome: dict[str, Any] = {"outcome": "nothing_new", "count": len(members)}
        failures = 0
        for which, names in (("first", missed), ("followup", followup)):
            if not names:
                continue
            try:
                self._storm_message(incident_id, claim_id, which, level, names, now)
            except TransientSinkError:
                failures += 1
            outcome["outcome"] = "sent"
            outcome[which] = names
        if failures:
            raise TransientSinkError("incident sink(s) unavailable for the folded alert")
        return outcome

    def _at_level(self, incident_id: str, level: int, now: datetime,
                  extra: tuple[str, MentionDoc] | None = None,
                  members: dict[str, MentionDoc] | None = None) -> dict[str, datetime]:
        """Members due (level 0: warned, 1…: that far overdue) and not answered: doc id → due time."""
        members = dict(self._members(incident_id) if members is None else members)
        if extra is not None and extra[0] not in members:
            members[extra[0]] = extra[1]
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
                       now: datetime, extra_member: tuple[str, MentionDoc] | None = None) -> None:
        """One folded message to ``names``; who got it is kept in ``incident_alerts/{claim}-{which}``."""
        incident = self.store.get(INCIDENTS, incident_id)
        data = incident.data if incident else {}
        members = self._at_level(incident_id, level, now, extra_member)
        oldest = min(members.values(), default=None)
        alert = self._alert(incident_id, data, IncidentEvent.STORM, now, level=level, overdue=len(members),
                            oldest_due=oldest, sequence=1 if which == "followup" else 0)
        sent, failed = self._deliver(alert, names)
        record_id = f"{claim_id}-{which}"
        fresh = {**_record({}, sent, failed, now), "count": len(members),
                 "expire_at": now + timedelta(days=self.retention_days)}
        if not self.store.create(INCIDENT_ALERTS, record_id, fresh):  # a retry: add to who got it
            self.store.mutate(INCIDENT_ALERTS, record_id, lambda current: {
                **_record(current.data if current else {}, sent, failed, now), "count": len(members)})
        log.info("overdue alerts folded into the incident", incident_id=incident_id, level=level,
                 posts=len(members), part=which)
        if "pagerduty" in sent and data.get("status") == IncidentStatus.RESOLVED:
            # The incident's resolve closed its PagerDuty incident; this trigger opens a new one on
            # the same key, which nothing else resolves: settle_storm does, once its posts are handled.
            self._schedule_settle(incident_id, level, 0, now)
        if failed:
            raise TransientSinkError(f"{len(failed)} incident sink(s) unavailable")

    def _schedule_settle(self, incident_id: str, level: int, round_: int, now: datetime) -> None:
        self.scheduler.schedule(f"incident-settle-{incident_id}-{level}-{round_}", now + SETTLE_EVERY,
                                {"kind": "incident_fold", "doc_id": incident_id, "level": level,
                                 "settle": round_}, now)

    def settle_storm(self, incident_id: str, level: int, round_: int) -> dict[str, Any]:
        """A storm page sent after its incident resolved: resolve it in PagerDuty once none of the
        incident's posts overdue at ``level`` is still unanswered and unacknowledged (checked every
        ``SETTLE_EVERY``, for at most ``FOLD_MEMORY``).

        Before resolving, the level's claim is marked ``settled_at``: from then on ``fold`` lets a post
        coming due alert on its own instead of folding into a page nobody will see again. A post that
        folded between the check and the mark is overdue by then, so a second check after the mark
        finds it and the page stays open (and settling goes on) until it is handled."""
        now = self.clock()
        snap = self.store.get(INCIDENTS, incident_id)
        if snap is None:
            return {"outcome": "missing"}
        claim_id = f"{incident_id}-{level}"
        pending = self._first_pending(incident_id, level, now)
        if pending is None:
            claim = self.store.get(INCIDENT_ALERTS, claim_id)
            if claim is not None and not claim.data.get("settled_at"):
                self.store.update(INCIDENT_ALERTS, claim_id, {"settled_at": now})
                pending = self._first_pending(incident_id, level, self.clock())
        if pending is not None:
            if (round_ + 1) * SETTLE_EVERY < FOLD_MEMORY:
                self._schedule_settle(incident_id, level, round_ + 1, now)
            return {"outcome": "pending"}
        name = f"storm_resolved_{level}_{round_}"
        self._send_once(incident_id, snap.data, name, IncidentEvent.RESOLVED, now, only=("pagerduty",))
        log.info("storm page resolved", incident_id=incident_id, level=level)
        return {"outcome": "resolved"}

    def _first_pending(self, incident_id: str, level: int, now: datetime) -> str | None:
        """The first member overdue at ``level``, unanswered and unacknowledged, or None. Reads only
        unanswered members (due early enough for the level), a page at a time, and stops at the first."""
        offset = self.policy.escalation.fire_offset(level) if level >= 1 else None
        if level >= 1 and offset is None:
            return None  # beyond the policy's levels: nothing is overdue at it
        due_by = now + timedelta(seconds=1) - offset if offset is not None else None
        for member in self.queries.unanswered_members(incident_id, due_by):
            post = MentionDoc.from_snapshot(member)
            if not post.acknowledged and self._at_level(incident_id, level, now, members={member.id: post}):
                return member.id
        return None

    def _members(self, incident_id: str) -> dict[str, MentionDoc]:
        return {s.id: MentionDoc.from_snapshot(s) for s in self.queries.incident_members(incident_id)}

    # -- staff ------------------------------------------------------------------------------------
    def acknowledge(self, incident_id: str, by: str | None, deadlines: Any = None) -> dict[str, Any]:
        """One action for the whole incident: it and every member post are acknowledged (no more
        re-alerts). The staff functions (``ack``, ``board``) hold no sink secrets, so what the sinks
        must hear goes by task to ``deadline``, as for a single post: one ``incident_acknowledged``
        task acknowledges the incident's own PagerDuty incident. Members that had alerts of their own
        before the incident opened are acknowledged through ``deadlines`` and their own PagerDuty
        incidents are acknowledged too — also when the incident was acknowledged in PagerDuty
        (``by == "pagerduty"``: PagerDuty knows about the incident's key, not about the members' own
        keys). Folded members had no alerts of their own."""
        from hilft.core import ids
        from hilft.core.errors import NotFound

        now = self.clock()
        changed: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            changed.clear()
            if snap is None or snap.data.get("status") != IncidentStatus.OPEN:
                return None
            changed["yes"] = True
            return {"status": IncidentStatus.ACKNOWLEDGED, "acknowledged_at": now, "acknowledged_by": by}

        snap = self.store.mutate(INCIDENTS, incident_id, decide)
        if snap is None:
            raise NotFound("no such incident")
        # Scheduled on every call, not only when the status flips: a retry after a failed schedule must
        # not lose PagerDuty's acknowledge (the task name dedupes). Acknowledged in PagerDuty: it knows.
        if (changed or snap.data.get("status") == IncidentStatus.ACKNOWLEDGED) and by != "pagerduty":
            self.scheduler.schedule(f"incident-ack-{incident_id}", now,
                                    {"kind": "incident_acknowledged", "doc_id": incident_id}, now)
        posts = 0
        for member in self.queries.incident_members(incident_id):
            post = MentionDoc.from_snapshot(member)
            updates = document.acknowledge(post, now, by) if post.unanswered else None
            if updates is None:
                continue
            if post.sinks_alerted() and deadlines is not None:
                deadlines.acknowledge(member.id, by)  # its own alerts: it tells PagerDuty by task …
                if by == "pagerduty" and post.alert_level and "pagerduty" in post.sinks_alerted():
                    # … except for a PagerDuty-side ack, which was about the incident's key, not this one
                    self.scheduler.schedule(ids.task_id(member.id, "acknowledged", post.alert_level, now), now,
                                            {"doc_id": member.id, "kind": "acknowledged"}, now)
            else:
                self.store.update(MENTIONS, member.id, updates)
            posts += 1
        log.info("incident acknowledged", incident_id=incident_id, posts=posts)
        return {"outcome": "acknowledged" if changed else "already_acknowledged", "posts": posts}

    def tell_acknowledged(self, incident_id: str) -> dict[str, Any]:
        """The ``incident_acknowledged`` task (run by ``deadline``, which holds the sink secrets):
        acknowledge the incident's own PagerDuty incident, once, if it was paged and is not resolved
        meanwhile. The other sinks keep no incident state to acknowledge (as for single posts)."""
        snap = self.store.get(INCIDENTS, incident_id)
        if snap is None or snap.data.get("status") != IncidentStatus.ACKNOWLEDGED:
            return {"outcome": "ignored"}
        raised = set(((snap.data.get("alerts") or {}).get("opened") or {}).get("sinks_sent") or [])
        if "pagerduty" not in raised:
            return {"outcome": "not_paged"}
        if "pagerduty" not in self.sinks:
            return {"outcome": "no_sink"}
        self._send_once(incident_id, snap.data, "acknowledged", IncidentEvent.ACKNOWLEDGED, self.clock(),
                        only=("pagerduty",))  # a failure raises: Cloud Tasks retries the task
        return {"outcome": "acknowledged", "sinks": ["pagerduty"]}

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
        """``deadline`` tasks of kind ``outage_eval`` (one slot's evaluation), ``incident_fold`` and
        ``incident_acknowledged``."""
        if payload.get("kind") == "incident_acknowledged":
            return self.tell_acknowledged(str(payload.get("doc_id")))
        if payload.get("kind") == "incident_fold" and isinstance(payload.get("settle"), int):
            return self.settle_storm(str(payload.get("doc_id")), int(payload.get("level") or 0),
                                     int(payload["settle"]))
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
