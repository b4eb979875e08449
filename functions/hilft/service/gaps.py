"""Noticing that a platform stopped delivering, and what to run to get the lost events back.

X retries a failed webhook delivery only briefly (the Account Activity API: three retries within
about five minutes), so when ``x_webhook`` is down for longer its events are lost until someone
replays them (``make replay FROM=… TO=…``, X's Account Activity replay API, up to five days back).
This module makes sure someone knows:

* **The mark.** ``x_webhook`` records when it last received a signed delivery, in one document per
  platform (``delivery_marks/<platform>``). No write hotspot: an instance writes at most once per
  ``MARK_EVERY`` (it remembers its own last write), and the write is a conditional update that does
  nothing when another instance wrote within the minute — at most about one write per minute in all.
  When the stored time is older than ``RESUMED_AFTER`` the write also keeps the silence it ends
  (``gap_from`` … ``gap_to``): the first delivery after a gap is always written, since no instance
  wrote during the gap.
* **The check.** The sweep (every minute) reads that one document. Silence counts only while
  traffic is expected — the team's opening hours of the policy's ``[promise]`` calendar (24/7 by
  default) — and raises the alert once it reaches ``GAP_THRESHOLD`` of such time: one ERROR line
  (``x deliveries gap: no events since …; run make replay FROM=… TO=…``, which the log-based
  alert of ``infra/monitoring.tf`` picks up) and one ``operator_alerts`` document of kind
  ``delivery_gap`` that the board shows. When deliveries resume the same document gets the end of
  the window (``replay_to``), so the command to run is exact; a gap that began and ended between
  two sweeps is reported the same way.
* **The end.** When X reports a finished replay job (``replay_job_status``, delivered to the
  webhook itself) the gaps that have an end are marked resolved; an ongoing gap stays on the board.

Replayed events reach ``x_webhook`` like live ones and pass the same exactly-once gate (``create()``
of the post's document), so replaying a window that was partly delivered stores nothing twice.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hilft.core import jsonbody
from hilft.core.business_time import BusinessCalendar
from hilft.core.errors import MalformedPayload
from hilft.logs import get_logger
from hilft.service.ports import DELIVERY_MARKS, OPERATOR_ALERTS, Clock, Store

log = get_logger("hilft.gaps")

GAP_KIND = "delivery_gap"

MARK_EVERY = timedelta(minutes=1)  # at most one mark write per instance (and, conditionally, in all) per minute
RESUMED_AFTER = timedelta(minutes=5)  # a silence this long before a delivery is kept as a possible gap
GAP_THRESHOLD = timedelta(hours=1)  # open time without deliveries that raises the alert
REPLAY_REACH = timedelta(days=5)  # how far back X's replay API reaches

# What an operator can do about a gap, per platform (X: replay; Meta retries by itself).
RECOVERY = {
    "x": "run make replay FROM={start} TO={end}",
}


# -- pure parts -----------------------------------------------------------------------------------


def minute_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def minute_ceil(at: datetime) -> datetime:
    floor = minute_floor(at)
    return floor if floor == at.astimezone(UTC) else floor + timedelta(minutes=1)


def replay_arg(at: datetime) -> str:
    """The form ``make replay`` takes: ``2026-11-29T10:00Z`` (UTC, minutes)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Gap:
    """A silence of ``platform``: from its newest delivery ``since`` to ``until`` (None: still silent)."""

    platform: str
    since: datetime
    until: datetime | None
    open_time: timedelta

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The replay window: whole minutes around the silence (the end is ``now`` while it lasts)."""
        return minute_floor(self.since), minute_ceil(self.until or now)

    def recovery(self, now: datetime) -> str:
        start, end = self.window(now)
        template = RECOVERY.get(self.platform, "check the {platform} webhook's subscription")
        return template.format(start=replay_arg(start), end=replay_arg(end), platform=self.platform)

    def alert_id(self) -> str:
        """One operator alert per platform and silence (the same id as ``ingest.operator_alert_id``'s form)."""
        key = "\x1f".join(("operator", self.platform, GAP_KIND, self.since.astimezone(UTC).isoformat()))
        return hashlib.sha256(key.encode()).hexdigest()[:40]


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def open_time(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """How much of ``start`` … ``end`` lay in the team's opening hours (when traffic is expected)."""
    return timedelta(seconds=max(0.0, calendar.business_seconds_between(start, end)))


def gaps_in(mark: Mapping[str, Any], now: datetime, calendar: BusinessCalendar,
            threshold: timedelta = GAP_THRESHOLD, *, platform: str = "x") -> list[Gap]:
    """The silences in a mark that deserve an alert: the ongoing one and the last one that ended.

    Only open time counts (a quiet night of a team open 8-20 is no gap); a silence reaches the
    alert at ``threshold`` of it.
    """
    found: list[Gap] = []
    last = _aware(mark.get("last_at"))
    if last is not None:
        quiet = open_time(calendar, last, now)
        if quiet >= threshold:
            found.append(Gap(platform, last, None, quiet))
    start, end = _aware(mark.get("gap_from")), _aware(mark.get("gap_to"))
    if start is not None and end is not None and end > start:
        quiet = open_time(calendar, start, end)
        if quiet >= threshold:
            found.append(Gap(platform, start, end, quiet))
    return found


def mark_update(stored: Mapping[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """What one delivery at ``now`` writes to the mark (None: another write within the minute suffices)."""
    last = _aware((stored or {}).get("last_at"))
    if last is not None and now - last < MARK_EVERY:
        return None
    updates: dict[str, Any] = {"last_at": now}
    if last is not None and now - last >= RESUMED_AFTER:
        updates.update({"gap_from": last, "gap_to": now})
    return updates


def replay_job_status(body: bytes) -> dict[str, str] | None:
    """X's note that a replay job ended (``{"replay_job_status": {"job_id", "job_state", ...}}``), else None.

    Read with the webhook's hardened loader: a signed body nested too deep for ``json`` is not a
    replay note (the event parser then answers it 400), never a 500."""
    try:
        document = jsonbody.loads(body)
    except MalformedPayload:
        return None
    if not isinstance(document, dict) or set(document) != {"replay_job_status"}:
        return None
    status = document["replay_job_status"]
    if not isinstance(status, dict):
        return None
    return {key: str(status[key])[:200] for key in ("webhook_id", "job_id", "job_state", "job_state_description")
            if isinstance(status.get(key), (str, int))}


# -- the service ----------------------------------------------------------------------------------


class DeliveryMarks:
    """``x_webhook``'s side: note a signed delivery, at most one write per ``MARK_EVERY`` per instance."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._written: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def note(self, platform: str) -> bool:
        """True when this call wrote the mark. Never raises: a lost mark only delays the gap check."""
        now = self.clock()
        with self._lock:
            previous = self._written.get(platform)
            if previous is not None and now - previous < MARK_EVERY:
                return False
            self._written[platform] = now
        try:
            wrote: list[bool] = []
            stored: list[datetime] = []

            def decide(snap: Any) -> dict[str, Any] | None:
                wrote.clear()
                stored.clear()
                updates = mark_update(snap.data if snap else None, now)
                if updates is not None:
                    wrote.append(True)
                elif last := _aware(snap.data.get("last_at")):
                    stored.append(last)  # another instance wrote within the minute: count from its write
                return updates

            if self.store.mutate(DELIVERY_MARKS, platform, decide) is None:
                wrote[:] = [self.store.create(DELIVERY_MARKS, platform, {"platform": platform, "last_at": now})]
            if stored:
                with self._lock:
                    self._written[platform] = stored[0]
            return bool(wrote and wrote[0])
        except Exception as exc:  # noqa: BLE001 - the delivery itself was stored; the mark is best effort
            log.warning("delivery mark not written", platform=platform, error=type(exc).__name__)
            with self._lock:
                self._written.pop(platform, None)
            return False


class GapService:
    """The sweep's side: one read per platform and run; an alert per silence, raised once."""

    def __init__(self, *, store: Store, clock: Clock, calendar: BusinessCalendar, retention_days: int = 30,
                 threshold: timedelta = GAP_THRESHOLD, platforms: tuple[str, ...] = ("x",),
                 open_alerts: Callable[[], list[Any]] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.calendar = calendar
        self.retention_days = retention_days
        self.threshold = threshold
        self.platforms = platforms
        self.open_alerts = open_alerts

    def check(self) -> dict[str, int]:
        now = self.clock()
        raised = 0
        for platform in self.platforms:
            snap = self.store.get(DELIVERY_MARKS, platform)
            if snap is None:
                continue  # nothing ever arrived: not configured yet, nothing to compare with
            for gap in gaps_in(snap.data, now, self.calendar, self.threshold, platform=platform):
                raised += self._report(gap, snap.data, now)
        return {"delivery_gaps": raised}

    def _report(self, gap: Gap, mark: Mapping[str, Any], now: datetime) -> int:
        seen_key = "reported_open" if gap.until is None else "reported_closed"
        since = gap.since.astimezone(UTC).isoformat()
        if mark.get(seen_key) == since:
            return 0  # already reported: the sweep stays one read per run
        start, end = gap.window(now)
        command = gap.recovery(now)
        alert_id = gap.alert_id()
        created = self.store.create(OPERATOR_ALERTS, alert_id, {
            "kind": GAP_KIND, "platform": gap.platform, "account_id": None, "since": gap.since,
            "until": gap.until, "replay_from": replay_arg(start), "replay_to": replay_arg(end), "recovery": command,
            "open_minutes": int(gap.open_time.total_seconds() // 60), "received_at": now, "resolved": False,
            "expire_at": now + timedelta(days=self.retention_days)})
        if created:
            log.error(f"{gap.platform} deliveries gap: no events since {replay_arg(gap.since)}; {command}",
                      platform=gap.platform, alert_id=alert_id, since=gap.since.isoformat(),
                      until=gap.until.isoformat() if gap.until else None, replay_from=replay_arg(start),
                      replay_to=replay_arg(end), beyond_replay=now - gap.since > REPLAY_REACH)
        elif gap.until is not None:
            self.store.update(OPERATOR_ALERTS, alert_id, {"until": gap.until, "replay_to": replay_arg(end),
                                                          "recovery": command})
            log.warning(f"{gap.platform} deliveries resumed after a gap; {command}", platform=gap.platform,
                        alert_id=alert_id, replay_from=replay_arg(start), replay_to=replay_arg(end))
        self.store.update(DELIVERY_MARKS, gap.platform, {seen_key: since})
        return 1 if created else 0

    def replay_finished(self, status: Mapping[str, str], platform: str = "x") -> int:
        """X finished a replay job: resolve the platform's gaps that have an end (ongoing ones stay)."""
        log.info("replay job finished", platform=platform, job_id=status.get("job_id"),
                 job_state=status.get("job_state"), description=status.get("job_state_description"))
        if str(status.get("job_state", "")).lower() != "complete" or self.open_alerts is None:
            return 0
        now = self.clock()
        resolved = 0
        for snap in self.open_alerts():
            data = snap.data
            if data.get("kind") == GAP_KIND and data.get("platform") == platform and data.get("until") is not None:
                self.store.update(OPERATOR_ALERTS, snap.id, {"resolved": True, "resolved_at": now,
                                                             "resolved_by": f"replay job {status.get('job_id')}"})
                resolved += 1
        return resolved
