"""Known answers: one body per documented event kind, shaped like the platform's published example.

``tests/fixtures/<platform>/documented/`` holds one file per event kind the platforms document for
the subscriptions hilft registers (X: Account Activity and X Activity API; Meta: Page ``feed``,
``mention``, Messenger ``messages``/``message_echoes``/``standby``, Instagram ``comments``,
``mentions``, ``messages``); ``SOURCES.md`` beside them names the documentation page each follows.
For every file this test states what hilft must extract: the events with their decisive fields,
or the names it counts as ignored. A file without an expectation (or the reverse) fails, so every
documented kind is either handled or explicitly ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hilft.channels.meta import parse as meta
from hilft.channels.x import parse as x
from hilft.core.models import AccessRevoked, Deletion, Kind, Mention, ParsedBatch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
X_BRAND = "1000000001"
PAGE_ID = "110000000000001"
IG_ID = "17841400000000001"


def parse(platform: str, body: bytes) -> ParsedBatch:
    if platform == "x":
        return x.parse(body, brand_user_ids=frozenset({X_BRAND}))
    return meta.parse(body, page_ids=frozenset({PAGE_ID}), ig_user_ids=frozenset({IG_ID}))


def M(**fields: Any) -> tuple[type, dict[str, Any]]:  # noqa: N802 - reads like a table row
    return Mention, fields


def D(**fields: Any) -> tuple[type, dict[str, Any]]:  # noqa: N802
    return Deletion, fields


def R(**fields: Any) -> tuple[type, dict[str, Any]]:  # noqa: N802
    return AccessRevoked, fields


# file -> (events, each as (class, expected fields); names counted as ignored)
EXPECTED: dict[str, dict[str, tuple[list[tuple[type, dict[str, Any]]], tuple[str, ...]]]] = {
    "x": {
        # Account Activity API
        "aaa_tweet_create_mention.json": ([M(post_id="1955000000000000001", kind=Kind.MENTION, is_brand=False,
                                             author_handle="kabelsalat_kiel", mentioned=(X_BRAND,),
                                             text_has="Router blinkt rot")], ()),
        "aaa_tweet_create_reply.json": ([M(post_id="1955000000000000002", kind=Kind.REPLY,
                                           in_reply_to="1954000000000000001", in_reply_to_author_id=X_BRAND)], ()),
        "aaa_tweet_create_quote.json": ([M(post_id="1955000000000000003", kind=Kind.MENTION, mentioned=(),
                                           quoted_author_id=X_BRAND, text_has="danke f\u00fcr nichts")], ()),
        "aaa_tweet_create_retweet.json": ([], ("retweet",)),
        "aaa_tweet_create_edited.json": ([M(post_id="1955000000000000009", edit_of="1955000000000000001",
                                            edit_rank=1, text_has="Kundennummer")], ()),
        "aaa_favorite_events.json": ([], ("favorite_events",)),
        "aaa_follow_events.json": ([], ("follow_events",)),
        "aaa_follow_events_unfollow.json": ([], ("follow_events",)),
        "aaa_block_events.json": ([], ("block_events",)),
        "aaa_mute_events.json": ([], ("mute_events",)),
        "aaa_user_event_revoke.json": ([R(account_id=X_BRAND, source="user_event.revoke",
                                          revoked_at=datetime(2026, 8, 12, 9, 48, 12, tzinfo=UTC))], ()),
        "aaa_direct_message_events.json": ([M(post_id="1955100000000000001", kind=Kind.DM, is_brand=False,
                                              conversation_id=f"{X_BRAND}-1472583690",
                                              author_handle="kabelsalat_kiel")], ()),
        "aaa_direct_message_indicate_typing_events.json": ([], ("direct_message_indicate_typing_events",)),
        "aaa_direct_message_mark_read_events.json": ([], ("direct_message_mark_read_events",)),
        "aaa_tweet_delete_events.json": ([D(post_id="1955000000000000001", author_id="1472583690")], ()),
        # X Activity API
        "xaa_post_mention_create.json": ([M(post_id="2080765813578191303", kind=Kind.MENTION, is_brand=False,
                                            author_handle="lisa_wlan_los", mentioned=(X_BRAND,),
                                            brand_account_id=X_BRAND)], ()),
        "xaa_post_mention_create_edited.json": ([M(post_id="2080765999999999999", edit_of="2080765813578191303",
                                                   edit_rank=1, text_has="0171")], ()),
        "xaa_post_reply_create.json": ([M(post_id="2090000000000000001", kind=Kind.REPLY, is_brand=False,
                                          in_reply_to="2080761390344937796", in_reply_to_author_id=X_BRAND,
                                          author_handle="kabelsalat_kiel", author_followers=348)], ()),
        "xaa_post_quote_create.json": ([M(post_id="2090000000000000002", kind=Kind.MENTION, is_brand=False,
                                          quoted_author_id=X_BRAND, mentioned=(), author_handle="elif_glasfaser")],
                                       ()),
        "xaa_post_repost_create.json": ([], ("post.repost.create",)),
        # Filtered Stream deliveries (the radar, issue 17)
        "stream_post_radar.json": ([M(post_id="2080770000000000001", kind=Kind.MENTION, is_brand=False, mentioned=(),
                                      author_handle="bonner_jan", text_has="53113 Bonn")], ()),
        "stream_post_reply_to_brand.json": ([M(post_id="2080770000000000002", kind=Kind.REPLY,
                                               in_reply_to="2080765813578191000", in_reply_to_author_id=X_BRAND,
                                               mentioned=(X_BRAND,))], ()),
        "stream_post_retweet.json": ([], ("stream.retweet",)),
        "xaa_post_create.json": ([M(post_id="2080766000000000001", kind=Kind.REPLY, is_brand=True,
                                    in_reply_to="2080765813578191303")], ()),
        "xaa_post_delete.json": ([D(post_id="2080765813578191303")], ()),
        "xaa_chat_received.json": ([M(post_id="e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6", kind=Kind.DM, is_brand=False,
                                      encrypted=True, text="", recipient_id=X_BRAND,
                                      conversation_id=f"1688877766655544433:{X_BRAND}")], ()),
        "xaa_chat_sent.json": ([M(kind=Kind.DM, is_brand=True, encrypted=True, text="",
                                  recipient_id="1688877766655544433")], ()),
        "xaa_chat_conversation_join.json": ([], ("chat.conversation_join",)),
        "xaa_dm_received.json": ([M(post_id="2080765901528535096", kind=Kind.DM, is_brand=False,
                                    author_handle="lisa_wlan_los")], ()),
        "xaa_dm_sent.json": ([M(post_id="2080763914820927863", kind=Kind.DM, is_brand=True)], ()),
        "xaa_like_create.json": ([], ("like.create",)),
        "xaa_follow_follow.json": ([], ("follow.follow",)),
        "xaa_profile_update_bio.json": ([], ("profile.update.bio",)),
        "xaa_oauth_revoke.json": ([R(account_id=X_BRAND, source="oauth.revoke")], ()),
    },
    "meta": {
        "page_feed_comment_add.json": ([M(post_id="820000000000001_930000000000001", kind=Kind.REPLY,
                                          author_id="7300000000000101", is_brand=False,
                                          in_reply_to=f"{PAGE_ID}_820000000000001", text_has="Festnetz")], ()),
        "page_feed_status_add.json": ([M(post_id=f"{PAGE_ID}_820000000000002", kind=Kind.MENTION,
                                         author_id="7300000000000102")], ()),
        "page_feed_comment_edited.json": ([M(post_id="820000000000001_930000000000001",
                                             edit_of="820000000000001_930000000000001", text_has="0221",
                                             edited_at=datetime.fromtimestamp(1786528900, UTC))], ()),
        "page_feed_status_edited.json": ([M(post_id=f"{PAGE_ID}_820000000000002", kind=Kind.MENTION,
                                            edit_of=f"{PAGE_ID}_820000000000002", author_id="7300000000000102",
                                            text_has="0228 1234567")], ()),
        "page_feed_post_edited.json": ([M(post_id=f"{PAGE_ID}_820000000000003", kind=Kind.MENTION,
                                          edit_of=f"{PAGE_ID}_820000000000003", text_has="Bonn")], ()),
        "page_feed_comment_hide.json": ([], ("feed:comment:hide",)),
        "page_feed_comment_unhide.json": ([], ("feed:comment:unhide",)),
        "page_feed_comment_remove.json": ([D(post_id="820000000000001_930000000000001",
                                             author_id="7300000000000101")], ()),
        "page_feed_reaction.json": ([], ("feed:reaction",)),
        "page_feed_share.json": ([], ("feed:share",)),
        "page_mention_post.json": ([M(post_id="7300000000000104_840000000000001", kind=Kind.MENTION, text="",
                                      needs_enrichment=True, author_id="7300000000000104")], ()),
        "page_mention_post_edited.json": ([M(post_id="7300000000000104_840000000000001", kind=Kind.MENTION,
                                             text="", needs_enrichment=True,
                                             edit_of="7300000000000104_840000000000001")], ()),
        "page_mention_comment.json": ([M(post_id="840000000000002_960000000000001", kind=Kind.MENTION, text="",
                                         needs_enrichment=True,
                                         in_reply_to="7300000000000105_840000000000002")], ()),
        "messenger_messages.json": ([M(post_id="m_AbCdEf0123456789documented01", kind=Kind.DM, is_brand=False,
                                       conversation_id="24000000000000101")], ()),
        "messenger_message_attachments.json": ([M(post_id="m_AbCdEf0123456789documented05", kind=Kind.DM,
                                                  is_brand=False, text="", conversation_id="24000000000000101")],
                                               ()),
        "messenger_message_echoes.json": ([M(kind=Kind.DM, is_brand=True, conversation_id="24000000000000101")],
                                          ()),
        "messenger_standby.json": ([M(post_id="m_AbCdEf0123456789documented03", kind=Kind.DM, is_brand=False,
                                      conversation_id="24000000000000101", text_has="immer noch")], ()),
        "messenger_standby_echo.json": ([M(kind=Kind.DM, is_brand=True, conversation_id="24000000000000101")], ()),
        "messenger_message_reads.json": ([], ("messaging:read",)),
        "messenger_message_deliveries.json": ([], ("messaging:delivery",)),
        "messenger_messaging_postbacks.json": ([], ("messaging:postback",)),
        "messenger_messages_numeric_ids.json": ([M(kind=Kind.DM, author_id="24000000000000101",
                                                   brand_account_id=PAGE_ID, recipient_id=PAGE_ID,
                                                   conversation_id="24000000000000101")], ()),
        "instagram_comments.json": ([M(post_id="17950000000000101", kind=Kind.REPLY, author_handle="lena_loewenzahn",
                                       in_reply_to="17900000000000001", brand_account_id=IG_ID)], ()),
        "instagram_comments_instagram_login.json": ([M(post_id="17950000000000102", kind=Kind.REPLY,
                                                       author_handle="tom_tegernsee", text_has="WLAN")], ()),
        "instagram_mentions_comment.json": ([M(post_id="17950000000000177", kind=Kind.MENTION, text="",
                                               needs_enrichment=True, in_reply_to="17900000000000077")], ()),
        "instagram_mentions_caption.json": ([M(post_id="17900000000000099", kind=Kind.MENTION, text="",
                                               needs_enrichment=True, in_reply_to=None)], ()),
        "instagram_story_insights.json": ([], ("instagram:story_insights",)),
        "instagram_messages.json": ([M(kind=Kind.DM, is_brand=False, author_id="6140000000000103",
                                       text_has="SIM")], ()),
        "instagram_messages_echo.json": ([M(kind=Kind.DM, is_brand=True, conversation_id="6140000000000103")], ()),
    },
}

CASES = [(platform, name) for platform, files in EXPECTED.items() for name in files]


def _check(event: Any, cls: type, fields: dict[str, Any]) -> None:
    assert isinstance(event, cls), f"expected {cls.__name__}, got {type(event).__name__}"
    for key, want in fields.items():
        if key == "text_has":
            assert want in event.text
        elif key == "mentioned":
            assert event.mentioned_user_ids == want
        elif key.startswith("author_") and key != "author_id" or key == "author_id" and cls is Mention:
            assert getattr(event.author, key.removeprefix("author_")) == want, key
        else:
            assert getattr(event, key) == want, key


@pytest.mark.parametrize(("platform", "name"), CASES, ids=[f"{p}/{n}" for p, n in CASES])
def test_each_documented_event_kind_yields_what_hilft_must_extract(platform: str, name: str) -> None:
    events, ignored = EXPECTED[platform][name]
    batch = parse(platform, (FIXTURES / platform / "documented" / name).read_bytes())
    assert batch.ignored == ignored
    assert len(batch.events) == len(events), batch.events
    for event, (cls, fields) in zip(batch.events, events, strict=True):
        _check(event, cls, fields)
        if isinstance(event, Mention):
            assert event.created_at.tzinfo is not None


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_every_documented_file_has_an_expectation_and_a_named_source(platform: str) -> None:
    folder = FIXTURES / platform / "documented"
    files = {path.name for path in folder.glob("*.json")}
    assert files == set(EXPECTED[platform]), "a documented payload without an expectation, or the reverse"
    sources = (folder / "SOURCES.md").read_text()
    for name in files:
        row = next((line for line in sources.splitlines() if f"`{name}`" in line), "")
        assert "https://" in row, f"SOURCES.md names no documentation page for {name}"
