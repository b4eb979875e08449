"""Threads webhooks: verification and parsing, sans-I/O.

Bytes and query parameters in, core models or exceptions out: no HTTP, no clock, no Firestore.

Threads has its own Meta app (its own app secret and verify token, distinct from the Facebook
Page app's). A delivery is signed like every Meta webhook (``X-Hub-Signature-256``: hex
HMAC-SHA256 of the raw body with the Threads app secret) and carries one change::

    {"app_id", "topic": "moderate" | "interaction", "target_id", "time", "subscription_id",
     "has_uid_field", "values": {"value": {...}, "field": "replies" | "mentions" | "delete" | "publish"}}

* ``replies`` (moderate): a reply in a thread whose root post the brand owns, addressed to the
  brand wherever in the thread it stands (``on_brand_surface``, like a comment under a Page post:
  "still broken" under the brand's answer must not be missed). The payload names the author by
  ``username`` only, the replied-to post by id only, and the root post's owner
  (``root_post.owner_id``); a reply written by the root post's owner is the brand answering.
* ``mentions`` (interaction): a public post tagging the brand (``target_id`` is the brand's id).
* ``publish`` (interaction): a post or reply the brand's own account published, from any tool:
  a brand answer (``is_brand``), which stops the clock of the post it replies to.
* ``delete`` (moderate): a post the authenticated (brand) account deleted.

Anything else (other fields) is named in ``ParsedBatch.ignored``; a body not shaped like Meta's
documented payloads raises ``MalformedPayload`` and only that. Meta's documentation shows
``values`` as one object; a list of such objects is accepted alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field

from hilft.channels import hub
from hilft.core import jsonbody
from hilft.core.errors import MalformedPayload
from hilft.core.models import AccessRevoked, Author, Deletion, Kind, Mention, ParsedBatch, Platform
from hilft.core.payload import StrictShape, numeric_id, validate_shape
from hilft.core.payload import clean_optional as _clean_optional
from hilft.core.payload import clean_text as _clean
from hilft.core.payload import loggable_name as _name

SIGNATURE_HEADER = hub.SIGNATURE_HEADER
UNKNOWN_AUTHOR_ID = "unknown"
_MAX_EPOCH_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
# Permalinks the board may link to: Threads' own hosts only (a payload-chosen URL is never trusted).
_PERMALINK = re.compile(r"https://(?:www\.)?threads\.(?:net|com)/[A-Za-z0-9@._/-]{1,200}")


# -- verification -------------------------------------------------------------------------


def verify_subscription(params: Mapping[str, str], verify_token: str | None) -> str:
    """Answer Meta's subscription check for the Threads app; the challenge to echo back."""
    return hub.verify_subscription(params, verify_token, variable="THREADS_VERIFY_TOKEN")


def verify_signature(body: bytes, header_value: str | None, app_secret: str | None) -> None:
    """Check ``X-Hub-Signature-256`` with the Threads app's secret (not the Meta app's)."""
    hub.verify_signature(body, header_value, app_secret, variable="THREADS_APP_SECRET")


sign = hub.sign


# -- envelope models, pinned to Meta's documented shapes ----------------------------------


_Id = Annotated[str, BeforeValidator(numeric_id), Field(min_length=1, max_length=128,
                                                         pattern=r"^[A-Za-z0-9_-]+$")]
_Text = Annotated[str, Field(max_length=100_000)]




ShapeT = TypeVar("ShapeT", bound=StrictShape)


class _Ref(StrictShape):
    id: _Id


class _RootPost(StrictShape):
    id: _Id
    owner_id: _Id | None = None
    username: _Text | None = None


class _Owner(StrictShape):
    owner_id: _Id


class _Media(StrictShape):
    """A Threads media object as ``replies``, ``mentions`` and ``publish`` carry it."""

    id: _Id
    username: _Text | None = None
    text: _Text | None = None
    timestamp: _Text | None = None
    permalink: _Text | None = None
    media_type: _Text | None = None
    is_reply: bool | None = None
    replied_to: _Ref | None = None
    root_post: _RootPost | None = None


class _Deleted(StrictShape):
    id: _Id
    owner: _Owner | None = None
    deleted_at: _Text | None = None
    username: _Text | None = None


class _Values(StrictShape):
    field: Annotated[str, Field(max_length=200)]
    value: Any = None


class _Envelope(StrictShape):
    app_id: _Id
    topic: Annotated[str, Field(max_length=200)]
    target_id: _Id
    time: Annotated[int, Field(ge=0, le=_MAX_EPOCH_SECONDS)]
    values: _Values | list[_Values]


# -- parsing ------------------------------------------------------------------------------


def parse(body: bytes, *, brand_user_ids: frozenset[str]) -> ParsedBatch:
    """Turn one Threads webhook body into events. ``brand_user_ids``: the brand's Threads accounts."""
    envelope = _validate(_Envelope, jsonbody.loads(body), "")
    sent_at = datetime.fromtimestamp(envelope.time, tz=UTC)
    changes = envelope.values if isinstance(envelope.values, list) else [envelope.values]
    events: list[Mention | Deletion | AccessRevoked] = []
    ignored: list[str] = []
    if not changes:
        ignored.append("threads:empty")
    for number, change in enumerate(changes):
        where = f"values.{number}.value" if isinstance(envelope.values, list) else "values.value"
        if change.field == "replies":
            events.append(_reply(_validate(_Media, change.value, where), brand_user_ids, sent_at, where))
        elif change.field == "mentions":
            events.append(_mention(_validate(_Media, change.value, where), envelope.target_id, brand_user_ids,
                                   sent_at, where))
        elif change.field == "publish":
            events.append(_published(_validate(_Media, change.value, where), envelope.target_id, sent_at, where))
        elif change.field == "delete":
            events.append(_deleted(_validate(_Deleted, change.value, where), sent_at, where))
        else:
            ignored.append(f"threads:{_name(change.field)}")
    return ParsedBatch(events=tuple(events), ignored=tuple(dict.fromkeys(ignored)))


