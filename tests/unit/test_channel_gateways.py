"""Every channel lives in its own folder behind one protocol: the registry finds each platform's
gateway by name, and each gateway hands the services hilft's errors, never a client's own."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from hilft import channels
from hilft.channels.meta import MetaGateway
from hilft.channels.meta import client as mc
from hilft.channels.x import XGateway
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformConfigError, PlatformRateLimited, PlatformRefused, PrivateChannelRefused
from hilft.settings import Settings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ALL_PLATFORMS = ("x", "facebook", "instagram", "messenger", "threads", "bluesky", "mastodon")


def configured() -> Settings:
    return Settings(x_user_access_token="x-token", meta_page_access_token="page-token",
                    threads_access_token="threads-token", bluesky_handle="brand.example",
                    bluesky_app_password="app-pass", mastodon_base_url="https://social.example",
                    mastodon_access_token="m-token")


@pytest.mark.parametrize("platform", ALL_PLATFORMS)
def test_every_platform_has_a_gateway_with_capabilities_when_configured(platform: str) -> None:
    with httpx.Client() as http:
        gateway = channels.build_gateway(platform, configured(), http)
    assert gateway is not None
    assert gateway.capabilities.delivery in {"webhook", "poll"}


@pytest.mark.parametrize("platform", ALL_PLATFORMS)
def test_an_unconfigured_platform_has_no_gateway(platform: str) -> None:
    with httpx.Client() as http:
        assert channels.build_gateway(platform, Settings(), http) is None


def test_the_factory_builds_each_gateway_once_and_shares_it() -> None:
    with httpx.Client() as http:
        gateway = channels.gateway_factory(configured(), http)
        assert gateway("x") is gateway("x")
        assert gateway("facebook") is not gateway("x")
        assert gateway("no-such-platform") is None


class ScriptedMeta:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def private_reply(self, *args: str) -> str:
        raise self.error

    reply_comment = reply_instagram_comment = instagram_private_reply = send_message = private_reply


POST = MentionDoc(platform="facebook", post_id="111_222", kind="reply", brand_account_id="111", author_id="333",
                  created_at=NOW, text="Router blinkt", status="open", due_at=NOW, received_at=NOW)


def test_meta_refusal_of_a_private_reply_is_a_refused_private_channel_so_handoff_falls_back() -> None:
    gateway = MetaGateway(ScriptedMeta(mc.MetaRequestRefused(100, 33, 400)))  # type: ignore[arg-type]
    with pytest.raises(PrivateChannelRefused):
        gateway.send_private(POST, "Bitte per DM", NOW)


class RecordingMeta:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def send_message(self, *args: str) -> str:
        self.calls.append(("send_message", *args))
        return "m_1"

    def send_message_to_user_ref(self, *args: str) -> str:
        self.calls.append(("send_message_to_user_ref", *args))
        return "m_2"


@pytest.mark.parametrize(("author_id", "expected"), [
    ("24000000000000101", ("send_message", "111", "24000000000000101", "Hallo")),
    ("user_ref:UR-42", ("send_message_to_user_ref", "111", "UR-42", "Hallo")),
])
def test_a_messenger_dm_is_answered_by_psid_or_by_the_chat_plugin_user_ref(author_id: str, expected: tuple) -> None:
    client = RecordingMeta()
    dm = POST.model_copy(update={"platform": "messenger", "kind": "dm", "post_id": "m_x", "author_id": author_id})
    MetaGateway(client).send_private(dm, "Hallo", NOW)  # type: ignore[arg-type]
    assert client.calls == [expected]


@pytest.mark.parametrize(("error", "expected"), [
    (mc.MetaRateLimited(613, None, 429, retry_after=60.0, retry_at=NOW), PlatformRateLimited),
    (mc.MetaTokenError(190, None, 400), PlatformConfigError),
    (mc.PrivateReplyRefused(10, 2018278, 400, reason="older than 7 days"), PrivateChannelRefused),
])
def test_meta_client_errors_are_hilfts_errors_as_they_are(error: Exception, expected: type[Exception]) -> None:
    gateway = MetaGateway(ScriptedMeta(error))  # type: ignore[arg-type]
    with pytest.raises(expected) as caught:
        gateway.public_reply(POST, "Wir kümmern uns")
    assert caught.value is error


def test_a_meta_rate_limit_carries_the_time_meta_named() -> None:
    error = mc.MetaRateLimited(613, None, 429, retry_after=60.0, retry_at=NOW)
    assert isinstance(error, PlatformRateLimited) and error.retry_at == NOW
    assert isinstance(mc.MetaRequestRefused(1, None, 400), PlatformRefused)
    assert mc.RetryableMetaError(2, None, 503).http_status == 503


class ScriptedX:
    def __init__(self) -> None:
        self.replies: list[tuple[str, str]] = []

    def reply(self, post_id: str, text: str) -> str:
        self.replies.append((post_id, text))
        return "reply-1"


def test_x_public_reply_goes_to_the_newest_version_of_an_edited_post_with_the_handle() -> None:
    client = ScriptedX()
    post = POST.model_copy(update={"platform": "x", "post_id": "1", "latest_post_id": "2", "author_handle": "kunde"})
    XGateway(client).public_reply(post, "Wir sind dran")  # type: ignore[arg-type]
    assert client.replies == [("2", "@kunde Wir sind dran")]


def test_x_private_message_needs_an_author() -> None:
    with pytest.raises(PrivateChannelRefused):
        post = POST.model_copy(update={"platform": "x", "author_id": None})
        XGateway(ScriptedX()).send_private(post, "DM", NOW)  # type: ignore[arg-type]
