"""The normalised event model every platform parser produces.

Platform payloads differ wildly (X v1.1, X v2, Meta Graph); the rest of hilft sees only these.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator


class Platform(StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    THREADS = "threads"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"


class Kind(StrEnum):
    MENTION = "mention"  # public post that @-mentions the brand (or was caught by the radar)
    REPLY = "reply"  # public reply in a thread / comment under a post
    DM = "dm"  # private message


class Status(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    OVERDUE = "overdue"
    HANDED_OFF = "handed_off"
    DELETED = "deleted"
    NO_REPLY_NEEDED = "no_reply_needed"  # a closing "thanks, works again": no promise, staff can reopen


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    handle: str | None = None
    name: str | None = None
    followers: int | None = None


class Mention(BaseModel):
    """One post, reply or message, by a customer or by the brand itself."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    post_id: str
    kind: Kind
    author: Author
    text: str
    created_at: datetime
    conversation_id: str | None = None
    in_reply_to: str | None = None  # post id this one replies to (None for top-level posts and DMs)
    in_reply_to_author_id: str | None = None
    is_brand: bool = False  # written by one of the brand's own accounts
    brand_account_id: str | None = None  # which brand account received it (X for_user_id, page id)
    lang: str | None = None
    url: str | None = None
    # For a DM: the recipient (the brand when a customer writes; the customer when it is our echo).
    recipient_id: str | None = None
    # Ids of accounts @-mentioned in the text: tells a post addressed to the brand from a radar catch.
    mentioned_user_ids: tuple[str, ...] = ()
    # Author of the post this one quotes: a quote of a brand post is addressed to the brand.
    quoted_author_id: str | None = None
    # The platform delivered no readable text: an encrypted message (XChat) the staff open on X.
    encrypted: bool = False
    # An edit of an earlier post. X gives each version a new id: ``edit_of`` is the first version's
    # id (the document's key) and ``edit_rank`` this version's place in the edit history. Meta keeps
    # the id and says ``verb: edited``; then ``edit_of`` is the post's own id.
    edit_of: str | None = None
    edit_rank: int = 0
    edited_at: datetime | None = None  # when the edit was made (X: the version's created_at)
    # Meta sent ids only (Page and Instagram mentions): text and author come from the Graph API later.
    needs_enrichment: bool = False
    # Posted where the brand owns the conversation (a reply anywhere in a thread the brand's post
    # started, as Threads delivers them): addressed to the brand like a comment under its Page post.
    on_brand_surface: bool = False

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware")
        return value


class Deletion(BaseModel):
    """The author deleted a post: hilft must forget its text and personal data."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    post_id: str
    author_id: str | None = None
    deleted_at: datetime | None = None


class AccessRevoked(BaseModel):
    """A brand account withdrew the app's access: hilft hears nothing from it until an operator acts."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    account_id: str | None = None  # the account whose access ended (unknown when the body omits it)
    revoked_at: datetime | None = None
    source: str = ""  # the event's name, e.g. "user_event.revoke" or "oauth.revoke"


class ParsedBatch(BaseModel):
    """Everything one webhook body carried, in delivery order."""

    model_config = ConfigDict(frozen=True)

    events: tuple[Mention | Deletion | AccessRevoked, ...] = ()
    ignored: tuple[str, ...] = ()  # names of event types hilft does not handle (logged once each)
