"""Bluesky: polled (no webhooks). Customers' mentions, replies and quotes come from the brand's
notifications, the brand's own replies from its repo, radar hits from post search; the handoff is
a chat DM, the public note a threaded reply. Configured by ``BLUESKY_HANDLE`` and
``BLUESKY_APP_PASSWORD`` (plus ``BLUESKY_PDS_URL``, ``BLUESKY_APPVIEW_URL``, ``BLUESKY_CHAT_URL``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hilft.channels import Capabilities, register
from hilft.channels.bluesky import parse
from hilft.channels.bluesky.client import GET_POSTS_MAX, BlueskyClient
from hilft.channels.polling import NewestFirst, PolledPage, register_poller, walk_newest_first
from hilft.core.errors import PrivateChannelRefused
from hilft.core.models import Deletion, ParsedBatch, Platform

if TYPE_CHECKING:
    import httpx

    from hilft.settings import Settings

PLATFORM = Platform.BLUESKY.value
FIRST_RUN_LOOKBACK = timedelta(days=1)  # how far back the very first poll of a source reaches
CAPABILITIES = Capabilities(delivery="poll", can_reply=True, can_dm=True, can_fetch=True)


def _client(settings: Settings, http: httpx.Client) -> BlueskyClient | None:
    if not settings.bluesky_handle or not settings.bluesky_app_password:
        return None
    return BlueskyClient(handle=settings.bluesky_handle, app_password=settings.bluesky_app_password,
                         pds_url=settings.bluesky_pds_url, appview_url=settings.bluesky_appview_url,
                         chat_url=settings.bluesky_chat_url, http=http)


class BlueskyGateway:
    capabilities = CAPABILITIES

    def __init__(self, client: BlueskyClient) -> None:
        self.client = client

    def send_private(self, post: Mapping[str, Any], text: str, now: datetime) -> str:
        did = str(post.get("author_id") or "")
        if not did.startswith("did:"):
            raise PrivateChannelRefused("bluesky: author unknown")
        return self.client.send_dm(did, text)

    def public_reply(self, post: Mapping[str, Any], text: str) -> str:
        created = post.get("created_at")
        when = created if isinstance(created, datetime) else datetime.fromtimestamp(0).astimezone()
        lang = post.get("lang") if isinstance(post.get("lang"), str) else None
        return self.client.reply(str(post["post_id"]), text, created_at=when, purpose="hilft-reply", lang=lang)


class BlueskyPoller:
    platform = PLATFORM

    def __init__(self, client: BlueskyClient) -> None:
        self.client = client

    def brand_ids(self) -> frozenset[str]:
        return frozenset({self.client.session_did()})

    def sources(self, radar_keywords: Sequence[str]) -> list[str]:
        return ["notifications", "own_posts", *(f"search:{k}" for k in radar_keywords if k.strip())]

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]:
        did = self.client.session_did()
        brand = frozenset({did})
        start = now - FIRST_RUN_LOOKBACK
        if source == "notifications":
            def notifications(cursor: str | None) -> tuple[list[Any], str | None]:
                body = self.client.list_notifications(cursor)
                return parse.notifications_of(body), _cursor(body)

            spec = NewestFirst(fetch=notifications, key=lambda n: parse.sort_key(n.get("indexedAt")),
                               ident=lambda n: str(n.get("uri")), start=parse.sort_key(start.isoformat()),
                               to_batch=lambda items: parse.parse_notifications({"notifications": items}, brand, did))
        elif source == "own_posts":
            def own(cursor: str | None) -> tuple[list[Any], str | None]:
                body = self.client.own_posts(cursor)
                return parse.records_of(body), _cursor(body)

            spec = NewestFirst(fetch=own, key=lambda r: (parse.uri_parts(str(r.get("uri"))) or ("", "", ""))[2],
                               ident=lambda r: str(r.get("uri")), start=parse.tid_at(start),
                               to_batch=lambda items: parse.parse_own_records(items, did, self.client.handle))
        elif source.startswith("search:"):
            query = source.removeprefix("search:")
            since = start.isoformat().replace("+00:00", "Z")

            def search(cursor: str | None) -> tuple[list[Any], str | None]:
                body = self.client.search_posts(query, cursor, since=since)
                return parse.posts_of(body), _cursor(body)

            spec = NewestFirst(fetch=search, key=lambda p: parse.sort_key(p.get("indexedAt")),
                               ident=lambda p: str(p.get("uri")), start=parse.sort_key(since),
                               to_batch=lambda items: parse.parse_post_views(items, brand, did))
        else:
            raise ValueError(f"unknown bluesky source {source!r}")
        yield from walk_newest_first(spec, state)

    def check(self, posts: Sequence[Mapping[str, Any]]) -> ParsedBatch:
        return ParsedBatch(events=tuple(self.deleted([str(p.get("post_id") or "") for p in posts])))

    def deleted(self, post_ids: Sequence[str]) -> list[Deletion]:
        found: list[Deletion] = []
        uris = [p for p in post_ids if parse.uri_parts(p)]
        for start in range(0, len(uris), GET_POSTS_MAX):
            batch = uris[start:start + GET_POSTS_MAX]
            found.extend(parse.deletions(batch, self.client.get_posts(batch), datetime.now().astimezone()))
        return found


def _cursor(body: Mapping[str, Any]) -> str | None:
    cursor = body.get("cursor")
    return cursor if isinstance(cursor, str) and cursor else None


def _gateway(settings: Settings, http: httpx.Client) -> BlueskyGateway | None:
    client = _client(settings, http)
    return BlueskyGateway(client) if client else None


def _poller(settings: Settings, http: httpx.Client) -> BlueskyPoller | None:
    client = _client(settings, http)
    return BlueskyPoller(client) if client else None


register((PLATFORM,), _gateway)
register_poller(PLATFORM, _poller)
