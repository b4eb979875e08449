"""X (Twitter) webhooks without I/O: CRC answers, signature checks, and parsing into hilft's models.

Two delivery formats reach ``x_webhook`` and both are handled here:

* **Account Activity API** (AAA, v1.1 objects): one body per subscribed account, ``for_user_id``
  plus one list per event kind (``tweet_create_events``, ``direct_message_events``,
  ``tweet_delete_events``, ``favorite_events`` ...).
* **X Activity API** (XAA): one event per POST, ``{"data": {"event_type", "filter", "payload",
  "includes"}}``. X documents no batching for XAA webhooks, so a body is exactly one envelope; a
  top-level list is rejected as malformed rather than guessed at. Handled: ``post.mention.create``,
  ``post.reply.create`` (a direct reply to a brand post: X sends no mention event for the implicit
  @ of a reply), ``post.quote.create`` (a quote of a brand post), ``post.create`` (how the brand's
  own replies arrive), ``dm.received``, ``dm.sent`` (the brand's echo), ``chat.received`` and
  ``chat.sent`` (encrypted XChat: stored without text, ``encrypted``), ``post.delete`` and
  ``oauth.revoke``; every other type is returned in ``ignored``.

An Account Activity ``user_event`` (the user revoked the app) has no ``for_user_id``; it and XAA's
``oauth.revoke`` become ``AccessRevoked``. An edited post arrives under a new id with
``edit_history_tweet_ids`` (v2) or ``edit_history`` (v1.1): it is parsed with ``edit_of`` set to
the first version's id, so it lands on the original's document.

Posts and DMs written by a brand account come back as events too; they are marked ``is_brand``
for the service to treat as answers. Retweets carry no words of their own and are ignored.

Every envelope is validated by a pydantic model pinned to X's documented shape (unknown fields
ignored, types strict), so a body that does not fit raises ``MalformedPayload`` and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from hilft.core import jsonbody
from hilft.core.errors import InvalidSignature, MalformedPayload, MissingSecret
from hilft.core.models import AccessRevoked, Author, Deletion, Kind, Mention, ParsedBatch, Platform

OAUTH2_SIGNATURE_HEADER = "x-twitter-webhooks-signature-oauth2"
LEGACY_SIGNATURE_HEADER = "x-twitter-webhooks-signature"

_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")

# X's crc_token is a short random string (letters, digits and the base64/base64url marks). The CRC
# answer is HMAC(secret, token) in exactly the format of a body signature, so a token that could be
# a webhook body would turn the CRC endpoint into a signing oracle. Bodies are JSON objects (they
# start with ``{`` after optional whitespace); no token in this alphabet can be one.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_=+/.\-]{1,256}")


# -- signatures ---------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """X's signature format: ``sha256=`` + base64(HMAC-SHA256(secret, body))."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response(crc_token: str, *, client_secret: str | None, consumer_secret: str | None) -> dict[str, str]:
    """Answer X's challenge-response check, keyed by the OAuth 2.0 client secret when configured.

    Only tokens of ``CRC_TOKEN``'s bounded alphabet are signed: anything else is ``MalformedPayload``
    (400), so no CRC answer can ever be replayed as the signature of a webhook body.
    """
    key = client_secret or consumer_secret
    if not key:
        raise MissingSecret()
    if not crc_token:
        raise MalformedPayload("missing crc_token")
    if not CRC_TOKEN.fullmatch(crc_token):
        raise MalformedPayload("crc_token must be 1-256 characters of [A-Za-z0-9_=+/.-]")
    return {"response_token": sign(crc_token.encode("utf-8"), key)}


def verify_signature(
    body: bytes, headers: Mapping[str, str], *, client_secret: str | None, consumer_secret: str | None
) -> None:
    """Accept the raw body only if a configured secret signed it; otherwise raise.

    ``X-Twitter-Webhooks-Signature-OAuth2`` is checked with the client secret and, as a fallback,
    the legacy ``X-Twitter-Webhooks-Signature`` with the consumer secret. With no secret configured
    at all this fails closed (``MissingSecret``) instead of accepting unsigned deliveries.
    """
    if not client_secret and not consumer_secret:
        raise MissingSecret()
    presented = {name.lower(): value for name, value in headers.items()}
    pairs = ((OAUTH2_SIGNATURE_HEADER, client_secret), (LEGACY_SIGNATURE_HEADER, consumer_secret))
    for header, secret in pairs:
        value = presented.get(header)
        if secret and value and hmac.compare_digest(value.encode("utf-8", "replace"),
                                                    sign(body, secret).encode("ascii")):
            return
    raise InvalidSignature()


