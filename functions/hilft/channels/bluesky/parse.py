"""Bluesky (AT Protocol) answers → hilft's core models. Pure: no I/O.

Shapes follow the lexicons: ``app.bsky.notification.listNotifications`` (notifications with a
``reason`` and the post ``record``), ``app.bsky.feed.searchPosts`` and ``app.bsky.feed.getPosts``
(``postView``s), ``com.atproto.repo.listRecords`` (the brand's own ``app.bsky.feed.post`` records), and the chat
service's ``chat.bsky.convo.getLog`` (``logCreateMessage`` / ``logDeleteMessage`` events),
``chat.bsky.convo.listConvos`` and ``chat.bsky.convo.getMessages`` (``messageView``s, defined in
``chat.bsky.convo.defs``).

A post's id is its AT URI (``at://did/app.bsky.feed.post/rkey``); its author's id is the DID in
that URI. A reply's ``in_reply_to`` is the parent's URI, ``conversation_id`` the thread root's.
A chat message's id is the chat service's message id, its ``conversation_id`` the ``convoId``
(where an answer to it is sent), its author the sender's DID.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hilft.core.models import Author, Deletion, Kind, Mention, ParsedBatch, Platform

POST_COLLECTION = "app.bsky.feed.post"
ADDRESSED_REASONS = ("mention", "reply", "quote")  # the notifications that are a customer's post
_MENTION_FACET = "app.bsky.richtext.facet#mention"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
_CHAT_DEFS = "chat.bsky.convo.defs"
LOG_CREATE_MESSAGE = f"{_CHAT_DEFS}#logCreateMessage"
LOG_DELETE_MESSAGE = f"{_CHAT_DEFS}#logDeleteMessage"
MESSAGE_VIEW = f"{_CHAT_DEFS}#messageView"
DELETED_MESSAGE_VIEW = f"{_CHAT_DEFS}#deletedMessageView"


# -- ids -----------------------------------------------------------------------------------------
def uri_parts(uri: str) -> tuple[str, str, str] | None:
    """``at://did/collection/rkey`` → (did, collection, rkey); None for anything else."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def author_of(uri: str | None) -> str | None:
    parts = uri_parts(uri or "")
    return parts[0] if parts else None


def post_url(uri: str, handle: str | None = None) -> str | None:
    parts = uri_parts(uri)
    if parts is None or parts[1] != POST_COLLECTION:
        return None
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


def tid(microseconds: int, clock_id: int = 0) -> str:
    """A record key in the TID format: 53 bits of microseconds since 1970, 10 bits of clock id."""
    value = ((microseconds & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> shift) & 0x1F] for shift in range(60, -1, -5))


def tid_at(when: datetime, clock_id: int = 0) -> str:
    return tid(int(when.timestamp() * 1_000_000), clock_id)


