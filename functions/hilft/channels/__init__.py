"""One folder per channel: ``hilft/channels/<name>/`` holds a pure part (verify, parse into the
core models; no I/O) and a client part (reply, DM, fetch) behind the small protocol below.

The services talk to a channel through ``Gateway`` (outbound), ``Poller`` (polled inbound) and the
core models, and decide by ``Capabilities``, not by name. A channel's package registers its
gateway builder with ``register`` when it is imported; the composition root imports the channels
listed in ``CHANNEL_MODULES``. Adding a channel also touches a fixed list of places outside its
folder (the ``Platform`` enum, ``core/platform_names.py``, ``core/policy.py``'s channel keys,
``settings.py``, Terraform variables and secrets, and for a webhook its entry point, handler and
functions-map entry): README.md, "Adding a channel", names them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from hilft.core.document import MentionDoc
from hilft.core.models import Mention

if TYPE_CHECKING:
    import httpx

    from hilft.settings import Settings


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do; the services decide by these, never by the channel's name."""

    delivery: Literal["webhook", "poll"]
    can_reply: bool = True
    can_dm: bool = True  # False: the handoff is a public pointer to the private channel the policy names
    can_fetch: bool = False  # can read a post by id (enrichment, deleted-post checks)
    can_hide: bool = False  # can hide a customer's public comment/reply on the brand's own surface (``hide_public``)


def _recall_nothing(name: str) -> str | None:
    return None


def _note_nowhere(name: str, value: str) -> None:
    return None


@dataclass(frozen=True)
class SendOnce:
    """The send-once claim a message belongs to (``service.claims``), handed to the gateway so the
    platform's own idempotency repeats a retried send and never merges two different ones.

    ``key`` names the claim document and the part of it being sent (a handoff may send a DM and a
    public note): the same for every attempt of one send, different for any other send. Bluesky
    derives the record key from it, Mastodon the ``Idempotency-Key``. ``recall``/``note`` read and
    write a value in the claim document for the next attempt of the same send (Threads keeps the
    reply container it created there, so a retry publishes that container, not a second one).
    """

    key: str
    recall: Callable[[str], str | None] = _recall_nothing
    note: Callable[[str, str], None] = _note_nowhere


class Gateway(Protocol):
    """Outbound calls a service makes on a channel. Errors are hilft's ``Platform*`` errors.

    ``post`` is the stored post as the services read it; ``send`` names the send-once claim of this
    message (see ``SendOnce``); without it a channel keys its idempotency by the post and the call alone.
    """

    capabilities: Capabilities

    def send_private(self, post: MentionDoc, text: str, now: datetime, *, send: SendOnce | None = None) -> str: ...

    def public_reply(self, post: MentionDoc, text: str, *, send: SendOnce | None = None) -> str: ...


class HidingGateway(Gateway, Protocol):
    """A gateway whose ``capabilities.can_hide`` is True also has ``hide_public``.

    ``hide_public(post)`` hides the customer's public post (a comment or reply on the brand's own
    surface) from everyone but its author, e.g. because it shows personal data. It returns nothing
    and raises ``PlatformRefused`` or ``PrivateChannelRefused`` when the platform will not hide this
    one (not a comment/reply on the brand's surface, deleted), ``PlatformRateLimited``,
    ``PlatformUnavailable`` or ``PlatformConfigError`` (token or permission missing).
    """

    def hide_public(self, post: MentionDoc) -> None: ...


@runtime_checkable
class BrandPostReader(Protocol):
    """A gateway that can read the brand's own post back, for a channel whose webhook does not say
    what a brand post answers (Threads' ``publish``). ``brand_post`` returns the post as a brand
    ``Mention`` (``in_reply_to`` set when it is a reply) and raises hilft's ``Platform*`` errors."""

    def brand_post(self, post_id: str, brand_account_id: str) -> Mention: ...


GatewayBuilder = Callable[["Settings", "httpx.Client"], Gateway | None]

_BUILDERS: dict[str, GatewayBuilder] = {}

# Channel packages imported (lazily, on first use) by the composition root.
CHANNEL_MODULES: tuple[str, ...] = ("hilft.channels.x", "hilft.channels.meta", "hilft.channels.threads",
                                     "hilft.channels.bluesky", "hilft.channels.mastodon")


def register(platforms: tuple[str, ...], builder: GatewayBuilder) -> None:
    """Called by a channel package at import: ``builder`` makes its gateway (None if unconfigured)."""
    for platform in platforms:
        _BUILDERS[platform] = builder


def build_gateway(platform: str, settings: Settings, http: httpx.Client) -> Gateway | None:
    if platform not in _BUILDERS:
        for module in CHANNEL_MODULES:
            importlib.import_module(module)
    builder = _BUILDERS.get(platform)
    return builder(settings, http) if builder else None


def gateway_factory(settings: Settings, http: httpx.Client) -> Callable[[str], Gateway | None]:
    """The gateways by platform, each built on first use (clients are costly) and then shared."""
    cache: dict[str, Gateway | None] = {}

    def gateway(platform: str) -> Gateway | None:
        if platform not in cache:
            cache[platform] = build_gateway(platform, settings, http)
        return cache[platform]

    return gateway