def post_url(post_id: str, handle: str | None = None) -> str:
    """Public link to a post; ``/i/`` works when the author's handle is unknown."""
    name = handle if handle and _HANDLE.fullmatch(handle) else "i"
    return f"https://x.com/{name}/status/{post_id}"


def dm_conversation_id(user_a: str, user_b: str) -> str:
    """X's id of a one-to-one DM conversation: both user ids, numerically smaller first."""
    low, high = sorted((user_a, user_b), key=lambda uid: (len(uid), uid))
    return f"{low}-{high}"


# -- envelope models (pinned to X's documented shapes) ------------------------------------------

_Id = Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]

HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII)
"""X's handle alphabet and length (letters, digits, "_"; at most 15)."""


def is_x_handle(value: object) -> bool:
    return isinstance(value, str) and HANDLE.fullmatch(value) is not None


def _handle_or_unknown(value: object) -> object:
    """A handle outside X's alphabet is no X handle: the author's handle counts as unknown (None)
    rather than failing the delivery, so nothing hostile ever reaches a text the brand posts."""
    return value if is_x_handle(value) else None


_Handle = Annotated[str | None, BeforeValidator(_handle_or_unknown)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


# Account Activity API (v1.1 objects)
class _V1User(_Shape):
    id_str: _Id
    screen_name: _Handle = None
    name: str | None = None
    followers_count: int | None = None


class _V1MentionEntity(_Shape):
    id_str: _Id


class _V1Entities(_Shape):
    user_mentions: list[_V1MentionEntity] = []


class _ExtendedTweet(_Shape):
    full_text: str
    entities: _V1Entities | None = None


class _V1EditHistory(_Shape):
    initial_tweet_id: _Id
    edit_tweet_ids: list[_Id] = []


class _V1Quoted(_Shape):
    """The quoted post inside a quote: only whose post it is matters."""

    user: _V1User


class _V1Tweet(_Shape):
    id_str: _Id
    text: str
    created_at: str  # "Wed Oct 10 20:19:24 +0000 2018"
    user: _V1User
    truncated: bool = False
    extended_tweet: _ExtendedTweet | None = None
    in_reply_to_status_id_str: _Id | None = None
    in_reply_to_user_id_str: _Id | None = None
    entities: _V1Entities | None = None
    lang: str | None = None
    retweeted_status: dict[str, Any] | None = None
    quoted_status: _V1Quoted | None = None
    edit_history: _V1EditHistory | None = None


class _MessageData(_Shape):
    text: str


class _DmTarget(_Shape):
    recipient_id: _Id


class _MessageCreate(_Shape):
    sender_id: _Id
    target: _DmTarget
    message_data: _MessageData


class _LegacyDmEvent(_Shape):
    type: str
    id: _Id
    created_timestamp: str  # milliseconds since the epoch, as a string
    message_create: _MessageCreate | None = None


class _LegacyDmUser(_Shape):
    """A user in AAA's ``users`` map (v1.1 fields)."""

    id: _Id
    screen_name: _Handle = None
    name: str | None = None
    followers_count: int | None = None


class _DeletedStatus(_Shape):
    id: _Id
    user_id: _Id


class _TweetDelete(_Shape):
    status: _DeletedStatus
    timestamp_ms: str | None = None


class _RevokeTarget(_Shape):
    app_id: str | None = None


class _RevokeSource(_Shape):
    user_id: _Id | None = None


class _Revoke(_Shape):
    date_time: str | None = None  # "2018-05-24T09:48:12+00:00"
    target: _RevokeTarget = _RevokeTarget()
    source: _RevokeSource = _RevokeSource()


class _UserEvent(_Shape):
    """AAA ``user_event``: delivered without ``for_user_id`` (the subscription is already gone)."""

    revoke: _Revoke | None = None


class _AccountActivity(_Shape):
    for_user_id: _Id
    user_has_blocked: Literal["true", "false"] | bool | None = None
    is_blocked_by: Literal["true", "false"] | bool | None = None  # a flag on mentions, no event
    tweet_create_events: list[_V1Tweet] = []
    direct_message_events: list[_LegacyDmEvent] = []
    tweet_delete_events: list[_TweetDelete] = []
    users: dict[str, _LegacyDmUser] = {}


# Keys that accompany events rather than being events; every other key names an event kind.
_AAA_KNOWN_KEYS = frozenset({"for_user_id", "user_has_blocked", "is_blocked_by", "users", "apps",
                             "tweet_create_events", "direct_message_events", "tweet_delete_events"})


# X Activity API (v2 objects)
class _PublicMetrics(_Shape):
    followers_count: int | None = None


class _V2User(_Shape):
    id: _Id
    username: _Handle = None
    name: str | None = None
    public_metrics: _PublicMetrics | None = None


class _WrappedV2User(_Shape):
    """XAA sometimes wraps a user as ``{"data": {...}}`` (post.delete includes, DM users map)."""

    data: _V2User


class _V2MentionEntity(_Shape):
    id: _Id | None = None
    username: _Handle = None


class _V2Entities(_Shape):
    mentions: list[_V2MentionEntity] = []


class _ReferencedPost(_Shape):
    type: str
    id: _Id


class _NoteTweet(_Shape):
    text: str
    entities: _V2Entities | None = None


class _V2Post(_Shape):
    id: _Id
    text: str
    author_id: _Id
    created_at: str  # ISO 8601, "2026-07-24T21:23:23.000Z"
    conversation_id: _Id | None = None
    in_reply_to_user_id: _Id | None = None
    in_reply_to_tweet_id: _Id | None = None  # X: "present on replies"; referenced_tweets may be absent
    referenced_tweets: list[_ReferencedPost] = []
    entities: _V2Entities | None = None
    note_tweet: _NoteTweet | None = None  # full text of a post longer than 280 characters
    lang: str | None = None
    edit_history_tweet_ids: list[_Id] = []  # oldest first; more than one: this post is an edit


class _V2DmEvent(_Shape):
    """A v2 DM event object, accepted as an alternative DM payload."""

    id: _Id
    text: str
    sender_id: _Id
    created_at: str
    dm_conversation_id: str | None = None
    participant_ids: list[_Id] = []


class _LegacyDmPayload(_Shape):
    """XAA ``dm.received``/``dm.sent``: AAA-style DM events plus a users map of wrapped v2 users."""

    direct_message_events: list[_LegacyDmEvent]
    users: dict[str, _WrappedV2User | _V2User] = {}


class _PostDeletePayload(_Shape):
    id: _Id
    author_id: _Id | None = None


class _IncludedPost(_Shape):
    id: _Id
    author_id: _Id | None = None


class _Includes(_Shape):
    users: list[_WrappedV2User | _V2User] = []
    tweets: list[_IncludedPost] = []


class _ChatPayload(_Shape):
    """XAA ``chat.received``/``chat.sent``: end-to-end encrypted, so ids and times only."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]
    created_at_msec: str
    sender_id: _Id
    # "<user>:<user>" for one-to-one chats; group conversations have other ids (never path characters).
    conversation_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_:-]{1,200}$")]


class _OAuthRevokePayload(_Shape):
    user_id: _Id | None = None
    date_time: str | None = None


class _ActivityFilter(_Shape):
    user_id: _Id | None = None


class _Activity(_Shape):
    event_type: str
    filter: _ActivityFilter = _ActivityFilter()
    payload: dict[str, Any] = {}
    includes: dict[str, Any] = {}  # validated only for events hilft handles


class _ActivityEnvelope(_Shape):
    data: _Activity


# The X Activity API kinds `make register-webhooks` subscribes each brand account to (filter
# ``{"user_id": brand}``, https://docs.x.com/x-api/activity/introduction). Not ``post.delete``: it fires
# only for the filtered account's own deletions. ``oauth.revoke`` has no subscription type (filter: none).
XAA_SUBSCRIBED_EVENTS = ("post.mention.create", "post.reply.create", "post.quote.create", "post.create",
                         "dm.received", "dm.sent", "chat.received", "chat.sent")

_XAA_POST_EVENTS = frozenset({"post.mention.create", "post.reply.create", "post.quote.create", "post.create"})
_XAA_DM_EVENTS = frozenset({"dm.received", "dm.sent"})
_XAA_CHAT_EVENTS = frozenset({"chat.received", "chat.sent"})


# -- parsing ------------------------------------------------------------------------------------


def parse(body: bytes, *, brand_user_ids: frozenset[str]) -> ParsedBatch:
    """Turn one verified webhook body into hilft's events; anything unexpected is ``MalformedPayload``."""
    document = jsonbody.loads(body)
    if not isinstance(document, dict):
        raise MalformedPayload("body is not a JSON object")
    from hilft.channels.x import stream as x_stream  # Filtered Stream deliveries: the radar on X (issue 17)

    if x_stream.is_stream_delivery(document):
        return x_stream.parse_document(document, brand_user_ids=brand_user_ids)
    try:
        if isinstance(document.get("data"), dict):
            return _parse_activity(_ActivityEnvelope.model_validate(document).data, brand_user_ids)
        if "user_event" in document:  # first: a revoke must alert even if it names an account
            return _parse_user_event(document)
        if "for_user_id" in document:
            return _parse_account_activity(document, brand_user_ids)
    except ValidationError as exc:
        raise MalformedPayload("body does not match an X webhook shape") from exc
    raise MalformedPayload("neither an Account Activity nor an X Activity API body")


def _parse_user_event(document: dict[str, Any]) -> ParsedBatch:
    """AAA's revoke: the account took back the app's access; hilft is deaf on it from now on."""
    raw = document["user_event"]
    event = _UserEvent.model_validate(raw)
    ignored = [f"user_event.{key}" for key in raw if key != "revoke"] if isinstance(raw, dict) else []
    ignored += [key for key in document if key not in ("user_event", "for_user_id")]
    if event.revoke is None:
        return ParsedBatch(ignored=_unique(ignored) or ("user_event",))
    for_user = document.get("for_user_id")
    account = event.revoke.source.user_id or (for_user if isinstance(for_user, str) and for_user.isdigit() else None)
    revoked = AccessRevoked(platform=Platform.X, account_id=account,
                            revoked_at=_optional_iso(event.revoke.date_time), source="user_event.revoke")
    return ParsedBatch(events=(revoked,), ignored=_unique(ignored))


def _parse_account_activity(document: dict[str, Any], brand_user_ids: frozenset[str]) -> ParsedBatch:
    activity = _AccountActivity.model_validate(document)
    brand = activity.for_user_id
    users = {uid: Author(id=u.id, handle=u.screen_name, name=u.name, followers=u.followers_count)
             for uid, u in activity.users.items()}
    events: list[Mention | Deletion | AccessRevoked] = []
    ignored: list[str] = [key for key in document if key not in _AAA_KNOWN_KEYS]

    for tweet in activity.tweet_create_events:
        if tweet.retweeted_status is not None:  # a retweet adds no words of its own to answer
            ignored.append("retweet")
            continue
        events.append(_mention_from_v1_tweet(tweet, brand, brand_user_ids))
    for dm in activity.direct_message_events:
        if dm.message_create is None or dm.type != "message_create":
            ignored.append(f"direct_message_events.{dm.type}")
            continue
        events.append(_mention_from_legacy_dm(dm, dm.message_create, users, brand, brand_user_ids))
    for deletion in activity.tweet_delete_events:
        deleted_at = _from_epoch_ms(deletion.timestamp_ms) if deletion.timestamp_ms else None
        events.append(Deletion(platform=Platform.X, post_id=deletion.status.id,
                               author_id=deletion.status.user_id, deleted_at=deleted_at))
    return ParsedBatch(events=tuple(events), ignored=_unique(ignored))


def _mention_from_v1_tweet(tweet: _V1Tweet, brand: str, brand_user_ids: frozenset[str]) -> Mention:
    # A truncated (compatibility mode) tweet carries its full text and entities in extended_tweet.
    full = tweet.extended_tweet if tweet.truncated and tweet.extended_tweet else None
    text = full.full_text if full else tweet.text
    entities = (full.entities if full else None) or tweet.entities
    author = Author(id=tweet.user.id_str, handle=tweet.user.screen_name, name=tweet.user.name,
                    followers=tweet.user.followers_count)
    history = tweet.edit_history
    edit_of, edit_rank = (_edit_of(tweet.id_str, [history.initial_tweet_id, *history.edit_tweet_ids])
                          if history else (None, 0))
    return Mention(
        platform=Platform.X,
        post_id=tweet.id_str,
        kind=Kind.REPLY if tweet.in_reply_to_status_id_str else Kind.MENTION,
        author=author,
        text=text,
        created_at=_from_v1_time(tweet.created_at),
        in_reply_to=tweet.in_reply_to_status_id_str,
        in_reply_to_author_id=tweet.in_reply_to_user_id_str,
        is_brand=author.id in brand_user_ids,
        brand_account_id=brand,
        lang=tweet.lang,
        url=post_url(tweet.id_str, author.handle),
        mentioned_user_ids=_unique(m.id_str for m in entities.user_mentions) if entities else (),
        quoted_author_id=tweet.quoted_status.user.id_str if tweet.quoted_status else None,
        edit_of=edit_of,
        edit_rank=edit_rank,
    )


def _edit_of(post_id: str, history: list[str]) -> tuple[str | None, int]:
    """(first version's id, this version's place) for an edited post; (None, 0) for an original.

    X lists a post's versions oldest first; each edit gets a new id and the first one names them all.
    """
    versions = _unique(history)
    if not versions or versions[0] == post_id:
        return None, 0
    rank = versions.index(post_id) if post_id in versions else len(versions)
    return versions[0], rank


def _mention_from_legacy_dm(dm: _LegacyDmEvent, message: _MessageCreate, users: Mapping[str, Author],
                            brand: str | None, brand_user_ids: frozenset[str]) -> Mention:
    sender, recipient = message.sender_id, message.target.recipient_id
    return Mention(
        platform=Platform.X,
        post_id=dm.id,
        kind=Kind.DM,
        author=users.get(sender) or Author(id=sender),
        text=message.message_data.text,
        created_at=_from_epoch_ms(dm.created_timestamp),
        conversation_id=dm_conversation_id(sender, recipient),
        is_brand=sender in brand_user_ids,
        brand_account_id=brand,
        recipient_id=recipient,
    )


def _parse_activity(activity: _Activity, brand_user_ids: frozenset[str]) -> ParsedBatch:
    event_type, subscribed = activity.event_type, activity.filter.user_id
    if event_type in _XAA_POST_EVENTS:
        post = _V2Post.model_validate(activity.payload)
        includes = _Includes.model_validate(activity.includes)
        users = v2_users(includes.users)
        authors = {tweet.id: tweet.author_id for tweet in includes.tweets if tweet.author_id}
        # reply.create and quote.create fire only for posts of the filtered user.
        replied_author = subscribed if event_type == "post.reply.create" else None
        quoted_author = subscribed if event_type == "post.quote.create" else None
        return ParsedBatch(events=(mention_from_v2_post(post, users, subscribed, brand_user_ids, authors=authors,
                                                         replied_author=replied_author,
                                                         quoted_author=quoted_author),))
    if event_type in _XAA_CHAT_EVENTS:
        return ParsedBatch(events=(_mention_from_chat(activity, subscribed, brand_user_ids),))
    if event_type == "oauth.revoke":
        revoke = _OAuthRevokePayload.model_validate(activity.payload)
        return ParsedBatch(events=(AccessRevoked(platform=Platform.X, account_id=revoke.user_id or subscribed,
                                                 revoked_at=_optional_iso(revoke.date_time),
                                                 source="oauth.revoke"),))
    if event_type in _XAA_DM_EVENTS:
        if "direct_message_events" in activity.payload:
            return _legacy_dms_from_activity(activity, subscribed, brand_user_ids)
        return ParsedBatch(events=(_mention_from_v2_dm(activity, subscribed, brand_user_ids),))
    if event_type == "post.delete":
        deleted = _PostDeletePayload.model_validate(activity.payload)
        # XAA's post.delete carries no time of deletion, so deleted_at stays unknown.
        return ParsedBatch(events=(Deletion(platform=Platform.X, post_id=deleted.id,
                                            author_id=deleted.author_id),))
    return ParsedBatch(ignored=(event_type,))


def mention_from_v2_post(post: _V2Post, users: Mapping[str, Author], subscribed: str | None,
                         brand_user_ids: frozenset[str], *, authors: Mapping[str, str] | None = None,
                         replied_author: str | None = None, quoted_author: str | None = None) -> Mention:
    """An X API v2 post as hilft's Mention (X Activity API deliveries and Filtered Stream alike).

    ``users``: the delivery's included accounts by id; ``authors``: included posts' author ids by
    post id (who was replied to or quoted); ``subscribed``: the account the delivery is for, if any.
    """
    replied_to = next((ref.id for ref in post.referenced_tweets if ref.type == "replied_to"),
                      post.in_reply_to_tweet_id)
    quoted = next((ref.id for ref in post.referenced_tweets if ref.type == "quoted"), None)
    authors = authors or {}
    mentioned = _v2_mentioned_ids(post, users)
    author = users.get(post.author_id) or Author(id=post.author_id)
    edit_of, edit_rank = _edit_of(post.id, post.edit_history_tweet_ids)
    quoted_author_id = quoted_author or (authors.get(quoted) if quoted else None)
    return Mention(
        platform=Platform.X,
        post_id=post.id,
        kind=Kind.REPLY if replied_to else Kind.MENTION,
        author=author,
        text=post.note_tweet.text if post.note_tweet else post.text,
        created_at=_from_iso(post.created_at),
        conversation_id=post.conversation_id,
        in_reply_to=replied_to,
        in_reply_to_author_id=post.in_reply_to_user_id or replied_author or (authors.get(replied_to)
                                                                             if replied_to else None),
        is_brand=post.author_id in brand_user_ids,
        brand_account_id=_brand_account(subscribed, *mentioned, brand_user_ids=brand_user_ids),
        lang=post.lang,
        url=post_url(post.id, author.handle),
        mentioned_user_ids=mentioned,
        quoted_author_id=quoted_author_id,
        edit_of=edit_of,
        edit_rank=edit_rank,
    )


def _mention_from_chat(activity: _Activity, subscribed: str | None, brand_user_ids: frozenset[str]) -> Mention:
    """An XChat message: its text is end-to-end encrypted, so hilft stores who, when and where only."""
    chat = _ChatPayload.model_validate(activity.payload)
    participants = [uid for uid in re.split(r"[:-]", chat.conversation_id) if uid.isdigit()]
    others = [uid for uid in participants if uid != chat.sender_id]
    recipient = others[0] if others else (subscribed if subscribed != chat.sender_id else None)
    return Mention(
        platform=Platform.X,
        post_id=chat.id,
        kind=Kind.DM,
        author=Author(id=chat.sender_id),
        text="",
        encrypted=True,
        created_at=_from_epoch_ms(chat.created_at_msec),
        conversation_id=chat.conversation_id,
        is_brand=chat.sender_id in brand_user_ids,
        brand_account_id=_brand_account(subscribed, recipient, chat.sender_id, brand_user_ids=brand_user_ids),
        recipient_id=recipient,
    )


def _v2_mentioned_ids(post: _V2Post, users: Mapping[str, Author]) -> tuple[str, ...]:
    """Ids of @-mentioned accounts; a mention entity without an id is resolved through includes."""
    entities = (post.note_tweet.entities if post.note_tweet else None) or post.entities
    by_handle = {author.handle.lower(): uid for uid, author in users.items() if author.handle}
    mentions = entities.mentions if entities else []
    found = (m.id or by_handle.get((m.username or "").lower()) for m in mentions)
    return _unique(uid for uid in found if uid)


def _legacy_dms_from_activity(activity: _Activity, subscribed: str | None,
                              brand_user_ids: frozenset[str]) -> ParsedBatch:
    payload = _LegacyDmPayload.model_validate(activity.payload)
    users = v2_users(payload.users.values())
    events: list[Mention | Deletion | AccessRevoked] = []
    ignored: list[str] = []
    for dm in payload.direct_message_events:
        if dm.message_create is None or dm.type != "message_create":
            ignored.append(f"{activity.event_type}.{dm.type}")
            continue
        brand = _brand_account(subscribed, dm.message_create.target.recipient_id, dm.message_create.sender_id,
                               brand_user_ids=brand_user_ids)
        events.append(_mention_from_legacy_dm(dm, dm.message_create, users, brand, brand_user_ids))
    return ParsedBatch(events=tuple(events), ignored=_unique(ignored))


def _mention_from_v2_dm(activity: _Activity, subscribed: str | None,
                        brand_user_ids: frozenset[str]) -> Mention:
    dm = _V2DmEvent.model_validate(activity.payload)
    users = v2_users(_Includes.model_validate(activity.includes).users)
    others = [uid for uid in dm.participant_ids if uid != dm.sender_id]
    recipient = others[0] if others else (subscribed if subscribed != dm.sender_id else None)
    fallback_conversation = dm_conversation_id(dm.sender_id, recipient) if recipient else None
    return Mention(
        platform=Platform.X,
        post_id=dm.id,
        kind=Kind.DM,
        author=users.get(dm.sender_id) or Author(id=dm.sender_id),
        text=dm.text,
        created_at=_from_iso(dm.created_at),
        conversation_id=dm.dm_conversation_id or fallback_conversation,
        is_brand=dm.sender_id in brand_user_ids,
        brand_account_id=_brand_account(subscribed, recipient, dm.sender_id, brand_user_ids=brand_user_ids),
        recipient_id=recipient,
    )


def _brand_account(subscribed: str | None, *others: str | None, brand_user_ids: frozenset[str]) -> str | None:
    """The first of the ids that is a brand account, else the subscribed user.

    XAA's ``filter.user_id`` is whoever the subscription follows, which may be a customer, so it
    names the brand account only when it is one.
    """
    return next((uid for uid in (subscribed, *others) if uid and uid in brand_user_ids), subscribed)


def v2_users(entries: Iterable[_WrappedV2User | _V2User]) -> dict[str, Author]:
    authors: dict[str, Author] = {}
    for entry in entries:
        user = entry.data if isinstance(entry, _WrappedV2User) else entry
        followers = user.public_metrics.followers_count if user.public_metrics else None
        authors[user.id] = Author(id=user.id, handle=user.username, name=user.name, followers=followers)
    return authors


# -- time ---------------------------------------------------------------------------------------

_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}


def _from_v1_time(value: str) -> datetime:
    """Parse v1.1's "Wed Oct 10 20:19:24 +0000 2018" without strptime's locale-dependent names."""
    parts = value.split(" ")
    if len(parts) != 6 or parts[1] not in _MONTHS:
        raise MalformedPayload("unreadable created_at")
    _, month, day, clock, offset, year = parts
    try:
        parsed = datetime.strptime(f"{year} {_MONTHS[month]} {day} {clock} {offset}", "%Y %m %d %H:%M:%S %z")
    except ValueError as exc:
        raise MalformedPayload("unreadable created_at") from exc
    return parsed.astimezone(UTC)


def _from_iso(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedPayload("unreadable created_at") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise MalformedPayload("created_at has no time zone")
    return parsed.astimezone(UTC)


def _optional_iso(value: str | None) -> datetime | None:
    """A revoke's time, if it can be read; the event counts even when it cannot."""
    if not value:
        return None
    try:
        return _from_iso(value)
    except MalformedPayload:
        return None


def _from_epoch_ms(value: str) -> datetime:
    if not (value.isascii() and value.isdigit()):
        raise MalformedPayload("unreadable timestamp")
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedPayload("timestamp out of range") from exc


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))
