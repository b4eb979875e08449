"""The SLA report: roll-ups, percentiles from histograms, the stored-roll-up read budget."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from hilft.core.policy import Policy
from hilft.core.report import BIN_EDGES, Counts, DayRollup, day_bounds, merge, percentile_label, rollup_day, to_csv
from hilft.report_page import render_html
from hilft.service.closing import ReopenService
from hilft.service.ports import MENTIONS, ROLLUPS, Snapshot
from hilft.service.report import ReportService
from tests.unit.memory import FakeClock, MemoryScheduler, MemoryStore

BERLIN = ZoneInfo("Europe/Berlin")


def post(received: datetime, *, answered_after: float | None, promise: float = 3600, platform: str = "x",
         priority: str = "normal", department: str = "kundenservice", level: int | None = None) -> dict:
    due = received + timedelta(seconds=promise)
    doc = {"platform": platform, "priority": priority, "department": department, "received_at": received,
           "created_at": received, "due_at": due, "status": "open", "alert_level": level}
    if answered_after is not None:
        doc |= {"status": "answered", "answered_at": received + timedelta(seconds=answered_after),
                "first_response_seconds": answered_after, "breached": answered_after > promise}
    return doc


@given(st.lists(st.floats(min_value=0, max_value=6 * 86400), min_size=1, max_size=200),
       st.sampled_from([0.5, 0.9]))
def test_histogram_percentile_is_the_upper_edge_of_the_true_percentiles_bin(values, q):
    counts = Counts()
    for value in values:
        counts.add("hit", value)
    ordered = sorted(values)
    exact = ordered[max(0, math.ceil(q * len(ordered)) - 1)]
    reported = counts.percentile(q)
    assert reported == min(edge for edge in BIN_EDGES if edge >= exact)  # the bin's upper edge


def test_a_day_rolls_up_per_channel_priority_department_and_breach_hour():
    friday_19 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 19:00 in Berlin, due 20:00
    docs = [post(friday_19, answered_after=600, platform="x"),
            post(friday_19, answered_after=7200, platform="facebook", level=1),
            post(friday_19, answered_after=None, platform="x", priority="high", level=2)]
    rollup = rollup_day(date(2026, 11, 20), docs, tz=BERLIN, now=friday_19 + timedelta(hours=3))
    assert (rollup.total.posts, rollup.total.hits, rollup.total.misses) == (3, 1, 2)
    assert rollup.groups["platform"]["x"].hits == 1 and rollup.groups["platform"]["x"].misses == 1
    assert rollup.groups["priority"]["high"].misses == 1
    assert rollup.breaches == {"4:20": 2}  # Friday, 20:00 Berlin
    assert rollup.alerts_by_level == {"1": 1, "2": 1}
    assert rollup.unresolved == 1 and not rollup.final
    assert DayRollup.from_json(rollup.as_json()).as_json() == rollup.as_json()


def test_day_bounds_follow_daylight_saving_time():
    start, end = day_bounds(date(2026, 10, 25), BERLIN)  # 25 hours long
    assert end - start == timedelta(hours=25)


def test_the_report_reads_stored_final_rollups_instead_of_posts():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    first = date(2026, 11, 1)
    for offset in range(29):
        day_start = datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(days=offset)
        for n in range(20):
            store.create("mentions", f"d{offset}-{n}", post(day_start + timedelta(minutes=n),
                                                           answered_after=300 if n % 4 else 5400))
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    report = service.build(first, date(2026, 11, 29))
    assert report.total.posts == 29 * 20 and report.total.hits == 29 * 15 and report.total.misses == 29 * 5
    # first time: a roll-up look-up per day, every post once, and the day's incidents (one query each)
    assert report.reads == 29 + 29 * 20 + 29
    assert len(store.data[ROLLUPS]) == 29
    again = service.build(first, date(2026, 11, 29))
    assert again.reads == 29  # then: one roll-up per day
    assert again.rows() == report.rows()


def test_a_day_with_posts_still_waiting_is_stored_partial_and_later_reads_only_those_posts():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    evening = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    store.create("mentions", "waiting", post(evening, answered_after=None, promise=86400))
    for n in range(10):
        store.create("mentions", f"done{n}", post(evening + timedelta(minutes=n), answered_after=300))
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    report = service.build(date(2026, 11, 29), date(2026, 11, 29))
    assert (report.total.posts, report.total.pending, report.total.hits) == (11, 1, 10)
    stored = store.data[ROLLUPS]["2026-11-29"]
    assert stored["final"] is False and stored["open_ids"] == ["waiting"] and stored["total"]["posts"] == 10

    again = service.build(date(2026, 11, 29), date(2026, 11, 29))
    assert again.reads == 1 + 1  # the roll-up, and the one post still open
    assert again.rows() == report.rows()

    store.update("mentions", "waiting", {"status": "answered", "answered_at": evening + timedelta(hours=2),
                                         "first_response_seconds": 7200.0, "breached": False})
    answered = service.build(date(2026, 11, 29), date(2026, 11, 29))
    assert (answered.total.posts, answered.total.hits, answered.total.pending) == (11, 11, 0)
    assert store.data[ROLLUPS]["2026-11-29"]["final"] is True
    assert service.build(date(2026, 11, 29), date(2026, 11, 29)).reads == 1


def test_a_post_still_unanswered_a_week_after_its_day_is_a_miss_for_good():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    store.create("mentions", "lost", post(datetime(2026, 11, 20, 9, tzinfo=UTC), answered_after=None))
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    service.build(date(2026, 11, 20), date(2026, 11, 20))
    stored = store.data[ROLLUPS]["2026-11-20"]
    assert stored["final"] is True and stored["total"]["misses"] == 1 and stored["open_ids"] == []


def test_the_daily_job_rolls_up_yesterday_and_re_rolls_partial_days():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 30, 2, 30, tzinfo=UTC))  # the job's hour
    yesterday = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    store.create("mentions", "a", post(yesterday, answered_after=600))
    store.create("mentions", "b", post(yesterday, answered_after=None, promise=86400))
    store.create("incidents", "i1", {"opened_at": yesterday, "status": "open"})
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    result = service.roll_up()
    assert result["rollup_days"] == 8 and result["rollup_final"] == 7  # the week before: empty days, final
    stored = store.data[ROLLUPS]["2026-11-29"]
    assert stored["open_ids"] == ["b"] and stored["incidents"] == 1 and stored["total"]["hits"] == 1
    assert "2026-11-30" not in store.data[ROLLUPS]  # today has not ended

    store.update("mentions", "b", {"status": "answered", "answered_at": yesterday + timedelta(hours=3),
                                   "first_response_seconds": 10800.0, "breached": False})
    clock.now += timedelta(days=1)
    service.roll_up()
    stored = store.data[ROLLUPS]["2026-11-29"]
    assert stored["final"] is True and stored["total"]["hits"] == 2 and stored["incidents"] == 1
    assert store.data[ROLLUPS]["2026-11-30"]["final"] is True
    # A report of those days now reads the roll-ups only.
    report = service.build(date(2026, 11, 29), date(2026, 11, 30))
    assert report.reads == 2 and report.incidents == 1 and report.total.posts == 2


def test_incidents_are_counted_on_the_day_they_were_opened():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    for n, opened in enumerate((datetime(2026, 11, 28, 22, 30, tzinfo=UTC),  # 23:30 in Berlin: the 28th
                                datetime(2026, 11, 28, 23, 30, tzinfo=UTC),  # 00:30 in Berlin: the 29th
                                datetime(2026, 11, 29, 10, 0, tzinfo=UTC))):
        store.create("incidents", f"i{n}", {"opened_at": opened, "status": "resolved"})
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    assert service.build(date(2026, 11, 29), date(2026, 11, 29)).incidents == 2
    assert service.build(date(2026, 11, 28), date(2026, 11, 29)).incidents == 3


def test_html_and_csv_show_the_same_numbers():
    friday = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    rollup = rollup_day(date(2026, 11, 20), [post(friday, answered_after=600), post(friday, answered_after=None)],
                        tz=BERLIN, now=friday + timedelta(hours=5))
    report = merge(date(2026, 11, 20), date(2026, 11, 20), [rollup], "Europe/Berlin")
    csv_text = to_csv(report)
    assert "all,all,2,1,1,0,0.5000,600,600," in csv_text  # 10 min is a bin edge
    page = render_html(report, lang="de", nonce="n0nce")
    assert "50.0 %" in page and "Versprechen gehalten" in page and "Europe/Berlin" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")


def test_hostile_group_names_are_escaped_in_the_page():
    friday = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    rollup = rollup_day(date(2026, 11, 20), [post(friday, answered_after=60, department="<script>x</script>")],
                        tz=BERLIN, now=friday + timedelta(hours=2))
    page = render_html(merge(date(2026, 11, 20), date(2026, 11, 20), [rollup], "Europe/Berlin"))
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_the_csv_export_holds_the_heatmap_alerts_handoffs_and_incidents():
    import csv
    import io

    friday = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # due 20:00 in Berlin
    docs = [post(friday, answered_after=7200, level=1), post(friday, answered_after=9000, level=2),
            post(friday, answered_after=60) | {"status": "handed_off"}]
    rollup = rollup_day(date(2026, 11, 20), docs, tz=BERLIN, now=friday + timedelta(hours=5), incidents=3)
    rows = {(r["dimension"], r["key"]): r
            for r in csv.DictReader(io.StringIO(to_csv(merge(date(2026, 11, 20), date(2026, 11, 20), [rollup],
                                                             "Europe/Berlin"))))}
    assert rows[("breaches", "Fri 20:00")]["count"] == "2"
    assert rows[("alerts_by_level", "1")]["count"] == "1" and rows[("alerts_by_level", "2")]["count"] == "1"
    assert rows[("handoffs", "all")]["count"] == "1" and rows[("incidents", "all")]["count"] == "3"


def test_a_closing_message_staff_reopen_after_its_day_was_rolled_up_reaches_the_report():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    morning = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    store.create("mentions", "a", post(morning, answered_after=600))
    store.create("mentions", "thanks", post(morning, answered_after=None) | {"status": "no_reply_needed",
                                                                             "due_at": None})
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    assert service.build(date(2026, 11, 26), date(2026, 11, 26)).total.posts == 1
    assert store.data[ROLLUPS]["2026-11-26"]["final"] is True

    ReopenService(store=store, scheduler=MemoryScheduler(), policy=Policy.default(), clock=clock).reopen(
        "thanks", "staff@example.com")
    assert store.data[ROLLUPS]["2026-11-26"]["open_ids"] == ["thanks"]
    clock.now += timedelta(days=1)  # past the reopened post's due time, still unanswered
    report = service.build(date(2026, 11, 26), date(2026, 11, 26))
    assert (report.total.posts, report.total.hits, report.total.misses) == (2, 1, 1)


def test_a_warning_only_post_counts_under_alerts_by_level_0():
    friday = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    docs = [post(friday, answered_after=3000, level=0), post(friday, answered_after=7200, level=1),
            post(friday, answered_after=60)]
    rollup = rollup_day(date(2026, 11, 20), docs, tz=BERLIN, now=friday + timedelta(hours=3))
    assert rollup.alerts_by_level == {"0": 1, "1": 1}


def test_percentiles_are_shown_and_exported_as_the_upper_bounds_they_are():
    import csv
    import io

    friday = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    rollup = rollup_day(date(2026, 11, 20), [post(friday, answered_after=3000)], tz=BERLIN,
                        now=friday + timedelta(hours=3))
    report = merge(date(2026, 11, 20), date(2026, 11, 20), [rollup], "Europe/Berlin")
    row = next(csv.DictReader(io.StringIO(to_csv(report))))
    assert row["p50_upper_seconds"] == "3600" and row["p90_upper_seconds"] == "3600"  # 50 min: the 1 h bin
    assert "p50_seconds" not in row
    page = render_html(report)
    assert "≤ 1 h" in page and ">1 h<" not in page
    assert percentile_label(None) == "—" and percentile_label(math.inf) == "> 7 d"


# -- a reopen while the roll-up job computes the same day ------------------------------------------

class ReopenWhileRollingUp(MemoryStore):
    """The memory store, except that ``during`` runs once right after the roll-up job has read the
    post ``after_reading`` (with all of its day's posts, or a partial roll-up's open ones): the
    forced interleaving of a staff reopen landing between the job's read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.during: Callable[[], None] | None = None
        self.after_reading = ""

    def _interleave(self, read: Iterable[str]) -> None:
        if self.during is not None and self.after_reading in read:
            during, self.during = self.during, None
            during()

    def received_between(self, start: datetime, end: datetime) -> list[Snapshot]:
        snaps = super().received_between(start, end)
        self._interleave(s.id for s in snaps)
        return snaps

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Snapshot]:
        found = super().get_many(collection, doc_ids)
        if collection == MENTIONS:
            self._interleave(found)
        return found


