"""X: webhooks in (Account Activity / X Activity API in ``x_webhook``, Filtered Stream for the
radar), replies and DMs out.

``parse`` is the pure part (CRC, signature, Account Activity and X Activity API envelopes → core
models), ``stream`` the pure Filtered Stream part (rules from the policy's radar, stream
deliveries), ``client`` the X API v2 (replies, DMs, rules, replay). The gateway below is what the
services see; X's client already raises hilft's ``Platform*`` errors, so it only picks the calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from hilft.channels import Capabilities, SendOnce, register
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformRefused, PrivateChannelRefused
from hilft.core.models import Kind
from hilft.core.templates import public_handle

if TYPE_CHECKING:
    import httpx

    from hilft.channels.x.client import XClient
    from hilft.settings import Settings

PLATFORMS = ("x",)
CAPABILITIES = Capabilities(delivery="webhook", can_reply=True, can_dm=True, can_fetch=False, can_hide=True)


class XGateway:
    capabilities = CAPABILITIES

    def __init__(self, client: XClient) -> None:
        self.client = client

    def send_private(self, post: MentionDoc, text: str, now: datetime, *, send: SendOnce | None = None) -> str:
        if not post.author_id:
            raise PrivateChannelRefused("x: author unknown")
        return self.client.send_dm(post.author_id, text)

    def public_reply(self, post: MentionDoc, text: str, *, send: SendOnce | None = None) -> str:
        from hilft.channels.x.parse import is_x_handle

        # Only a handle X could have given names the author: never a link, a second @mention or markup.
        handle = public_handle(post.author_handle)
        body = f"@{handle} {text}" if is_x_handle(handle) and not text.startswith("@") else text
        # An edited post lives on under its newest id; a reply goes to the version people see.
        return self.client.reply(post.latest_post_id or post.post_id, body)

    def hide_public(self, post: MentionDoc) -> None:
        """Hide a customer's reply (X "Hide replies"). X hides only replies in conversations the brand
        started and answers 403 for any other post; a post that is no reply at all is not asked."""
        if post.kind != Kind.REPLY:
            raise PlatformRefused("x: only replies can be hidden")
        self.client.hide_reply(post.latest_post_id or post.post_id)


class XUserReader:
    """The enrich task's view of X: who an author is that a delivery named by id only."""

    def __init__(self, client: XClient) -> None:
        self.client = client

    def fetch_user(self, user_id: str) -> dict[str, str | int | None]:
        return self.client.get_user(user_id)


def build(settings: Settings, http: httpx.Client) -> XGateway | None:
    if not settings.x_user_access_token:
        return None
    from hilft.channels.x.client import XClient

    return XGateway(XClient(settings.x_api_base_url, settings.x_user_access_token, http=http))


register(PLATFORMS, build)
