"""Mastodon REST answers → hilft's core models. Pure: no I/O.

Shapes follow Mastodon's API documentation: ``GET /api/v1/notifications`` (``Notification`` with a
``Status``), ``GET /api/v1/accounts/:id/statuses``, ``GET /api/v1/timelines/tag/:hashtag`` and
``GET /api/v2/search`` (``Status`` lists). A status with ``visibility: direct`` is a private
mention, i.e. a DM. ``content`` is HTML; hilft stores its text.

Ids are the instance's own (statuses and accounts as seen from the brand's instance): a post's id
is its status id there; the brand's accounts are ``MASTODON_ACCOUNT_IDS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform

_BLOCKS = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_ACCT = re.compile(r"[A-Za-z0-9_]{1,30}(@[A-Za-z0-9][A-Za-z0-9.-]{0,253})?")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts and not "".join(self.parts).endswith("\n\n"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: Any) -> str:
    """Mastodon's status HTML as plain text: paragraphs as blank lines, ``<br>`` as line breaks,
    entities decoded, links as their full text (Mastodon's hidden ``invisible`` parts included)."""
    if not isinstance(content, str) or not content:
        return ""
    parser = _Text()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def safe_acct(acct: Any) -> str | None:
    """``user`` or ``user@instance`` as Mastodon writes it, else None (never markup or a link)."""
    return acct if isinstance(acct, str) and _ACCT.fullmatch(acct) else None


def status_mention(status: Mapping[str, Any], brand_ids: frozenset[str],
                   brand_account_id: str | None = None) -> Mention | None:
    status_id = status.get("id")
    account = _obj_or_none(status.get("account"))
    created = parse_time(status.get("created_at"))
    if not isinstance(status_id, str) or not status_id or account is None or created is None:
        return None
    author_id = str(account.get("id") or "")
    if not author_id:
        return None
    is_brand = author_id in brand_ids
    in_reply_to = status.get("in_reply_to_id") if isinstance(status.get("in_reply_to_id"), str) else None
    direct = status.get("visibility") == "direct"
    if direct and not is_brand:
        kind = Kind.DM
    else:  # the brand's direct answer to a DM counts as its reply to that message
        kind = Kind.REPLY if in_reply_to else Kind.MENTION
    mentions = tuple(str(m["id"]) for m in items_of(status.get("mentions"))
                     if isinstance(m, Mapping) and isinstance(m.get("id"), str))
    quote = _obj(status.get("quote"))
    quoted = _obj(quote.get("quoted_status"))
    quoted_account = _obj(quoted.get("account"))
    followers = account.get("followers_count")
    display = account.get("display_name")
    language = status.get("language")
    url = status.get("url") or status.get("uri")
    return Mention(
        platform=Platform.MASTODON,
        post_id=status_id,
        kind=kind,
        author=Author(id=author_id, handle=safe_acct(account.get("acct")),
                      name=display if isinstance(display, str) and display else None,
                      followers=followers if isinstance(followers, int) else None),
        text=html_to_text(status.get("content")),
        created_at=created,
        in_reply_to=in_reply_to,
        in_reply_to_author_id=status.get("in_reply_to_account_id")
        if isinstance(status.get("in_reply_to_account_id"), str) else None,
        is_brand=is_brand,
        brand_account_id=brand_account_id,
        lang=language[:2].lower() if isinstance(language, str) and language else None,
        url=url if isinstance(url, str) and url.startswith("https://") else None,
        recipient_id=brand_account_id if kind == Kind.DM else None,
        mentioned_user_ids=mentions,
        quoted_author_id=str(quoted_account["id"]) if isinstance(quoted_account.get("id"), str) else None,
    )


def items_of(body: Any) -> list[Mapping[str, Any]]:
    """A Mastodon list answer (notifications or statuses) → its objects; anything else → []."""
    return [i for i in body if isinstance(i, Mapping)] if isinstance(body, list) else []


def statuses_of_search(body: Any) -> list[Mapping[str, Any]]:
    statuses = body.get("statuses") if isinstance(body, Mapping) else None
    return items_of(statuses)


def parse_notifications(items: Iterable[Mapping[str, Any]], brand_ids: frozenset[str],
                        brand_account_id: str | None = None) -> ParsedBatch:
    """Mentions (public, private and direct) become posts; other notification types are ignored."""
    events: list[Mention] = []
    ignored: list[str] = []
    for item in items:
        kind = item.get("type")
        status = item.get("status")
        if kind != "mention" or not isinstance(status, Mapping):
            ignored.append(f"notification:{kind}")
            continue
        mention = status_mention(status, brand_ids, brand_account_id)
        if mention is None:
            ignored.append("notification:mention:unreadable")
        else:
            events.append(mention)
    return ParsedBatch(events=tuple(events), ignored=tuple(ignored))


def parse_statuses(items: Iterable[Mapping[str, Any]], brand_ids: frozenset[str],
                   brand_account_id: str | None = None) -> ParsedBatch:
    """The brand's own statuses, or radar hits (hashtag timeline, search): reblogs are skipped."""
    events = []
    for status in items:
        if status.get("reblog"):
            continue
        mention = status_mention(status, brand_ids, brand_account_id)
        if mention is not None:
            events.append(mention)
    return ParsedBatch(events=tuple(events))


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _obj_or_none(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
