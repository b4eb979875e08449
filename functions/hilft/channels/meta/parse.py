"""Meta (Facebook Page, Instagram, Messenger) webhooks: verification and parsing, sans-I/O.

Bytes and query parameters in, models or exceptions out: no HTTP, no clock, no Firestore.

One webhook body is ``{"object": "page" | "instagram", "entry": [...]}``. Each entry is one
account of the brand (``entry.id``: a Page id or an Instagram professional account id) and
carries ``changes[]`` (``{"field", "value"}``: Page ``feed``/``mention``, Instagram
``comments``/``mentions``), ``messaging[]`` (Messenger and Instagram direct messages) and/or
``standby[]`` (the same messages while another app — Meta's inbox, a bot — owns the thread: the
customer still waits, so they are ingested like ``messaging[]``). Apps on Instagram Login may
get one change flat in the entry (``entry.field``/``entry.value``, no ``changes[]``): both shapes
parse alike. Older captures send ids (``entry.id``, participants, feed ``from.id``, mention
``sender_id``) as JSON numbers: they are normalised to strings. A person who wrote through the
website Chat Plugin may be named by ``sender.user_ref`` alone (Meta: "Graph API v7.0+ … from the
chat plugin will not be returning ``sender.id``"): their id is ``user_ref:<ref>``
(``USER_REF_PREFIX``), and the Send API answers them with ``recipient.user_ref``.
One body may mix several entries, fields and kinds; every item becomes one event or one name in
``ParsedBatch.ignored`` — nothing is skipped silently. A body that is a JSON array of such
notifications (the shape of Meta's Instagram examples page) is parsed notification by notification.

``verb: edited`` (Page feed and mentions) becomes a ``Mention`` with ``edit_of`` = its own id, so
the service replaces the stored text. Page and Instagram mentions carry ids only: they come out
with ``needs_enrichment`` and the service fetches text and author from the Graph API later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, model_validator

from hilft.channels import hub
from hilft.core import jsonbody
from hilft.core.errors import MalformedPayload
from hilft.core.models import AccessRevoked, Author, Deletion, Kind, Mention, ParsedBatch, Platform
from hilft.core.payload import StrictShape, numeric_id, validate_shape
from hilft.core.payload import clean_optional as _clean_optional
from hilft.core.payload import clean_text as _clean
from hilft.core.payload import loggable_name as _name

SIGNATURE_HEADER = hub.SIGNATURE_HEADER

# Meta's rules for private replies (Messenger and Instagram "Private Replies").
PRIVATE_REPLY_WINDOW = timedelta(days=7)

UNKNOWN_AUTHOR_ID = "unknown"  # Meta did not say who wrote it (caption mentions, feed without `from`)
# Id of a person Meta names by a Chat Plugin ``user_ref`` only (no PSID): ``user_ref:<ref>``.
USER_REF_PREFIX = "user_ref:"

_MAX_EPOCH_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant datetime can hold
_MAX_EPOCH_MILLIS = _MAX_EPOCH_SECONDS * 1000 + 999
_MILLIS_THRESHOLD = 100_000_000_000  # an epoch value this large is milliseconds (seconds: year 5138)

EpochSeconds = Annotated[int, Field(ge=0, le=_MAX_EPOCH_SECONDS)]
EpochMillis = Annotated[int, Field(ge=0, le=_MAX_EPOCH_MILLIS)]
EpochSecondsOrMillis = Annotated[int, Field(ge=0, le=_MAX_EPOCH_MILLIS)]

# The webhook fields to subscribe per object (`make register-webhooks` prints them): what this parser
# reads. Echoes tell hilft the brand answered from another tool; ``standby`` carries the customer's
# messages while another app (Meta's inbox, a bot) holds the thread, on Instagram as on Messenger
# (Instagram Messaging webhooks list it). Instagram sends its echoes in ``messages``.
SUBSCRIBED_FIELDS: dict[str, tuple[str, ...]] = {
    "page": ("feed", "mention", "messages", "message_echoes", "standby"),
    "instagram": ("comments", "mentions", "messages", "standby"),
}

_FEED_POST_ITEMS = frozenset({"post", "status", "photo", "video"})
_ADD_VERBS = frozenset({"add"})
_EDIT_VERBS = frozenset({"edited", "edit"})
_REMOVE_VERBS = frozenset({"remove", "delete"})


# -- verification -------------------------------------------------------------------------


def verify_subscription(params: Mapping[str, str], verify_token: str | None) -> str:
    """Answer Meta's subscription handshake; the challenge to echo back (``channels.hub``)."""
    return hub.verify_subscription(params, verify_token, variable="META_VERIFY_TOKEN")


