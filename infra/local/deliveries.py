"""Platform deliveries: webhook bodies as X, Meta and Threads send them, and the headers that sign
them. The one builder of signed platform bodies for the tests, the benchmarks and the demo; it
lives in ``infra/local`` because that folder is on the path of all three (``import deliveries``),
so none of them imports ``tests``.

Shapes follow the platforms' published examples, kept with their sources in
``tests/fixtures/<platform>/documented/`` (``SOURCES.md`` names the pages;
``tests/unit/test_deliveries.py`` checks every builder against them):

* X Account Activity API: ``for_user_id`` + ``tweet_create_events`` / ``direct_message_events`` /
  ``tweet_delete_events`` (v1.1 objects);
* X Activity API: ``{"data": {"event_uuid", "filter", "event_type", "tag", "payload", "includes"}}``;
* X Filtered Stream, delivered to the webhook: ``{"data", "includes", "matching_rules"}``;
* Meta: ``{"object": "page" | "instagram", "entry": [...]}`` with ``changes`` (Page ``feed``,
  Instagram ``comments``) or ``messaging`` (Messenger);
* Threads (its own Meta app): ``{"app_id", "topic", "target_id", "time", "subscription_id",
  "has_uid_field", "values": {"value", "field"}}``.

Bytes: X sends compact JSON with ``\\u`` escapes; Meta and Threads pure ASCII with ``\\u`` escapes
and ``\\/``. What is signed is exactly these bytes.

Signatures are computed here with :mod:`hmac` directly, never with hilft's own ``sign`` or
``verify_signature``, so a test does not check hilft against itself (``test_deliveries.py`` pins
them to published known answers):

* X: ``sha256=`` + base64(HMAC-SHA256(secret, body)); ``X-Twitter-Webhooks-Signature-OAuth2``
  keyed by the OAuth 2.0 client secret, the legacy ``X-Twitter-Webhooks-Signature`` by the
  consumer secret; the CRC ``response_token`` is the same over the ``crc_token``;
* Meta and Threads: ``X-Hub-Signature-256: sha256=`` + hex HMAC-SHA256(app secret, body) (and the
  retired ``X-Hub-Signature: sha1=`` for tests that must refuse it).

The brand's accounts are ``fakes.world.Credentials``' defaults (X ``1000000001`` /
``Telekom_hilft``, Page ``110000000000001``, Instagram ``17841400000000001``, Threads
``17841400000000077``), the fictional accounts of ``tests/fixtures/x/README.md``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
RADAR_RULE = ("1166916266197536768", "hilft-radar")  # (id, tag) of the radar's stream rule

X_SIGNATURE_HEADER = "X-Twitter-Webhooks-Signature-OAuth2"
X_LEGACY_SIGNATURE_HEADER = "X-Twitter-Webhooks-Signature"
HUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
HUB_SHA1_SIGNATURE_HEADER = "X-Hub-Signature"

_TWITTER_EPOCH_MS = 1288834974657
_CUSTOMER_FOLLOWERS = 348
_BRAND_FOLLOWERS = 112804


@dataclass(frozen=True)
class Author:
    id: str
    handle: str | None = None
    name: str | None = None


BRAND_X = Author(BRAND_X_ID, BRAND_X_HANDLE, BRAND_X_NAME)


# --- signing --------------------------------------------------------------------------------------


def x_signature(body: bytes, secret: str) -> str:
    """X's webhook signature: ``sha256=`` + base64(HMAC-SHA256(secret, body))."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def x_crc_response_token(crc_token: str, secret: str) -> str:
    """The ``response_token`` X expects for a CRC check: the signature of the token itself."""
    return x_signature(crc_token.encode(), secret)


def hub_signature(body: bytes, app_secret: str) -> str:
    """Meta's ``X-Hub-Signature-256`` (Pages, Instagram, Messenger and Threads alike)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def hub_sha1_signature(body: bytes, app_secret: str) -> str:
    """Meta's retired ``X-Hub-Signature`` (SHA-1), still sent beside the SHA-256 one."""
    return "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()  # noqa: S324 - Meta's format


