"""Threads (Meta): webhook in (``threads_webhook``), public replies out; no private messages.

``parse`` is the pure part (signature, subscription check, envelope → core models), ``client``
the Threads API. The gateway below is what the services see: Threads has no DMs
(``can_dm=False``), so a handoff is a public reply pointing to the private channel the policy
names (``[channels.threads] private_channel``), never with personal data in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hilft.channels import Capabilities, register
from hilft.core.document import as_doc
from hilft.core.errors import PlatformRefused, PrivateChannelRefused
from hilft.core.models import Kind

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

    def send_private(self, post: Mapping[str, Any], text: str, now: datetime) -> str:
        """Threads has no private messages: the handoff falls back to the public pointer reply."""
        raise PrivateChannelRefused("threads: no private messages")

    def public_reply(self, post: Mapping[str, Any], text: str) -> str:
        return self.client.reply(str(post["post_id"]), text)

    def hide_public(self, post: Mapping[str, Any]) -> None:
        """Hide a customer's reply to the brand's own thread (reply moderation). Threads hides only
        top-level replies to the brand's posts and refuses others; a post that is no reply is not asked."""
        doc = as_doc(post)
        if doc.kind != Kind.REPLY:
            raise PlatformRefused("threads: only replies can be hidden")
        self.client.hide_reply(doc.post_id)


def build(settings: Settings, http: httpx.Client) -> ThreadsGateway | None:
    if not settings.threads_access_token:
        return None
    from hilft.channels.threads.client import ThreadsClient

    return ThreadsGateway(ThreadsClient(settings.threads_api_base_url, settings.threads_access_token, http=http))


register(PLATFORMS, build)
