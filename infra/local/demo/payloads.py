"""Webhook bodies as X, Meta and Threads send them, built fresh for the replay (shapes as in
tests/fixtures/x, tests/fixtures/meta and tests/fixtures/threads), and the headers that sign them.
Bluesky and Mastodon have no webhooks: the replay places their posts into the fake servers, where
``poll`` fetches them.

X: Account Activity API (``for_user_id`` + ``tweet_create_events`` / ``direct_message_events`` /
``tweet_delete_events``) and X Activity API (``{"data": {event_type, payload, includes}}``),
compact JSON with ``\\u`` escapes. Meta: ``{"object", "entry": [...]}`` as pure ASCII with
``\\u`` escapes and ``\\/``, exactly the bytes that are signed.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hilft.channels.meta import parse as meta
from hilft.channels.threads import parse as threads
from hilft.channels.x import parse as x

BRAND_X_ID = "1000000001"
BRAND_X_HANDLE = "Telekom_hilft"
BRAND_X_NAME = "Telekom hilft"
PAGE_ID = "110000000000001"
PAGE_NAME = "Telekom hilft"
PAGE_POST = "110000000000001_820000000000001"  # the Page post customers comment under
IG_ID = "17841400000000001"
IG_HANDLE = "telekomhilft"
IG_MEDIA = "17900000000000001"
THREADS_ID = "17841400000000077"  # the brand's Threads account (fakes.world.Credentials.threads_id)
THREADS_HANDLE = "telekom_hilft"
THREADS_ROOT = "17900000000000500"  # the brand's Threads post customers reply under
THREADS_APP_ID = "1234567890"
_TWITTER_EPOCH_MS = 1288834974657


@dataclass(frozen=True)
class Author:
    id: str
    handle: str | None = None
    name: str | None = None


class IdMint:
    """Platform-shaped ids that never repeat within a replay (X: snowflakes from the send time)."""

    def __init__(self, start: datetime) -> None:
        self._sequence = itertools.count(1)
        self._start_ms = int(start.timestamp() * 1000)

    def x_id(self, at: datetime) -> str:
        number = next(self._sequence)
        return str(((int(at.timestamp() * 1000) - _TWITTER_EPOCH_MS) << 22) | (number & 0x3FFFFF))

    def facebook_comment(self) -> str:
        return f"820000000000001_{930000000000000 + self._start_ms % 10**8 * 100 + next(self._sequence)}"

    def instagram_comment(self) -> str:
        return str(17950000000000000 + self._start_ms % 10**8 * 100 + next(self._sequence))

    def message_id(self) -> str:
        return f"m_demo{self._start_ms}{next(self._sequence):06d}"

    def threads_id(self) -> str:
        return str(17960000000000000 + self._start_ms % 10**8 * 100 + next(self._sequence))


def _x_json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _meta_json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def _v1_time(at: datetime) -> str:
    return at.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _iso_ms(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


# --- X, Account Activity API --------------------------------------------------------------------


def x_tweet(post_id: str, author: Author, text: str, at: datetime, *, reply_to: str | None = None,
            reply_to_user: str | None = None, lang: str = "de") -> bytes:
    """A post by ``author``; a customer's post @-mentions the brand, the brand's post replies."""
    is_brand = author.id == BRAND_X_ID
    mentions = [] if is_brand else [{"screen_name": BRAND_X_HANDLE, "name": BRAND_X_NAME, "id": int(BRAND_X_ID),
                                     "id_str": BRAND_X_ID, "indices": [0, len(BRAND_X_HANDLE) + 1]}]
    tweet = {
        "created_at": _v1_time(at), "id": int(post_id), "id_str": post_id,
        "text": text if is_brand else f"@{BRAND_X_HANDLE} {text}", "truncated": False,
        "in_reply_to_status_id": int(reply_to) if reply_to else None, "in_reply_to_status_id_str": reply_to,
        "in_reply_to_user_id": int(reply_to_user) if reply_to_user else None,
        "in_reply_to_user_id_str": reply_to_user,
        "user": {"id": int(author.id), "id_str": author.id, "name": author.name, "screen_name": author.handle,
                 "followers_count": 112804 if is_brand else 348, "created_at": "Sat Mar 14 09:26:53 +0000 2015"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
        "lang": lang, "timestamp_ms": _ms(at),
    }
    return _x_json({"for_user_id": BRAND_X_ID, "user_has_blocked": "false", "tweet_create_events": [tweet]})


def x_dm(event_id: str, sender: Author, recipient: Author, text: str, at: datetime) -> bytes:
    def user(a: Author) -> dict[str, Any]:
        return {"id": a.id, "created_timestamp": "1426325213000", "name": a.name, "screen_name": a.handle,
                "protected": False, "verified": a.id == BRAND_X_ID, "followers_count": 348}

    event = {"type": "message_create", "id": event_id, "created_timestamp": _ms(at),
             "message_create": {"target": {"recipient_id": recipient.id}, "sender_id": sender.id,
                                "message_data": {"text": text, "entities": {"hashtags": [], "symbols": [],
                                                                            "user_mentions": [], "urls": []}}}}
    return _x_json({"for_user_id": BRAND_X_ID, "direct_message_events": [event],
                    "users": {sender.id: user(sender), recipient.id: user(recipient)}})


def x_delete(post_id: str, user_id: str, at: datetime) -> bytes:
    return _x_json({"for_user_id": BRAND_X_ID, "tweet_delete_events": [
        {"status": {"id": post_id, "user_id": user_id}, "timestamp_ms": _ms(at)}]})


# --- X, X Activity API ----------------------------------------------------------------------------


def _v2_user(a: Author) -> dict[str, Any]:
    return {"id": a.id, "username": a.handle, "name": a.name, "protected": False,
            "public_metrics": {"followers_count": 112804 if a.id == BRAND_X_ID else 97}}


def x_activity_post(post_id: str, author: Author, text: str, at: datetime, *,
                    reply_to: tuple[str, Author] | None = None) -> bytes:
    """``post.mention.create`` for a customer's post, ``post.create`` for the brand's reply."""
    is_brand = author.id == BRAND_X_ID
    if is_brand and reply_to is not None:
        target = reply_to[1]
        body = f"@{target.handle} {text}"
        entities = {"mentions": [{"start": 0, "end": len(str(target.handle)) + 1, "username": target.handle,
                                  "id": target.id}]}
        extra: dict[str, Any] = {"referenced_tweets": [{"type": "replied_to", "id": reply_to[0]}],
                                 "in_reply_to_user_id": target.id, "conversation_id": reply_to[0]}
        users = [_v2_user(author), _v2_user(target)]
        event_type, tag = "post.create", "brand-posts"
    else:
        body = f"@{BRAND_X_HANDLE} {text}"
        entities = {"mentions": [{"start": 0, "end": len(BRAND_X_HANDLE) + 1, "username": BRAND_X_HANDLE,
                                  "id": BRAND_X_ID}]}
        extra = {"conversation_id": post_id}
        users = [_v2_user(author), _v2_user(Author(BRAND_X_ID, BRAND_X_HANDLE, BRAND_X_NAME))]
        event_type, tag = "post.mention.create", "mentions"
    post = {"id": post_id, "text": body, "author_id": author.id, "created_at": _iso_ms(at), "lang": "de",
            "edit_history_tweet_ids": [post_id], "entities": entities, **extra}
    return _x_json({"data": {"event_uuid": post_id, "filter": {"user_id": BRAND_X_ID}, "event_type": event_type,
                             "tag": tag, "payload": post, "includes": {"users": users, "tweets": [post]}}})


# --- Meta -----------------------------------------------------------------------------------------


def facebook_comment(comment_id: str, author: Author, text: str, at: datetime, *,
                     parent_id: str = PAGE_POST) -> bytes:
    """A comment under the Page's post (or, with ``parent_id`` = a comment, a reply to it)."""
    value = {"from": {"id": author.id, "name": author.name},
             "post": {"status_type": "added_photos", "is_published": True,
                      "permalink_url": f"https://www.facebook.com/{PAGE_POST}", "id": PAGE_POST},
             "message": text, "post_id": PAGE_POST, "comment_id": comment_id, "created_time": int(at.timestamp()),
             "item": "comment", "parent_id": parent_id, "verb": "add"}
    return _meta_json({"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp()),
                                                    "changes": [{"field": "feed", "value": value}]}]})


