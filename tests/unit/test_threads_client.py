"""The Threads client and gateway against the fake Threads API (over loopback), the error mapping
(respx for answers the fake does not script), and the fake's own checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from fakes.threads_api import FakeThreadsApi, make_threads_api
from hilft import channels
from hilft.channels.threads import CAPABILITIES, ThreadsGateway
from hilft.channels.threads.client import QUOTA_RETRY, TEXT_LIMIT, ThreadsClient
from hilft.core.document import MentionDoc
from hilft.core.errors import (
    PlatformConfigError,
    PlatformRateLimited,
    PlatformUnavailable,
    PrivateChannelRefused,
)
from hilft.settings import Settings

TOKEN = "THAAthreads-token-never-logged"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BASE = "https://graph.threads.net/v1.0"


@pytest.fixture
def api() -> Iterator[FakeThreadsApi]:
    with make_threads_api(TOKEN) as fake:
        yield fake


def client_for(api: FakeThreadsApi, http: httpx.Client, token: str = TOKEN) -> ThreadsClient:
    return ThreadsClient(api.url + "/v1.0", token, http=http, clock=lambda: NOW)


def test_a_reply_is_a_text_container_then_its_publication(api: FakeThreadsApi, http: httpx.Client):
    reply_id = client_for(api, http).reply("17900000000000001", "Hallo, schreiben Sie uns bitte privat.")
    assert [(p.reply_to_id, p.text, p.id) for p in api.published] == [
        ("17900000000000001", "Hallo, schreiben Sie uns bitte privat.", reply_id)]
    posts = [r for r in api.requests if r.method == "POST"]
    assert [r.path for r in posts] == ["/v1.0/me/threads", "/v1.0/me/threads_publish"]
    for request in api.requests:
        assert request.header("authorization") == f"Bearer {TOKEN}"
        assert TOKEN not in request.query and "privat" not in request.query  # nothing secret or said in URLs
    assert api.quota_used == 1


def test_a_spent_reply_quota_is_a_rate_limit_and_creates_no_container(api: FakeThreadsApi, http: httpx.Client):
    api.quota_used = api.quota_total
    with pytest.raises(PlatformRateLimited) as caught:
        client_for(api, http).reply("17900000000000001", "Hallo")
    assert caught.value.retry_at == NOW + QUOTA_RETRY
    assert api.containers == {} and api.published == []


def test_a_rejected_token_needs_an_operator(api: FakeThreadsApi, http: httpx.Client):
    with pytest.raises(PlatformConfigError) as caught:
        client_for(api, http, token="wrong").reply("17900000000000001", "Hallo")
    assert "wrong" not in str(caught.value) and TOKEN not in str(caught.value)
    assert api.published == []


def test_throttling_is_a_rate_limit(api: FakeThreadsApi, http: httpx.Client):
    api.rate_limit_next(1, code=613)
    with pytest.raises(PlatformRateLimited) as caught:
        client_for(api, http).reply("17900000000000001", "Hallo")
    assert caught.value.retry_at == NOW + timedelta(seconds=60)


def test_a_post_threads_will_not_take_a_reply_to_is_refused_for_good(api: FakeThreadsApi, http: httpx.Client):
    api.refuse_replies_to.add("17900000000000009")
    with pytest.raises(PrivateChannelRefused):
        client_for(api, http).reply("17900000000000009", "Hallo")


def test_a_long_text_is_cut_to_the_limit(api: FakeThreadsApi, http: httpx.Client):
    client_for(api, http).reply("17900000000000001", "Wort " * 200)
    assert len(api.published[0].text) == TEXT_LIMIT and api.published[0].text.endswith("…")


def test_an_id_that_is_not_a_threads_id_never_reaches_a_path(api: FakeThreadsApi, http: httpx.Client):
    with pytest.raises(PrivateChannelRefused):
        client_for(api, http).reply("../me/threads_publish", "Hallo")
    assert api.requests == []


# -- answers the fake does not script -------------------------------------------------------


def respx_client(http: httpx.Client) -> ThreadsClient:
    return ThreadsClient(BASE, TOKEN, http=http, clock=lambda: NOW)


QUOTA_OK = {"data": [{"reply_quota_usage": 3, "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]}


@respx.mock
def test_429_with_retry_after_is_a_rate_limit_at_that_time(http: httpx.Client):
    respx.get(f"{BASE}/me/threads_publishing_limit").respond(200, json=QUOTA_OK)
    respx.post(f"{BASE}/me/threads").respond(429, headers={"Retry-After": "120"}, json={})
    with pytest.raises(PlatformRateLimited) as caught:
        respx_client(http).reply("1", "Hallo")
    assert caught.value.retry_at == NOW + timedelta(seconds=120)


@pytest.mark.parametrize(("status", "body", "error"), [
    (500, {}, PlatformUnavailable),
    (503, {"error": {"code": 2, "message": "Service temporarily unavailable"}}, PlatformUnavailable),
    (400, {"error": {"code": 1, "is_transient": True}}, PlatformUnavailable),
    (400, {"error": {"code": 9007, "error_subcode": 2207027}}, PlatformUnavailable),
    (400, {"error": {"code": 190, "type": "OAuthException"}}, PlatformConfigError),
    (401, {}, PlatformConfigError),
    (403, {"error": {"code": 10, "message": "(#10) permission"}}, PlatformConfigError),
    (400, {"error": {"code": 4}}, PlatformRateLimited),
    (400, {"error": {"code": 80002}}, PlatformRateLimited),
    (400, {"error": {"code": 100, "error_subcode": 33}}, PrivateChannelRefused),
    (200, {"no": "id"}, PlatformUnavailable),
    (200, {"id": "../x"}, PlatformUnavailable),
])
@respx.mock
def test_publish_errors_map_to_hilfts_errors(http: httpx.Client, status: int, body: dict, error: type):
    respx.get(f"{BASE}/me/threads_publishing_limit").respond(200, json=QUOTA_OK)
    respx.post(f"{BASE}/me/threads").respond(200, json={"id": "18000000001"})
    respx.post(f"{BASE}/me/threads_publish").respond(status, json=body)
    with pytest.raises(error):
        respx_client(http).reply("1", "Hallo")


@respx.mock
def test_a_transport_fault_is_unavailable_and_names_no_secret(http: httpx.Client):
    respx.get(f"{BASE}/me/threads_publishing_limit").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(PlatformUnavailable) as caught:
        respx_client(http).reply("1", "Hallo")
    assert TOKEN not in str(caught.value)


@respx.mock
def test_an_unreadable_quota_answer_does_not_block_the_reply(http: httpx.Client):
    respx.get(f"{BASE}/me/threads_publishing_limit").respond(200, json={"data": []})
    respx.post(f"{BASE}/me/threads").respond(200, json={"id": "18000000001"})
    respx.post(f"{BASE}/me/threads_publish").respond(200, json={"id": 17900000000000002})
    assert respx_client(http).reply("1", "Hallo") == "17900000000000002"


def test_the_client_never_shows_its_token():
    assert TOKEN not in repr(ThreadsClient(BASE, TOKEN, http=httpx.Client()))


# -- the gateway --------------------------------------------------------------------------


def test_threads_has_no_dms_so_the_gateway_refuses_private_messages(api: FakeThreadsApi, http: httpx.Client):
    gateway = ThreadsGateway(client_for(api, http))
    assert gateway.capabilities == CAPABILITIES and not CAPABILITIES.can_dm and CAPABILITIES.delivery == "webhook"
    with pytest.raises(PrivateChannelRefused):
        gateway.send_private(MentionDoc(platform="threads", post_id="1"), "DM text", NOW)
    assert api.requests == []
    assert gateway.public_reply(MentionDoc(platform="threads", post_id="17900000000000001"), "Hallo") == api.published[0].id


def test_the_registry_builds_the_gateway_only_with_a_token(http: httpx.Client):
    assert "hilft.channels.threads" in channels.CHANNEL_MODULES
    assert channels.build_gateway("threads", Settings(), http) is None
    built = channels.build_gateway("threads", Settings(threads_access_token=TOKEN), http)
    assert isinstance(built, ThreadsGateway)


def test_the_settings_read_the_threads_variables():
    s = Settings.from_env({"THREADS_APP_SECRET": "a", "THREADS_VERIFY_TOKEN": "v", "THREADS_ACCESS_TOKEN": "t",
                           "THREADS_USER_IDS": "1, 2", "THREADS_API_BASE_URL": "http://127.0.0.1:1/v1.0/"})
    assert (s.threads_app_secret, s.threads_verify_token, s.threads_access_token) == ("a", "v", "t")
    assert s.threads_user_ids == frozenset({"1", "2"}) and s.threads_api_base_url == "http://127.0.0.1:1/v1.0"
    assert Settings.from_env({}).threads_api_base_url == "https://graph.threads.net/v1.0"


# -- the fake's own checks ----------------------------------------------------------------


def test_the_fake_checks_token_encoding_and_shape(api: FakeThreadsApi, http: httpx.Client):
    url = api.url + "/v1.0/me/threads"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    ok = {"media_type": "TEXT", "text": "Hallo", "reply_to_id": "1"}
    assert http.post(url, data=ok, headers={"Authorization": "Bearer nope"}).json()["error"]["code"] == 190
    assert http.post(url, json=ok, headers=auth).json()["error"]["code"] == 100  # not form-encoded
    for broken in ({**ok, "media_type": "IMAGE"}, {**ok, "text": " "}, {"media_type": "TEXT", "text": "x"},
                   {**ok, "text": "x" * 501}):
        assert http.post(url, data=broken, headers=auth).status_code == 400, broken
    assert http.post(api.url + "/v1.0/999/threads", data=ok, headers=auth).status_code == 400  # not our account
    created = http.post(url, data=ok, headers=auth).json()["id"]
    publish = api.url + "/v1.0/me/threads_publish"
    assert http.post(publish, data={"creation_id": "nope"}, headers=auth).status_code == 400
    assert http.post(publish, data={"creation_id": created}, headers=auth).status_code == 200
    assert http.post(publish, data={"creation_id": created}, headers=auth).status_code == 400  # published once
    assert len(api.published) == 1