def verify_signature(body: bytes, header_value: str | None, app_secret: str | None) -> None:
    """Check ``X-Hub-Signature-256`` with the Meta app's secret (``channels.hub``)."""
    hub.verify_signature(body, header_value, app_secret, variable="META_APP_SECRET")


sign = hub.sign


# -- private replies ----------------------------------------------------------------------


def private_reply_allowed(
    comment_created_at: datetime,
    now: datetime,
    *,
    is_brand_comment: bool,
    already_replied: bool,
) -> tuple[bool, str | None]:
    """Whether Meta will accept a private reply to a comment, and if not, why.

    Meta's rules: one private reply per comment, only within 7 days of the comment, and never
    to the Page's (brand's) own comments. Asking first spares a call Meta would refuse.
    Returns ``(True, None)`` or ``(False, reason)`` with reason ``"brand_comment"``,
    ``"already_replied"`` or ``"window_expired"``.
    """
    for value in (comment_created_at, now):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("private_reply_allowed needs timezone-aware datetimes")
    if is_brand_comment:
        return False, "brand_comment"
    if already_replied:
        return False, "already_replied"
    if now - comment_created_at >= PRIVATE_REPLY_WINDOW:
        return False, "window_expired"
    return True, None


# -- envelope models, pinned to Meta's documented shapes ----------------------------------


# An account or participant id: a string, or (older captures) a non-negative number normalised to one.
_AccountId = Annotated[str, BeforeValidator(numeric_id), Field(min_length=1, max_length=128)]


# strict: a comment id that is a number or a timestamp that is a string is not Meta's shape.


ShapeT = TypeVar("ShapeT", bound=StrictShape)


class _Actor(StrictShape):
    id: _AccountId  # feed `from.id`: a number in older captures, like entry.id
    name: str | None = None
    username: str | None = None


class _Change(StrictShape):
    field: str
    value: Any = None


class _Entry(StrictShape):
    id: _AccountId
    time: EpochSecondsOrMillis | None = None
    changes: list[_Change] = []
    messaging: list[dict[str, Any]] = []
    standby: list[dict[str, Any]] = []  # handover protocol: another app owns the thread
    field: str | None = None  # Instagram Login: one change flat in the entry
    value: Any = None


# Entry keys hilft reads (or that carry nothing to answer); any other key is named in ``ignored``.
_ENTRY_KEYS = frozenset({"id", "uid", "time", "changes", "messaging", "standby", "field", "value"})


class _Envelope(StrictShape):
    object: str
    entry: list[_Entry]


class _FeedValue(StrictShape):
    """Page ``feed`` change: ``item`` (comment, post, status, reaction…) and ``verb``."""

    item: str
    verb: str
    from_: _Actor | None = Field(default=None, alias="from")
    post_id: str | None = None
    comment_id: str | None = None
    parent_id: str | None = None
    message: str | None = None
    created_time: EpochSeconds | None = None


class _PageMentionValue(StrictShape):
    """Page ``mention``: someone mentioned the Page in a post or comment."""

    item: str
    verb: str
    post_id: str
    comment_id: str | None = None
    sender_id: _AccountId | None = None
    sender_name: str | None = None
    message: str | None = None
    created_time: EpochSeconds | None = None


class _IgMedia(StrictShape):
    id: str


class _IgCommentValue(StrictShape):
    """Instagram ``comments``: a comment on the brand's media (no timestamp in the payload)."""

    id: str
    from_: _Actor | None = Field(default=None, alias="from")
    text: str | None = None
    media: _IgMedia | None = None
    parent_id: str | None = None


class _IgMentionValue(StrictShape):
    """Instagram ``mentions``: the brand @mentioned in a caption (media_id) or a comment."""

    media_id: str
    comment_id: str | None = None


# A Chat Plugin user_ref: Meta's or the website's string, sent back in a JSON body, never in a path.
_UserRef = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]


class _Participant(StrictShape):
    """A PSID / IGSID, or (a Chat Plugin guest, Graph API v7.0+) only a ``user_ref``."""

    id: _AccountId | None = None
    user_ref: _UserRef | None = None

    @model_validator(mode="after")
    def _named(self) -> _Participant:
        if self.id is None and self.user_ref is None:
            raise ValueError("a participant needs an id or a user_ref")
        return self

    @property
    def key(self) -> str:
        """The id hilft stores: the PSID when Meta gives one (stable), else ``user_ref:<ref>``."""
        return self.id if self.id is not None else f"{USER_REF_PREFIX}{self.user_ref}"


