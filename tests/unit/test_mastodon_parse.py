"""Mastodon's documented answers → hilft's models (pure parser)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hilft.channels.mastodon import parse
from hilft.core.models import Kind, Platform

DOCUMENTED = Path(__file__).resolve().parents[1] / "fixtures" / "mastodon" / "documented"
BRAND = "109000000000000001"
BRANDS = frozenset({BRAND})


def documented(name: str) -> Any:
    return json.loads((DOCUMENTED / name).read_text())


def test_mentions_replies_and_direct_mentions_are_posts_a_favourite_is_ignored() -> None:
    batch = parse.parse_notifications(parse.items_of(documented("notifications.json")), BRANDS, BRAND)
    assert batch.ignored == ("notification:favourite",)
    direct, reply, mention = batch.events  # newest first, as Mastodon answers
    assert mention.platform == Platform.MASTODON
    assert mention.post_id == "113521093340000001" and mention.kind == Kind.MENTION
    assert mention.text == ("@telkohilft seit gestern Abend kein Internet in Kiel-Gaarden, Router blinkt rot. "
                            "Störung bekannt?\n\nDanke & Gruß")
    assert mention.author.id == "110000000000000101" and mention.author.handle == "kabelsalat"
    assert mention.author.name == "Kabelsalat Kiel" and mention.author.followers == 12
    assert mention.mentioned_user_ids == (BRAND,)
    assert mention.created_at == datetime(2024, 11, 20, 8, 41, 12, 504000, tzinfo=UTC)
    assert mention.url == "https://social.example/@kabelsalat/113521093340000001"
    assert mention.lang == "de" and not mention.is_brand

    assert reply.kind == Kind.REPLY and reply.in_reply_to == "113521000000000001"
    assert reply.in_reply_to_author_id == BRAND
    assert reply.author.handle == "mia@chaos.example"  # a remote account keeps its instance

    assert direct.kind == Kind.DM and direct.recipient_id == BRAND
    assert "Kundennummer" in direct.text


def test_the_brands_own_statuses_are_brand_posts_its_reply_names_the_customer_post() -> None:
    reply, top = parse.parse_statuses(documented("account_statuses_brand.json"), BRANDS, BRAND).events
    assert reply.is_brand and reply.kind == Kind.REPLY and reply.in_reply_to == "113521093340000001"
    assert top.is_brand and top.in_reply_to is None


def test_the_brands_direct_answer_counts_as_its_reply_to_the_message() -> None:
    status = {**documented("account_statuses_brand.json")[0], "visibility": "direct"}
    (answer,) = parse.parse_statuses([status], BRANDS, BRAND).events
    assert answer.is_brand and answer.kind == Kind.REPLY and answer.in_reply_to == "113521093340000001"


def test_hashtag_timeline_html_becomes_text_with_the_full_link() -> None:
    (hit,) = parse.parse_statuses(documented("timeline_tag.json"), BRANDS, BRAND).events
    assert hit.text == "Schon wieder kein Netz #telkohilft https://www.example.org/stoerung/kiel"
    assert hit.mentioned_user_ids == () and not hit.is_brand


def test_search_answer_statuses() -> None:
    (hit,) = parse.parse_statuses(parse.statuses_of_search(documented("search_v2.json")), BRANDS, BRAND).events
    assert hit.text == "Telko hilft Störung: Festnetz tot in ganz Kiel."


def test_reblogs_are_not_posts() -> None:
    status = {**documented("timeline_tag.json")[0], "reblog": {"id": "1"}}
    assert parse.parse_statuses([status], BRANDS).events == ()


@pytest.mark.parametrize(("acct", "safe"), [
    ("kabelsalat", "kabelsalat"), ("mia@chaos.example", "mia@chaos.example"),
    ("evil <b>", None), ("a@b@c", None), ("", None), (None, None), ("x" * 31, None)])
def test_only_plain_account_names_are_ever_written_into_a_status(acct: Any, safe: str | None) -> None:
    assert parse.safe_acct(acct) == safe


@pytest.mark.parametrize("content", ["", None, "<p></p>", 5])
def test_empty_content_is_empty_text(content: Any) -> None:
    assert parse.html_to_text(content) == ""


def test_html_entities_and_line_breaks() -> None:
    assert parse.html_to_text("<p>a &lt;b&gt;<br>c</p><p>d&#39;e</p>") == "a <b>\nc\n\nd'e"


@pytest.mark.parametrize("body", [{}, "x", [None, 1], [{"type": "mention", "status": "x"}]])
def test_unexpected_shapes_yield_no_posts(body: Any) -> None:
    assert parse.parse_notifications(parse.items_of(body), BRANDS).events == ()
