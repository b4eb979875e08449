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

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError

from hilft.channels.x.parse import _IncludedPost, _Shape, mention_from_v2_post, v2_users
from hilft.channels.x.parse import _V2Post as _Post
from hilft.channels.x.parse import _V2User as _User
from hilft.core import jsonbody
from hilft.core.errors import MalformedPayload
from hilft.core.models import Mention, ParsedBatch

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
    users = v2_users(delivery.includes.users)
    authors = {p.id: p.author_id for p in delivery.includes.tweets if p.author_id}
    # The same reading as an X Activity API post (x.parse); the stream adds the rules it matched.
    base = mention_from_v2_post(post, users, None, brand_user_ids, authors=authors)
    tags = tuple(dict.fromkeys(tag for tag in ((rule.tag or rule.id or "")[:MAX_TAG]
                                                 for rule in delivery.matching_rules) if tag))
    mention = StreamMention(**dict(base), radar_rule_tags=tags)
    return ParsedBatch(events=(mention,))


def rule_tags(mention: Mention) -> tuple[str, ...]:
    """The stream rule tags of a post (``()`` for anything that did not come from the stream)."""
    return mention.radar_rule_tags if isinstance(mention, StreamMention) else ()


def from_stream(mention: Mention) -> bool:
    return isinstance(mention, StreamMention)


def shape_of(document: Mapping[str, Any]) -> str:
    """``"stream"`` for a filtered stream delivery, else ``"activity"`` (x.parse's shapes)."""
    return "stream" if is_stream_delivery(document) else "activity"
