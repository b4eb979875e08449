"""The board's Firestore query on the emulator: open posts by due time first, then open items without a
due time (radar items under ``radar.first_response = "none"``). Firestore sorts null before every
timestamp, so one query ordered by ``due_at`` would fill the board with items that carry no promise
and push the promised posts, the ones that can breach, off it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def test_items_without_a_due_time_never_push_promised_posts_off_the_board(e2e) -> None:
    from google.cloud import firestore

    from hilft.adapters.firestore_store import FirestoreStore

    project = "board-query-" + uuid.uuid4().hex[:8]  # a project of its own: the query reads the collection
    db = firestore.Client(project=project)
    due = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    batch = db.batch()
    for i in range(12):  # more items without a due time than the board shows
        batch.set(db.collection("mentions").document(f"radar{i:02d}"), {"status": "open", "due_at": None})
    for i, (status, minutes) in enumerate([("open", 30), ("overdue", -5), ("answered", 0), ("open", 10),
                                           ("open", 50)]):
        batch.set(db.collection("mentions").document(f"post{i}"),
                  {"status": status, "due_at": due + timedelta(minutes=minutes)})
    batch.commit()

    rows = FirestoreStore(project).board_items(limit=3, unpromised=4)

    ids = [row.id for row in rows]
    assert ids[:3] == ["post1", "post3", "post0"]  # the three earliest due, answered ones left out
    assert len(ids) == 7 and all(i.startswith("radar") for i in ids[3:])
