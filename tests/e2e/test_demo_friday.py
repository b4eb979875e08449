"""The demo's Friday-evening post (``demo/friday.py``): ingested and handed off by hilft's own
services under weekday hours on the Firestore emulator, its DM sent through the real X client to
the fake X API — and the DM tells the customer the real time: Monday, not "within the hour"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]


def test_the_friday_evening_post_is_told_monday_in_the_dm_it_really_gets(e2e):
    from demo import friday

    result = friday.run(e2e.fakes.world, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # a Wednesday
    assert f"{result.posted_at:%a %H:%M}" == "Fri 19:55" and f"{result.due_at:%a %H:%M}" == "Mon 08:55"
    assert "bis Montag, 8:55 Uhr" in result.dm_text, result.dm_text
    assert "innerhalb der nächsten Stunde" not in result.dm_text
    assert friday.promise_in(result.dm_text) == "bis Montag, 8:55 Uhr"
    assert [dm["participant_id"] for dm in e2e.fakes.x.dms] == [friday.CUSTOMER.id]  # one DM, to the customer