def instagram_comment(comment_id: str, author: Author, text: str, at: datetime, *,
                      parent_id: str | None = None) -> bytes:
    value: dict[str, Any] = {"from": {"id": author.id, "username": author.handle},
                             "media": {"id": IG_MEDIA, "media_product_type": "FEED"}, "id": comment_id,
                             "text": text}
    if parent_id:
        value["parent_id"] = parent_id
    return _meta_json({"object": "instagram", "entry": [{"id": IG_ID, "time": int(at.timestamp()),
                                                         "changes": [{"field": "comments", "value": value}]}]})


def messenger_message(mid: str, sender: str, recipient: str, text: str, at: datetime, *, echo: bool) -> bytes:
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message.update({"is_echo": True, "app_id": 263902037430900})
    return _meta_json({"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp() * 1000), "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": int(at.timestamp() * 1000),
         "message": message}]}]})


def facebook_remove(comment_id: str, author: Author, at: datetime) -> bytes:
    value = {"from": {"id": author.id, "name": author.name}, "parent_id": PAGE_POST, "comment_id": comment_id,
             "post_id": PAGE_POST, "created_time": int(at.timestamp()), "item": "comment", "verb": "remove"}
    return _meta_json({"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp()),
                                                    "changes": [{"field": "feed", "value": value}]}]})


