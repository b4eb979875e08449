"""hilft.channels.meta.client: what goes on the wire, and how Graph's answers map to exceptions."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from hilft.channels.meta.client import (
    DEFAULT_RETRY_AFTER,
    MetaApiError,
    MetaClient,
    MetaRateLimited,
    MetaRequestRefused,
    MetaTokenError,
    PrivateReplyRefused,
    RetryableMetaError,
)
from hilft.core.errors import TransientError

BASE = "https://graph.facebook.com/v21.0"
TOKEN = "EAAGpage-token-never-logged"
PAGE_ID = "110000000000001"
IG_USER_ID = "17841400000000001"
COMMENT_ID = "820000000000001_930000000000001"
TEXT = "Hallo Jana, schade, dass es hakt! Schreib uns hier gern deine Auftragsnummer. Grüße ^an"


@pytest.fixture
def graph() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One pooled client for the module, as in production (building one costs ~0.1 s of TLS setup)."""
    with httpx.Client() as shared:
        yield shared


@pytest.fixture
def client(http) -> MetaClient:
    return MetaClient(BASE, TOKEN, http=http)


def graph_error(status: int, code: int, subcode: int | None = None, **extra: object) -> httpx.Response:
    error: dict[str, object] = {"message": f"(#{code}) something", "type": "OAuthException", "code": code,
                                "fbtrace_id": "AbCdEf123", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


# -- what is sent -------------------------------------------------------------------------


def test_a_private_reply_posts_the_comment_id_and_text_to_the_pages_messages(graph, client):
    route = graph.post(f"/{PAGE_ID}/messages").respond(200, json={"recipient_id": "2400", "message_id": "m_abc"})

    assert client.private_reply(PAGE_ID, COMMENT_ID, TEXT) == "m_abc"

    request = route.calls.last.request
    assert request.content == (
        b'{"recipient":{"comment_id":"820000000000001_930000000000001"},'
        b'"message":{"text":"Hallo Jana, schade, dass es hakt! Schreib uns hier gern deine Auftragsnummer. '
        b'Gr\xc3\xbc\xc3\x9fe ^an"}}')
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_token_travels_in_the_header_and_never_in_the_url(graph, client):
    route = graph.post(f"/{PAGE_ID}/messages").respond(200, json={"message_id": "m_abc"})
    client.private_reply(PAGE_ID, COMMENT_ID, TEXT)
    url = str(route.calls.last.request.url)
    assert url == f"{BASE}/{PAGE_ID}/messages"
    assert TOKEN not in url


def test_an_instagram_private_reply_goes_to_the_instagram_accounts_messages(graph, client):
    route = graph.post(f"/{IG_USER_ID}/messages").respond(200, json={"message_id": "aWdf_1"})
    assert client.instagram_private_reply(IG_USER_ID, "17950000000000001", "Hallo! 📩") == "aWdf_1"
    assert route.calls.last.request.content == (
        '{"recipient":{"comment_id":"17950000000000001"},"message":{"text":"Hallo! 📩"}}'.encode())


def test_a_messenger_answer_is_a_response_to_the_customers_psid(graph, client):
    route = graph.post(f"/{PAGE_ID}/messages").respond(200, json={"recipient_id": "2400", "message_id": "m_def"})
    assert client.send_message(PAGE_ID, "24000000000000101", "Danke, wir prüfen das.") == "m_def"
    assert route.calls.last.request.content == (
        '{"recipient":{"id":"24000000000000101"},"messaging_type":"RESPONSE",'
        '"message":{"text":"Danke, wir prüfen das."}}'.encode())


def test_a_chat_plugin_guest_is_answered_by_user_ref_and_meta_sends_no_recipient_id(graph, client):
    route = graph.post(f"/{PAGE_ID}/messages").respond(200, json={"message_id": "m_ghi"})
    assert client.send_message_to_user_ref(PAGE_ID, "UR-42", "Wir prüfen das.") == "m_ghi"
    assert route.calls.last.request.content == (
        '{"recipient":{"user_ref":"UR-42"},"messaging_type":"RESPONSE",'
        '"message":{"text":"Wir prüfen das."}}'.encode())


@pytest.mark.parametrize("user_ref", ["", "UR\n42", "x" * 257])
def test_a_user_ref_that_meta_never_sends_is_refused_before_any_call(graph, client, user_ref):
    with pytest.raises(ValueError):
        client.send_message_to_user_ref(PAGE_ID, user_ref, "Hallo")
    assert not graph.calls


def test_a_public_comment_reply_posts_the_message_to_the_comments_edge(graph, client):
    route = graph.post(f"/{COMMENT_ID}/comments").respond(200, json={"id": "820000000000001_990000000000001"})
    assert client.reply_comment(COMMENT_ID, "Wir sind dran!") == "820000000000001_990000000000001"
    assert route.calls.last.request.content == b'{"message":"Wir sind dran!"}'
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


def test_an_instagram_comment_reply_posts_to_the_replies_edge(graph, client):
    route = graph.post("/17950000000000001/replies").respond(200, json={"id": "17990000000000001"})
    assert client.reply_instagram_comment("17950000000000001", "Schau in deine DMs") == "17990000000000001"
    assert route.calls.last.request.content == b'{"message":"Schau in deine DMs"}'


def test_reading_a_comment_asks_for_the_named_fields(graph, client):
    route = graph.get(f"/{COMMENT_ID}").respond(200, json={"id": COMMENT_ID, "message": "Hallo @Telko hilft"})
    assert client.get_comment(COMMENT_ID, ("id", "message")) == {"id": COMMENT_ID, "message": "Hallo @Telko hilft"}
    request = route.calls.last.request
    assert request.url.params["fields"] == "id,message"
    assert request.content == b""
    assert "access_token" not in request.url.params


def test_with_an_app_secret_every_call_carries_the_appsecret_proof(graph, http):
    route = graph.get(f"/{COMMENT_ID}").respond(200, json={"id": COMMENT_ID})
    MetaClient(BASE, TOKEN, http=http, app_secret="app-secret").get_comment(COMMENT_ID)
    expected = hmac.new(b"app-secret", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert route.calls.last.request.url.params["appsecret_proof"] == expected


def test_a_trailing_slash_in_the_base_url_does_not_double_up(graph, http):
    route = graph.post(f"/{COMMENT_ID}/comments").respond(200, json={"id": "1_2"})
    MetaClient(BASE + "/", TOKEN, http=http).reply_comment(COMMENT_ID, "ok")
    assert str(route.calls.last.request.url) == f"{BASE}/{COMMENT_ID}/comments"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_an_empty_text_is_refused_before_anything_is_sent(graph, client, text):
    route = graph.post(f"/{PAGE_ID}/messages")
    with pytest.raises(ValueError):
        client.private_reply(PAGE_ID, COMMENT_ID, text)
    assert not route.called


@pytest.mark.parametrize("node", ["../me", "1/2", "1?fields=access_token", "", "1 2", "a" * 200])
def test_an_id_that_could_change_the_request_path_is_refused(graph, client, node):
    with pytest.raises(ValueError):
        client.reply_comment(node, "Hallo")
    assert not graph.calls


def test_an_injected_http_client_is_left_open_for_its_owner(http):
    MetaClient(BASE, TOKEN, http=http).close()
    assert not http.is_closed


def test_a_client_of_its_own_is_closed_with_the_meta_client():
    with MetaClient(BASE, TOKEN) as own:
        pass
    assert own._http.is_closed


def test_the_client_never_shows_its_token():
    assert TOKEN not in repr(MetaClient(BASE, TOKEN))


# -- how errors map -----------------------------------------------------------------------


def test_an_invalid_token_is_a_token_error_not_worth_retrying(graph, client):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=graph_error(400, 190, 463))
    with pytest.raises(MetaTokenError) as caught:
        client.send_message(PAGE_ID, "24", "Hallo")
    assert (caught.value.code, caught.value.subcode, caught.value.status) == (190, 463, 400)
    assert caught.value.fbtrace_id == "AbCdEf123"
    assert not isinstance(caught.value, TransientError)


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80006])
def test_graph_rate_limit_codes_are_rate_limited_with_a_default_wait(graph, client, code):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=graph_error(400, code))
    with pytest.raises(MetaRateLimited) as caught:
        client.send_message(PAGE_ID, "24", "Hallo")
    assert caught.value.code == code
    assert caught.value.retry_after == DEFAULT_RETRY_AFTER


