"""Platform gateways for the handoff: one private message and one public reply per platform,
with each platform's errors translated to hilft's (PlatformRateLimited, PrivateChannelRefused…).

The post is the stored ``MentionDoc`` (or its stored mapping, as the channel gateways take it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hilft.adapters import meta_client as mc
from hilft.adapters import x_client as xc
from hilft.core.document import MentionDoc, as_doc
from hilft.core.errors import (
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PlatformUnavailable,
    PrivateChannelRefused,
)
from hilft.core.models import Kind, Platform
from hilft.platforms.meta import private_reply_allowed
from hilft.settings import Settings


class XGateway:
    """X's client already raises hilft's Platform* errors (RateLimited is a PlatformRateLimited,
    DmNotAllowed a PrivateChannelRefused, …), so this only picks the calls."""

    def __init__(self, client: xc.XClient) -> None:
        self.client = client

    def send_private(self, post: MentionDoc | Mapping[str, Any], text: str, now: datetime) -> str:
        author = as_doc(post).author_id
        if not author:
            raise PrivateChannelRefused("x: author unknown")
        return self.client.send_dm(author, text)

    def public_reply(self, post: MentionDoc | Mapping[str, Any], text: str) -> str:
        doc = as_doc(post)
        handle = doc.author_handle
        body = f"@{handle} {text}" if handle and not text.startswith("@") else text
        # An edited post lives on under its newest id; a reply goes to the version people see.
        return self.client.reply(doc.latest_post_id or doc.post_id, body)


class MetaGateway:
    """Facebook/Instagram comments get a private reply (Meta's rules enforced first); Messenger
    and Instagram DMs are already private, so the message goes to the same thread."""

    def __init__(self, client: mc.MetaClient) -> None:
        self.client = client

    def _call(self, func: Callable[[], str]) -> str:
        try:
            return func()
        except mc.MetaRateLimited as exc:
            retry_after = getattr(exc, "retry_after", None) or 60
            raise PlatformRateLimited(datetime.now(UTC) + timedelta(seconds=float(retry_after))) from exc
        except mc.MetaTokenError as exc:
            raise PlatformConfigError("meta: page access token rejected") from exc
        except mc.PrivateReplyRefused as exc:
            raise PrivateChannelRefused("meta: private reply refused") from exc
        except mc.RetryableMetaError as exc:
            raise PlatformUnavailable("meta graph api unavailable") from exc
        except mc.MetaApiError as exc:
            raise PrivateChannelRefused(f"meta: refused (code {getattr(exc, 'code', '?')})") from exc

    def send_private(self, post: MentionDoc | Mapping[str, Any], text: str, now: datetime) -> str:
        doc = as_doc(post)
        account = doc.brand_account_id or ""
        if doc.kind == Kind.DM:
            return self._call(lambda: self.client.send_message(account, str(doc.author_id), text))
        # Stored posts are the customers' (brand posts are never stored); ``is_brand`` only if a caller says so.
        allowed, why = private_reply_allowed(doc.created_at or now, now,
                                             is_brand_comment=bool((doc.model_extra or {}).get("is_brand")),
                                             already_replied=bool(doc.private_reply_id))
        if not allowed:
            raise PrivateChannelRefused(f"meta: {why}")
        comment = doc.post_id
        if doc.platform == Platform.INSTAGRAM:
            return self._call(lambda: self.client.instagram_private_reply(account, comment, text))
        return self._call(lambda: self.client.private_reply(account, comment, text))

    def public_reply(self, post: MentionDoc | Mapping[str, Any], text: str) -> str:
        doc = as_doc(post)
        comment = doc.post_id
        if doc.platform == Platform.INSTAGRAM:
            return self._call(lambda: self.client.reply_instagram_comment(comment, text))
        return self._call(lambda: self.client.reply_comment(comment, text))


class GraphMentionReader:
    """Reads a mention Meta sent as ids only, with Meta's errors as hilft's (the ``MentionReader`` port)."""

    def __init__(self, client: mc.MetaClient, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.clock = clock

    def fetch_mention(self, lookup: Mapping[str, str]) -> dict[str, str | None]:
        try:
            return self.client.fetch_mention(lookup)
        except mc.MetaRateLimited as exc:
            retry_after = getattr(exc, "retry_after", None) or 60
            raise PlatformRateLimited(self.clock() + timedelta(seconds=float(retry_after))) from exc
        except mc.MetaTokenError as exc:
            raise PlatformConfigError("meta: access token rejected") from exc
        except mc.RetryableMetaError as exc:
            raise PlatformUnavailable("meta graph api unavailable") from exc
        except (mc.MetaApiError, ValueError) as exc:
            raise PlatformRefused(f"meta: refused (code {getattr(exc, 'code', '?')})") from exc


def gateway_factory(settings: Settings, http: httpx.Client) -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def gateway(platform: str) -> Any:
        if platform in cache:
            return cache[platform]
        made: Any = None
        if platform == "x" and settings.x_user_access_token:
            made = XGateway(xc.XClient(settings.x_api_base_url, settings.x_user_access_token, http=http))
        elif platform in {"facebook", "instagram", "messenger"} and settings.meta_page_access_token:
            made = MetaGateway(mc.MetaClient(settings.meta_graph_base_url, settings.meta_page_access_token,
                                             http=http, app_secret=settings.meta_app_secret))
        elif platform not in {"x", "facebook", "instagram", "messenger"}:
            from hilft import channels

            made = channels.build_gateway(platform, settings, http)
        cache[platform] = made
        return made

    return gateway