def x_headers(body: bytes, secret: str, *, legacy: bool = False) -> dict[str, str]:
    """Headers of a signed X delivery; ``legacy``: the consumer-secret header instead of OAuth 2.0's."""
    header = X_LEGACY_SIGNATURE_HEADER if legacy else X_SIGNATURE_HEADER
    return {"Content-Type": "application/json", header: x_signature(body, secret)}


def meta_headers(body: bytes, app_secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", HUB_SIGNATURE_HEADER: hub_signature(body, app_secret)}


def threads_headers(body: bytes, app_secret: str) -> dict[str, str]:
    """Signed like every Meta webhook, with the Threads app's own secret."""
    return meta_headers(body, app_secret)


# --- ids ------------------------------------------------------------------------------------------

_id_lock = threading.Lock()
_next_x_id = int(time.time() * 1000) << 22


def new_x_id() -> str:
    """A post id, time-ordered as X's are and unique within and across runs (a task name Cloud
    Tasks has seen stays taken, so ids must not repeat from one test session to the next)."""
    global _next_x_id
    with _id_lock:
        _next_x_id += 1
        return str(_next_x_id)


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


# --- encodings and times --------------------------------------------------------------------------


def x_json(document: Any) -> bytes:
    """X's bytes: compact JSON, non-ASCII as ``\\u`` escapes."""
    return json.dumps(document, separators=(",", ":")).encode()


def meta_json(document: Any) -> bytes:
    """Meta's (and Threads') bytes: compact pure ASCII, ``\\u`` escapes and ``\\/``."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def _v1_time(at: datetime) -> str:
    return at.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _iso_ms(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


# --- X, Account Activity API ----------------------------------------------------------------------


def x_tweet(post_id: str, author: Author, text: str, at: datetime, *, reply_to: str | None = None,
            reply_to_user: str | None = None, lang: str = "de", mention_brand: bool | None = None,
            followers: int | None = None) -> bytes:
    """``tweet_create_events`` with one post by ``author``: a customer's post @-mentions the brand
    (``mention_brand``, default: unless the brand wrote it), the brand's post is sent as written."""
    is_brand = author.id == BRAND_X_ID
    mention_brand = not is_brand if mention_brand is None else mention_brand
    mentions = [{"screen_name": BRAND_X_HANDLE, "name": BRAND_X_NAME, "id": int(BRAND_X_ID),
                 "id_str": BRAND_X_ID, "indices": [0, len(BRAND_X_HANDLE) + 1]}] if mention_brand else []
    if followers is None:
        followers = _BRAND_FOLLOWERS if is_brand else _CUSTOMER_FOLLOWERS
    tweet = {
        "created_at": _v1_time(at), "id": int(post_id), "id_str": post_id,
        "text": f"@{BRAND_X_HANDLE} {text}" if mention_brand and not is_brand else text, "truncated": False,
        "in_reply_to_status_id": int(reply_to) if reply_to else None, "in_reply_to_status_id_str": reply_to,
        "in_reply_to_user_id": int(reply_to_user) if reply_to_user else None,
        "in_reply_to_user_id_str": reply_to_user,
        "user": {"id": int(author.id), "id_str": author.id, "name": author.name, "screen_name": author.handle,
                 "followers_count": followers, "created_at": "Sat Mar 14 09:26:53 +0000 2015"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
        "lang": lang, "timestamp_ms": _ms(at),
    }
    # user_has_blocked comes with @mentions of the subscribed account only (X's examples).
    blocked = {"user_has_blocked": "false"} if mention_brand else {}
    return x_json({"for_user_id": BRAND_X_ID, **blocked, "tweet_create_events": [tweet]})


def x_dm(event_id: str, sender: Author, recipient: Author, text: str, at: datetime) -> bytes:
    """``direct_message_events`` with one ``message_create`` and the ``users`` map."""
    def user(a: Author) -> dict[str, Any]:
        return {"id": a.id, "created_timestamp": "1426325213000", "name": a.name, "screen_name": a.handle,
                "protected": False, "verified": a.id == BRAND_X_ID, "followers_count": _CUSTOMER_FOLLOWERS}

    event = {"type": "message_create", "id": event_id, "created_timestamp": _ms(at),
             "message_create": {"target": {"recipient_id": recipient.id}, "sender_id": sender.id,
                                "message_data": {"text": text, "entities": {"hashtags": [], "symbols": [],
                                                                            "user_mentions": [], "urls": []}}}}
    return x_json({"for_user_id": BRAND_X_ID, "direct_message_events": [event],
                   "users": {sender.id: user(sender), recipient.id: user(recipient)}})


def x_delete(post_id: str, user_id: str, at: datetime) -> bytes:
    """``tweet_delete_events`` for one post."""
    return x_json({"for_user_id": BRAND_X_ID, "tweet_delete_events": [
        {"status": {"id": post_id, "user_id": user_id}, "timestamp_ms": _ms(at)}]})


# --- X, X Activity API and Filtered Stream ----------------------------------------------------------


def _v2_user(a: Author) -> dict[str, Any]:
    return {"id": a.id, "username": a.handle, "name": a.name, "protected": False,
            "public_metrics": {"followers_count": _BRAND_FOLLOWERS if a.id == BRAND_X_ID else 97}}


def x_activity_post(post_id: str, author: Author, text: str, at: datetime, *,
                    reply_to: tuple[str, Author] | None = None) -> bytes:
    """``post.mention.create`` for a customer's post, ``post.create`` for the brand's reply (with the
    post itself in ``includes.tweets``, as X's example has it)."""
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
        tweets = True
    else:
        body = f"@{BRAND_X_HANDLE} {text}"
        entities = {"mentions": [{"start": 0, "end": len(BRAND_X_HANDLE) + 1, "username": BRAND_X_HANDLE,
                                  "id": BRAND_X_ID}]}
        extra = {"conversation_id": post_id}
        users = [_v2_user(author), _v2_user(BRAND_X)]
        event_type, tag = "post.mention.create", "mentions"
        tweets = False
    post = {"id": post_id, "text": body, "author_id": author.id, "created_at": _iso_ms(at), "lang": "de",
            "edit_history_tweet_ids": [post_id], "entities": entities, **extra}
    return x_json({"data": {"event_uuid": post_id, "filter": {"user_id": BRAND_X_ID}, "event_type": event_type,
                            "tag": tag, "payload": post,
                            "includes": {"users": users, **({"tweets": [post]} if tweets else {})}}})


def x_stream_post(post_id: str, author: Author, text: str, at: datetime, *, lang: str = "de",
                  rules: Iterable[tuple[str, str]] = (RADAR_RULE,)) -> bytes:
    """A Filtered Stream match as delivered to the webhook: the post, its author in ``includes``,
    and the ``matching_rules`` (id, tag) it matched."""
    post = {"id": post_id, "text": text, "author_id": author.id, "created_at": _iso_ms(at),
            "conversation_id": post_id, "edit_history_tweet_ids": [post_id], "lang": lang}
    user = {"id": author.id, "username": author.handle, "name": author.name,
            "public_metrics": {"followers_count": _BRAND_FOLLOWERS if author.id == BRAND_X_ID else 211}}
    return x_json({"data": post, "includes": {"users": [user]},
                   "matching_rules": [{"id": rule_id, "tag": tag} for rule_id, tag in rules]})


# --- Meta ------------------------------------------------------------------------------------------


def facebook_comment(comment_id: str, author: Author, text: str, at: datetime, *,
                     parent_id: str = PAGE_POST) -> bytes:
    """A Page ``feed`` comment under the Page's post (with ``parent_id`` = a comment, a reply to it)."""
    value = {"from": {"id": author.id, "name": author.name},
             "post": {"status_type": "added_photos", "is_published": True,
                      "permalink_url": f"https://www.facebook.com/{PAGE_POST}", "id": PAGE_POST},
             "message": text, "post_id": PAGE_POST, "comment_id": comment_id, "created_time": int(at.timestamp()),
             "item": "comment", "parent_id": parent_id, "verb": "add"}
    return meta_json({"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp()),
                                                   "changes": [{"field": "feed", "value": value}]}]})