# -- times ---------------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """An AT Protocol datetime (RFC 3339, any fraction length, ``Z`` or an offset) → aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    main, sep, rest = text.partition(".")
    if sep:  # Python before 3.11 reads at most 6 fraction digits; keep that many
        count = len(rest) - len(rest.lstrip("0123456789"))
        digits, rest = rest[:count], rest[count:]
        text = f"{main}.{(digits + '000000')[:6]}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def sort_key(value: Any) -> str:
    """A time as a string that sorts like the time (fixed width, UTC, microseconds)."""
    parsed = parse_time(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if parsed else ""


# -- posts ---------------------------------------------------------------------------------------
def _mentioned_dids(record: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for facet in _list(record.get("facets")):
        if not isinstance(facet, Mapping):
            continue
        for feature in _list(facet.get("features")):
            if isinstance(feature, Mapping) and feature.get("$type") == _MENTION_FACET:
                did = feature.get("did")
                if isinstance(did, str) and did not in found:
                    found.append(did)
    return tuple(found)


def _quoted_uri(record: Mapping[str, Any]) -> str | None:
    embed = record.get("embed")
    if not isinstance(embed, Mapping):
        return None
    inner = embed.get("record")
    if embed.get("$type") == "app.bsky.embed.recordWithMedia" and isinstance(inner, Mapping):
        inner = inner.get("record")
    if isinstance(inner, Mapping) and isinstance(inner.get("uri"), str):
        return str(inner["uri"])
    return None


def _reply_refs(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    reply = record.get("reply")
    if not isinstance(reply, Mapping):
        return None, None
    parent = _obj(reply.get("parent"))
    root = _obj(reply.get("root"))
    parent_uri = parent.get("uri") if isinstance(parent.get("uri"), str) else None
    root_uri = root.get("uri") if isinstance(root.get("uri"), str) else None
    return parent_uri, root_uri or parent_uri


def post_mention(uri: str, author: Mapping[str, Any], record: Mapping[str, Any], *, indexed_at: Any,
                 brand_dids: frozenset[str], brand_account_id: str | None = None) -> Mention | None:
    """One post record (from a notification, a search hit or the brand's repo) as a Mention."""
    parts = uri_parts(uri)
    if parts is None or parts[1] != POST_COLLECTION or not isinstance(record, Mapping):
        return None
    did = str(author.get("did") or parts[0])
    created = parse_time(record.get("createdAt")) or parse_time(indexed_at)
    if created is None:
        return None
    parent_uri, root_uri = _reply_refs(record)
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    text = record.get("text")
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    name = author.get("displayName") if isinstance(author.get("displayName"), str) else None
    followers = author.get("followersCount")
    return Mention(
        platform=Platform.BLUESKY,
        post_id=uri,
        kind=Kind.REPLY if parent_uri else Kind.MENTION,
        author=Author(id=did, handle=handle, name=name or None,
                      followers=followers if isinstance(followers, int) else None),
        text=text if isinstance(text, str) else "",
        created_at=created,
        conversation_id=root_uri or uri,
        in_reply_to=parent_uri,
        in_reply_to_author_id=author_of(parent_uri),
        is_brand=did in brand_dids,
        brand_account_id=brand_account_id,
        lang=lang[:2].lower() if lang else None,
        url=post_url(uri, handle),
        mentioned_user_ids=_mentioned_dids(record),
        quoted_author_id=author_of(_quoted_uri(record)),
        # A reply anywhere in a thread the brand's post started ("still broken" under another
        # customer's reply) is addressed to the brand: the record names the thread's root.
        on_brand_surface=bool(parent_uri) and author_of(root_uri) in brand_dids,
    )


def parse_notifications(body: Mapping[str, Any], brand_dids: frozenset[str],
                        brand_account_id: str | None = None) -> ParsedBatch:
    """``listNotifications``: mentions, replies and quotes are posts; other reasons are ignored."""
    events: list[Mention] = []
    ignored: list[str] = []
    for item in notifications_of(body):
        reason = item.get("reason")
        if reason not in ADDRESSED_REASONS:
            ignored.append(f"notification:{reason}")
            continue
        author = _obj(item.get("author"))
        mention = post_mention(str(item.get("uri") or ""), author, item.get("record") or {},
                               indexed_at=item.get("indexedAt"), brand_dids=brand_dids,
                               brand_account_id=brand_account_id)
        if mention is None:
            ignored.append(f"notification:{reason}:unreadable")
        else:
            events.append(mention)
    return ParsedBatch(events=tuple(events), ignored=tuple(ignored))


def notifications_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = body.get("notifications") if isinstance(body, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def posts_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``postView``s of a ``searchPosts`` or ``getPosts`` answer."""
    items = body.get("posts") if isinstance(body, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def parse_post_views(posts: Iterable[Mapping[str, Any]], brand_dids: frozenset[str],
                     brand_account_id: str | None = None) -> ParsedBatch:
    """Search hits (the radar): ingest keeps those that match the policy's keywords."""
    events: list[Mention] = []
    for view in posts:
        author = _obj(view.get("author"))
        mention = post_mention(str(view.get("uri") or ""), author, view.get("record") or {},
                               indexed_at=view.get("indexedAt"), brand_dids=brand_dids,
                               brand_account_id=brand_account_id)
        if mention is not None:
            events.append(mention)
    return ParsedBatch(events=tuple(events))


def records_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = body.get("records") if isinstance(body, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def parse_own_records(records: Iterable[Mapping[str, Any]], brand_did: str,
                      brand_handle: str | None = None) -> ParsedBatch:
    """``listRecords`` of the brand's own posts: its replies (written here or natively) stop clocks."""
    author = {"did": brand_did, "handle": brand_handle}
    events: list[Mention] = []
    for item in records:
        mention = post_mention(str(item.get("uri") or ""), author, item.get("value") or {},
                               indexed_at=None, brand_dids=frozenset({brand_did}), brand_account_id=brand_did)
        if mention is not None:
            events.append(mention)
    return ParsedBatch(events=tuple(events))


def deletions(asked: Sequence[str], body: Mapping[str, Any], now: datetime) -> list[Deletion]:
    """``getPosts`` leaves out posts that no longer exist: each asked-for URI missing is a delete."""
    present = {str(view.get("uri")) for view in posts_of(body)}
    return [Deletion(platform=Platform.BLUESKY, post_id=uri, author_id=author_of(uri), deleted_at=now)
            for uri in asked if uri not in present]


# -- chat (direct messages) -------------------------------------------------------------------
def logs_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The events of a ``chat.bsky.convo.getLog`` answer, in the log's order (oldest first)."""
    items = body.get("logs") if isinstance(body, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def convos_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``convoView``s of a ``chat.bsky.convo.listConvos`` answer."""
    items = body.get("convos") if isinstance(body, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def messages_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The messages of a ``chat.bsky.convo.getMessages`` answer (newest first)."""
    items = body.get("messages") if isinstance(body, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def log_rev(event: Mapping[str, Any]) -> str:
    """An event's ``rev``: the chat log's order (revs sort as strings, like TIDs)."""
    rev = event.get("rev")
    return rev if isinstance(rev, str) else ""


def convo_url(convo_id: str) -> str:
    """Where the brand's staff open the conversation in the Bluesky app."""
    return f"https://bsky.app/messages/{convo_id}"


def last_message_at(convo: Mapping[str, Any]) -> datetime | None:
    """When a ``convoView``'s last message was sent (None for a convo without messages)."""
    last = _obj(convo.get("lastMessage"))
    return parse_time(last.get("sentAt"))


def profiles_by_did(*lists: Any) -> dict[str, Mapping[str, Any]]:
    """``profileViewBasic``s (a log event's ``relatedProfiles``, a convo's ``members``) by DID."""
    found: dict[str, Mapping[str, Any]] = {}
    for items in lists:
        for profile in _list(items):
            if isinstance(profile, Mapping) and isinstance(profile.get("did"), str):
                found.setdefault(profile["did"], profile)
    return found


def _is_deleted_view(message: Mapping[str, Any]) -> bool:
    return message.get("$type") == DELETED_MESSAGE_VIEW or (
        "$type" not in message and "text" not in message and "data" not in message)


def chat_message(convo_id: str, message: Mapping[str, Any], *, brand_dids: frozenset[str],
                 brand_account_id: str | None = None,
                 profiles: Mapping[str, Mapping[str, Any]] | None = None) -> Mention | None:
    """One ``messageView`` as a DM: from a customer an item, from the brand an answer in that convo."""
    if not convo_id or message.get("$type") not in (None, MESSAGE_VIEW):
        return None  # a deleted message, a system message (group events), or something newer
    message_id = message.get("id")
    did = _obj(message.get("sender")).get("did")
    text = message.get("text")
    created = parse_time(message.get("sentAt"))
    if not isinstance(message_id, str) or not message_id or not isinstance(did, str) or not did.startswith("did:") \
            or not isinstance(text, str) or created is None:
        return None
    profile = (profiles or {}).get(did) or {}
    handle = profile.get("handle") if isinstance(profile.get("handle"), str) else None
    name = profile.get("displayName") if isinstance(profile.get("displayName"), str) else None
    is_brand = did in brand_dids
    return Mention(
        platform=Platform.BLUESKY,
        post_id=message_id,
        kind=Kind.DM,
        author=Author(id=did, handle=handle, name=name or None),
        text=text,
        created_at=created,
        conversation_id=convo_id,
        is_brand=is_brand,
        brand_account_id=brand_account_id,
        recipient_id=None if is_brand else brand_account_id,
        url=convo_url(convo_id),
    )


def _message_gone(message: Mapping[str, Any], now: datetime | None) -> Deletion | None:
    message_id = message.get("id")
    if not isinstance(message_id, str) or not message_id:
        return None
    did = _obj(message.get("sender")).get("did")
    return Deletion(platform=Platform.BLUESKY, post_id=message_id,
                    author_id=did if isinstance(did, str) else None, deleted_at=now)


def parse_chat_log(logs: Iterable[Mapping[str, Any]], brand_dids: frozenset[str],
                   brand_account_id: str | None = None, *, since: datetime | None = None,
                   now: datetime | None = None) -> ParsedBatch:
    """``chat.bsky.convo.getLog`` events: ``logCreateMessage`` is a DM (the brand's own: its answer),
    ``logDeleteMessage`` (or a created message already deleted) is a deletion; every other event
    (convo begun, accepted, read, muted, reactions, group events) is counted as ignored by name.
    ``since`` leaves out messages sent before it (a first run's look back)."""
    events: list[Mention | Deletion] = []
    ignored: list[str] = []
    for event in logs:
        kind = str(event.get("$type") or "")
        convo_id = event.get("convoId")
        message = _obj(event.get("message"))
        if kind not in (LOG_CREATE_MESSAGE, LOG_DELETE_MESSAGE) or not isinstance(convo_id, str):
            ignored.append(f"chat:{kind.rpartition('#')[2] or 'unknown'}")
            continue
        if kind == LOG_DELETE_MESSAGE or _is_deleted_view(message):
            gone = _message_gone(message, now)
            if gone is not None:
                events.append(gone)
            else:
                ignored.append("chat:unreadable")
            continue
        mention = chat_message(convo_id, message, brand_dids=brand_dids, brand_account_id=brand_account_id,
                               profiles=profiles_by_did(event.get("relatedProfiles")))
        if mention is None:
            ignored.append("chat:unreadable")
        elif since is None or mention.created_at >= since:
            events.append(mention)
    return ParsedBatch(events=tuple(events), ignored=tuple(ignored))


def parse_convo_messages(convo: Mapping[str, Any], messages: Iterable[Mapping[str, Any]],
                         brand_dids: frozenset[str], brand_account_id: str | None = None, *,
                         since: datetime | None = None) -> ParsedBatch:
    """``getMessages`` of one ``convoView`` (a first run's look back), oldest first; deleted and
    system messages are left out (nothing of them was stored)."""
    convo_id = convo.get("id")
    if not isinstance(convo_id, str) or not convo_id:
        return ParsedBatch()
    profiles = profiles_by_did(convo.get("members"))
    found = [m for m in (chat_message(convo_id, message, brand_dids=brand_dids, brand_account_id=brand_account_id,
                                      profiles=profiles) for message in messages)
             if m is not None and (since is None or m.created_at >= since)]
    found.sort(key=lambda m: m.created_at)
    return ParsedBatch(events=tuple(found))


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
