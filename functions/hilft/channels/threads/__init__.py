"""Threads (Meta): webhook in (``threads_webhook``), public replies out; no private messages.

``parse`` is the pure part (signature, subscription check, envelope → core models), ``client``
the Threads API. The gateway below is what the services see: Threads has no DMs
(``can_dm=False``), so a handoff is a public reply pointing to the private channel the policy
names (``[channels.threads] private_channel``), never with personal data in it.

Deleted posts: Meta sends ``delete`` only for the brand's own posts, so a customer who deletes a
reply or mention is noticed by the ``poll`` run instead: ``ThreadsPoller`` has no sources to read
(everything else comes by webhook) and checks a small rotating batch of stored Threads posts per
run (``GET /{threads-media-id}``); one that is gone becomes a ``Deletion``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hilft.channels import Capabilities, SendOnce, register
from hilft.channels.polling import PolledPage, register_poller
from hilft.channels.threads import parse
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformConfigError, PlatformRefused, PrivateChannelRefused
from hilft.core.models import Deletion, Kind, Mention, ParsedBatch, Platform

if TYPE_CHECKING:
    import httpx

    from hilft.channels.threads.client import ThreadsClient
    from hilft.settings import Settings

PLATFORMS = ("threads",)
CAPABILITIES = Capabilities(delivery="webhook", can_reply=True, can_dm=False, can_fetch=False, can_hide=True)


class ThreadsGateway:
    capabilities = CAPABILITIES

    def __init__(self, client: ThreadsClient) -> None:
        self.client = client

    def send_private(self, post: MentionDoc, text: str, now: datetime, *, send: SendOnce | None = None) -> str:
        """Threads has no private messages: the handoff falls back to the public pointer reply."""
        raise PrivateChannelRefused("threads: no private messages")

    def public_reply(self, post: MentionDoc, text: str, *, send: SendOnce | None = None) -> str:
        return self.client.reply(post.post_id, text, send)

    def brand_post(self, post_id: str, brand_account_id: str) -> Mention:
        """The brand's own post read back from Threads (a ``publish`` webhook does not say what it
        answers): a brand answer naming the post it replies to, if it is a reply."""
        raw = self.client.media(post_id, parse.LOOKUP_FIELDS)
        return parse.published_media(raw, brand_account_id, datetime.now(UTC))

    def hide_public(self, post: MentionDoc) -> None:
        """Hide a customer's reply to the brand's own thread (reply moderation). Threads hides only
        top-level replies to the brand's posts and refuses others; a post that is no reply is not asked."""
        if post.kind != Kind.REPLY:
            raise PlatformRefused("threads: only replies can be hidden")
        self.client.hide_reply(post.post_id)


class ThreadsPoller:
    """The deleted-post check of a webhook channel whose webhooks do not tell (see the docstring)."""

    platform = Platform.THREADS.value
    check_batch = 10  # GETs per poll run (every minute)

    def __init__(self, client: ThreadsClient, brand_ids: frozenset[str]) -> None:
        self.client = client
        self._brand = brand_ids

    def brand_ids(self) -> frozenset[str]:
        return self._brand

    def sources(self, radar_keywords: Sequence[str]) -> list[str]:
        return []  # posts, replies and the brand's own come by webhook

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]:
        raise ValueError(f"threads has no polled source {source!r}")

    def check(self, posts: Sequence[MentionDoc]) -> ParsedBatch:
        """A ``Deletion`` for each post Threads no longer has. Graph's "does not exist" answer also
        means "cannot be loaded due to missing permissions": if every post of a batch of two or more
        is "gone", the token has more likely lost ``threads_read_replies`` than every customer
        deleted at once, so nothing is forgotten and an operator is told."""
        ids = [p.post_id for p in posts if p.post_id]
        gone = [post_id for post_id in ids if not self.client.media_exists(post_id)]
        if len(ids) >= 2 and len(gone) == len(ids):
            raise PlatformConfigError("threads: no stored post readable (permission threads_read_replies missing?)")
        now = datetime.now(UTC)
        return ParsedBatch(events=tuple(Deletion(platform=Platform.THREADS, post_id=p, deleted_at=now) for p in gone))


def _client(settings: Settings, http: httpx.Client) -> ThreadsClient | None:
    if not settings.threads_access_token:
        return None
    from hilft.channels.threads.client import ThreadsClient

    return ThreadsClient(settings.threads_api_base_url, settings.threads_access_token, http=http)


def build(settings: Settings, http: httpx.Client) -> ThreadsGateway | None:
    client = _client(settings, http)
    return ThreadsGateway(client) if client else None


def build_poller(settings: Settings, http: httpx.Client) -> ThreadsPoller | None:
    client = _client(settings, http)
    return ThreadsPoller(client, frozenset(settings.threads_user_ids)) if client else None


register(PLATFORMS, build)
register_poller(Platform.THREADS.value, build_poller)