def facebook_remove(comment_id: str, author: Author, at: datetime) -> bytes:
    """A Page ``feed`` change removing a comment."""
    value = {"from": {"id": author.id, "name": author.name}, "parent_id": PAGE_POST, "comment_id": comment_id,
             "post_id": PAGE_POST, "created_time": int(at.timestamp()), "item": "comment", "verb": "remove"}
    return meta_json({"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp()),
                                                   "changes": [{"field": "feed", "value": value}]}]})


def instagram_comment(comment_id: str, author: Author, text: str, at: datetime, *,
                      parent_id: str | None = None) -> bytes:
    """An Instagram ``comments`` change on the brand's media (with ``parent_id``, a reply)."""
    value: dict[str, Any] = {"from": {"id": author.id, "username": author.handle},
                             "media": {"id": IG_MEDIA, "media_product_type": "FEED"}, "id": comment_id,
                             "text": text}
    if parent_id:
        value["parent_id"] = parent_id
    return meta_json({"object": "instagram", "entry": [{"id": IG_ID, "time": int(at.timestamp()),
                                                        "changes": [{"field": "comments", "value": value}]}]})


def messenger_message(mid: str, sender: str, recipient: str, text: str, at: datetime, *, echo: bool) -> bytes:
    """A Messenger ``messages`` event (``echo``: the Page's own message, ``message_echoes``)."""
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message.update({"is_echo": True, "app_id": 263902037430900})
    return meta_json({"object": "page", "entry": [{"id": PAGE_ID, "time": int(at.timestamp() * 1000), "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": int(at.timestamp() * 1000),
         "message": message}]}]})


