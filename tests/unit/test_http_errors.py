"""hilft.channels.http_errors.typed_error as the one HTTP → error mapping, pinned where X and Meta
read through it: the client's exception is the kind (and the retry time) ``typed_error`` names for
the same answer, with the platform's own reset header or body codes on top."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from hilft.channels.http_errors import retry_at, typed_error
from hilft.channels.meta.client import (
    MetaClient,
    MetaRateLimited,
    MetaRequestRefused,
    MetaTokenError,
    RetryableMetaError,
)
from hilft.channels.x.client import (
    RateLimited,
    ReplayWindow,
    RetryableXError,
    XAuthError,
    XClient,
    XReplayClient,
)
from hilft.core.errors import (
    HilftError,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformUnavailable,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
X_BASE = "https://api.x.test"
GRAPH = "https://graph.facebook.test/v21.0"
PAGE_ID = "110000000000001"
TWEET_ID = "1858786321410785281"
WEBHOOK_ID = "1234567890"
RESET = datetime(2026, 11, 30, 9, 7, 30, tzinfo=UTC)


@pytest.fixture
def x_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=X_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def graph() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=GRAPH, assert_all_called=False) as router:
        yield router


def caught(call: Callable[[], object]) -> HilftError:
    with pytest.raises(HilftError) as raised:
        call()
    return raised.value


def retry_time_of(call: Callable[[], object]) -> object:
    error = caught(call)
    assert isinstance(error, PlatformRateLimited)
    return error.retry_at


REPLAY_WINDOW = ReplayWindow(NOW - timedelta(hours=2), NOW - timedelta(hours=1))


# -- typed_error's own parameter for answers whose body says "rate limit" ----------------------------
@pytest.mark.parametrize("status", [200, 400, 403, 500])
def test_a_body_read_as_a_rate_limit_is_rate_limited_whatever_the_status(status):
    error = typed_error(status, {}, platform="p", what="w", now=NOW, rate_limited=True,
                        retry_time=lambda headers, now: now + timedelta(minutes=7))
    assert isinstance(error, PlatformRateLimited)
    assert error.retry_at == NOW + timedelta(minutes=7)


@pytest.mark.parametrize("status, expected", [(200, None), (400, None), (500, PlatformUnavailable)])
def test_without_the_flag_the_status_alone_decides(status, expected):
    error = typed_error(status, {}, platform="p", what="w", now=NOW)
    assert (None if error is None else type(error)) is expected


# -- X: the shared mapping, with x-rate-limit-reset ------------------------------------------------
X_ANSWERS = {
    "429-reset": httpx.Response(429, headers={"x-rate-limit-reset": str(int(RESET.timestamp()))},
                                json={"title": "Too Many Requests", "status": 429}),
    "503": httpx.Response(503, text="<html>Over capacity</html>"),
    "401": httpx.Response(401, json={"title": "Unauthorized", "type": "about:blank", "status": 401}),
}
X_KINDS = {"429-reset": (RateLimited, PlatformRateLimited), "503": (RetryableXError, PlatformUnavailable),
           "401": (XAuthError, PlatformConfigError)}


@pytest.mark.parametrize("answer", list(X_ANSWERS))
def test_x_client_answers_as_typed_error_reads_the_status(x_api, answer):
    response = X_ANSWERS[answer]
    x_api.post("/2/tweets").mock(return_value=response)
    with XClient(X_BASE, "user-token", clock=lambda: NOW) as client:
        error = caught(lambda: client.reply(TWEET_ID, "Hallo"))
    own, shared = X_KINDS[answer]
    assert isinstance(error, own) and isinstance(error, shared)
    expected = typed_error(response.status_code, response.headers, platform="X", what="v2 API", now=NOW,
                           reset_header="x-rate-limit-reset")
    assert isinstance(error, type(expected))
    if isinstance(error, PlatformRateLimited) and isinstance(expected, PlatformRateLimited):
        assert error.retry_at == RESET == expected.retry_at


@pytest.mark.parametrize("answer", list(X_ANSWERS))
def test_x_replay_client_answers_the_same_way(x_api, answer):
    response = X_ANSWERS[answer]
    x_api.post(f"/2/account_activity/replay/webhooks/{WEBHOOK_ID}/subscriptions/all").mock(return_value=response)
    client = XReplayClient(X_BASE, "app-token", clock=lambda: NOW)
    error = caught(lambda: client.create_replay_job(WEBHOOK_ID, REPLAY_WINDOW))
    client.close()
    own, shared = X_KINDS[answer]
    assert isinstance(error, own) and isinstance(error, shared)
    if isinstance(error, PlatformRateLimited):
        assert error.retry_at == RESET


def test_an_x_429_without_reset_waits_one_window_but_a_replay_one_minute(x_api):
    x_api.post("/2/tweets").respond(429, json={"status": 429})
    x_api.post(f"/2/account_activity/replay/webhooks/{WEBHOOK_ID}/subscriptions/all").respond(429, json={})
    with XClient(X_BASE, "user-token", clock=lambda: NOW) as client:
        assert retry_time_of(lambda: client.reply(TWEET_ID, "Hallo")) == NOW + timedelta(minutes=15)
    replay = XReplayClient(X_BASE, "app-token", clock=lambda: NOW)
    assert retry_time_of(lambda: replay.create_replay_job(WEBHOOK_ID, REPLAY_WINDOW)) == NOW + timedelta(minutes=1)
    replay.close()


# -- Meta: the shared mapping, with Graph's codes and usage header ---------------------------------
def graph_error(status: int, code: int, subcode: int | None = None, headers: dict[str, str] | None = None
                ) -> httpx.Response:
    error: dict[str, object] = {"message": f"(#{code}) something", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error}, headers=headers)


META_ANSWERS = {
    "429-retry-after": (httpx.Response(429, headers={"Retry-After": "120"}, text="slow down"),
                        MetaRateLimited, PlatformRateLimited),
    "429-http-date": (httpx.Response(429, headers={"Retry-After": format_datetime(RESET, usegmt=True)}),
                      MetaRateLimited, PlatformRateLimited),
    "503": (httpx.Response(503, text="<html>Service Unavailable</html>"), RetryableMetaError, PlatformUnavailable),
    "401": (httpx.Response(401, text="Unauthorized"), MetaTokenError, PlatformConfigError),
    "190-token-expired": (graph_error(400, 190, 463), MetaTokenError, PlatformConfigError),
    "613-usage-header": (graph_error(400, 613, headers={"X-Business-Use-Case-Usage":
                                                        '{"1": [{"estimated_time_to_regain_access": 7}]}'}),
                         MetaRateLimited, PlatformRateLimited),
}
META_RETRY_AT = {"429-retry-after": NOW + timedelta(seconds=120), "429-http-date": RESET,
                 "613-usage-header": NOW + timedelta(minutes=7)}


@pytest.mark.parametrize("answer", list(META_ANSWERS))
def test_meta_client_answers_as_typed_error_reads_the_status(graph, answer):
    response, own, shared = META_ANSWERS[answer]
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=response)
    with MetaClient(GRAPH, "page-token", clock=lambda: NOW) as client:
        error = caught(lambda: client.send_message(PAGE_ID, "24", "Hallo"))
    assert isinstance(error, own) and isinstance(error, shared)
    expected = typed_error(response.status_code, response.headers, platform="meta", what="w", now=NOW)
    if expected is not None:  # 190 and 613 come with a 400: Graph's codes decide, not the status
        assert isinstance(error, type(expected))
    if isinstance(error, PlatformRateLimited):
        assert error.retry_at == META_RETRY_AT[answer]
        if answer.startswith("429"):
            assert error.retry_at == retry_at(response.headers, NOW)


def test_a_meta_permission_error_stays_a_refusal_of_this_request_not_a_token_problem(graph):
    graph.post(f"/{PAGE_ID}/messages").mock(return_value=graph_error(403, 200))
    with MetaClient(GRAPH, "page-token", clock=lambda: NOW) as client:
        error = caught(lambda: client.send_message(PAGE_ID, "24", "Hallo"))
    assert type(error) is MetaRequestRefused
