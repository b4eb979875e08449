"""The stored post as a model and its status transitions: pure, no emulator, no store.

Property tests run random sequences of transitions on generated documents and check the rules
``hilft.core.document`` states: answered/handed_off/deleted are final for alerts, the first
response is recorded once, deleting forgets the text and the author, the level only rises.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hilft.core import document as d
from hilft.core.document import FINAL, AlertProgress, AlertState, MentionDoc, NoClaim
from hilft.core.models import Kind, Platform, Status
from hilft.service.ports import MENTIONS
from tests.unit.memory import MemoryStore

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=120)


def _post(**fields: Any) -> MentionDoc:
    base: dict[str, Any] = {"platform": "x", "post_id": "1", "kind": "mention", "author_id": "u1",
                            "author_handle": "kunde", "author_name": "Kim Kunde", "text": "kein Netz",
                            "status": "open", "created_at": T0, "received_at": T0,
                            "due_at": T0 + timedelta(hours=1), "answered_at": None, "alert_level": None,
                            "next_alert_at": None, "acknowledged": False, "alerts": {}, "schema": 1}
    return MentionDoc.from_store({**base, **fields})


# -- the model -------------------------------------------------------------------------------------


def test_a_stored_post_round_trips_with_the_same_keys_and_plain_strings() -> None:
    stored = _post(url="https://x.com/kunde/status/1", pii_kinds=["email"],
                   alerts={"1": {"state": "sent", "sinks_sent": ["slack"], "sent_at": T0}}).to_store()
    again = MentionDoc.from_store(stored).to_store()
    assert again == stored
    assert type(stored["status"]) is str and type(stored["platform"]) is str and type(stored["kind"]) is str
    assert type(stored["alerts"]["1"]["state"]) is str
    assert stored["schema"] == 1 and stored["alerts"]["1"] == {"state": "sent", "sinks_sent": ["slack"], "sent_at": T0}


def test_a_field_the_model_does_not_declare_is_refused() -> None:
    """README: MentionDoc names every field; a writer of an undeclared field fails its tests."""
    with pytest.raises(ValidationError, match="custom_field"):
        _post(custom_field={"a": 1})
    with pytest.raises(ValidationError, match="colour"):
        _post(alerts={"1": {"state": "sent", "colour": "red"}})
    with pytest.raises(ValidationError):
        _post(alerts={"1": {"state": "maybe"}})


def test_the_in_memory_store_refuses_a_write_of_an_undeclared_field() -> None:
    """The check that makes every service test prove its writes are declared (tests/unit/memory.py)."""
    store = MemoryStore()
    assert store.create(MENTIONS, "d1", _post().to_store())
    with pytest.raises(ValidationError, match="out_of_hours_skiped"):
        store.update(MENTIONS, "d1", {"out_of_hours_skiped": "storm"})
    with pytest.raises(ValidationError):
        store.update(MENTIONS, "d1", {"alerts.1": {"state": "sent", "sinks": ["slack"]}})
    assert store.update(MENTIONS, "d1", {"out_of_hours_skipped": "storm", "alerts.1": {"state": "sent"}})
    assert store.update("handoffs", "h1", {"anything": 1}) is False  # other collections are not checked


def test_enums_and_aware_datetimes_are_checked_on_load() -> None:
    doc = _post()
    assert doc.status is Status.OPEN and doc.platform is Platform.X and doc.kind is Kind.MENTION
    with pytest.raises(ValidationError):
        MentionDoc.from_store({"platform": "x", "status": "open", "due_at": datetime(2026, 1, 1)})  # naive
    with pytest.raises(ValidationError):
        MentionDoc.from_store({"platform": "x", "status": "maybe"})


def test_stubs_and_tombstones_stay_small() -> None:
    stub = d.answered_stub(Platform.X, "9", answered_at=T0, answered_by="brand", via="r1", expire_at=T0)
    assert set(stub.to_store()) == {"platform", "post_id", "status", "stub", "answered_at", "answered_by",
                                    "answered_via", "expire_at"}
    tomb = d.tombstone(Platform.FACEBOOK, "9", deleted_at=T0, now=T0, expire_at=T0).to_store()
    assert tomb["status"] == "deleted" and tomb["text"] == "" and "due_at" not in tomb


def test_updated_applies_dotted_paths_as_the_store_does() -> None:
    doc = _post(alerts={"0": {"state": "sent", "sinks_sent": ["slack"]}})
    after = doc.updated({"alerts.1": {"state": "in_progress"}, "status": "overdue"})
    assert after.to_store()["alerts"] == {"0": {"state": "sent", "sinks_sent": ["slack"]}, "1": {"state": "in_progress"}}
    assert after.alert_state(1) == AlertState(state=AlertProgress.IN_PROGRESS)
    assert after.status is Status.OVERDUE and doc.status is Status.OPEN


# -- the transitions, by example ---------------------------------------------------------------------


def test_answering_records_the_first_response_and_whether_it_breached() -> None:
    doc = _post()
    late = T0 + timedelta(hours=2)
    updates = d.mark_answered(doc, answered_at=late, answered_by="brand", via="r1")
    assert updates is not None
    assert updates["status"] == "answered" and updates["first_response_seconds"] == 7200.0
    assert updates["breached"] is True and updates["next_alert_at"] is None
    in_time = d.mark_answered(doc, answered_at=T0 + timedelta(minutes=5), answered_by="b", via="r")
    assert in_time is not None and in_time["breached"] is False


def test_handing_off_is_a_first_response_with_its_record() -> None:
    updates = d.mark_handed_off(_post(status="overdue", handoff_pending=True), at=T0, via="dm1",
                                handoff_id="h1", department="billing", private_reply_id="dm1")
    assert updates is not None
    assert updates["status"] == "handed_off" and updates["handoff_pending"] is False
    assert updates["answered_by"] == "hilft:handoff" and updates["department"] == "billing"


def test_the_due_alert_claims_and_flags_overdue_once() -> None:
    doc = _post()
    claim = d.claim_alert(doc, 1, T0, claim_ttl=TTL)
    assert isinstance(claim, dict) and claim["status"] == "overdue" and claim["overdue_at"] == T0
    assert claim["alerts.1"]["state"] == "in_progress"
    busy = doc.updated(claim)
    assert d.claim_alert(busy, 1, T0 + timedelta(seconds=1), claim_ttl=TTL) is NoClaim.IN_PROGRESS
    assert isinstance(d.claim_alert(busy, 1, T0 + TTL + timedelta(seconds=1), claim_ttl=TTL), dict)  # expired
    sent = busy.updated({"alerts.1": {"state": "sent", "sinks_sent": ["slack"]}})
    assert d.claim_alert(sent, 1, T0, claim_ttl=TTL) is NoClaim.ALREADY_SENT
    assert d.claim_alert(doc, 1, T0, claim_ttl=TTL, expected_due=T0) is NoClaim.STALE
    assert d.claim_alert(doc, 4, T0, claim_ttl=TTL, level_exists=False) is NoClaim.BEYOND_MAX_LEVEL
    assert d.claim_alert(_post(acknowledged=True), 2, T0, claim_ttl=TTL) is NoClaim.ACKNOWLEDGED
    warning = d.claim_alert(doc, 0, T0, claim_ttl=TTL)
    assert isinstance(warning, dict) and "status" not in warning  # a warning leaves the post open


def test_reopening_applies_only_to_a_closing_message() -> None:
    closing = _post(status="no_reply_needed", due_at=None)
    updates = d.reopen(closing, now=T0, by="staff", due_at=T0 + timedelta(hours=1), warn_at=T0,
                       promise=timedelta(hours=1))
    assert updates is not None and updates["status"] == "open" and updates["promise_seconds"] == 3600.0
    assert d.reopen(_post(), now=T0, by="s", due_at=T0, warn_at=T0, promise=timedelta(hours=1)) is None
    assert d.mark_answered(closing, answered_at=T0, answered_by="b", via="r") is None  # no promise to stop


def test_a_late_post_completes_its_answered_stub_and_the_answer_stands() -> None:
    stub = d.answered_stub(Platform.X, "1", answered_at=T0 + timedelta(hours=2), answered_by="brand",
                           via="r1", expire_at=T0)
    updates = d.fill_stub(stub, _post())
    assert updates is not None
    assert updates["status"] == "answered" and updates["stub"] is False and updates["breached"] is True
    assert "answered_at" not in updates and updates["text"] == "kein Netz"
    assert d.fill_stub(_post(), _post()) is None


# -- the rules, on generated documents and sequences ---------------------------------------------------

times = st.integers(min_value=0, max_value=5 * 86400).map(lambda s: T0 + timedelta(seconds=s))



def _generated(status: str, acknowledged: bool, level: int | None, answered: datetime | None, due: datetime,
               alerts: dict[str, Any]) -> MentionDoc:
    doc = _post(status=status, acknowledged=acknowledged, alert_level=level, due_at=due,
                answered_at=answered if status in ("answered", "handed_off") else None, alerts=alerts)
    return doc.updated(d.mark_deleted(doc, due)) if status == "deleted" else doc  # as deletion leaves it


docs = st.builds(
    _generated,
    st.sampled_from([s.value for s in Status]), st.booleans(), st.none() | st.integers(0, 5),
    times, st.none() | times,
    st.dictionaries(st.sampled_from(["0", "1", "2", "3"]),
                    st.fixed_dictionaries({"state": st.sampled_from(["sent", "in_progress", "failed"]),
                                           "sinks_sent": st.lists(st.sampled_from(["slack", "pagerduty"]))})),
)


def _step(doc: MentionDoc, op: tuple[str, int, datetime]) -> MentionDoc:
    name, level, at = op
    updates: dict[str, Any] | NoClaim | None
    if name == "overdue":
        updates = d.mark_overdue(doc, at)
    elif name == "answer":
        updates = d.mark_answered(doc, answered_at=at, answered_by="brand", via="r")
    elif name == "handoff":
        updates = d.mark_handed_off(doc, at=at, via="dm", handoff_id="h", department="x", private_reply_id="dm")
    elif name == "delete":
        updates = d.mark_deleted(doc, at)
    elif name == "ack":
        updates = d.acknowledge(doc, at, "staff")
    elif name == "level":
        updates = d.raise_level(doc, level, at)
    elif name == "reopen":
        updates = d.reopen(doc, now=at, by="s", due_at=at, warn_at=at, promise=timedelta(hours=1))
    else:
        updates = d.claim_alert(doc, level, at, claim_ttl=TTL)
    return doc.updated(updates) if isinstance(updates, dict) else doc


ops = st.lists(st.tuples(st.sampled_from(["overdue", "answer", "handoff", "delete", "ack", "level", "reopen",
                                          "alert"]), st.integers(0, 4), times), max_size=12)


@given(doc=docs, at=times, level=st.integers(0, 5))
def test_answered_handed_off_and_deleted_are_final_for_alerts(doc: MentionDoc, at: datetime, level: int) -> None:
    if doc.status not in FINAL:
        return
    assert isinstance(d.claim_alert(doc, level, at, claim_ttl=TTL), NoClaim)  # nothing to send
    assert d.mark_overdue(doc, at) is None
    assert d.mark_answered(doc, answered_at=at, answered_by="b", via="r") is None
    assert d.reopen(doc, now=at, by="s", due_at=at, warn_at=at, promise=timedelta(hours=1)) is None


@given(doc=docs, steps=ops)
def test_sequences_keep_the_rules(doc: MentionDoc, steps: list[tuple[str, int, datetime]]) -> None:
    for op in steps:
        before = doc
        doc = _step(doc, op)
        if before.status in FINAL:
            # Only deletion moves a final post, and only to deleted.
            assert doc.status in (before.status, Status.DELETED)
        if before.answered_at is not None:
            assert doc.answered_at == before.answered_at  # the first response never changes
        if before.acknowledged:
            assert doc.acknowledged and doc.acknowledged_at == before.acknowledged_at
        assert (doc.alert_level or 0) >= (before.alert_level or 0)
        if doc.status is Status.DELETED:
            assert doc.text == "" and doc.author_id is None and doc.author_handle is None
            assert doc.author_name is None and doc.url is None and doc.next_alert_at is None
        if before.status is Status.OVERDUE:
            assert doc.status is not Status.OPEN  # overdue never goes back to open


@given(doc=docs, at=times)
def test_deleting_forgets_personal_fields_whatever_the_state(doc: MentionDoc, at: datetime) -> None:
    after = doc.updated(d.mark_deleted(doc, at))
    for field, empty in d.PERSONAL_FIELDS.items():
        assert getattr(after, field) == empty
    assert after.status is Status.DELETED and after.deleted_at == at


@given(doc=docs, at=times)
def test_first_response_is_computed_from_the_post_and_its_promise(doc: MentionDoc, at: datetime) -> None:
    updates = d.mark_answered(doc, answered_at=at, answered_by="b", via="r")
    if doc.status not in (Status.OPEN, Status.OVERDUE):
        assert updates is None
        return
    assert updates is not None
    assert updates["first_response_seconds"] == max(0.0, (at - T0).total_seconds())
    assert updates["breached"] == (doc.due_at is not None and at > doc.due_at)


# -- the board and the report read the model or the stored mapping alike ---------------------------


@given(docs=st.lists(docs, max_size=8), now=times)
def test_board_and_report_read_the_model_and_the_stored_mapping_alike(docs: list[MentionDoc], now: datetime) -> None:
    from zoneinfo import ZoneInfo

    from hilft.core import board_view
    from hilft.core.report import rollup_day

    stored = [doc.to_store() for doc in docs]
    pairs = [(f"d{i}", doc) for i, doc in enumerate(docs)]
    stored_pairs = [(f"d{i}", data) for i, data in enumerate(stored)]
    assert board_view.board_rows(pairs, now) == board_view.board_rows(stored_pairs, now)
    assert [board_view.outcome(doc, now) for doc in docs] == [board_view.outcome(data, now) for data in stored]
    assert board_view.response_stats(docs, now) == board_view.response_stats(stored, now)
    tz = ZoneInfo("Europe/Berlin")
    assert (rollup_day(now.date(), docs, tz=tz, now=now).as_json()
            == rollup_day(now.date(), stored, tz=tz, now=now).as_json())


def test_a_brand_post_is_taken_for_the_acknowledgments_echo_for_the_claims_lifetime_only() -> None:
    sending = _post(out_of_hours_sending_at=T0 + timedelta(minutes=1))
    claim_ttl = timedelta(minutes=10)
    for later, echo in ((timedelta(minutes=9), True), (timedelta(minutes=12), False)):
        at = T0 + later
        assert d.acknowledgment_in_flight(sending, at, claim_ttl) is echo
        answered = d.mark_answered(sending, answered_at=at, answered_by="brand", via="b1", echo_window=claim_ttl)
        assert (answered is None) is echo
    # hilft's own answers (no echo window) and a sent acknowledgment are never taken for an echo
    assert d.mark_answered(sending, answered_at=T0 + timedelta(minutes=2), answered_by="anna", via="r1") is not None
    sent = _post(out_of_hours_sending_at=T0, out_of_hours_sent_at=T0 + timedelta(seconds=3))
    assert not d.acknowledgment_in_flight(sent, T0 + timedelta(minutes=1), claim_ttl)
