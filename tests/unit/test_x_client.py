"""The outbound X client: exact requests on the wire, and X's answers mapped to hilft's errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from hilft.channels.x.client import (
    DmNotAllowed,
    RateLimited,
    ReplyNotAllowed,
    RetryableXError,
    XApiError,
    XAuthError,
    XClient,
    XRequestRejected,
)
from hilft.core.errors import (
    PlatformConfigError,
    PlatformRateLimited,
    PlatformUnavailable,
    PrivateChannelRefused,
)

BASE = "https://api.x.test"
TOKEN = "user-token-that-must-not-leak"
CUSTOMER = "1472583690"
MENTION = "1858786321410785281"
DM_PATH = f"/2/dm_conversations/with/{CUSTOMER}/messages"
DM_TEXT = "Hallo Jana, bitte schick uns deine Kundennummer per DM. Grüße ^an"
NOW = datetime(2024, 11, 19, 9, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client() -> Iterator[XClient]:
    with XClient(BASE + "/", TOKEN, clock=lambda: NOW) as x_client:
        yield x_client


def dm_created(event_id: str = "1858797044867178500") -> httpx.Response:
    return httpx.Response(201, json={"data": {"dm_conversation_id": f"1000000001-{CUSTOMER}",
                                              "dm_event_id": event_id}})


def problem(status: int, problem_type: str = "about:blank", detail: str = "nope") -> httpx.Response:
    return httpx.Response(status, json={"title": "Error", "type": problem_type, "status": status, "detail": detail})


# -- requests on the wire -------------------------------------------------------------------------


def test_send_dm_posts_the_exact_request_and_returns_the_event_id(api: respx.MockRouter, client: XClient) -> None:
    route = api.post(DM_PATH).mock(return_value=dm_created("1858797044867178500"))
    assert client.send_dm(CUSTOMER, DM_TEXT) == "1858797044867178500"
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url == f"{BASE}{DM_PATH}"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.content == ('{"text":"' + DM_TEXT + '"}').encode("utf-8")


def test_reply_posts_the_exact_request_and_returns_the_post_id(api: respx.MockRouter, client: XClient) -> None:
    route = api.post("/2/tweets").mock(return_value=httpx.Response(
        201, json={"data": {"id": "1858792655871004673", "text": "…", "edit_history_tweet_ids": ["1858792655871004673"]}}))
    assert client.reply(MENTION, "@kabelsalat_kiel Wir kümmern uns! 📞 ^an") == "1858792655871004673"
    request = route.calls.last.request
    assert request.url == f"{BASE}/2/tweets"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.content == ('{"text":"@kabelsalat_kiel Wir kümmern uns! 📞 ^an",'
                               '"reply":{"in_reply_to_tweet_id":"' + MENTION + '"}}').encode("utf-8")
    assert json.loads(request.content)["reply"] == {"in_reply_to_tweet_id": MENTION}


def test_ids_that_could_change_the_url_path_are_refused_before_sending(api: respx.MockRouter,
                                                                      client: XClient) -> None:
    route = api.post(url__regex=r".*").mock(return_value=dm_created())
    for bad in ("../2/tweets", "1472583690/messages?x=", "", "12ab"):
        with pytest.raises(ValueError):
            client.send_dm(bad, DM_TEXT)
        with pytest.raises(ValueError):
            client.reply(bad, DM_TEXT)
    assert not route.called


def test_empty_token_is_a_configuration_error() -> None:
    with pytest.raises(XAuthError):
        XClient(BASE, "")


# -- X's answers ----------------------------------------------------------------------------------


def test_rate_limit_carries_the_reset_time_from_x(api: respx.MockRouter, client: XClient) -> None:
    reset = datetime(2024, 11, 19, 9, 12, 30, tzinfo=UTC)
    api.post(DM_PATH).mock(return_value=httpx.Response(
        429, json={"title": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": str(int(reset.timestamp())), "x-rate-limit-remaining": "0"}))
    with pytest.raises(RateLimited) as caught:
        client.send_dm(CUSTOMER, DM_TEXT)
    assert caught.value.reset_at == reset
    assert caught.value.retry_at == reset  # what the handoff service reads
    assert isinstance(caught.value, PlatformRateLimited)
    assert isinstance(caught.value, RetryableXError)
    assert caught.value.status == 429


def test_rate_limit_without_reset_header_waits_one_window(api: respx.MockRouter, client: XClient) -> None:
    api.post("/2/tweets").mock(return_value=httpx.Response(429, json={}))
    with pytest.raises(RateLimited) as caught:
        client.reply(MENTION, "Danke!")
    assert caught.value.reset_at == NOW + timedelta(minutes=15)


def test_dm_refused_by_recipient_is_dm_not_allowed(api: respx.MockRouter, client: XClient) -> None:
    api.post(DM_PATH).mock(return_value=problem(403, detail="You cannot send messages to this user."))
    with pytest.raises(DmNotAllowed) as caught:
        client.send_dm(CUSTOMER, DM_TEXT)
    assert isinstance(caught.value, PrivateChannelRefused)
    assert caught.value.status == 403
    assert caught.value.http_status == 409


def test_reply_refused_is_reply_not_allowed(api: respx.MockRouter, client: XClient) -> None:
    api.post("/2/tweets").mock(return_value=problem(403))
    with pytest.raises(ReplyNotAllowed) as caught:
        client.reply(MENTION, "Danke!")
    assert isinstance(caught.value, PrivateChannelRefused)
    assert not isinstance(caught.value, DmNotAllowed)


@pytest.mark.parametrize("answer", [
    pytest.param(problem(401), id="401"),
    pytest.param(problem(403, "https://api.twitter.com/2/problems/client-forbidden"), id="app-not-enrolled"),
    pytest.param(problem(403, "https://api.twitter.com/2/problems/unsupported-authentication"), id="app-only-token"),
])
def test_credential_problems_are_auth_errors_not_refusals(api: respx.MockRouter, client: XClient,
                                                          answer: httpx.Response) -> None:
    api.post(DM_PATH).mock(return_value=answer)
    with pytest.raises(XAuthError) as caught:
        client.send_dm(CUSTOMER, DM_TEXT)
    assert isinstance(caught.value, PlatformConfigError)
    assert not isinstance(caught.value, PrivateChannelRefused)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(api: respx.MockRouter, client: XClient, status: int) -> None:
    api.post("/2/tweets").mock(return_value=httpx.Response(status, text="<html>Over capacity</html>"))
    with pytest.raises(RetryableXError) as caught:
        client.reply(MENTION, "Danke!")
    assert isinstance(caught.value, PlatformUnavailable)
    assert caught.value.status == status
    assert caught.value.http_status == 503


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                     httpx.RemoteProtocolError("dropped")])
def test_no_answer_is_retryable(api: respx.MockRouter, client: XClient, failure: Exception) -> None:
    api.post(DM_PATH).mock(side_effect=failure)
    with pytest.raises(RetryableXError) as caught:
        client.send_dm(CUSTOMER, DM_TEXT)
    assert caught.value.status is None


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_other_client_errors_keep_the_status(api: respx.MockRouter, client: XClient, status: int) -> None:
    api.post("/2/tweets").mock(return_value=problem(status, "https://api.twitter.com/2/problems/invalid-request"))
    with pytest.raises(XRequestRejected) as caught:
        client.reply(MENTION, "Danke!")
    assert caught.value.status == status
    assert caught.value.problem == "https://api.twitter.com/2/problems/invalid-request"
    assert not isinstance(caught.value, RetryableXError)


@pytest.mark.parametrize("answer", [
    pytest.param(httpx.Response(201, text="ok"), id="not-json"),
    pytest.param(httpx.Response(201, json={"errors": [{"message": "x"}]}), id="no-data"),
    pytest.param(httpx.Response(201, json={"data": {"dm_conversation_id": "1-2"}}), id="no-event-id"),
    pytest.param(httpx.Response(201, json=["data"]), id="not-an-object"),
])
def test_unreadable_success_is_an_api_error(api: respx.MockRouter, client: XClient, answer: httpx.Response) -> None:
    api.post(DM_PATH).mock(return_value=answer)
    with pytest.raises(XApiError):
        client.send_dm(CUSTOMER, DM_TEXT)


@pytest.mark.parametrize("answer", [
    problem(401, detail=f"Bearer {TOKEN} rejected: {DM_TEXT}"),
    problem(403, detail=f"cannot send '{DM_TEXT}'"),
    problem(400, detail=DM_TEXT),
    httpx.Response(429, json={"detail": DM_TEXT}),
    httpx.Response(503, text=DM_TEXT),
])
def test_error_messages_never_contain_the_token_or_the_text(api: respx.MockRouter, client: XClient,
                                                            answer: httpx.Response) -> None:
    api.post(DM_PATH).mock(return_value=answer)
    with pytest.raises(XApiError) as caught:
        client.send_dm(CUSTOMER, DM_TEXT)
    shown = f"{caught.value} {caught.value!r} {caught.value.message} {caught.value.problem}"
    assert TOKEN not in shown
    assert "Kundennummer" not in shown


def test_a_given_http_client_is_used_and_left_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return dm_created("42")

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with XClient(BASE, TOKEN, http=http) as x_client:
        assert x_client.send_dm(CUSTOMER, DM_TEXT) == "42"
    assert len(seen) == 1
    assert not http.is_closed
    http.close()