def user_ref_of(author_id: str | None) -> str | None:
    """The Chat Plugin ``user_ref`` a stored id stands for (``user_ref:<ref>``), else None."""
    if author_id is None or not author_id.startswith(USER_REF_PREFIX):
        return None
    return author_id.removeprefix(USER_REF_PREFIX) or None


class _ReplyTo(StrictShape):
    mid: str | None = None


class _Message(StrictShape):
    mid: str
    text: str | None = None
    is_echo: bool = False
    is_deleted: bool = False  # Instagram: the sender unsent the message
    reply_to: _ReplyTo | None = None


class _MessagingEvent(StrictShape):
    sender: _Participant
    recipient: _Participant
    timestamp: EpochMillis
    message: _Message


# -- parsing ------------------------------------------------------------------------------


def parse(body: bytes, *, page_ids: frozenset[str], ig_user_ids: frozenset[str]) -> ParsedBatch:
    """Turn one webhook body into events, in delivery order.

    ``page_ids``/``ig_user_ids`` are the brand's own accounts: what they write is ``is_brand``.
    Anything not shaped like Meta's documented payloads raises ``MalformedPayload`` (and only
    that); fields and item types hilft does not handle are named in ``ignored``.

    Texts Meta does not send are kept as ``""``: Page and Instagram mentions carry only ids,
    so the service fetches the text later (``MetaClient.get_comment``) if it needs it.
    """
    document = jsonbody.loads(body)
    events: list[Mention | Deletion | AccessRevoked] = []
    ignored: list[str] = []
    # Meta's Instagram examples page wraps its notifications in a top-level [...]: each is parsed alike.
    documents = document if isinstance(document, list) and document else [document]
    for number, notification in enumerate(documents):
        _parse_notification(notification, page_ids, ig_user_ids, f"{number}." if len(documents) > 1 else "",
                            events, ignored)
    return ParsedBatch(events=tuple(events), ignored=tuple(dict.fromkeys(ignored)))


def _parse_notification(document: Any, page_ids: frozenset[str], ig_user_ids: frozenset[str], prefix: str,
                        events: list[Mention | Deletion | AccessRevoked], ignored: list[str]) -> None:
    """One ``{"object", "entry"}`` notification."""
    envelope = _validate(_Envelope, document, prefix.rstrip("."))
    if envelope.object == "page":
        dm_platform, brand_ids = Platform.MESSENGER, page_ids
    elif envelope.object == "instagram":
        dm_platform, brand_ids = Platform.INSTAGRAM, ig_user_ids
    else:
        ignored.append(f"object:{_name(envelope.object)}")
        return
    raw_entries = document.get("entry") if isinstance(document, dict) else None
    for index, entry in enumerate(envelope.entry):
        where = f"{prefix}entry.{index}"
        fallback_time = _from_epoch(entry.time) if entry.time is not None else None
        changes = list(entry.changes)
        if entry.field is not None:  # Instagram Login's flat shape
            changes.append(_Change(field=entry.field, value=entry.value))
        for number, change in enumerate(changes):
            _parse_change(envelope.object, change, entry.id, brand_ids, fallback_time,
                          f"{where}.changes.{number}", events, ignored)
        for number, item in enumerate(entry.messaging):
            _parse_messaging(dm_platform, item, entry.id, brand_ids, f"{where}.messaging.{number}",
                             events, ignored)
        for number, item in enumerate(entry.standby):
            _parse_messaging(dm_platform, item, entry.id, brand_ids, f"{where}.standby.{number}",
                             events, ignored, channel="standby")
        raw = raw_entries[index] if isinstance(raw_entries, list) and index < len(raw_entries) else {}
        extra = [key for key in raw if key not in _ENTRY_KEYS] if isinstance(raw, dict) else []
        ignored.extend(f"{envelope.object}:entry.{_name(key)}" for key in extra)
        if not (changes or entry.messaging or entry.standby or extra):
            ignored.append(f"{envelope.object}:empty-entry")


def _parse_change(
    object_name: str,
    change: _Change,
    account_id: str,
    brand_ids: frozenset[str],
    fallback_time: datetime | None,
    where: str,
    events: list[Mention | Deletion | AccessRevoked],
    ignored: list[str],
) -> None:
    handler = _CHANGE_HANDLERS.get((object_name, change.field))
    if handler is None:
        ignored.append(f"{object_name}:{_name(change.field)}")
        return
    outcome = handler(change.value, account_id, brand_ids, fallback_time, f"{where}.value")
    if isinstance(outcome, str):
        ignored.append(outcome)
    else:
        events.append(outcome)