# --- Threads (its own Meta app: replies, mentions, delete, publish) --------------------------------


def threads_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def threads_delivery(field: str, value: dict[str, Any], at: datetime, *, topic: str,
                     target_id: str = THREADS_ID, app_id: str = THREADS_APP_ID) -> bytes:
    """The Threads webhook envelope around one ``values.value`` of ``field``."""
    return meta_json({"app_id": app_id, "topic": topic, "target_id": target_id, "time": int(at.timestamp()),
                      "subscription_id": "234567", "has_uid_field": False,
                      "values": {"value": value, "field": field}})


def threads_reply(post_id: str, author: Author, text: str, at: datetime, *, to: str = THREADS_ROOT) -> bytes:
    """A reply in the thread the brand's post started (``replies``); by the brand when ``author``
    is the brand's account (the root post's owner answering)."""
    username = THREADS_HANDLE if author.id == THREADS_ID else author.handle
    return threads_delivery("replies", {
        "id": post_id, "username": username, "text": text, "media_type": "TEXT_POST",
        "permalink": f"https://www.threads.net/@{username}/post/Pp{post_id[-6:]}", "replied_to": {"id": to},
        "shortcode": f"Pp{post_id[-6:]}", "timestamp": threads_time(at),
        "root_post": {"id": THREADS_ROOT, "owner_id": THREADS_ID, "username": THREADS_HANDLE}}, at, topic="moderate")


def threads_mention(post_id: str, author: Author, text: str, at: datetime) -> bytes:
    """A public Threads post tagging the brand (``mentions``)."""
    return threads_delivery("mentions", {
        "id": post_id, "username": author.handle, "is_reply": False, "text": f"@{THREADS_HANDLE} {text}",
        "media_type": "TEXT_POST", "timestamp": threads_time(at),
        "permalink": f"https://www.threads.net/@{author.handle}/post/Pp{post_id[-6:]}"}, at, topic="interaction")
