"""Known answers: one body per documented event kind, shaped like the platform's published example.

``tests/fixtures/<platform>/documented/`` holds one file per event kind the platforms document for
the subscriptions hilft registers (X: Account Activity and X Activity API; Meta: Page ``feed``,
``mention``, Messenger ``messages``/``message_echoes``/``standby``, Instagram ``comments``,
``mentions``, ``messages``); ``SOURCES.md`` beside them names the documentation page each follows.
For every file this test states what hilft must extract: the events with their decisive fields,
or the names it counts as ignored. A file without an expectation (or the reverse) fails, so every
documented kind is either handled or explicitly ignored.

``EVENTS`` is the table of event kinds README's "Events" shows, row for row: each row names its
documented fixtures, whose expectations must agree with it (an "ignored" row yields no event), and
the Meta fields and X Activity API kinds in it are exactly those ``make register-webhooks`` sets up.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hilft.channels.meta import parse as meta
from hilft.channels.x import parse as x
from hilft.channels.x.parse import XAA_SUBSCRIBED_EVENTS
from hilft.core.errors import MalformedPayload
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
        "aaa_unblock_events.json": ([], ("unblock_events",)),
        "aaa_unmute_events.json": ([], ("unmute_events",)),
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
        # X's examples send an empty ``includes``: the author is an id only (an enrich task reads the rest).
        "xaa_post_reply_create.json": ([M(post_id="2090000000000000001", kind=Kind.REPLY, is_brand=False,
                                          in_reply_to="2080761390344937796", in_reply_to_author_id=X_BRAND,
                                          author_id="1472583690", author_handle=None, author_followers=None)], ()),
        "xaa_post_quote_create.json": ([M(post_id="2090000000000000002", kind=Kind.MENTION, is_brand=False,
                                          quoted_author_id=X_BRAND, mentioned=(), author_id="901234567812345678",
                                          author_handle=None)], ()),
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
        "xaa_follow_unfollow.json": ([], ("follow.unfollow",)),
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
        "messenger_messages_user_ref.json": ([M(post_id="m_AbCdEf0123456789documented07", kind=Kind.DM,
                                                is_brand=False, author_id="user_ref:UR-chatplugin-24000000000000107",
                                                conversation_id="user_ref:UR-chatplugin-24000000000000107",
                                                recipient_id=PAGE_ID, text_has="Rechnung")], ()),
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
        "instagram_standby.json": ([M(post_id="aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAz",
                                      kind=Kind.DM, is_brand=False, author_id="6140000000000103",
                                      conversation_id="6140000000000103", brand_account_id=IG_ID,
                                      text_has="immer noch gesperrt")], ()),
    },
}

CASES = [(platform, name) for platform, files in EXPECTED.items() for name in files]

# -- the Events table -------------------------------------------------------------------------------
#
# One row per event kind the platforms document for what hilft subscribes to (and the kinds that
# come anyway): (platform, event, what hilft does, documented fixtures). README's "Events" table is
# exactly these rows (checked below). A row without a fixture must say why it is ignored.

Row = tuple[str, str, str, tuple[str, ...]]

AAA, XAA, STREAM = "X (Account Activity)", "X (X Activity API)", "X (Filtered Stream)"
PAGE = "Facebook Page (`feed`, `mention`)"
MESSENGER = "Messenger (`messages`, `message_echoes`, `standby`)"
INSTAGRAM = "Instagram (`comments`, `mentions`, `messages`, `standby`)"
NOT_SUBSCRIBED = "not subscribed; if delivered anyway:"

EVENTS: list[Row] = [
    (AAA, "`tweet_create_events`: post, reply, @mention, quote",
     "item (a quote of a brand post is addressed to the brand); from the brand: an answer",
     ("x/aaa_tweet_create_mention.json", "x/aaa_tweet_create_reply.json", "x/aaa_tweet_create_quote.json")),
    (AAA, "… edited post (`edit_history`)",
     "replaces the first version's text, redacted again; promise unchanged; never a second item",
     ("x/aaa_tweet_create_edited.json",)),
    (AAA, "… retweet", "ignored: a retweet has no words of its own", ("x/aaa_tweet_create_retweet.json",)),
    (AAA, "`direct_message_events` `message_create`", "DM item / brand answer", ("x/aaa_direct_message_events.json",)),
    (AAA, "`tweet_delete_events`", "text and author forgotten (the whole edit chain)",
     ("x/aaa_tweet_delete_events.json",)),
    (AAA, "`user_event` `revoke` (with or without `for_user_id`)",
     "200, operator alert (ERROR log line → Terraform log alert, board banner)",
     ("x/aaa_user_event_revoke.json",)),
    (AAA, "`favorite_events`, `follow_events` (`follow`, `unfollow`), `block_events`, `unblock_events`, "
          "`mute_events`, `unmute_events`",
     "ignored: nobody asked anything",
     ("x/aaa_favorite_events.json", "x/aaa_follow_events.json", "x/aaa_follow_events_unfollow.json",
      "x/aaa_block_events.json", "x/aaa_unblock_events.json", "x/aaa_mute_events.json", "x/aaa_unmute_events.json")),
    (AAA, "`direct_message_indicate_typing_events`, `direct_message_mark_read_events`",
     "ignored: typing and read receipts carry no message",
     ("x/aaa_direct_message_indicate_typing_events.json", "x/aaa_direct_message_mark_read_events.json")),
    (XAA, "`post.mention.create`, `post.reply.create`, `post.quote.create`",
     "item (under XAA a reply to the brand arrives only as `post.reply.create`; an edit lands on the first "
     "version; an author sent as an id only is read by an `enrich` task, `GET /2/users/:id`, before the "
     "handoff — or, when X fails three tries, the handoff goes without the name and the lookup retries "
     "alone); from the brand: an answer",
     ("x/xaa_post_mention_create.json", "x/xaa_post_mention_create_edited.json", "x/xaa_post_reply_create.json",
      "x/xaa_post_quote_create.json")),
    (XAA, "`post.create`", "the brand's replies (`in_reply_to_tweet_id` or `referenced_tweets`) stop the clock",
     ("x/xaa_post_create.json",)),
    (XAA, "`dm.received` / `dm.sent`", "DM item / answer", ("x/xaa_dm_received.json", "x/xaa_dm_sent.json")),
    (XAA, "`chat.received` / `chat.sent` (XChat)",
     "DM item without text, `encrypted: true` (staff open it on X) / answer",
     ("x/xaa_chat_received.json", "x/xaa_chat_sent.json")),
    (XAA, "`oauth.revoke` (sent without a subscription)", "200, operator alert", ("x/xaa_oauth_revoke.json",)),
    (XAA, "`post.delete`", f"{NOT_SUBSCRIBED} forgotten (X sends it only for the brand's own posts)",
     ("x/xaa_post_delete.json",)),
    (XAA, "`post.repost.create`, `like.create`, `follow.follow`, `follow.unfollow`, `profile.update.*`, "
          "`chat.conversation_join`, `dm.read`, `dm.indicate_typing`, mutes, blocks, spaces, news, broadcasts",
     f"{NOT_SUBSCRIBED} ignored by type (nobody asked anything)",
     ("x/xaa_post_repost_create.json", "x/xaa_like_create.json", "x/xaa_follow_follow.json",
      "x/xaa_follow_unfollow.json", "x/xaa_profile_update_bio.json", "x/xaa_chat_conversation_join.json")),
    (STREAM, "a post matching hilft's rules (`matching_rules`)",
     "radar item with the rule tags (longer promise, no warning); a retweet: ignored",
     ("x/stream_post_radar.json", "x/stream_post_reply_to_brand.json", "x/stream_post_retweet.json")),
    (PAGE, "`feed` comment, status or post `add`", "item",
     ("meta/page_feed_comment_add.json", "meta/page_feed_status_add.json")),
    (PAGE, "`feed` comment, status or post `edited`",
     "text replaced and redacted, `edited_at`; promise unchanged",
     ("meta/page_feed_comment_edited.json", "meta/page_feed_status_edited.json", "meta/page_feed_post_edited.json")),
    (PAGE, "`feed` `remove`", "forgotten", ("meta/page_feed_comment_remove.json",)),
    (PAGE, "`feed` comment `hide` / `unhide`", "ignored: the brand's own moderation; item and promise stay",
     ("meta/page_feed_comment_hide.json", "meta/page_feed_comment_unhide.json")),
    (PAGE, "`feed` `reaction`, `share`", "ignored: nobody asked anything",
     ("meta/page_feed_reaction.json", "meta/page_feed_share.json")),
    (PAGE, "`mention` (ids only)",
     "item at once (the promise runs); text and author read from the Graph API by an `enrich` task, then "
     "redacted, routed, handed off",
     ("meta/page_mention_post.json", "meta/page_mention_comment.json")),
    (PAGE, "`mention` `edited` (ids only)",
     "the text held stays; a new `enrich` task reads the edit, redacts, routes, hands off",
     ("meta/page_mention_post_edited.json",)),
    (MESSENGER, "`messaging[]` message (text, or attachments only)",
     "DM item (attachments only: without text; numeric ids normalised)",
     ("meta/messenger_messages.json", "meta/messenger_message_attachments.json",
      "meta/messenger_messages_numeric_ids.json")),
    (MESSENGER, "… from a Chat Plugin guest (`sender.user_ref`, no `sender.id`)",
     "DM item, author `user_ref:<ref>`; hilft answers with the Send API's `recipient.user_ref` (Meta refuses "
     "once the guest's chat ended: staff answer in Meta's inbox)",
     ("meta/messenger_messages_user_ref.json",)),
    (MESSENGER, "`standby[]` message", "DM item (another app holds the thread; the customer still waits)",
     ("meta/messenger_standby.json",)),
    (MESSENGER, "echo (`is_echo`, also in `standby[]`)", "the brand's answer",
     ("meta/messenger_message_echoes.json", "meta/messenger_standby_echo.json")),
    (MESSENGER, "`message_reads`, `message_deliveries`, `messaging_postbacks`",
     f"{NOT_SUBSCRIBED} ignored by type (receipts and button taps)",
     ("meta/messenger_message_reads.json", "meta/messenger_message_deliveries.json",
      "meta/messenger_messaging_postbacks.json")),
    (INSTAGRAM, "`comments` (`changes[]` or Instagram Login's flat `field`/`value`)",
     "item (a re-sent comment with new text = edit)",
     ("meta/instagram_comments.json", "meta/instagram_comments_instagram_login.json")),
    (INSTAGRAM, "`mentions` (ids only; caption or comment)", "item, filled by an `enrich` task",
     ("meta/instagram_mentions_caption.json", "meta/instagram_mentions_comment.json")),
    (INSTAGRAM, "`messages` (and their echoes)", "DM item / answer",
     ("meta/instagram_messages.json", "meta/instagram_messages_echo.json")),
    (INSTAGRAM, "`standby[]` message", "DM item (another app holds the thread; the customer still waits)",
     ("meta/instagram_standby.json",)),
    (INSTAGRAM, "`story_insights`", f"{NOT_SUBSCRIBED} ignored by type", ("meta/instagram_story_insights.json",)),
    ("Threads", "`replies`, `mentions` / `publish` / `delete` (the brand's own posts only)",
     "item / the brand's own post stops the clock (without `replied_to`, as Meta documents it, after a "
     "`brand_lookup` task reads the post back) / forgotten; a customer's deletion is found by `poll` (below)",
     ("threads/replies.json", "threads/mentions.json", "threads/publish.json", "threads/delete.json")),
    ("Bluesky", "notifications `mention`, `reply`, `quote`; the brand's repo; search",
     "item / native brand replies stop the clock / radar",
     ("bluesky/list_notifications.json", "bluesky/get_posts.json", "bluesky/list_records_own_posts.json",
      "bluesky/search_posts.json")),
    ("Bluesky", "chat log (`chat.bsky.convo.getLog`): `logCreateMessage`, `logDeleteMessage`; other log events "
         "(begin, accept, read, reactions, group events)",
     "DM item, the brand's message in the conversation an answer / forgotten; ignored by name",
     ("bluesky/get_log.json", "bluesky/list_convos.json", "bluesky/get_messages.json")),
    ("Mastodon", "`mention` notifications (`direct` = DM); the brand's statuses; hashtags, `/api/v2/search`",
     "item / answer / radar",
     ("mastodon/notifications.json", "mastodon/account_statuses_brand.json", "mastodon/timeline_tag.json",
      "mastodon/search_v2.json")),
]



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


# -- the Events table: README, fixtures, subscriptions ----------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_EVENTS = {"bluesky/create_session.json": "the login answer, no event"}


def readme_events() -> list[tuple[str, str, str]]:
    """README's "Events" table, the platform carried down into its continuation rows."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Events"):]
    section = section[:section.index("\n#", 1)]
    rows: list[tuple[str, str, str]] = []
    for line in section.splitlines():
        if not line.startswith("| ") and not line.startswith("| |"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells[0] == "platform" or set("".join(cells)) <= {"-"}:
            continue
        platform = cells[0] or rows[-1][0]
        rows.append((platform, cells[1], cells[2]))
    return rows


def _handled(row: Row) -> bool:
    return not row[2].removeprefix(NOT_SUBSCRIBED).strip().startswith("ignored")


def test_readme_events_table_is_this_table() -> None:
    assert readme_events() == [(platform, event, hilft) for platform, event, hilft, _ in EVENTS]


@pytest.mark.parametrize("row", EVENTS, ids=[f"{r[0].split(' (')[0]}: {r[1][:40]}" for r in EVENTS])
def test_every_event_row_has_documented_fixtures_that_agree_with_it(row: Row) -> None:
    platform, event, hilft, fixtures = row
    if not fixtures:
        assert re.match(r"(not subscribed; if delivered anyway: )?ignored\S*( by \w+)?[:(]? .+", hilft), \
            f"{event}: no documented fixture and no reason why it is ignored"
        return
    for ref in fixtures:
        folder, name = ref.split("/")
        assert (FIXTURES / folder / "documented" / name).is_file(), ref
        assert f"`{name}`" in (FIXTURES / folder / "documented" / "SOURCES.md").read_text(), ref
    expected = [EXPECTED[ref.split("/")[0]][ref.split("/")[1]] for ref in fixtures if ref.split("/")[0] in EXPECTED]
    if not expected:
        return  # polled platforms: their documented answers are checked by their parser tests
    if _handled(row):
        assert any(events for events, _ in expected), f"{event}: said handled, but every fixture is ignored"
    else:
        assert all(not events and ignored for events, ignored in expected), f"{event}: said ignored, yields events"


def test_every_documented_fixture_has_its_row() -> None:
    listed = {ref for *_, fixtures in EVENTS for ref in fixtures}
    found = {f"{path.parent.parent.name}/{path.name}" for path in FIXTURES.glob("*/documented/*.json")}
    assert found - listed - set(NOT_EVENTS) == set()
    assert listed - found == set()


def test_the_subscriptions_registered_are_the_tables() -> None:
    def names(cell: str) -> set[str]:
        return set(re.findall(r"`([a-z_.]+)`", cell))

    xaa = set().union(*(names(event) for platform, event, hilft, _ in EVENTS
                        if platform == XAA and not hilft.startswith(NOT_SUBSCRIBED)))
    assert xaa - {"oauth.revoke"} == set(XAA_SUBSCRIBED_EVENTS)
    assert names(PAGE) | names(MESSENGER) == set(meta.SUBSCRIBED_FIELDS["page"])
    assert names(INSTAGRAM) == set(meta.SUBSCRIBED_FIELDS["instagram"])


# -- variants of the documented shapes ----------------------------------------------------------


def documented(platform: str, name: str) -> dict[str, Any]:
    import json

    return json.loads((FIXTURES / platform / "documented" / name).read_bytes())


def encoded(body: Any) -> bytes:
    import json

    return json.dumps(body).encode()


def test_a_reply_named_only_by_in_reply_to_tweet_id_is_a_reply() -> None:
    """X: "``in_reply_to_tweet_id`` is present on replies, and ``referenced_tweets`` indicates quotes
    and reposts" — a brand reply without ``referenced_tweets`` must still stop the clock."""
    body = documented("x", "xaa_post_create.json")
    del body["data"]["payload"]["referenced_tweets"]
    (event,) = parse("x", encoded(body)).events
    assert isinstance(event, Mention)
    assert event.kind == Kind.REPLY and event.in_reply_to == "2080765813578191303" and event.is_brand


def test_a_revoke_that_also_names_the_account_is_still_an_operator_alert() -> None:
    body = documented("x", "aaa_user_event_revoke.json")
    body = {"for_user_id": X_BRAND, **body}
    batch = parse("x", encoded(body))
    assert [type(e) for e in batch.events] == [AccessRevoked] and batch.ignored == ()
    assert batch.events[0].account_id == X_BRAND


def test_is_blocked_by_on_a_mention_is_a_flag_not_an_ignored_event_kind() -> None:
    body = {**documented("x", "aaa_tweet_create_mention.json"), "is_blocked_by": "false"}
    batch = parse("x", encoded(body))
    assert batch.ignored == () and len(batch.events) == 1


def test_a_meta_body_shaped_like_the_instagram_examples_page_a_top_level_array_is_parsed_alike() -> None:
    single = (FIXTURES / "meta" / "documented" / "instagram_messages.json").read_bytes()
    wrapped = b"[" + single + b"]"
    assert parse("meta", wrapped) == parse("meta", single)
    two = b"[" + single + b"," + (FIXTURES / "meta" / "documented" / "instagram_standby.json").read_bytes() + b"]"
    assert len(parse("meta", two).events) == 2
    with pytest.raises(MalformedPayload):
        parse("meta", b"[]")