def test_http_429_without_a_graph_body_is_rate_limited_and_honours_retry_after(graph, client):
    graph.post(f"/{PAGE_ID}/messages").respond(429, headers={"Retry-After": "120"}, text="slow down")
    with pytest.raises(MetaRateLimited) as caught:
        client.send_message(PAGE_ID, "24", "Hallo")
    assert caught.value.retry_after == 120.0


def test_the_business_use_case_header_tells_how_long_to_wait(graph, client):
    usage = {PAGE_ID: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=httpx.Response(
        400, json={"error": {"code": 80006, "message": "(#80006) rate limit"}},
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)}))
    with pytest.raises(MetaRateLimited) as caught:
        client.send_message(PAGE_ID, "24", "Hallo")
    assert caught.value.retry_after == 7 * 60


def test_being_rate_limited_is_a_transient_error(graph, client):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=graph_error(400, 613))
    with pytest.raises(RetryableMetaError) as caught:
        client.send_message(PAGE_ID, "24", "Hallo")
    assert isinstance(caught.value, TransientError)
    assert caught.value.http_status == 503


@pytest.mark.parametrize("code, subcode, reason", [
    (10900, None, "already_replied"),
    (10903, None, "not_replyable"),
    (10, 2018278, "window_expired"),
    (10, 2534022, "window_expired"),
    (551, 1545041, "recipient_unavailable"),
])
def test_a_private_reply_meta_will_never_accept_is_refused_with_the_reason(graph, client, code, subcode, reason):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=graph_error(400, code, subcode))
    with pytest.raises(PrivateReplyRefused) as caught:
        client.private_reply(PAGE_ID, COMMENT_ID, TEXT)
    assert caught.value.reason == reason
    assert not isinstance(caught.value, TransientError)