def _edit_fields(verb: str, post_id: str, fallback_time: datetime | None) -> dict[str, Any]:
    """``verb: edited`` keeps the id: the edit replaces the stored text of the same document.

    The entry's time (when Meta sent the edit) orders edits: a later edit has a higher rank.
    """
    if verb not in _EDIT_VERBS:
        return {}
    rank = int(fallback_time.timestamp() * 1000) if fallback_time else 1
    return {"edit_of": post_id, "edit_rank": max(rank, 1), "edited_at": fallback_time}


def _page_feed(
    raw: Any, page_id: str, page_ids: frozenset[str], fallback_time: datetime | None, where: str
) -> Mention | Deletion | str:
    value = _validate(_FeedValue, raw, where)
    if value.item == "comment":
        post_id = _require(value.comment_id, f"{where}.comment_id")
    elif value.item in _FEED_POST_ITEMS:
        post_id = _require(value.post_id, f"{where}.post_id")
    else:
        return f"feed:{_name(value.item)}"
    author_id = value.from_.id if value.from_ else None
    created_at = _created_at(value.created_time, fallback_time, where)
    if value.verb in _REMOVE_VERBS:
        return Deletion(platform=Platform.FACEBOOK, post_id=post_id, author_id=author_id,
                        deleted_at=created_at)
    if value.verb not in _ADD_VERBS | _EDIT_VERBS:
        return f"feed:{_name(value.item)}:{_name(value.verb)}"
    is_comment = value.item == "comment"
    # Meta sets parent_id on every comment: the post for a top-level comment, else the comment.
    in_reply_to = (value.parent_id or value.post_id) if is_comment else None
    return Mention(
        platform=Platform.FACEBOOK,
        post_id=post_id,
        kind=Kind.REPLY if is_comment else Kind.MENTION,
        author=_author(value.from_),
        text=_clean(value.message),
        created_at=created_at,
        conversation_id=value.post_id,
        in_reply_to=in_reply_to,
        is_brand=author_id is not None and author_id in page_ids,
        brand_account_id=page_id,
        url=_facebook_url(value.post_id),
        **_edit_fields(value.verb, post_id, fallback_time),
    )


def _page_mention(
    raw: Any, page_id: str, page_ids: frozenset[str], fallback_time: datetime | None, where: str
) -> Mention | Deletion | str:
    value = _validate(_PageMentionValue, raw, where)
    if value.item == "comment":
        post_id = _require(value.comment_id, f"{where}.comment_id")
    elif value.item in _FEED_POST_ITEMS:
        post_id = value.post_id
    else:
        return f"mention:{_name(value.item)}"
    created_at = _created_at(value.created_time, fallback_time, where)
    if value.verb in _REMOVE_VERBS:
        return Deletion(platform=Platform.FACEBOOK, post_id=post_id, author_id=value.sender_id,
                        deleted_at=created_at)
    if value.verb not in _ADD_VERBS | _EDIT_VERBS:
        return f"mention:{_name(value.item)}:{_name(value.verb)}"
    author_id = value.sender_id or UNKNOWN_AUTHOR_ID
    text = _clean(value.message)
    return Mention(
        platform=Platform.FACEBOOK,
        post_id=post_id,
        kind=Kind.MENTION,
        author=Author(id=author_id, name=_clean_optional(value.sender_name)),
        text=text,
        needs_enrichment=not text or author_id == UNKNOWN_AUTHOR_ID,
        created_at=created_at,
        conversation_id=value.post_id,
        in_reply_to=value.post_id if value.item == "comment" else None,
        is_brand=author_id in page_ids,
        brand_account_id=page_id,
        mentioned_user_ids=(page_id,),
        url=_facebook_url(value.post_id),
        **_edit_fields(value.verb, post_id, fallback_time),
    )


def _ig_comment(
    raw: Any, ig_user_id: str, ig_user_ids: frozenset[str], fallback_time: datetime | None, where: str
) -> Mention | Deletion | str:
    """Instagram sends no creation time with a comment: the entry's time stands in for it."""
    value = _validate(_IgCommentValue, raw, where)
    media_id = value.media.id if value.media else None
    author_id = value.from_.id if value.from_ else None
    return Mention(
        platform=Platform.INSTAGRAM,
        post_id=value.id,
        kind=Kind.REPLY,
        author=_author(value.from_),
        text=_clean(value.text),
        created_at=_created_at(None, fallback_time, where),
        conversation_id=media_id,
        in_reply_to=value.parent_id or media_id,
        is_brand=author_id is not None and author_id in ig_user_ids,
        brand_account_id=ig_user_id,
    )


