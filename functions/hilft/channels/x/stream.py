"""X Filtered Stream deliveries (the radar on X), pure: recognise the shape and parse it.

X delivers posts that match the stream rules (``core.radar_rules``) to the webhook linked with
``POST /2/tweets/search/webhooks/:webhook_id``, with the same CRC and signature as Account
Activity. A delivery has the filtered stream's message shape (X's Filtered Stream docs; fixtures
in ``tests/fixtures/x/documented/stream_*.json``)::

    {"data": {"id", "text", "author_id", "created_at", "edit_history_tweet_ids", ...},
     "includes": {"users": [...], "tweets": [...]},
     "matching_rules": [{"id": "...", "tag": "hilft-radar"}]}

``matching_rules`` is what tells it from an X Activity API envelope (``data.event_type``) and an
Account Activity body (``for_user_id``). Each post becomes a ``StreamMention``: a ``Mention`` that
carries the tags of the rules it matched, so ingest stores it as a radar item (``radar: true``,
``radar_rules``) — unless it is addressed to the brand anyway (a reply to or @-mention of a brand
account), then it is an ordinary mention. Retweets carry no words of their own and are ignored
(the rules say ``-is:retweet`` already).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError

from hilft.channels.x.parse import _IncludedPost, _Shape
from hilft.channels.x.parse import _V2Post as _Post
from hilft.channels.x.parse import _V2User as _User
from hilft.core import jsonbody
from hilft.core.errors import MalformedPayload
from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform

_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")
MAX_TAG = 128


class StreamMention(Mention):
    """A post the radar's stream rules matched; ``radar_rule_tags`` names the rules (tags, else ids)."""

    radar_rule_tags: tuple[str, ...] = ()


# The post and user objects are X API v2's, as under the X Activity API (one definition, in x.py);
# a stream delivery includes users unwrapped.
class _Includes(_Shape):
    users: list[_User] = []
    tweets: list[_IncludedPost] = []


class _Rule(_Shape):
    id: str | None = None
    tag: str | None = None


class _Delivery(_Shape):
    data: _Post
    includes: _Includes = _Includes()
    matching_rules: list[_Rule] = Field(min_length=1)


def is_stream_delivery(document: Any) -> bool:
    """A filtered stream message: ``data`` is a post (no ``event_type``) and ``matching_rules`` is there."""
    return (isinstance(document, dict) and "matching_rules" in document and isinstance(document.get("data"), dict)
            and "event_type" not in document["data"] and "for_user_id" not in document)


def parse(body: bytes, *, brand_user_ids: frozenset[str]) -> ParsedBatch:
    """One stream delivery → a batch with one ``StreamMention`` (or nothing for a retweet)."""
    return parse_document(jsonbody.loads(body), brand_user_ids=brand_user_ids)


def parse_document(document: Any, *, brand_user_ids: frozenset[str]) -> ParsedBatch:
    if not is_stream_delivery(document):
        raise MalformedPayload("not a filtered stream delivery")
    try:
        delivery = _Delivery.model_validate(document)
    except ValidationError as exc:
        raise MalformedPayload("filtered stream delivery does not match X's shape") from exc
    post = delivery.data
    if any(ref.type == "retweeted" for ref in post.referenced_tweets):
        return ParsedBatch(ignored=("stream.retweet",))
    users = {u.id: Author(id=u.id, handle=u.username, name=u.name,
                          followers=u.public_metrics.followers_count if u.public_metrics else None)
             for u in delivery.includes.users}
    authors = {p.id: p.author_id for p in delivery.includes.tweets if p.author_id}
    replied_to = next((ref.id for ref in post.referenced_tweets if ref.type == "replied_to"), None)
    quoted = next((ref.id for ref in post.referenced_tweets if ref.type == "quoted"), None)
    author = users.get(post.author_id) or Author(id=post.author_id)
    by_handle = {a.handle.lower(): uid for uid, a in users.items() if a.handle}
    mentioned = _unique(m.id or by_handle.get((m.username or "").lower(), "")
                        for m in (post.entities.mentions if post.entities else []))
    history = post.edit_history_tweet_ids
    edit_of, edit_rank = (None, 0)
    if len(history) > 1 and post.id in history and history[0] != post.id:
        edit_of, edit_rank = history[0], history.index(post.id)
    tags = _unique((rule.tag or rule.id or "")[:MAX_TAG] for rule in delivery.matching_rules)
    mention = StreamMention(
        platform=Platform.X,
        post_id=post.id,
        kind=Kind.REPLY if replied_to else Kind.MENTION,
        author=author,
        text=post.note_tweet.text if post.note_tweet else post.text,
        created_at=_from_iso(post.created_at),
        conversation_id=post.conversation_id,
        in_reply_to=replied_to,
        in_reply_to_author_id=post.in_reply_to_user_id or (authors.get(replied_to) if replied_to else None),
        is_brand=post.author_id in brand_user_ids,
        brand_account_id=next((uid for uid in mentioned if uid in brand_user_ids), None),
        lang=post.lang,
        url=_post_url(post.id, author.handle),
        mentioned_user_ids=mentioned,
        quoted_author_id=authors.get(quoted) if quoted else None,
        edit_of=edit_of,
        edit_rank=edit_rank,
        radar_rule_tags=tags,
    )
    return ParsedBatch(events=(mention,))


def rule_tags(mention: Mention) -> tuple[str, ...]:
    """The stream rule tags of a post (``()`` for anything that did not come from the stream)."""
    return mention.radar_rule_tags if isinstance(mention, StreamMention) else ()


def from_stream(mention: Mention) -> bool:
    return isinstance(mention, StreamMention)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _post_url(post_id: str, handle: str | None) -> str:
    name = handle if handle and _HANDLE.fullmatch(handle) else "i"
    return f"https://x.com/{name}/status/{post_id}"


def _from_iso(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedPayload("unreadable created_at") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise MalformedPayload("created_at has no time zone")
    return parsed.astimezone(UTC)


def shape_of(document: Mapping[str, Any]) -> str:
    """``"stream"`` for a filtered stream delivery, else ``"activity"`` (x.parse's shapes)."""
    return "stream" if is_stream_delivery(document) else "activity"
