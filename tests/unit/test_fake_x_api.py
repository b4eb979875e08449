"""The fake X API checks and answers like X, and hilft's X client understands it."""

from __future__ import annotations

import functools
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fakes.x_api import FakeXApi, make_x_api
from hilft.channels.x.client import DmNotAllowed, RateLimited, XAuthError, XClient, XRequestRejected

TOKEN = "fake-user-token"
CUSTOMER = "1472583690"
MENTION = "1858786321410785281"
INFRA_LOCAL = Path(__file__).resolve().parents[2] / "infra" / "local"


@pytest.fixture(scope="module")
def running_x_api() -> Iterator[FakeXApi]:
    with make_x_api(TOKEN) as server:
        yield server


@pytest.fixture
def x_api(running_x_api: FakeXApi) -> FakeXApi:
    """One server per module (stopping one takes half a second), reset before each test."""
    running_x_api.reset()
    return running_x_api


@functools.cache
def http() -> httpx.Client:
    """One client for the module: building one per request costs more than the request."""
    return httpx.Client()


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    http().close()
    http.cache_clear()


def post(server: FakeXApi, path: str, body: object = None, *, token: str | None = TOKEN,
         content: bytes | None = None, content_type: str = "application/json") -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if content is None:
        return http().post(server.url + path, json=body, headers=headers)
    return http().post(server.url + path, content=content, headers=headers)


def dm(server: FakeXApi, text: object, participant: str = CUSTOMER, **kwargs: object) -> httpx.Response:
    return post(server, f"/2/dm_conversations/with/{participant}/messages", {"text": text}, **kwargs)  # type: ignore[arg-type]


