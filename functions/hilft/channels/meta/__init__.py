"""Meta (Facebook Pages, Instagram, Messenger): one webhook in (``meta_webhook``), private
replies, messages and comment replies out, and the Graph API read that fills mentions Meta
sends as ids only.

``parse`` is the pure part (signature, subscription check, entries → core models, Meta's
private-reply rules), ``client`` the Graph API. Its errors are hilft's ``Platform*`` errors; the
gateway adds one rule of its own: a send Meta refuses for any other reason is a refused private
channel, so the handoff falls back to the public pointer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from hilft.channels import Capabilities, SendOnce, register
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformRefused, PrivateChannelRefused
from hilft.core.models import Kind, Platform

if TYPE_CHECKING:
    import httpx

    from hilft.channels.meta.client import MetaClient
    from hilft.settings import Settings

PLATFORMS = ("facebook", "instagram", "messenger")
CAPABILITIES = Capabilities(delivery="webhook", can_reply=True, can_dm=True, can_fetch=True, can_hide=True)


def _send(func: Callable[[], str]) -> str:
    try:
        return func()
    except PrivateChannelRefused:
        raise
    except PlatformRefused as exc:
        raise PrivateChannelRefused(f"meta: refused (code {getattr(exc, 'code', '?')})") from exc


class MetaGateway:
    """Facebook/Instagram comments get a private reply (Meta's rules enforced first); Messenger
    and Instagram DMs are already private, so the message goes to the same thread (a Chat Plugin
    guest known by ``user_ref`` only is answered with ``recipient.user_ref``; once the guest's
    chat has ended Meta refuses, and staff answer in Meta's inbox)."""

    capabilities = CAPABILITIES

    def __init__(self, client: MetaClient) -> None:
        self.client = client

    def send_private(self, post: MentionDoc, text: str, now: datetime, *, send: SendOnce | None = None) -> str:
        from hilft.channels.meta.parse import private_reply_allowed, user_ref_of

        account = post.brand_account_id or ""
        if post.kind == Kind.DM:
            user_ref = user_ref_of(post.author_id)  # a Chat Plugin guest: no PSID, only a user_ref
            if user_ref is not None:
                return _send(lambda: self.client.send_message_to_user_ref(account, user_ref, text))
            return _send(lambda: self.client.send_message(account, str(post.author_id), text))
        # Stored posts are the customers' (brand posts are never stored): never the brand's own comment.
        allowed, why = private_reply_allowed(post.created_at or now, now, is_brand_comment=False,
                                             already_replied=bool(post.private_reply_id))
        if not allowed:
            raise PrivateChannelRefused(f"meta: {why}")
        comment = post.post_id
        if post.platform == Platform.INSTAGRAM:
            return _send(lambda: self.client.instagram_private_reply(account, comment, text))
        return _send(lambda: self.client.private_reply(account, comment, text))

    def public_reply(self, post: MentionDoc, text: str, *, send: SendOnce | None = None) -> str:
        comment = post.post_id
        if post.platform == Platform.INSTAGRAM:
            return _send(lambda: self.client.reply_instagram_comment(comment, text))
        return _send(lambda: self.client.reply_comment(comment, text))

    def hide_public(self, post: MentionDoc) -> None:
        """Hide a customer's comment under the brand's own Facebook post (Graph "Comment",
        ``is_hidden``) or Instagram media (IG Comment, ``hide``). Only comments: a visitor's Page
        post, a comment elsewhere that mentions the brand and a DM are refused without a call."""
        if post.kind != Kind.REPLY or post.platform not in (Platform.FACEBOOK, Platform.INSTAGRAM):
            raise PlatformRefused("meta: only comments on the brand's own posts can be hidden")
        if post.platform == Platform.INSTAGRAM:
            self.client.hide_instagram_comment(post.post_id)
        else:
            self.client.hide_comment(post.post_id)


class GraphMentionReader:
    """Reads a mention Meta sent as ids only (the ``MentionReader`` port); the client's errors
    are already hilft's, an unreadable answer is a ``PlatformRefused``."""

    def __init__(self, client: MetaClient) -> None:
        self.client = client

    def fetch_mention(self, lookup: Mapping[str, str]) -> dict[str, str | None]:
        try:
            return self.client.fetch_mention(lookup)
        except ValueError as exc:
            raise PlatformRefused("meta: unreadable mention lookup") from exc


def build(settings: Settings, http: httpx.Client) -> MetaGateway | None:
    if not settings.meta_page_access_token:
        return None
    from hilft.channels.meta.client import MetaClient

    return MetaGateway(MetaClient(settings.meta_graph_base_url, settings.meta_page_access_token,
                                  http=http, app_secret=settings.meta_app_secret))


register(PLATFORMS, build)