# --- Threads (its own Meta app: replies and mentions webhooks) -------------------------------------


def _threads_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _threads(field: str, value: dict[str, Any], at: datetime, *, topic: str) -> bytes:
    return json.dumps({"app_id": THREADS_APP_ID, "topic": topic, "target_id": THREADS_ID, "time": int(at.timestamp()),
                       "subscription_id": "234567", "has_uid_field": False,
                       "values": {"value": value, "field": field}}, separators=(",", ":")).replace("/", "\\/").encode()


def threads_reply(post_id: str, author: Author, text: str, at: datetime, *, to: str = THREADS_ROOT) -> bytes:
    """A reply in the thread the brand's post started (``replies``); by the brand when ``author``
    is the brand's account (the root post's owner answering)."""
    username = THREADS_HANDLE if author.id == THREADS_ID else author.handle
    return _threads("replies", {
        "id": post_id, "username": username, "text": text, "media_type": "TEXT_POST",
        "permalink": f"https://www.threads.net/@{username}/post/Pp{post_id[-6:]}", "replied_to": {"id": to},
        "shortcode": f"Pp{post_id[-6:]}", "timestamp": _threads_time(at),
        "root_post": {"id": THREADS_ROOT, "owner_id": THREADS_ID, "username": THREADS_HANDLE}}, at, topic="moderate")


def threads_mention(post_id: str, author: Author, text: str, at: datetime) -> bytes:
    """A public Threads post tagging the brand (``mentions``)."""
    return _threads("mentions", {
        "id": post_id, "username": author.handle, "is_reply": False, "text": f"@{THREADS_HANDLE} {text}",
        "media_type": "TEXT_POST", "timestamp": _threads_time(at),
        "permalink": f"https://www.threads.net/@{author.handle}/post/Pp{post_id[-6:]}"}, at, topic="interaction")


# --- signing ----------------------------------------------------------------------------------------


def x_headers(body: bytes, client_secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, client_secret)}


def meta_headers(body: bytes, app_secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(body, app_secret)}


def threads_headers(body: bytes, app_secret: str) -> dict[str, str]:
    """Signed like every Meta webhook, with the Threads app's own secret."""
    return {"Content-Type": "application/json", "X-Hub-Signature-256": threads.sign(body, app_secret)}