def _reply(media: _Media, brand_ids: frozenset[str], sent_at: datetime, where: str) -> Mention:
    """A reply in a thread the brand's post started. The root post's owner replying is the brand."""
    root = media.root_post
    owner = root.owner_id if root else None
    by_owner = bool(root and owner in brand_ids and media.username and media.username == root.username)
    parent = media.replied_to.id if media.replied_to else (root.id if root else None)
    # Only a direct reply to the root post is known to answer its owner (the payload names no other
    # replied-to author): what closing-message detection relies on.
    direct = root is not None and parent == root.id
    return Mention(
        platform=Platform.THREADS,
        post_id=media.id,
        kind=Kind.REPLY,
        author=_author(media.username, brand_id=owner if by_owner else None),
        text=_clean(media.text),
        created_at=_when(media.timestamp, sent_at, where),
        conversation_id=root.id if root else None,
        in_reply_to=parent,
        in_reply_to_author_id=owner if direct else None,
        is_brand=by_owner,
        brand_account_id=owner if owner in brand_ids else None,
        on_brand_surface=owner in brand_ids,
        url=_permalink(media.permalink),
    )


def _mention(media: _Media, target_id: str, brand_ids: frozenset[str], sent_at: datetime,
             where: str) -> Mention:
    """A public post tagging the brand (``target_id``: the mentioned brand account)."""
    root = media.root_post
    parent = media.replied_to.id if media.replied_to else None
    direct = root is not None and parent == root.id
    return Mention(
        platform=Platform.THREADS,
        post_id=media.id,
        kind=Kind.REPLY if (media.is_reply or parent) else Kind.MENTION,
        author=_author(media.username),
        text=_clean(media.text),
        created_at=_when(media.timestamp, sent_at, where),
        conversation_id=root.id if root else media.id,
        in_reply_to=parent,
        in_reply_to_author_id=root.owner_id if (direct and root) else None,
        brand_account_id=target_id if target_id in brand_ids else None,
        mentioned_user_ids=(target_id,),
        url=_permalink(media.permalink),
    )


def _published(media: _Media, target_id: str, sent_at: datetime, where: str) -> Mention:
    """The brand's own account published this (a post, or a reply to a customer): a brand answer.

    Meta's documented ``publish`` payload carries no ``replied_to`` (tests/fixtures/threads/
    documented/publish.json): such a post is marked ``needs_enrichment`` and the ingest has a
    ``brand_lookup`` task read it (``published_media``), so a reply the brand wrote in the Threads
    app still stops the clock of the post it answers. With ``replied_to`` (Threads media objects
    have one on replies) the answer is known at once; ``is_reply: false`` is a top-level post.
    """
    parent = media.replied_to.id if media.replied_to else None
    return Mention(
        platform=Platform.THREADS,
        post_id=media.id,
        kind=Kind.REPLY if parent else Kind.MENTION,
        author=Author(id=target_id, handle=_clean_optional(media.username)),
        text=_clean(media.text),
        created_at=_when(media.timestamp, sent_at, where),
        conversation_id=media.root_post.id if media.root_post else None,
        in_reply_to=parent,
        is_brand=True,
        brand_account_id=target_id,
        url=_permalink(media.permalink),
        needs_enrichment=parent is None and media.is_reply is not False,
    )


def published_media(raw: Any, brand_account_id: str, fetched_at: datetime) -> Mention:
    """The brand's post as ``GET /{threads-media-id}?fields=…`` answers it (``LOOKUP_FIELDS``): the
    brand answer, naming the post it replies to (``replied_to``) when it is a reply."""
    media = _validate(_Media, raw, "media")
    found = _published(media, brand_account_id, fetched_at, "media")
    return found.model_copy(update={"needs_enrichment": False})


# The fields a looked-up brand post is read with (Threads API "Media Retrieval" and "Reply Management").
LOOKUP_FIELDS = "id,text,username,timestamp,permalink,media_type,is_reply,replied_to,root_post"


def _deleted(value: _Deleted, sent_at: datetime, where: str) -> Deletion:
    return Deletion(platform=Platform.THREADS, post_id=value.id,
                    author_id=value.owner.owner_id if value.owner else None,
                    deleted_at=_when(value.deleted_at, sent_at, where))


# -- helpers ------------------------------------------------------------------------------


def _validate(model: type[ShapeT], raw: Any, where: str) -> ShapeT:
    return validate_shape(model, raw, where, "Threads")


def _when(value: str | None, fallback: datetime, where: str) -> datetime:
    """Threads writes ISO 8601 with a numeric offset ("2024-08-07T10:33:16+0000")."""
    if value is None:
        return fallback
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayload(f"malformed Threads payload at {where}: timestamp is not ISO 8601") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise MalformedPayload(f"malformed Threads payload at {where}: timestamp without offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "9999-12-31T23:59:59-10:00" lies past the last instant a datetime holds
        raise MalformedPayload(f"malformed Threads payload at {where}: timestamp out of range") from None


def _author(username: str | None, *, brand_id: str | None = None) -> Author:
    """Threads names authors by username only; the username is their id here (unique on Threads)."""
    handle = _clean_optional(username)
    if brand_id is not None:
        return Author(id=brand_id, handle=handle)
    return Author(id=handle or UNKNOWN_AUTHOR_ID, handle=handle)


def _permalink(value: str | None) -> str | None:
    if value is None:
        return None
    url = value.replace("http://", "https://", 1) if value.startswith("http://") else value
    return url if _PERMALINK.fullmatch(url) else None