def _ig_mention(
    raw: Any, ig_user_id: str, ig_user_ids: frozenset[str], fallback_time: datetime | None, where: str
) -> Mention | Deletion | str:
    """A mention carries ids only: text ``""`` and author ``"unknown"`` until fetched.

    A caption mention has only ``media_id`` (the post is the media itself); a comment mention
    also has ``comment_id``.
    """
    value = _validate(_IgMentionValue, raw, where)
    return Mention(
        platform=Platform.INSTAGRAM,
        post_id=value.comment_id or value.media_id,
        kind=Kind.MENTION,
        author=Author(id=UNKNOWN_AUTHOR_ID),
        text="",
        created_at=_created_at(None, fallback_time, where),
        conversation_id=value.media_id,
        in_reply_to=value.media_id if value.comment_id else None,
        brand_account_id=ig_user_id,
        mentioned_user_ids=(ig_user_id,),
        needs_enrichment=True,
    )


_ChangeHandler = Callable[[Any, str, frozenset[str], datetime | None, str], Mention | Deletion | str]
_CHANGE_HANDLERS: dict[tuple[str, str], _ChangeHandler] = {
    ("page", "feed"): _page_feed,
    ("page", "mention"): _page_mention,
    ("instagram", "comments"): _ig_comment,
    ("instagram", "mentions"): _ig_mention,
}


def _parse_messaging(
    platform: Platform,
    raw: dict[str, Any],
    account_id: str,
    brand_ids: frozenset[str],
    where: str,
    events: list[Mention | Deletion | AccessRevoked],
    ignored: list[str],
    channel: str = "messaging",
) -> None:
    """One ``messaging[]`` (or ``standby[]``) item: a message (or its echo), else a receipt, postback…

    ``is_echo`` marks what the brand itself sent (from any tool): that is a brand answer.
    The conversation id is the customer's page- or Instagram-scoped id (``user_ref:<ref>`` for a
    Chat Plugin guest Meta names by ``user_ref`` only).
    """
    if "message" not in raw:
        kinds = sorted(set(raw) - {"sender", "recipient", "timestamp"})
        ignored.append(f"{channel}:{_name(kinds[0]) if kinds else 'empty'}")
        return
    event = _validate(_MessagingEvent, raw, where)
    message = event.message
    sender, recipient = event.sender.key, event.recipient.key
    if message.is_deleted:
        events.append(Deletion(platform=platform, post_id=message.mid, author_id=sender,
                               deleted_at=_from_epoch(event.timestamp)))
        return
    is_brand = message.is_echo or sender in brand_ids
    customer_id = recipient if is_brand else sender
    events.append(Mention(
        platform=platform,
        post_id=message.mid,
        kind=Kind.DM,
        author=Author(id=sender),
        text=_clean(message.text),
        created_at=_from_epoch(event.timestamp),
        conversation_id=customer_id,
        is_brand=is_brand,
        brand_account_id=account_id,
        recipient_id=recipient,
    ))


# -- helpers ------------------------------------------------------------------------------


def _validate(model: type[ShapeT], raw: Any, where: str) -> ShapeT:
    return validate_shape(model, raw, where, "Meta")


def _require(value: str | None, where: str) -> str:
    if value is None:
        raise MalformedPayload(f"malformed Meta payload at {where}: missing")
    return value


def _from_epoch(value: int) -> datetime:
    """Meta mixes seconds (feed, entry.time of changes) and milliseconds (messaging)."""
    seconds = value / 1000 if value >= _MILLIS_THRESHOLD else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def _created_at(created_time: int | None, fallback: datetime | None, where: str) -> datetime:
    if created_time is not None:
        return datetime.fromtimestamp(created_time, tz=UTC)
    if fallback is not None:
        return fallback
    raise MalformedPayload(f"malformed Meta payload at {where}: no created_time and no entry.time")


def _author(actor: _Actor | None) -> Author:
    if actor is None:  # Meta leaves out `from` when the app may not see the person
        return Author(id=UNKNOWN_AUTHOR_ID)
    return Author(id=actor.id, handle=_clean_optional(actor.username), name=_clean_optional(actor.name))


def _facebook_url(post_id: str | None) -> str | None:
    """Permalink of a post (comments link to their post); Graph post ids resolve on facebook.com."""
    if post_id is None or not re.fullmatch(r"[0-9_]+", post_id):
        return None
    return f"https://www.facebook.com/{post_id}"