def _thanks(received: datetime) -> dict:
    return post(received, answered_after=None) | {"status": "no_reply_needed", "due_at": None}


def test_a_post_reopened_while_the_job_rolls_up_its_day_the_first_time_reaches_the_report():
    store = ReopenWhileRollingUp()
    clock = FakeClock(datetime(2026, 11, 27, 2, 30, tzinfo=UTC))  # the job's hour, the day after
    morning = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    store.create("mentions", "a", post(morning, answered_after=600))
    store.create("mentions", "thanks", _thanks(morning))
    reopen = ReopenService(store=store, scheduler=MemoryScheduler(), policy=Policy.default(), clock=clock)
    store.during, store.after_reading = lambda: reopen.reopen("thanks", "staff@example.com"), "thanks"
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    service.roll_up()
    stored = store.data[ROLLUPS]["2026-11-26"]
    assert stored["open_ids"] == ["thanks"] and stored["final"] is False  # computed again, with the reopen
    clock.now += timedelta(days=1)  # past the reopened post's due time, still unanswered
    report = service.build(date(2026, 11, 26), date(2026, 11, 26))
    assert (report.total.posts, report.total.hits, report.total.misses) == (2, 1, 1)


def test_a_post_reopened_while_the_job_updates_a_partial_day_is_not_overwritten():
    store = ReopenWhileRollingUp()
    clock = FakeClock(datetime(2026, 11, 27, 2, 30, tzinfo=UTC))
    morning = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    store.create("mentions", "waiting", post(morning, answered_after=None, promise=3 * 86400))
    store.create("mentions", "thanks", _thanks(morning))
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    service.roll_up()
    assert store.data[ROLLUPS]["2026-11-26"]["open_ids"] == ["waiting"]

    clock.now += timedelta(hours=2)
    store.update("mentions", "waiting", {"status": "answered", "answered_at": clock.now,
                                         "first_response_seconds": 60000.0, "breached": False})
    reopen = ReopenService(store=store, scheduler=MemoryScheduler(), policy=Policy.default(), clock=clock)
    store.during, store.after_reading = lambda: reopen.reopen("thanks", "staff@example.com"), "waiting"
    service.roll_up()
    stored = store.data[ROLLUPS]["2026-11-26"]
    assert stored["open_ids"] == ["thanks"] and stored["total"]["hits"] == 1
    clock.now += timedelta(days=1)
    report = service.build(date(2026, 11, 26), date(2026, 11, 26))
    assert (report.total.posts, report.total.hits, report.total.misses) == (2, 1, 1)


def test_a_reopen_on_a_day_without_a_rollup_leaves_a_stub_the_report_reads_as_no_rollup():
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    morning = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    store.create("mentions", "thanks", _thanks(morning))
    ReopenService(store=store, scheduler=MemoryScheduler(), policy=Policy.default(), clock=clock).reopen(
        "thanks", "staff@example.com")
    assert store.data[ROLLUPS]["2026-11-26"] == {"open_ids": ["thanks"], "final": False}
    service = ReportService(store=store, policy=Policy.default(), clock=clock)
    assert service.build(date(2026, 11, 26), date(2026, 11, 26)).total.pending == 1  # today: from its posts
    clock.now += timedelta(days=1)
    service.roll_up()
    assert store.data[ROLLUPS]["2026-11-26"]["day"] == "2026-11-26"  # the stub became the day's roll-up