def test_an_instagram_private_reply_already_sent_is_refused_too(graph, client):
    graph.post(f"/{IG_USER_ID}/messages").mock(return_value=graph_error(400, 10900))
    with pytest.raises(PrivateReplyRefused):
        client.instagram_private_reply(IG_USER_ID, "17950000000000001", "Hallo")


def test_a_permission_error_on_a_private_reply_is_not_mistaken_for_a_refusal(graph, client):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=graph_error(403, 10))
    with pytest.raises(MetaApiError) as caught:
        client.private_reply(PAGE_ID, COMMENT_ID, TEXT)
    assert type(caught.value) is MetaRequestRefused


@pytest.mark.parametrize("response", [
    httpx.Response(500, json={"error": {"code": 1, "message": "An unknown error occurred"}}),
    httpx.Response(503, text="<html>Service Unavailable</html>"),
    httpx.Response(400, json={"error": {"code": 2, "message": "Service temporarily unavailable"}}),
    httpx.Response(400, json={"error": {"code": 1200, "message": "Temporary", "is_transient": True}}),
], ids=["500-graph", "503-html", "code-2", "is-transient"])
def test_server_trouble_is_retryable(graph, client, response):
    graph.post(f"/{COMMENT_ID}/comments").mock(return_value=response)
    with pytest.raises(RetryableMetaError):
        client.reply_comment(COMMENT_ID, "Hallo")


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout("boom"), httpx.ReadTimeout("boom"),
                                     httpx.ConnectError("refused"), httpx.RemoteProtocolError("cut")])
def test_timeouts_and_broken_connections_are_retryable(graph, client, failure):
    graph.post(f"/{COMMENT_ID}/comments").mock(side_effect=failure)
    with pytest.raises(RetryableMetaError) as caught:
        client.reply_comment(COMMENT_ID, "Hallo")
    assert caught.value.status is None


def test_an_invalid_parameter_is_a_plain_api_error_that_retrying_would_not_cure(graph, client):
    graph.post(f"/{COMMENT_ID}/comments").mock(return_value=graph_error(400, 100, 33))
    with pytest.raises(MetaApiError) as caught:
        client.reply_comment(COMMENT_ID, "Hallo")
    assert type(caught.value) is MetaRequestRefused
    assert (caught.value.code, caught.value.subcode) == (100, 33)


def test_an_already_replied_error_outside_a_private_reply_is_not_a_private_reply_refusal(graph, client):
    graph.post(f"/{COMMENT_ID}/comments").mock(return_value=graph_error(400, 10900))
    with pytest.raises(MetaApiError) as caught:
        client.reply_comment(COMMENT_ID, "Hallo")
    assert not isinstance(caught.value, PrivateReplyRefused)


@pytest.mark.parametrize("body", [{}, {"message_id": 42}, {"error": {"code": 1}}])
def test_a_success_without_the_expected_id_is_an_api_error(graph, client, body):
    graph.post(f"/{PAGE_ID}/messages").respond(200, json=body)
    with pytest.raises(MetaApiError):
        client.send_message(PAGE_ID, "24", "Hallo")


@pytest.mark.parametrize("response", [
    graph_error(400, 190), graph_error(400, 613), graph_error(400, 10900), graph_error(500, 1),
    graph_error(400, 100),
])
def test_no_exception_message_contains_the_token_or_the_text(graph, client, response):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=response)
    with pytest.raises(MetaApiError) as caught:
        client.private_reply(PAGE_ID, COMMENT_ID, TEXT)
    shown = f"{caught.value} {caught.value!r} {caught.value.message}"
    assert TOKEN not in shown
    assert "Auftragsnummer" not in shown and "something" not in shown
