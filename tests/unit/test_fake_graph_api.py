"""fakes.graph_api: checks and records like the Graph API, driven by the real MetaClient."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes.graph_api import CommentReply, FakeGraphApi, PrivateReply, SentMessage, make_graph_api
from hilft.channels.meta.client import (
    MetaApiError,
    MetaClient,
    MetaRateLimited,
    MetaTokenError,
    PrivateReplyRefused,
    RetryableMetaError,
)

TOKEN = "fake-page-token"
PAGE_ID = "110000000000001"
IG_USER_ID = "17841400000000001"
COMMENT_ID = "820000000000001_930000000000001"
LOCAL = Path(__file__).resolve().parents[2] / "infra" / "local"


@pytest.fixture(scope="module")
def running_graph() -> Iterator[FakeGraphApi]:
    with make_graph_api(TOKEN) as graph:
        yield graph


@pytest.fixture
def graph(running_graph: FakeGraphApi) -> FakeGraphApi:
    running_graph.reset()
    return running_graph


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as shared:
        yield shared


@pytest.fixture
def client(graph: FakeGraphApi, http: httpx.Client) -> MetaClient:
    return MetaClient(f"{graph.url}/v21.0", TOKEN, http=http)


def post(http: httpx.Client, graph: FakeGraphApi, path: str, body: object, token: str = TOKEN) -> httpx.Response:
    return http.post(f"{graph.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"})


def graph_code(response: httpx.Response) -> tuple[int, int | None]:
    error = response.json()["error"]
    return error["code"], error.get("error_subcode")


# -- accepted and recorded ----------------------------------------------------------------


def test_a_private_reply_is_recorded_with_the_page_and_comment(graph, client):
    message_id = client.private_reply(PAGE_ID, COMMENT_ID, "Hallo Jana, wir helfen hier privat weiter.")
    assert graph.private_replies == [PrivateReply(PAGE_ID, "facebook", COMMENT_ID,
                                                  "Hallo Jana, wir helfen hier privat weiter.", message_id)]


def test_a_second_private_reply_to_the_same_comment_is_refused_like_graph_does(graph, client):
    client.private_reply(PAGE_ID, COMMENT_ID, "Erste Nachricht")
    with pytest.raises(PrivateReplyRefused) as caught:
        client.private_reply(PAGE_ID, COMMENT_ID, "Zweite Nachricht")
    assert caught.value.reason == "already_replied"
    assert [reply.text for reply in graph.private_replies] == ["Erste Nachricht"]


def test_private_replies_to_different_comments_are_each_accepted(graph, client):
    client.private_reply(PAGE_ID, COMMENT_ID, "Eins")
    client.private_reply(PAGE_ID, "820000000000001_930000000000009", "Zwei")
    assert len(graph.private_replies) == 2


def test_an_instagram_private_reply_is_recorded_as_instagram(graph, client):
    client.instagram_private_reply(IG_USER_ID, "17950000000000001", "Hallo! 📩")
    (reply,) = graph.private_replies
    assert (reply.account_id, reply.platform, reply.text) == (IG_USER_ID, "instagram", "Hallo! 📩")


def test_a_messenger_answer_is_recorded_with_its_recipient_and_messaging_type(graph, client):
    message_id = client.send_message(PAGE_ID, "24000000000000101", "Wir prüfen das.")
    assert graph.messages == [SentMessage(PAGE_ID, "facebook", "24000000000000101", "RESPONSE",
                                          "Wir prüfen das.", message_id)]


def test_public_comment_replies_are_recorded_per_edge(graph, client):
    facebook_id = client.reply_comment(COMMENT_ID, "Wir sind dran!")
    instagram_id = client.reply_instagram_comment("17950000000000001", "Schau in deine DMs")
    assert graph.comment_replies == [
        CommentReply(COMMENT_ID, "comments", "Wir sind dran!", facebook_id),
        CommentReply("17950000000000001", "replies", "Schau in deine DMs", instagram_id),
    ]
    assert facebook_id.startswith("820000000000001_")


def test_routes_answer_without_a_version_prefix_too(graph, http):
    unversioned = MetaClient(graph.url, TOKEN, http=http)
    unversioned.reply_comment(COMMENT_ID, "ohne Version")
    assert graph.comment_replies[0].text == "ohne Version"


def test_a_seeded_comment_is_read_back_with_only_the_requested_fields(graph, client):
    graph.add_comment(COMMENT_ID, message="Hallo @Telko hilft", created_time="2024-11-05T08:12:41+0000")
    assert client.get_comment(COMMENT_ID, ("message",)) == {"id": COMMENT_ID, "message": "Hallo @Telko hilft"}


def test_an_unknown_comment_is_a_graph_object_error(graph, client):
    with pytest.raises(MetaApiError) as caught:
        client.get_comment("1_404")
    assert (caught.value.code, caught.value.subcode) == (100, 33)


def test_the_token_may_also_come_as_the_access_token_parameter(graph, http):
    response = http.post(f"{graph.url}/v21.0/{COMMENT_ID}/comments", params={"access_token": TOKEN},
                         json={"message": "Hallo"})
    assert response.status_code == 200
    assert len(graph.comment_replies) == 1


# -- refused ------------------------------------------------------------------------------


def test_a_wrong_token_is_refused_with_graphs_oauth_error_and_nothing_is_recorded(graph, http):
    with pytest.raises(MetaTokenError):
        MetaClient(graph.url, "stolen-token", http=http).private_reply(PAGE_ID, COMMENT_ID, "Hallo")
    response = http.post(f"{graph.url}/{COMMENT_ID}/comments", json={"message": "Hallo"})  # no token at all
    assert (response.status_code, graph_code(response)) == (400, (190, None))
    assert response.json()["error"]["type"] == "OAuthException"
    assert graph.private_replies == [] and graph.comment_replies == []


@pytest.mark.parametrize("body", [
    {"recipient": {"comment_id": COMMENT_ID}},
    {"recipient": {"comment_id": COMMENT_ID}, "message": {"text": ""}},
    {"recipient": {"comment_id": COMMENT_ID}, "message": {"text": "   "}},
    {"recipient": {"comment_id": COMMENT_ID}, "message": {"attachment": {}}},
    {"message": {"text": "Hallo"}},
    {"recipient": {}, "message": {"text": "Hallo"}},
    {"recipient": {"comment_id": COMMENT_ID, "id": "24"}, "message": {"text": "Hallo"}},
    {"recipient": {"id": "24"}, "message": {"text": "Hallo"}},  # no messaging_type
    {"recipient": {"id": "24"}, "messaging_type": "PROMOTION", "message": {"text": "Hallo"}},
    ["not", "an", "object"],
], ids=["no-message", "empty-text", "blank-text", "no-text", "no-recipient", "empty-recipient", "both-recipients",
        "no-messaging-type", "bad-messaging-type", "array"])
def test_a_message_of_the_wrong_shape_is_refused_with_graphs_parameter_error(graph, http, body):
    response = post(http, graph, f"/v21.0/{PAGE_ID}/messages", body)
    assert response.status_code == 400
    assert graph_code(response)[0] == 100
    assert graph.private_replies == [] and graph.messages == []


def test_a_message_from_an_account_the_fake_does_not_know_is_refused(graph, http):
    response = post(http, graph, "/v21.0/999/messages", {"recipient": {"comment_id": "1_2"},
                                                          "message": {"text": "Hallo"}})
    assert graph_code(response) == (100, 33)


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": 42}, {"text": "Hallo"}])
def test_a_comment_reply_without_a_message_is_refused(graph, http, body):
    response = post(http, graph, f"/{COMMENT_ID}/comments", body)
    assert (response.status_code, graph_code(response)[0]) == (400, 100)
    assert graph.comment_replies == []


# -- scripted trouble ---------------------------------------------------------------------


def test_a_programmed_rate_limit_throttles_exactly_the_next_calls(graph, client):
    graph.rate_limit_next(2, code=4)
    for _ in range(2):
        with pytest.raises(MetaRateLimited) as caught:
            client.reply_comment(COMMENT_ID, "Hallo")
        assert caught.value.code == 4
    client.reply_comment(COMMENT_ID, "Hallo")
    assert len(graph.comment_replies) == 1


def test_the_rate_limit_defaults_to_graphs_code_613(graph, client):
    graph.rate_limit_next(1)
    with pytest.raises(MetaRateLimited) as caught:
        client.send_message(PAGE_ID, "24", "Hallo")
    assert caught.value.code == 613


def test_an_injected_server_failure_is_retryable_for_the_client(graph, client):
    graph.fail_next(1, 503)
    with pytest.raises(RetryableMetaError):
        client.private_reply(PAGE_ID, COMMENT_ID, "Hallo")
    client.private_reply(PAGE_ID, COMMENT_ID, "Hallo")  # the retry goes through
    assert len(graph.private_replies) == 1


def test_reset_forgets_replies_and_the_one_reply_rule(graph, client):
    client.private_reply(PAGE_ID, COMMENT_ID, "Hallo")
    graph.reset()
    client.private_reply(PAGE_ID, COMMENT_ID, "Hallo")
    assert len(graph.private_replies) == 1


# -- as a process -------------------------------------------------------------------------


def test_run_as_a_process_it_prints_a_ready_line_serves_and_stops_on_sigterm():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(LOCAL), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "fakes.graph_api", "--port", "0", "--token", TOKEN, "--page-id", "4711"],
        cwd=LOCAL, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("fake Graph API ready at http://127.0.0.1:")
        url = ready.rsplit(" ", 1)[1].strip()
        response = httpx.post(f"{url}/v21.0/4711/messages", headers={"Authorization": f"Bearer {TOKEN}"},
                              json={"recipient": {"comment_id": "1_2"}, "message": {"text": "Hallo"}})
        assert response.status_code == 200 and response.json()["message_id"].startswith("m_")
        assert TOKEN not in ready
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
