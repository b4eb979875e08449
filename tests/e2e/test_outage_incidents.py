"""Outage detection end to end on the emulators: a burst of posts opens one incident, the sinks hear of
it once in its own PagerDuty incident and Chat thread, and the later posts' alerts fold into it.

The e2e policy leaves ``[outage]`` at its defaults (trigger "sweep"): the test plays Cloud
Scheduler and calls ``sweep`` through the Tasks emulator with the scheduler's OIDC identity.
"""

from __future__ import annotations

import time
from typing import Any

from google.cloud import tasks_v2

from tests.alert_proof import doc_id_of, wait_until_no_tasks, wait_until_task_done
from tests.e2e.builders import aaa_tweet

TEXT = "Störung: DSL weg in 53113 Bonn, Router blinkt. Ruf an unter 0171 2345678"  # handed off (a phone number)
PLAIN = "Störung: DSL weg in 53113 Bonn, Router blinkt rot."  # no personal data: its promise runs


def _sweep(e2e, tasks_client) -> None:
    from stack import QUEUE, SCHEDULER_SA

    task = tasks_client.create_task(parent=QUEUE, task={"http_request": {
        "url": e2e.url("sweep"), "http_method": tasks_v2.HttpMethod.POST,
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": e2e.url("sweep")}}})
    wait_until_task_done(tasks_client, task.name, timeout=30)


def _incidents(e2e) -> list[dict[str, Any]]:
    return [d.to_dict() | {"_id": d.id} for d in e2e.db.collection("incidents").stream()]


def _bodies(fake: Any) -> list[dict[str, Any]]:
    return [request.json() for request in list(fake.accepted)]


def test_a_burst_opens_one_incident_alerted_once_and_later_alerts_fold_into_it(e2e, tasks_client) -> None:
    from hilft.core.outage import slot_of, slot_start

    posts = []
    for _ in range(10):
        post_id, body = aaa_tweet(TEXT)
        assert e2e.post_x(body).status_code == 200
        posts.append(post_id)
    # Time-based, not a proof: the evaluation reads slots that ended 5 s ago (20 s slots), so the
    # sweep can only see the burst once its last slot has closed; the wait ends at that instant.
    last_slot = slot_of(e2e.mention("x", posts[-1])["received_at"], 20)
    closes = slot_start(last_slot + 1, 20).timestamp() + 6
    time.sleep(max(0.0, closes - time.time()))
    _sweep(e2e, tasks_client)
    incidents = e2e.wait(lambda: _incidents(e2e), timeout=10, what="the incident")
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["key"] == "festnetz|de-53" and incident["status"] == "open"
    assert incident["place_label"] == "53113 Bonn" and incident["count"] >= 10
    assert all("2345678" not in s["excerpt"] for s in incident["samples"])  # redacted text only
    key = f"hilft-incident-{incident['_id']}"
    pd = [b for b in _bodies(e2e.fakes.pagerduty) if b.get("dedup_key") == key]
    assert [b["event_action"] for b in pd] == ["trigger"]  # opened: one page, its own dedup_key
    chat = [b for b in _bodies(e2e.fakes.chat) if (b.get("thread") or {}).get("threadKey") == key]
    assert len(chat) == 1

    # posts arriving now belong to the open incident: their due alerts fold into it
    later = []
    for _ in range(6):
        post_id, body = aaa_tweet(PLAIN)
        assert e2e.post_x(body).status_code == 200
        later.append(post_id)
    e2e.wait(lambda: all((e2e.mention("x", p) or {}).get("alert_level") for p in later), timeout=30,
             what="the later posts' due alerts")
    for p in later:  # each warning/due task sent what it sends in its request, then left the queue
        wait_until_no_tasks(tasks_client, doc_id_of(p), {"warning", "due"})
    own_keys = {f"hilft-{doc_id_of(p)}" for p in later}
    assert not [b for b in _bodies(e2e.fakes.pagerduty) if b.get("dedup_key") in own_keys]
    storm = [b for b in _bodies(e2e.fakes.pagerduty) if b.get("dedup_key") == key][1:]
    assert storm and "overdue" in storm[0]["payload"]["summary"]
    assert all((e2e.mention("x", p) or {}).get("incident_id") == incident["_id"] for p in later)

    # On the board the incident is one group, acknowledged with one action for all its posts.
    from tests.stack_fixtures import STAFF_TOKEN

    board = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Hilft-Board": "1"}
    groups = e2e.http.get(e2e.url("board"), params={"format": "json"}, headers=board).json()["incidents"]
    assert [g["incident_id"] for g in groups] == [incident["_id"]]
    assert 'class="ack-incident"' in e2e.http.get(e2e.url("board"), headers=board).text
    acked = e2e.http.post(e2e.url("board") + "?action=ack_incident", json={"incident_id": incident["_id"]},
                          headers=board)
    assert acked.status_code == 200 and acked.json()["outcome"] == "acknowledged", acked.text
    assert all(e2e.mention("x", p)["acknowledged"] for p in later)
    assert [i["status"] for i in _incidents(e2e)] == ["acknowledged"]
    # The board holds no PagerDuty routing key (infra/functions.json): deadline tells PagerDuty, by task.
    e2e.wait(lambda: [b for b in _bodies(e2e.fakes.pagerduty)
                      if b.get("dedup_key") == key and b["event_action"] == "acknowledge"],
             timeout=20, what="PagerDuty's acknowledge of the incident's own key")


def test_an_incidents_members_are_read_in_pages_so_none_is_left_out(e2e) -> None:
    import uuid

    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.adapters.incident_store import FirestoreIncidentQueries

    incident_id = uuid.uuid4().hex + "00000000"
    batch = e2e.db.batch()
    for i in range(7):
        batch.set(e2e.db.collection("mentions").document(f"{incident_id[:30]}{i:010d}"),
                  {"incident_id": incident_id, "text": "Störung"})
    batch.commit()
    store = FirestoreStore("hilft-local")
    members = FirestoreIncidentQueries(store).incident_members(incident_id, page=3)
    assert len(members) == 7 and len({m.id for m in members}) == 7
    assert store.ops["queries"] == 3  # 3 + 3 + 1


def test_the_settle_check_reads_only_an_incidents_unanswered_posts_due_by_a_time_a_page_at_a_time(e2e) -> None:
    import uuid
    from datetime import UTC, datetime, timedelta

    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.adapters.incident_store import FirestoreIncidentQueries

    incident_id = uuid.uuid4().hex
    due = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    batch = e2e.db.batch()
    for i, (status, minutes) in enumerate([("open", 5), ("answered", 0), ("overdue", 0), ("open", 60),
                                           ("handed_off", 1), ("open", 2), ("overdue", 3), ("open", 4)]):
        batch.set(e2e.db.collection("mentions").document(f"{incident_id}{i:02d}"),
                  {"incident_id": incident_id, "status": status, "due_at": due + timedelta(minutes=minutes)})
    batch.set(e2e.db.collection("mentions").document(f"{incident_id}other"),
              {"incident_id": "another", "status": "open", "due_at": due})
    batch.commit()
    store = FirestoreStore("hilft-local")
    queries = FirestoreIncidentQueries(store)
    found = queries.unanswered_members(incident_id, due + timedelta(minutes=30), page=2)
    assert [m.id[-2:] for m in found] == ["02", "05", "06", "07", "00"]  # earliest due first
    assert store.ops["queries"] == 3  # 2 + 2 + 1
    store.ops.clear()
    first = next(iter(queries.unanswered_members(incident_id, None, page=2)))
    assert first.id.endswith("02") and store.ops["queries"] == 1  # stopping at the first reads one page
    assert len(list(queries.unanswered_members(incident_id, None, page=2))) == 6
