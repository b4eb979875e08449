"""The on-call board in headless Chromium against the local stack: an overdue post is listed
with a live clock, acknowledging it from the page persists in Firestore and updates the row,
a post carrying ``<script>`` stays inert text, the chart renders; a screenshot is kept in
test-artifacts/board.png."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.alert_proof import doc_id_of
from tests.conftest import ROOT
from tests.e2e.builders import BRAND_ID, aaa_tweet, brand_reply
from tests.e2e.conftest import STAFF_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.emulator, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ATTACK = '<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">'
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (make setup does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  extra_http_headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


def overdue(e2e: Any, post_id: str) -> Any:
    return lambda: (e2e.mention("x", post_id) or {}).get("status") == "overdue"


def test_board_lists_overdue_posts_and_acknowledges_from_the_page(e2e, page):
    # Written two seconds before the others: due two seconds earlier, so listed first.
    late_id, late = aaa_tweet("Seit heute früh kein UMTS-Empfang in Bonn, was ist da los?",
                              handle="sven_meister", name="Sven Meister",
                              at=datetime.now(UTC) - timedelta(seconds=2))
    attack_id, attack = aaa_tweet(ATTACK, user_id="2210000099", handle="mallory", name="Mallory")
    answered_id, answered = aaa_tweet("Festnetz in Kiel tot, Störung bekannt?", user_id="2210000098",
                                      handle="jana_kiel", name="Jana")
    for body in (late, attack, answered):
        assert e2e.post_x(body).status_code == 200
    assert e2e.post_x(brand_reply(answered_id, "2210000098")[1]).status_code == 200
    e2e.wait(overdue(e2e, late_id), timeout=20, what="the first post to fall overdue")
    e2e.wait(overdue(e2e, attack_id), timeout=20, what="the second post to fall overdue")

    response = page.goto(e2e.url("board") + "/?window=30m")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'nonce-" in csp and "unsafe-inline" not in csp

    late_row = page.locator(f'tr[data-doc-id="{doc_id_of(late_id)}"]')
    attack_row = page.locator(f'tr[data-doc-id="{doc_id_of(attack_id)}"]')
    assert late_row.count() == 1 and attack_row.count() == 1
    assert page.locator(f'tr[data-doc-id="{doc_id_of(answered_id)}"]').count() == 0, "answered posts leave"
    assert late_row.locator("td.clock .countdown").inner_text().startswith("late ")
    assert late_row.locator("td.clock .due").inner_text().startswith("due ")  # the due time itself
    assert late_row.locator(".badge").inner_text() == "overdue"
    # Sorted by lateness: the post that fell due first comes first.
    rows = page.locator("#rows tr").evaluate_all("rows => rows.map(r => r.dataset.docId)")
    assert rows.index(doc_id_of(late_id)) < rows.index(doc_id_of(attack_id))

    # The attacker's text is shown as text, and none of it ran.
    assert ATTACK in attack_row.locator("td.text").inner_text()
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert attack_row.locator("script, img").count() == 0

    # The chart: server-rendered SVG with a bar for the answered post and the promise line.
    chart = page.locator("svg#chart")
    assert chart.count() == 1 and chart.is_visible()
    assert chart.locator("rect.bar").count() == 1  # one answered post: one bucket with a median
    assert "promise" in (chart.text_content() or "")

    # The live clock ticks in the browser.
    first = page.locator("tr[data-due] td.clock .countdown").first.inner_text()
    page.wait_for_function(
        "text => document.querySelector('tr[data-due] td.clock .countdown').textContent !== text",
        arg=first, timeout=5000)

    late_row.locator("button.ack").click()
    doc = e2e.wait(lambda: (e2e.mention("x", late_id) or {}) if (e2e.mention("x", late_id) or {}).get(
        "acknowledged") else None, timeout=10, what="acknowledged in Firestore")
    assert doc["acknowledged_by"] == "staff"
    page.locator(f'tr[data-doc-id="{doc_id_of(late_id)}"] .acked').wait_for(timeout=10_000)
    assert page.locator(f'tr[data-doc-id="{doc_id_of(attack_id)}"] button.ack').count() == 1

    # After the JSON refresh re-rendered the rows, the attacker's text is still inert.
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert ATTACK in page.locator(f'tr[data-doc-id="{doc_id_of(attack_id)}"] td.text').inner_text()
    assert page.errors == []

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)


def test_board_json_and_refused_cross_site_actions(e2e):
    post_id, body = aaa_tweet("Hotspot-Login am Hauptbahnhof klappt nicht.")
    assert e2e.post_x(body).status_code == 200
    auth = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    data = e2e.http.get(e2e.url("board") + "/?format=json", headers=auth).json()
    item = next(i for i in data["items"] if i["doc_id"] == doc_id_of(post_id))
    assert item["state"] in ("open", "at_risk") and item["acknowledged"] is False
    assert {d["name"] for d in data["departments"]} >= {"kundenservice", "rechnung", "festnetz"}

    assert e2e.http.get(e2e.url("board") + "/?format=json").status_code == 401, "the board needs staff auth"
    action = e2e.url("board") + "/?action=ack"
    # A form on another site can neither set the board header nor pass the origin check.
    no_header = e2e.http.post(action, json={"doc_id": doc_id_of(post_id)}, headers=auth)
    foreign = e2e.http.post(action, json={"doc_id": doc_id_of(post_id)},
                            headers={**auth, "X-Hilft-Board": "1", "Origin": "https://evil.example"})
    assert (no_header.status_code, foreign.status_code) == (403, 403)
    assert (e2e.mention("x", post_id) or {}).get("acknowledged") is False


def test_an_incident_is_one_row_its_posts_fold_under_it_and_one_click_answers_them_all(e2e, tasks_client, page):
    import re
    import time

    from hilft.core.outage import slot_of, slot_start
    from tests.conftest import FIXTURES
    from tests.e2e.test_outage_incidents import _sweep

    reply = tomllib.loads((FIXTURES / "policy" / "e2e.toml").read_text())["outage"]["incident_reply"]
    posts = []
    for _ in range(10):  # a burst naming one topic and place: an outage
        post_id, body = aaa_tweet("Störung: DSL weg in 53113 Bonn, Router blinkt rot.")
        assert e2e.post_x(body).status_code == 200
        posts.append(post_id)
    lone_id, lone = aaa_tweet("Wie ändere ich meinen Tarif?", user_id="2210000097", handle="tarif_frage")
    assert e2e.post_x(lone).status_code == 200
    last_slot = slot_of(e2e.mention("x", posts[-1])["received_at"], 20)  # 20 s slots, read 5 s after they end
    time.sleep(max(0.0, slot_start(last_slot + 1, 20).timestamp() + 6 - time.time()))
    _sweep(e2e, tasks_client)
    incident_id = e2e.wait(lambda: {(e2e.mention("x", p) or {}).get("incident_id") for p in posts} - {None},
                           timeout=15, what="the posts marked as the incident's").pop()

    page.on("dialog", lambda dialog: dialog.accept())  # the confirm that shows the public text
    assert page.goto(e2e.url("board") + "/?window=30m").status == 200
    row = page.locator(f'tr[data-incident-id="{incident_id}"]')
    assert row.count() == 1
    assert re.fullmatch(r"Störung Festnetz & Internet, 53113 Bonn — \d+ posts in \d+ min",
                        row.locator(".headline").inner_text())
    assert row.locator("td.clock .due").inner_text().startswith("oldest due ")
    members = page.locator(f'tr[data-member-of="{incident_id}"]')
    assert members.count() == 10 and not any(members.nth(i).is_visible() for i in range(10))
    assert page.locator(f'tr[data-doc-id="{doc_id_of(lone_id)}"]').is_visible()

    row.locator("button.expand").click()
    members.first.wait_for(state="visible", timeout=5000)
    assert all(members.nth(i).is_visible() for i in range(10))
    page.wait_for_timeout(5500)  # one refresh re-renders the rows: the incident stays expanded
    assert page.locator(f'tr[data-member-of="{incident_id}"]').first.is_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-incident.png"), full_page=True)

    page.locator(f'tr[data-incident-id="{incident_id}"] button.reply-incident').click()

    def all_replied() -> list[dict[str, Any]] | None:
        found = [r for r in e2e.fakes.x.replies if r["in_reply_to_tweet_id"] in posts]
        return found if len(found) == len(posts) else None
    replies = e2e.wait(all_replied, timeout=30, what="the known-outage reply to each post")
    assert {r["in_reply_to_tweet_id"] for r in replies} == set(posts)
    assert all(r["text"].endswith(reply) for r in replies)
    incident = e2e.db.collection("incidents").document(incident_id).get().to_dict()
    assert incident["status"] == "acknowledged" and incident["acknowledged_by"] == "staff"
    e2e.wait(lambda: all(e2e.mention("x", p)["status"] == "answered" for p in posts), timeout=15,
             what="the reply to count as each post's first response")
    page.locator(f'tr[data-incident-id="{incident_id}"]').wait_for(state="detached", timeout=10_000)
    assert page.errors == []


def test_the_german_board_stays_german_after_its_refresh(e2e, page):
    post_id, body = aaa_tweet("Seit Stunden kein Internet in Kiel.")
    assert e2e.post_x(body).status_code == 200
    assert page.goto(e2e.url("board") + "/?lang=de").status == 200
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('aktualisiert')",
                           timeout=10_000)  # the rows and the chart were rebuilt from ?format=json / svg
    row = page.locator(f'tr[data-doc-id="{doc_id_of(post_id)}"]')
    assert row.locator("td.clock .due").inner_text().startswith("fällig ")
    assert row.locator("td.clock .countdown").inner_text().split()[0] in ("noch", "überfällig")
    assert "Versprechen" in (page.locator("svg#chart").text_content() or "")
    assert page.errors == []


def test_closing_messages_appear_on_refresh_and_leave_only_once_reopened(e2e, page):
    """The quiet list is refreshed like the rows (it was server-rendered only, and missing when empty
    at load); a reopen that fails keeps its row, says so, and can be tried again."""
    assert page.goto(e2e.url("board") + "/").status == 200
    assert page.locator("#quiet-section").is_hidden()  # nothing quiet yet: the section waits, hidden

    post_id, post = aaa_tweet("Seit heute früh kein Internet in Kiel", user_id="3300000002")
    assert e2e.post_x(post).status_code == 200
    reply_id, reply = brand_reply(post_id, "3300000002")
    assert e2e.post_x(reply).status_code == 200
    thanks_id, thanks = aaa_tweet("Danke, läuft wieder!", user_id="3300000002", reply_to=reply_id,
                                  reply_to_user=BRAND_ID)
    assert e2e.post_x(thanks).status_code == 200
    assert e2e.mention("x", thanks_id)["status"] == "no_reply_needed"

    row = page.locator(f'#quiet tr[data-doc-id="{doc_id_of(thanks_id)}"]')
    row.wait_for(timeout=15_000)  # brought by the JSON refresh
    assert page.locator("#quiet-section").is_visible() and "Danke, läuft wieder!" in row.inner_text()

    # The post is gone by the time staff click (another tab, its retention): the server says 404.
    gone = "0" * 40
    page.evaluate("([from, to]) => { document.querySelector(`#quiet tr[data-doc-id='${from}']`).dataset.docId = to; }",
                  [doc_id_of(thanks_id), gone])
    page.locator(f'#quiet tr[data-doc-id="{gone}"] button.reopen-btn').click()
    page.wait_for_function("() => document.getElementById('status').textContent.includes('failed')",
                           timeout=10_000)
    assert page.locator("#quiet tr").count() == 1, "a failed reopen keeps the row"
    assert e2e.mention("x", thanks_id)["status"] == "no_reply_needed"

    # The next refresh lists it under its own id again; now the reopen goes through and the row leaves.
    row.wait_for(timeout=15_000)
    row.locator("button.reopen-btn").click()
    e2e.wait(lambda: e2e.mention("x", thanks_id)["status"] == "open", timeout=10, what="the post reopened")
    row.wait_for(state="detached", timeout=10_000)
    page.locator(f'#rows tr[data-doc-id="{doc_id_of(thanks_id)}"]').wait_for(timeout=15_000)
    assert page.locator("#quiet-section").is_hidden()
    assert page.errors == []
