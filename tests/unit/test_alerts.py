"""Pure alert builders: what on-call staff read in Slack, Chat, PagerDuty and a generic webhook."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hilft.core.alerts import (
    EXCERPT_LIMIT,
    Alert,
    AlertAction,
    alert_key,
    clean_text,
    clean_url,
    due_phrase,
    google_chat_message,
    lateness,
    pagerduty_event,
    sign_webhook,
    slack_message,
    truncate_excerpt,
    verify_webhook_signature,
    webhook_payload,
)
from hilft.core.errors import InvalidSignature

ROUTING_KEY = "R0UT1NGKEY0000000000000000000000"
DUE = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
LONG_TEXT = ("Mein Paket ist seit drei Wochen unterwegs und niemand antwortet mir, "
             "ich habe schon fünfmal angerufen und jedes Mal hieß es morgen kommt es. ") * 5


def make_alert(**changes: Any) -> Alert:
    alert = Alert(
        action=AlertAction.TRIGGER,
        level=1,
        platform="x",
        post_id="1890000000000000001",
        doc_id="a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2",
        author_handle="anna_k",
        excerpt="Where is my parcel? Ordered two weeks ago.",
        due_at=DUE,
        now=DUE + timedelta(minutes=25),
        url="https://x.com/anna_k/status/1890000000000000001",
        board_url="https://board.example/hilft",
    )
    return dataclasses.replace(alert, **changes)


def all_text(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)


# -- Alert value ----------------------------------------------------------------------------------


def test_alert_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_alert(now=datetime(2025, 3, 14, 9, 30))


def test_alert_refuses_a_negative_level() -> None:
    with pytest.raises(ValueError, match="level"):
        make_alert(level=-1)


def test_alert_key_is_stable_per_post_and_differs_between_posts() -> None:
    assert alert_key("doc-1") == alert_key("doc-1")
    assert alert_key("doc-1") != alert_key("doc-2")
    assert "doc-1" in alert_key("doc-1")


# -- lateness -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "expected"), [
    (timedelta(minutes=-12), "due in 12 min"),
    (timedelta(minutes=-11, seconds=-30), "due in 12 min"),  # rounds up before the deadline
    (timedelta(hours=-1), "due in 1 h"),
    (timedelta(seconds=0), "due now"),
    (timedelta(seconds=59), "due now"),
    (timedelta(minutes=1), "1 min overdue"),
    (timedelta(minutes=25, seconds=59), "25 min overdue"),  # rounds down after it: never exaggerates
    (timedelta(hours=3, minutes=5), "3 h 5 min overdue"),
    (timedelta(hours=2), "2 h overdue"),
    (timedelta(days=1, hours=4, minutes=10), "1 d 4 h overdue"),
])
def test_lateness_reads_like_a_person_would_say_it(offset: timedelta, expected: str) -> None:
    assert lateness(make_alert(now=DUE + offset)) == expected


def test_lateness_compares_instants_not_wall_clocks() -> None:
    berlin = timezone(timedelta(hours=1))
    alert = make_alert(now=datetime(2025, 3, 14, 10, 30, tzinfo=berlin))  # 09:30 UTC
    assert lateness(alert) == "30 min overdue"


# -- excerpt --------------------------------------------------------------------------------------


def test_excerpt_is_truncated_on_a_word_boundary() -> None:
    excerpt = truncate_excerpt(LONG_TEXT)
    assert len(excerpt) <= EXCERPT_LIMIT
    assert excerpt.endswith("…")
    assert LONG_TEXT.startswith(excerpt[:-1])
    assert LONG_TEXT[len(excerpt) - 1] == " "  # the cut fell between two words


def test_short_excerpt_is_kept_whole_with_whitespace_collapsed() -> None:
    assert truncate_excerpt("Hallo\n\n  wo   ist mein Paket?") == "Hallo wo ist mein Paket?"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600), st.integers(min_value=10, max_value=300))
def test_excerpt_never_exceeds_the_limit_and_is_a_prefix(text: str, limit: int) -> None:
    excerpt = truncate_excerpt(text, limit)
    flat = " ".join(text.split())
    assert len(excerpt) <= limit
    assert flat.startswith(excerpt.removesuffix("…").rstrip())


@pytest.mark.parametrize("builder", [
    slack_message, google_chat_message, webhook_payload, lambda a: pagerduty_event(a, ROUTING_KEY),
])
def test_no_alert_carries_the_full_post_text(builder) -> None:
    alert = make_alert(excerpt=LONG_TEXT)
    rendered = all_text(builder(alert))
    assert LONG_TEXT.strip() not in rendered
    assert truncate_excerpt(LONG_TEXT)[:-1] in rendered.replace("&amp;", "&")


# -- Slack ----------------------------------------------------------------------------------------


def test_slack_message_has_header_fields_excerpt_context_and_buttons() -> None:
    message = slack_message(make_alert())
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "context", "actions"]
    header = message["blocks"][0]["text"]
    assert header["type"] == "plain_text"
    assert "Overdue" in header["text"] and "@anna_k" in header["text"]
    fields = [field["text"] for field in message["blocks"][1]["fields"]]
    assert fields[:3] == ["*Platform*\nX", "*Author*\n@anna_k", "*How late*\n25 min overdue"]
    assert message["blocks"][2]["text"]["text"] == "> Where is my parcel? Ordered two weeks ago."
    buttons = message["blocks"][4]["elements"]
    assert [(b["action_id"], b["url"]) for b in buttons] == [
        ("open_post", "https://x.com/anna_k/status/1890000000000000001"),
        ("open_board", "https://board.example/hilft"),
    ]
    assert "25 min overdue" in message["text"]


def test_slack_warning_says_due_soon() -> None:
    message = slack_message(make_alert(level=0, now=DUE - timedelta(minutes=15)))
    assert message["blocks"][0]["text"]["text"].startswith("⏰ Due soon")
    assert "due in 15 min" in message["text"]


def test_slack_escapes_control_sequences_so_a_post_cannot_ping_the_channel() -> None:
    message = slack_message(make_alert(excerpt="<!channel> look at <https://evil.example|this> & more"))
    quoted = message["blocks"][2]["text"]["text"]
    assert "<!channel>" not in quoted and "<https://" not in quoted
    assert "&lt;!channel&gt;" in quoted and "&amp; more" in quoted


def test_slack_leaves_out_buttons_without_urls_and_the_excerpt_when_empty() -> None:
    message = slack_message(make_alert(url=None, board_url=None, excerpt="  "))
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "context"]


def test_slack_shows_the_department_when_handed_off() -> None:
    fields = slack_message(make_alert(department="Billing"))["blocks"][1]["fields"]
    assert {"type": "mrkdwn", "text": "*Department*\nBilling"} in fields


def test_slack_resolve_is_a_short_answered_note() -> None:
    message = slack_message(make_alert(action=AlertAction.RESOLVE, now=DUE + timedelta(minutes=20)))
    assert "answered 20 min after due" in message["text"]
    assert len(message["blocks"]) == 1
    assert "Where is my parcel" not in all_text(message)


def test_slack_resolve_before_due_says_in_time() -> None:
    message = slack_message(make_alert(action=AlertAction.RESOLVE, now=DUE - timedelta(minutes=5)))
    assert "answered in time" in message["text"]


# -- Google Chat ----------------------------------------------------------------------------------


def test_chat_escalations_share_one_thread() -> None:
    keys = {google_chat_message(make_alert(level=level))["thread"]["threadKey"] for level in range(4)}
    keys.add(google_chat_message(make_alert(action=AlertAction.RESOLVE))["thread"]["threadKey"])
    assert keys == {alert_key(make_alert().doc_id)}


def test_chat_card_shows_fields_excerpt_and_link_buttons() -> None:
    message = google_chat_message(make_alert())
    card = message["cardsV2"][0]["card"]
    widgets = card["sections"][0]["widgets"]
    labelled = {w["decoratedText"]["topLabel"]: w["decoratedText"]["text"] for w in widgets if "decoratedText" in w}
    assert labelled["Platform"] == "X" and labelled["Author"] == "@anna_k"
    assert labelled["How late"] == "25 min overdue"
    buttons = next(w["buttonList"]["buttons"] for w in widgets if "buttonList" in w)
    assert [b["onClick"]["openLink"]["url"] for b in buttons] == [make_alert().url, make_alert().board_url]
    assert "overdue" in card["header"]["subtitle"]


def test_chat_escapes_html_in_cards_and_defuses_mentions_in_text() -> None:
    message = google_chat_message(make_alert(excerpt="<b>hi</b> <users/all>", author_handle="<users/all>"))
    paragraph = next(w["textParagraph"]["text"] for w in message["cardsV2"][0]["card"]["sections"][0]["widgets"]
                     if "textParagraph" in w)
    assert paragraph == "<i>&lt;b&gt;hi&lt;/b&gt; &lt;users/all&gt;</i>"
    assert "<users/all>" not in message["text"]


def test_chat_acknowledge_is_a_short_note_in_the_thread() -> None:
    message = google_chat_message(make_alert(action=AlertAction.ACKNOWLEDGE))
    assert "cardsV2" not in message
    assert "Acknowledged" in message["text"]
    assert message["thread"] == {"threadKey": alert_key(make_alert().doc_id)}


# -- PagerDuty ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "severity"), [(0, "warning"), (1, "warning"), (2, "error"),
                                                 (3, "critical"), (7, "critical")])
def test_pagerduty_severity_rises_with_the_level(level: int, severity: str) -> None:
    assert pagerduty_event(make_alert(level=level), ROUTING_KEY)["payload"]["severity"] == severity


def test_pagerduty_trigger_carries_summary_source_component_group_and_links() -> None:
    event = pagerduty_event(make_alert(), ROUTING_KEY)
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    payload = event["payload"]
    assert payload["summary"].startswith("Overdue: X post by @anna_k (was due today 09:00 UTC, 25 min ago)")
    assert (payload["source"], payload["component"], payload["group"]) == ("hilft", "x", "social-care")
    assert payload["timestamp"] == "2025-03-14T09:25:00+00:00"
    assert payload["custom_details"]["post_id"] == "1890000000000000001"
    assert [link["href"] for link in event["links"]] == [make_alert().url, make_alert().board_url]


def test_pagerduty_resolve_uses_same_dedup_key_as_trigger() -> None:
    trigger = pagerduty_event(make_alert(), ROUTING_KEY)
    resolve = pagerduty_event(make_alert(action=AlertAction.RESOLVE), ROUTING_KEY)
    acknowledge = pagerduty_event(make_alert(action=AlertAction.ACKNOWLEDGE), ROUTING_KEY)
    assert trigger["dedup_key"] == resolve["dedup_key"] == acknowledge["dedup_key"]
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": trigger["dedup_key"]}
    assert acknowledge["event_action"] == "acknowledge" and "payload" not in acknowledge


def test_pagerduty_summary_stays_within_1024_characters() -> None:
    event = pagerduty_event(make_alert(author_handle="h" * 2000, excerpt=LONG_TEXT), ROUTING_KEY)
    assert len(event["payload"]["summary"]) <= 1024


# -- generic webhook ------------------------------------------------------------------------------


def test_webhook_payload_describes_the_alert_with_iso_times() -> None:
    payload = webhook_payload(make_alert(level=2))
    assert payload["event"] == "triggered"
    assert payload["level"] == 2 and payload["kind"] == "overdue"
    assert payload["due_at"] == "2025-03-14T09:00:00+00:00"
    assert payload["platform"] == "x" and payload["post_id"] == "1890000000000000001"
    assert payload["url"] == make_alert().url and payload["board_url"] == make_alert().board_url
    assert payload["alert_key"] == alert_key(make_alert().doc_id)


def test_webhook_payload_of_a_resolve_is_resolved() -> None:
    payload = webhook_payload(make_alert(action=AlertAction.RESOLVE))
    assert payload["event"] == "resolved"
    assert payload["how_late"] == "answered 25 min after due"


def test_webhook_delivery_id_is_stable_for_a_redelivery_and_differs_per_level() -> None:
    assert webhook_payload(make_alert())["id"] == webhook_payload(make_alert())["id"]
    assert webhook_payload(make_alert(level=1))["id"] != webhook_payload(make_alert(level=2))["id"]


def test_sign_webhook_follows_the_documented_scheme() -> None:
    body = b'{"event":"triggered"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign_webhook(body, "s3cret", 1700000000) == f"t=1700000000,v1={expected}"


def test_verify_webhook_signature_accepts_a_fresh_signature() -> None:
    body = b'{"event":"resolved"}'
    verify_webhook_signature(body, sign_webhook(body, "s3cret", 1000), "s3cret", now=1100)


def test_verify_webhook_signature_accepts_any_matching_v1_during_rotation() -> None:
    body = b"{}"
    new = sign_webhook(body, "new-secret", 1000)
    old_v1 = sign_webhook(body, "old-secret", 1000).split(",")[1]
    verify_webhook_signature(body, f"{new},{old_v1}", "old-secret", now=1000)


@pytest.mark.parametrize(("body", "header", "secret", "now"), [
    (b'{"event":"resolved","x":1}', sign_webhook(b'{"event":"resolved"}', "s3cret", 1000), "s3cret", 1000),
    (b"{}", sign_webhook(b"{}", "other", 1000), "s3cret", 1000),
    (b"{}", sign_webhook(b"{}", "s3cret", 1000), "s3cret", 1000 + 301),
    (b"{}", sign_webhook(b"{}", "s3cret", 1000), "s3cret", 1000 - 301),
    (b"{}", None, "s3cret", 1000),
    (b"{}", sign_webhook(b"{}", "s3cret", 1000), None, 1000),
    (b"{}", "v1=deadbeef", "s3cret", 1000),
    (b"{}", "t=1000", "s3cret", 1000),
])
def test_verify_webhook_signature_fails_closed(body: bytes, header: str | None, secret: str | None,
                                               now: int) -> None:
    with pytest.raises(InvalidSignature):
        verify_webhook_signature(body, header, secret, now=now)


def test_signing_with_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        sign_webhook(b"{}", "", 1000)


# -- the due time, in the policy's zone -----------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_0855 = datetime(2026, 11, 23, 7, 55, tzinfo=UTC)  # the Friday-evening post's due time


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 23, 4, 43, tzinfo=UTC), "due today 08:55 CET, 3 h 12 min from now"),
        (datetime(2026, 11, 20, 18, 55, tzinfo=UTC), "due Monday 08:55 CET, 2 d 13 h from now"),
        (datetime(2026, 11, 22, 22, 0, tzinfo=UTC), "due tomorrow 08:55 CET, 9 h 55 min from now"),
        (datetime(2026, 11, 23, 7, 55, 30, tzinfo=UTC), "due today 08:55 CET, now"),
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "was due today 08:55 CET, 1 h 5 min ago"),
        (datetime(2026, 11, 10, 9, 0, tzinfo=UTC), "due Mon 23 Nov 08:55 CET, 12 d 22 h from now"),
    ],
)
def test_the_due_time_is_told_on_the_policy_wall_clock_with_its_distance(now: datetime, expected: str) -> None:
    assert due_phrase(make_alert(due_at=MONDAY_0855, now=now, timezone=BERLIN)) == expected


def test_every_sink_shows_the_due_time_in_the_policy_zone() -> None:
    alert = make_alert(due_at=MONDAY_0855, now=datetime(2026, 11, 23, 4, 43, tzinfo=UTC), timezone=BERLIN)
    phrase = "due today 08:55 CET, 3 h 12 min from now"
    assert {"type": "mrkdwn", "text": f"*Due*\n{phrase}"} in slack_message(alert)["blocks"][1]["fields"]
    assert phrase in all_text(google_chat_message(alert))
    assert phrase in pagerduty_event(alert, ROUTING_KEY)["payload"]["summary"]
    assert webhook_payload(alert)["due"] == phrase


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("anna\n> fake line", "anna > fake line"), ("\u202eanna", "anna"), ("a\u200bb", "ab"), ("\ud800x", "x"),
     ("  many   spaces ", "many spaces"), ("tab\there", "tab here")],
)
def test_values_from_outside_become_one_visible_line(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert make_alert(author_handle=raw).author_handle == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("https://x.com/a/status/1", "https://x.com/a/status/1"), ("javascript:alert(1)", None),
     ("https://evil.example/a|<!channel>", "https://evil.example/a%7C%3C!channel%3E"), ("", None),
     ("https://ex.example/a b", "https://ex.example/a%20b"), ("//no-scheme.example", None)],
)
def test_urls_are_http_and_safe_inside_a_slack_link(raw: str, clean: str | None) -> None:
    assert clean_url(raw) == clean
