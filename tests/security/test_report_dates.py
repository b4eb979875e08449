"""Attack: the board's SLA report (``?view=report``) asked for days at the edge of the calendar.
``to=0001-01-05`` (its default start lies before year 1), ``from=9999-12-30`` (the day after
9999-12-31 does not exist) or ``from=0001-01-01`` (midnight in Berlin is before year 1 in UTC)
overflowed ``datetime`` — a 500. A report covers days from 2000-01-01 to 2999-12-31: anything
outside is 400 with a message that says so."""

from __future__ import annotations

import pytest

from hilft.core.report import FIRST_REPORT_DAY, LAST_REPORT_DAY
from tests.security.inprocess import STAFF, answer, app_with_post

OUTSIDE = [
    {"to": "0001-01-05"}, {"to": "0001-01-01"}, {"from": "0001-01-01", "to": "0001-01-02"},
    {"from": "9999-12-30", "to": "9999-12-31"}, {"from": "9999-12-31"}, {"to": "9999-12-31"},
    {"from": "1999-12-31", "to": "2000-01-05"}, {"from": "2999-12-31", "to": "3000-01-01"},
    {"to": "2000-01-05"},  # its default start (28 days back) lies before the first day: clamped, see below
]


@pytest.fixture(scope="module")
def app():
    return app_with_post()[0]


@pytest.mark.parametrize("fmt", ["html", "csv"])
@pytest.mark.parametrize("query", OUTSIDE, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_report_days_outside_the_range_are_400_never_500(app, query, fmt):
    params = "&".join(f"{k}={v}" for k, v in {"view": "report", **query, "format": fmt}.items())
    response = answer(app, "board", method="GET", path="/?" + params, headers=STAFF)
    if query == {"to": "2000-01-05"}:
        assert response.status_code == 200, response.get_data(as_text=True)
        return
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert FIRST_REPORT_DAY.isoformat() in error and LAST_REPORT_DAY.isoformat() in error


def test_the_range_edges_themselves_are_reports(app):
    for query in (f"from={FIRST_REPORT_DAY}&to={FIRST_REPORT_DAY}", f"from={LAST_REPORT_DAY}&to={LAST_REPORT_DAY}"):
        response = answer(app, "board", method="GET", path=f"/?view=report&{query}", headers=STAFF)
        assert response.status_code == 200, response.get_data(as_text=True)
