"""Gaps in X's deliveries (service/gaps.py): the cheap mark, the sweep's check, the alert raised once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hilft.core.business_time import BusinessCalendar
from hilft.service import gaps
from hilft.service.gaps import DeliveryMarks, GapService
from hilft.service.ports import DELIVERY_MARKS, OPERATOR_ALERTS
from tests.unit.memory import FakeClock, MemoryStore

BERLIN = ZoneInfo("Europe/Berlin")
ALWAYS = BusinessCalendar(BERLIN)
OFFICE = BusinessCalendar(BERLIN, {day: ((time(8), time(20)),) for day in range(5)})  # Mon-Fri 8-20


def at(hour: int, minute: int = 0, day: int = 30) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 2026-11-30 is a Monday


def alerts(store: MemoryStore) -> list[dict]:
    return list(store.data.get(OPERATOR_ALERTS, {}).values())


# -- the mark --------------------------------------------------------------------------------------


def test_the_mark_is_written_at_most_once_a_minute_per_instance_and_in_all() -> None:
    store, clock = MemoryStore(), FakeClock(at(9))
    one, two = DeliveryMarks(store, clock), DeliveryMarks(store, clock)

    assert one.note("x") is True
    writes = store.ops["writes"]
    for _ in range(50):
        clock.advance(seconds=1)
        assert one.note("x") is False  # its own memory: no read, no write
    assert store.ops["writes"] == writes
    clock.advance(seconds=5)
    assert two.note("x") is False  # another instance within the minute: reads, writes nothing
    assert store.ops["writes"] == writes
    clock.advance(seconds=10)
    assert two.note("x") is True
    assert store.data[DELIVERY_MARKS]["x"]["last_at"] == clock.now


def test_a_delivery_after_a_silence_keeps_the_silence() -> None:
    store, clock = MemoryStore(), FakeClock(at(9))
    marks = DeliveryMarks(store, clock)
    marks.note("x")
    clock.advance(minutes=3)
    marks.note("x")
    assert "gap_from" not in store.data[DELIVERY_MARKS]["x"]  # 3 minutes: within X's own retries
    clock.advance(hours=2)
    marks.note("x")

    mark = store.data[DELIVERY_MARKS]["x"]
    assert (mark["gap_from"], mark["gap_to"], mark["last_at"]) == (at(9, 3), at(11, 3), at(11, 3))


def test_a_failing_store_never_fails_the_delivery_and_the_next_one_tries_again() -> None:
    store, clock = MemoryStore(), FakeClock(at(9))
    marks = DeliveryMarks(store, clock)
    store.fail_with = RuntimeError("firestore down")
    assert marks.note("x") is False
    store.fail_with = None
    assert marks.note("x") is True


# -- the pure check --------------------------------------------------------------------------------


def test_silence_counts_only_while_the_team_expects_traffic() -> None:
    friday_evening = datetime(2026, 11, 27, 18, 50, tzinfo=UTC)  # 19:50 in Berlin, 10 minutes before closing
    mark = {"last_at": friday_evening}
    monday = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # 08:30 in Berlin: 40 minutes open since Friday

    assert gaps.gaps_in(mark, monday, OFFICE) == []
    assert [g.open_time for g in gaps.gaps_in(mark, monday, ALWAYS)] == [monday - friday_evening]
    later = monday + timedelta(minutes=20)
    (gap,) = gaps.gaps_in(mark, later, OFFICE)
    assert (gap.since, gap.until, gap.open_time) == (friday_evening, None, timedelta(hours=1))


def test_the_threshold_is_inclusive_and_an_ended_silence_is_found_too() -> None:
    mark = {"last_at": at(12), "gap_from": at(9, 0), "gap_to": at(10, 0)}
    assert [(g.since, g.until) for g in gaps.gaps_in(mark, at(12, 30), ALWAYS)] == [(at(9), at(10))]
    assert gaps.gaps_in(mark, at(12, 30), ALWAYS, timedelta(hours=1, seconds=1)) == []
    assert len(gaps.gaps_in(mark, at(13), ALWAYS)) == 2


def test_the_replay_window_covers_the_silence_in_whole_minutes() -> None:
    gap = gaps.Gap("x", at(9, 59).replace(second=42), at(14, 0).replace(second=1), timedelta(hours=4))
    assert gap.window(at(15)) == (at(9, 59), at(14, 1))
    assert gap.recovery(at(15)) == "run make replay FROM=2026-11-30T09:59Z TO=2026-11-30T14:01Z"
    ongoing = gaps.Gap("x", at(9), None, timedelta(hours=6))
    assert ongoing.recovery(at(15, 0).replace(second=30)) == "run make replay FROM=2026-11-30T09:00Z TO=2026-11-30T15:01Z"


def test_replay_job_status_is_recognised_and_nothing_else() -> None:
    done = {"replay_job_status": {"webhook_id": "1234", "job_state": "Complete",
                                  "job_state_description": "All data has been delivered", "job_id": "9876"}}
    assert gaps.replay_job_status(json.dumps(done).encode()) == {
        "webhook_id": "1234", "job_id": "9876", "job_state": "Complete",
        "job_state_description": "All data has been delivered"}
    assert gaps.replay_job_status(b'{"for_user_id": "1", "replay_job_status": {}}') is None
    assert gaps.replay_job_status(b'{"replay_job_status": "Complete"}') is None
    assert gaps.replay_job_status(b"not json") is None


# -- the sweep's check -----------------------------------------------------------------------------


def service(store: MemoryStore, clock: FakeClock, calendar: BusinessCalendar = ALWAYS) -> GapService:
    return GapService(store=store, clock=clock, calendar=calendar,
                      open_alerts=lambda: [snap for doc_id in list(store.data.get(OPERATOR_ALERTS, {}))
                                           if (snap := store.get(OPERATOR_ALERTS, doc_id))
                                           and not snap.data.get("resolved")])


def test_a_gap_raises_one_error_line_and_one_alert_and_its_end_completes_the_command(
        caplog: pytest.LogCaptureFixture) -> None:
    store, clock = MemoryStore(), FakeClock(at(10))
    marks, sweep = DeliveryMarks(store, clock), service(store, clock)
    marks.note("x")
    clock.advance(minutes=59)
    assert sweep.check() == {"delivery_gaps": 0}
    assert alerts(store) == []

    clock.advance(minutes=1)
    assert sweep.check() == {"delivery_gaps": 1}
    for _ in range(5):  # every minute's sweep after: nothing new, one read each
        clock.advance(minutes=1)
        reads = store.ops["reads"]
        assert sweep.check() == {"delivery_gaps": 0}
        assert store.ops["reads"] == reads + 1
    (alert,) = alerts(store)
    assert alert | {"expire_at": None} == {
        "kind": "delivery_gap", "platform": "x", "account_id": None, "since": at(10), "until": None,
        "replay_from": "2026-11-30T10:00Z", "replay_to": "2026-11-30T11:00Z",
        "recovery": "run make replay FROM=2026-11-30T10:00Z TO=2026-11-30T11:00Z", "open_minutes": 60,
        "received_at": at(11), "resolved": False, "expire_at": None}
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "x deliveries gap: no events since 2026-11-30T10:00Z; run make replay FROM=2026-11-30T10:00Z "
        "TO=2026-11-30T11:00Z"]

    clock.advance(hours=2, seconds=30)  # X delivers again at 13:05:30
    caplog.clear()
    marks.note("x")
    assert sweep.check() == {"delivery_gaps": 0}  # the same gap: completed, not raised again
    (alert,) = alerts(store)
    assert (alert["until"], alert["replay_to"]) == (clock.now, "2026-11-30T13:06Z")
    assert alert["recovery"] == "run make replay FROM=2026-11-30T10:00Z TO=2026-11-30T13:06Z"
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_a_gap_that_began_and_ended_between_two_sweeps_is_reported_with_its_window() -> None:
    store, clock = MemoryStore(), FakeClock(at(10))
    marks, sweep = DeliveryMarks(store, clock), service(store, clock)
    marks.note("x")
    clock.advance(hours=3)  # the sweep did not run meanwhile (its own outage)
    marks.note("x")

    assert sweep.check() == {"delivery_gaps": 1}
    (alert,) = alerts(store)
    assert (alert["replay_from"], alert["replay_to"], alert["until"]) == ("2026-11-30T10:00Z", "2026-11-30T13:00Z",
                                                                          at(13))
    clock.advance(minutes=1)
    assert sweep.check() == {"delivery_gaps": 0}


def test_no_mark_no_alert_and_a_closed_team_sees_no_gap_at_night() -> None:
    store, clock = MemoryStore(), FakeClock(datetime(2026, 11, 30, 19, 30, tzinfo=UTC))  # 20:30 Berlin
    assert service(store, clock, OFFICE).check() == {"delivery_gaps": 0}
    DeliveryMarks(store, clock).note("x")
    clock.now = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # 08:30 next morning: half an hour open
    assert service(store, clock, OFFICE).check() == {"delivery_gaps": 0}
    clock.advance(minutes=30)
    assert service(store, clock, OFFICE).check() == {"delivery_gaps": 1}


def test_a_finished_replay_resolves_the_ended_gaps_only() -> None:
    store, clock = MemoryStore(), FakeClock(at(10))
    marks, sweep = DeliveryMarks(store, clock), service(store, clock)
    marks.note("x")
    clock.advance(hours=2)
    marks.note("x")  # gap 10:00-12:00, ended
    sweep.check()
    clock.advance(hours=2)
    sweep.check()  # gap since 12:00, ongoing
    assert len([a for a in alerts(store) if not a["resolved"]]) == 2

    assert sweep.replay_finished({"job_id": "77", "job_state": "Failed"}) == 0
    assert sweep.replay_finished({"job_id": "78", "job_state": "Complete"}) == 1
    (ended,) = [a for a in alerts(store) if a["resolved"]]
    assert (ended["until"], ended["resolved_by"]) == (at(12), "replay job 78")
    (ongoing,) = [a for a in alerts(store) if not a["resolved"]]
    assert ongoing["until"] is None