def reply(server: FakeXApi, text: object, in_reply_to: object = MENTION) -> httpx.Response:
    return post(server, "/2/tweets", {"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to}})


# -- what X accepts -------------------------------------------------------------------------------


def test_dm_is_answered_like_x_and_recorded(x_api: FakeXApi) -> None:
    answer = dm(x_api, "Hallo Jana, wir melden uns bis 16 Uhr. ^an")
    assert answer.status_code == 201
    data = answer.json()["data"]
    assert data["dm_conversation_id"] == "1000000001-1472583690"
    assert re.fullmatch(r"[0-9]{19}", data["dm_event_id"])
    assert x_api.dms == [{"participant_id": CUSTOMER, "text": "Hallo Jana, wir melden uns bis 16 Uhr. ^an",
                          "dm_event_id": data["dm_event_id"], "dm_conversation_id": "1000000001-1472583690"}]


def test_reply_is_answered_like_x_and_recorded_with_the_post_it_answers(x_api: FakeXApi) -> None:
    answer = reply(x_api, "@kabelsalat_kiel Wir kümmern uns! ^an")
    assert answer.status_code == 201
    data = answer.json()["data"]
    assert data["text"] == "@kabelsalat_kiel Wir kümmern uns! ^an"
    assert data["edit_history_tweet_ids"] == [data["id"]]
    assert x_api.replies == [{"id": data["id"], "text": "@kabelsalat_kiel Wir kümmern uns! ^an",
                              "in_reply_to_tweet_id": MENTION}]
    assert x_api.posts == []


def test_a_top_level_post_is_not_counted_as_a_reply(x_api: FakeXApi) -> None:
    assert post(x_api, "/2/tweets", {"text": "Störung in Kiel behoben."}).status_code == 201
    assert x_api.replies == []
    assert [p["text"] for p in x_api.posts] == ["Störung in Kiel behoben."]


def test_ids_look_like_snowflakes_and_increase(x_api: FakeXApi) -> None:
    ids = [int(reply(x_api, f"Antwort {n}").json()["data"]["id"]) for n in range(3)]
    ids.append(int(dm(x_api, "DM").json()["data"]["dm_event_id"]))
    assert ids == sorted(set(ids))
    assert all(len(str(i)) == 19 for i in ids)


def test_post_length_is_counted_in_characters_not_bytes(x_api: FakeXApi) -> None:
    assert reply(x_api, "ü" * 279 + "📞").status_code == 201
    assert reply(x_api, "ü" * 281).status_code == 400
    assert dm(x_api, "ß" * 10_000).status_code == 201
    assert dm(x_api, "ß" * 10_001).status_code == 400


# -- what X refuses -------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["someone-else", None])
def test_wrong_or_missing_token_gets_x_shaped_401(x_api: FakeXApi, token: str | None) -> None:
    answer = dm(x_api, "Hallo", token=token)
    assert answer.status_code == 401
    assert answer.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}
    assert x_api.dms == []


@pytest.mark.parametrize("text", ["", "   ", None, 42, ["Hallo"]])
def test_bad_text_gets_x_shaped_400(x_api: FakeXApi, text: object) -> None:
    for answer in (dm(x_api, text), reply(x_api, text)):
        assert answer.status_code == 400
        problem = answer.json()
        assert problem["type"] == "https://api.twitter.com/2/problems/invalid-request"
        assert problem["errors"][0]["parameters"] == {"text": []}
    assert x_api.dms == [] and x_api.replies == []


@pytest.mark.parametrize("in_reply_to", ["abc", 1858786321410785281, "", None])
def test_reply_to_something_that_is_not_a_post_id_gets_400(x_api: FakeXApi, in_reply_to: object) -> None:
    answer = reply(x_api, "Danke!", in_reply_to)
    assert answer.status_code == 400
    assert "reply.in_reply_to_tweet_id" in answer.json()["errors"][0]["parameters"]


def test_non_json_body_gets_400(x_api: FakeXApi) -> None:
    assert post(x_api, "/2/tweets", content=b"text=Hallo", content_type="application/x-www-form-urlencoded"
                ).status_code == 400
    assert post(x_api, "/2/tweets", content=b"{not json").status_code == 400


def test_participant_id_must_be_a_user_id(x_api: FakeXApi) -> None:
    assert dm(x_api, "Hallo", participant="kabelsalat_kiel").status_code == 400


def test_closed_dms_get_x_shaped_403(x_api: FakeXApi) -> None:
    x_api.closed_dms.add(CUSTOMER)
    answer = dm(x_api, "Hallo")
    assert answer.status_code == 403
    assert answer.json()["title"] == "Forbidden"
    assert dm(x_api, "Hallo", participant="829104756301938688").status_code == 201


def test_rate_limit_answers_429_for_the_next_calls_then_recovers(x_api: FakeXApi) -> None:
    x_api.rate_limit_next(2, reset_in=120)
    before = time.time()
    limited = [reply(x_api, "Danke!"), dm(x_api, "Hallo")]
    assert [a.status_code for a in limited] == [429, 429]
    for answer in limited:
        assert answer.headers["x-rate-limit-remaining"] == "0"
        assert before + 119 <= int(answer.headers["x-rate-limit-reset"]) <= time.time() + 121
    assert reply(x_api, "Danke!").status_code == 201
    assert len(x_api.replies) == 1 and x_api.dms == []


def test_unauthorised_calls_do_not_use_up_the_rate_limit(x_api: FakeXApi) -> None:
    x_api.rate_limit_next(1)
    assert dm(x_api, "Hallo", token="wrong").status_code == 401
    assert dm(x_api, "Hallo").status_code == 429
    assert dm(x_api, "Hallo").status_code == 201


def test_reset_forgets_records_and_scripts(x_api: FakeXApi) -> None:
    dm(x_api, "Hallo")
    x_api.closed_dms.add(CUSTOMER)
    x_api.rate_limit_next(5)
    x_api.reset()
    assert x_api.dms == [] and x_api.requests == []
    assert dm(x_api, "Hallo").status_code == 201


# -- hilft's client against the fake --------------------------------------------------------------


def test_x_client_and_fake_agree_on_success(x_api: FakeXApi) -> None:
    with XClient(x_api.url, TOKEN) as client:
        event_id = client.send_dm(CUSTOMER, "Hallo Jana 👋")
        post_id = client.reply(MENTION, "@kabelsalat_kiel Erledigt ✅")
    assert x_api.dms[0]["dm_event_id"] == event_id and x_api.dms[0]["text"] == "Hallo Jana 👋"
    assert x_api.replies[0] == {"id": post_id, "text": "@kabelsalat_kiel Erledigt ✅", "in_reply_to_tweet_id": MENTION}


def test_x_client_and_fake_agree_on_refusals(x_api: FakeXApi) -> None:
    x_api.closed_dms.add(CUSTOMER)
    with XClient(x_api.url, TOKEN) as client:
        with pytest.raises(DmNotAllowed):
            client.send_dm(CUSTOMER, "Hallo")
        with pytest.raises(XRequestRejected):
            client.reply(MENTION, "x" * 281)
        x_api.rate_limit_next(1, reset_in=600)
        with pytest.raises(RateLimited) as limited:
            client.reply(MENTION, "Danke!")
    seconds_ahead = (limited.value.reset_at - datetime.now(UTC)).total_seconds()
    assert 595 <= seconds_ahead <= 601
    with XClient(x_api.url, "stale-token") as client, pytest.raises(XAuthError):
        client.reply(MENTION, "Danke!")


# -- as a process ---------------------------------------------------------------------------------


def test_runs_as_a_process_prints_a_ready_line_and_stops_on_sigterm() -> None:
    process = subprocess.Popen([sys.executable, "-m", "fakes.x_api", "--port", "0", "--token", TOKEN],
                               cwd=INFRA_LOCAL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        match = re.fullmatch(r"fake X API ready at (http://127\.0\.0\.1:\d+)\n", ready)
        assert match, ready
        answer = httpx.post(match[1] + f"/2/dm_conversations/with/{CUSTOMER}/messages", json={"text": "Hallo"},
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 201
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- author lookups: GET /2/users/:id ---------------------------------------------------------------


def test_the_author_lookup_reads_handle_name_and_followers_and_an_unknown_account_is_not_found(
        x_api: FakeXApi) -> None:
    from hilft.channels.x.client import UserNotFound

    x_api.add_user("1472583690", "kabelsalat_kiel", "Jana K.", followers=348)
    with XClient(x_api.url, TOKEN, http=http()) as client:
        assert client.get_user("1472583690") == {"handle": "kabelsalat_kiel", "name": "Jana K.", "followers": 348}
        with pytest.raises(UserNotFound):
            client.get_user("1999999999")
    assert x_api.user_reads == ["1472583690", "1999999999"]
    assert x_api.requests[0].query == "user.fields=username%2Cname%2Cpublic_metrics"
    with XClient(x_api.url, "another-token", http=http()) as client, pytest.raises(XAuthError):
        client.get_user("1472583690")


def test_the_author_lookup_refuses_fields_x_does_not_know(x_api: FakeXApi) -> None:
    answer = http().get(x_api.url + "/2/users/1472583690?user.fields=username,shoe_size",
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and x_api.user_reads == []
