"""hilft's Bluesky client and poller against the fake Bluesky (which checks what Bluesky checks)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from fakes.bluesky import BRAND_DID, BRAND_HANDLE, CHAT_PROXY, FakeBluesky, make_bluesky
from hilft.channels import SendOnce
from hilft.channels.bluesky import BlueskyGateway, BlueskyPoller
from hilft.channels.bluesky.client import BlueskyClient
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformConfigError, PlatformRateLimited, PlatformUnavailable, PrivateChannelRefused
from hilft.core.models import Deletion, Mention

PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 - the fake's app password
CUSTOMER = "did:plc:k7q3m2xw5vn4r6tb2yz3hc4a"


def stored(**fields: object) -> MentionDoc:
    """A stored Bluesky post with just these fields, as the services hand it to the gateway."""
    return MentionDoc.from_store({"platform": "bluesky", **fields})


@pytest.fixture(scope="module")
def running() -> Iterator[FakeBluesky]:
    with make_bluesky(PASSWORD) as server:
        yield server


@pytest.fixture
def sky(running: FakeBluesky) -> FakeBluesky:
    running.reset()
    return running


def client_for(sky: FakeBluesky, http: httpx.Client, password: str = PASSWORD) -> BlueskyClient:
    return BlueskyClient(handle=BRAND_HANDLE, app_password=password, pds_url=sky.url, appview_url=sky.url,
                         http=http)


def customer_post(sky: FakeBluesky, text: str = f"@{BRAND_HANDLE} kein Netz in Kiel", **kw: object) -> str:
    return sky.add_post(text, author_did=CUSTOMER, handle="kabelsalat.bsky.social", **kw)  # type: ignore[arg-type]


def test_session_from_the_app_password_once_per_instance(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    assert client.session_did() == BRAND_DID
    client.list_notifications(None)
    client.list_notifications(None)
    assert sky.sessions_created == 1
    auth = [r.header("authorization") for r in sky.requests if "listNotifications" in r.path]
    assert len(auth) == 2 and all(a and a.startswith("Bearer fake-access-") for a in auth)


def test_a_wrong_app_password_is_a_configuration_error(sky: FakeBluesky, http: httpx.Client) -> None:
    with pytest.raises(PlatformConfigError):
        client_for(sky, http, "wrong-pass-word-xxxx").session_did()


def test_an_expired_access_token_is_refreshed_with_the_refresh_token(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    client.session_did()
    sky.expire_sessions()
    customer_post(sky)
    body = client.list_notifications(None)
    assert len(body["notifications"]) == 1
    assert sky.sessions_created == 1  # refreshed, not logged in again
    refresh = [r for r in sky.accepted if r.path.endswith("com.atproto.server.refreshSession")]
    assert len(refresh) == 1 and str(refresh[0].header("authorization")).startswith("Bearer fake-refresh-")


def test_notifications_ask_only_for_mentions_replies_and_quotes(sky: FakeBluesky, http: httpx.Client) -> None:
    customer_post(sky)
    customer_post(sky, "mag ich", reason="like")
    body = client_for(sky, http).list_notifications(None)
    assert [n["reason"] for n in body["notifications"]] == ["mention"]
    query = parse_qs(next(r for r in sky.accepted if "listNotifications" in r.path).query)
    assert sorted(query["reasons"]) == ["mention", "quote", "reply"]


def test_rate_limit_names_the_reset_time(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    client.session_did()
    reset = int(time.time()) + 300
    sky.fail_next(1, 429, {"ratelimit-reset": str(reset)}, body={"error": "RateLimitExceeded"},
                  path_contains="listNotifications")
    with pytest.raises(PlatformRateLimited) as caught:
        client.list_notifications(None)
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_an_outage_is_retryable(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    client.session_did()
    sky.fail_next(1, 502, path_contains="searchPosts")
    with pytest.raises(PlatformUnavailable):
        client.search_posts("Telko", None)


def test_reply_carries_root_and_parent_refs_and_a_retry_never_posts_twice(sky: FakeBluesky,
                                                                          http: httpx.Client) -> None:
    root = customer_post(sky)
    parent = customer_post(sky, "und jetzt?", reply_to=root, reason="reply")
    gateway = BlueskyGateway(client_for(sky, http))
    post = stored(post_id=parent, created_at=datetime(2024, 11, 20, 8, tzinfo=UTC))
    first = gateway.public_reply(post, "Wir kümmern uns.")
    second = gateway.public_reply(post, "Wir kümmern uns.")
    assert first == second
    assert len(sky.replies) == 1
    reply = sky.replies[0]["reply"]
    assert reply["parent"]["uri"] == parent and reply["root"]["uri"] == root
    assert reply["parent"]["cid"] == sky.posts[parent].cid and reply["root"]["cid"] == sky.posts[root].cid


def test_the_fake_answers_a_reused_record_key_like_the_reference_pds(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    client.reply(customer_post(sky), "Wir kümmern uns.", created_at=datetime(2024, 11, 20, 8, tzinfo=UTC))
    body = json.loads(next(r for r in sky.accepted if "createRecord" in r.path).body)
    again = http.post(f"{sky.url}/xrpc/com.atproto.repo.createRecord", json=body,
                      headers={"Authorization": next(r for r in sky.accepted if "createRecord" in r.path)
                               .header("authorization") or ""})
    assert again.status_code == 500 and again.json()["error"] == "InternalServerError"


def test_a_retried_reply_finds_its_record_after_the_pds_answers_500(sky: FakeBluesky, http: httpx.Client) -> None:
    """A retry of a send whose first answer was lost: createRecord gets the PDS's opaque 500 for the
    taken key; the client looks the key up instead of failing the task for a day."""
    uri = customer_post(sky)
    gateway = BlueskyGateway(client_for(sky, http))
    post = stored(post_id=uri, created_at=datetime(2024, 11, 20, 8, tzinfo=UTC))
    first = gateway.public_reply(post, "Wir kümmern uns.")
    assert gateway.public_reply(post, "Wir kümmern uns.") == first
    assert len(sky.replies) == 1
    tail = [(r.path.rsplit("/", 1)[-1]) for r in sky.requests][-2:]
    assert tail == ["com.atproto.repo.createRecord", "com.atproto.repo.getRecord"]


def test_a_real_outage_on_a_first_reply_stays_retryable(sky: FakeBluesky, http: httpx.Client) -> None:
    uri = customer_post(sky)
    sky.fail_next(1, 502, path_contains="createRecord")
    with pytest.raises(PlatformUnavailable):
        BlueskyGateway(client_for(sky, http)).public_reply(stored(post_id=uri), "Hallo")
    assert sky.replies == []


def test_reply_to_a_deleted_post_is_refused(sky: FakeBluesky, http: httpx.Client) -> None:
    uri = customer_post(sky)
    sky.delete_post(uri)
    with pytest.raises(PrivateChannelRefused):
        BlueskyGateway(client_for(sky, http)).public_reply(stored(post_id=uri), "Hallo")


def test_dm_goes_through_the_pds_with_the_chat_proxy_header(sky: FakeBluesky, http: httpx.Client) -> None:
    message_id = BlueskyGateway(client_for(sky, http)).send_private(stored(author_id=CUSTOMER), "Hallo, Ihr Fall HX-1",
                                                                    datetime.now(UTC))
    assert message_id.startswith("msg")
    assert sky.messages[0]["to"] == [CUSTOMER] and sky.messages[0]["text"] == "Hallo, Ihr Fall HX-1"
    chat = [r for r in sky.accepted if "/xrpc/chat.bsky." in r.path]
    assert len(chat) == 2 and all(r.header("atproto-proxy") == CHAT_PROXY for r in chat)


def test_closed_dms_are_a_refusal_not_an_error(sky: FakeBluesky, http: httpx.Client) -> None:
    sky.closed_dms.add(CUSTOMER)
    with pytest.raises(PrivateChannelRefused):
        BlueskyGateway(client_for(sky, http)).send_private(stored(author_id=CUSTOMER), "Hallo", datetime.now(UTC))
    assert sky.messages == []


def test_the_fake_refuses_chat_calls_without_the_proxy_header(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    response = client.call("GET", "chat.bsky.convo.getConvoForMembers", params={"members": CUSTOMER})
    assert response.status_code == 404 and response.json()["error"] == "XRPCNotSupported"


def test_search_without_a_session_is_refused_like_the_public_appview(sky: FakeBluesky, http: httpx.Client) -> None:
    assert http.get(f"{sky.url}/xrpc/app.bsky.feed.searchPosts", params={"q": "Telko"}).status_code == 403


def test_poller_walks_notifications_down_to_its_mark_and_no_further(sky: FakeBluesky, http: httpx.Client) -> None:
    poller = BlueskyPoller(client_for(sky, http))
    now = datetime.now(UTC)
    first = customer_post(sky)
    pages = list(poller.walk("notifications", None, now))
    assert [e.post_id for p in pages for e in p.batch.events] == [first]
    state = pages[-1].state
    second = customer_post(sky, f"@{BRAND_HANDLE} immer noch nichts")
    again = list(poller.walk("notifications", state, now))
    assert [e.post_id for p in again for e in p.batch.events] == [second]
    assert list(e for p in poller.walk("notifications", again[-1].state, now) for e in p.batch.events) == []


def test_poller_catch_up_resumes_where_a_bounded_run_stopped(sky: FakeBluesky, http: httpx.Client,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(sky, http)
    real = client.list_notifications
    monkeypatch.setattr(client, "list_notifications", lambda cursor: real(cursor, limit=2))
    poller = BlueskyPoller(client)
    now = datetime.now(UTC)
    posts = [customer_post(sky, f"@{BRAND_HANDLE} Nachricht {i}") for i in range(5)]
    walk = poller.walk("notifications", None, now)
    page = next(walk)  # the run stops after one page (its bound)
    walk.close()
    seen = [e.post_id for e in page.batch.events]
    assert page.state["gap"] is not None
    newer = customer_post(sky, f"@{BRAND_HANDLE} noch eine")
    rest = list(poller.walk("notifications", page.state, now))
    seen += [e.post_id for p in rest for e in p.batch.events]
    assert sorted(seen) == sorted([*posts, newer])
    assert len(seen) == len(set(seen))
    assert rest[-1].state["gap"] is None


def test_first_poll_reaches_back_one_day_only(sky: FakeBluesky, http: httpx.Client) -> None:
    now = datetime.now(UTC)
    customer_post(sky, created_at=now - timedelta(days=3))
    recent = customer_post(sky)
    events = [e.post_id for p in BlueskyPoller(client_for(sky, http)).walk("notifications", None, now)
              for e in p.batch.events]
    assert events == [recent]


def test_poller_sees_the_brands_native_replies_in_its_repo(sky: FakeBluesky, http: httpx.Client) -> None:
    question = customer_post(sky)
    sky.add_brand_post("Wir sind dran.", reply_to=question)
    events = [e for p in BlueskyPoller(client_for(sky, http)).walk("own_posts", None, datetime.now(UTC))
              for e in p.batch.events]
    assert len(events) == 1 and events[0].is_brand and events[0].in_reply_to == question


def test_poller_search_source_sends_the_keyword_and_the_window(sky: FakeBluesky, http: httpx.Client) -> None:
    hit = sky.add_post("Telko hilft Störung Kiel", author_did=CUSTOMER, handle="k.bsky.social", reason=None)
    poller = BlueskyPoller(client_for(sky, http))
    assert poller.sources(["Telko hilft"]) == ["notifications", "own_posts", "chat", "search:Telko hilft"]
    events = [e.post_id for p in poller.walk("search:Telko hilft", None, datetime.now(UTC)) for e in p.batch.events]
    assert events == [hit]
    query = parse_qs(next(r for r in sky.accepted if "searchPosts" in r.path).query)
    assert query["q"] == ["Telko hilft"] and query["sort"] == ["latest"] and query["since"][0].endswith("Z")


def test_deleted_check_asks_the_appview_in_batches_of_25(sky: FakeBluesky, http: httpx.Client) -> None:
    uris = [customer_post(sky, f"@{BRAND_HANDLE} {i}") for i in range(30)]
    sky.delete_post(uris[3])
    sky.delete_post(uris[27])
    gone = BlueskyPoller(client_for(sky, http)).deleted(uris)
    assert [d.post_id for d in gone] == [uris[3], uris[27]]
    calls = [r for r in sky.accepted if "getPosts" in r.path]
    assert [len(parse_qs(r.query)["uris"]) for r in calls] == [25, 5]
    assert all(r.header("authorization") is None for r in calls)  # public AppView: no token sent


def test_create_record_body_is_a_valid_post_record(sky: FakeBluesky, http: httpx.Client) -> None:
    uri = customer_post(sky)
    BlueskyGateway(client_for(sky, http)).public_reply(stored(post_id=uri), "x" * 400)
    body = json.loads(next(r for r in sky.accepted if "createRecord" in r.path).body)
    assert body["repo"] == BRAND_DID and body["collection"] == "app.bsky.feed.post"
    assert len(body["record"]["text"]) == 300 and body["record"]["createdAt"].endswith("Z")
    assert body["record"]["text"].endswith("…")


def test_a_long_reply_is_cut_between_graphemes_with_an_ellipsis(sky: FakeBluesky, http: httpx.Client) -> None:
    uri = customer_post(sky)
    BlueskyGateway(client_for(sky, http)).public_reply(stored(post_id=uri), "👍🏽" * 400)
    text = sky.replies[0]["text"]
    assert text.endswith("…") and text[:-1] == "👍🏽" * 299  # no emoji torn from its skin tone


def test_a_dm_longer_than_a_chat_message_goes_as_several(sky: FakeBluesky, http: httpx.Client) -> None:
    """Chat messages take at most 1,000 graphemes (the fake refuses more, as Bluesky does): a staff
    text of 2,000 characters is several messages, not a refusal that posts "DMs closed" in public."""
    text = " ".join(f"Satz{i:04d}." for i in range(220))  # 2,199 characters
    first = BlueskyGateway(client_for(sky, http)).send_private(stored(author_id=CUSTOMER), text, datetime.now(UTC))
    assert first == sky.messages[0]["id"] and len(sky.messages) == 3
    assert " ".join(m["text"] for m in sky.messages) == text


def test_the_fake_refuses_a_chat_message_over_1000_graphemes(sky: FakeBluesky, http: httpx.Client) -> None:
    client = client_for(sky, http)
    convo = sky.convo_for(CUSTOMER)
    answer = client.call("POST", "chat.bsky.convo.sendMessage", json={"convoId": convo, "message": {"text": "x" * 1001}},
                         headers={"atproto-proxy": CHAT_PROXY})
    assert answer.status_code == 400 and sky.messages == []


class Claim:
    """A send-once claim kept in memory (service.claims keeps it in Firestore)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def once(self) -> SendOnce:
        return SendOnce(key="handoffs/h1/dm", recall=self.values.get, note=self.values.__setitem__)


def test_a_retried_dm_whose_answer_was_lost_is_not_sent_twice(sky: FakeBluesky, http: httpx.Client) -> None:
    claim = Claim()
    gateway = BlueskyGateway(client_for(sky, http))
    post = stored(author_id=CUSTOMER)
    first = gateway.send_private(post, "Ihr Fall HX-1: wir melden uns.", datetime.now(UTC), send=claim.once())
    # The answer was lost on the way back: the task retries the same send.
    assert gateway.send_private(post, "Ihr Fall HX-1: wir melden uns.", datetime.now(UTC), send=claim.once()) == first
    assert len(sky.messages) == 1
    assert any("getMessages" in r.path for r in sky.accepted)  # the retry looked before sending


def test_the_same_text_sent_before_this_send_began_is_sent_again(sky: FakeBluesky, http: httpx.Client) -> None:
    gateway = BlueskyGateway(client_for(sky, http))
    post = stored(author_id=CUSTOMER)
    gateway.send_private(post, "Wir sind wieder da.", datetime.now(UTC), send=Claim().once())
    claim = Claim()  # a retry of another send, begun ten minutes after that message
    claim.values["dm_started_at"] = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    gateway.send_private(post, "Wir sind wieder da.", datetime.now(UTC), send=claim.once())
    assert len(sky.messages) == 2


# -- direct messages: chat.bsky.convo.getLog (and a first run's look back) ---------------------
def chat_events(poller: BlueskyPoller, state: dict[str, object] | None,
                now: datetime | None = None) -> tuple[list[object], dict[str, object]]:
    pages = list(poller.walk("chat", state, now or datetime.now(UTC)))
    return [e for p in pages for e in p.batch.events], pages[-1].state


def customer_dm(sky: FakeBluesky, text: str = "Hallo, mein Anschluss ist tot", **kw: object) -> str:
    return sky.add_dm(text, author_did=CUSTOMER, handle="kabelsalat.bsky.social", **kw)  # type: ignore[arg-type]


def test_chat_log_is_read_through_the_pds_with_the_proxy_header_and_the_session(sky: FakeBluesky,
                                                                               http: httpx.Client) -> None:
    client = client_for(sky, http)
    body = client.chat_log(None)
    assert body["logs"] == [] and body["cursor"]  # the log starts "now": only its cursor
    chat = [r for r in sky.accepted if "/xrpc/chat.bsky.convo.getLog" in r.path]
    assert len(chat) == 1 and chat[0].header("atproto-proxy") == CHAT_PROXY
    assert str(chat[0].header("authorization")).startswith("Bearer fake-access-")
    assert client.call("GET", "chat.bsky.convo.getLog").json()["error"] == "XRPCNotSupported"  # no proxy header
    assert http.get(f"{sky.url}/xrpc/chat.bsky.convo.getLog", headers={"atproto-proxy": CHAT_PROXY}).status_code == 401


def test_first_chat_poll_looks_back_one_day_then_reads_the_log_forward(sky: FakeBluesky,
                                                                       http: httpx.Client) -> None:
    now = datetime.now(UTC)
    customer_dm(sky, "uralt", sent_at=now - timedelta(days=3))
    recent = customer_dm(sky)
    poller = BlueskyPoller(client_for(sky, http))
    events, state = chat_events(poller, None, now)
    assert [e.post_id for e in events] == [recent]  # type: ignore[attr-defined]
    (dm,) = events
    assert dm.kind == "dm" and dm.conversation_id == sky.convo_for(CUSTOMER) and not dm.is_brand  # type: ignore[attr-defined]
    assert state["lookback"] is None and state["cursor"]
    assert chat_events(poller, state)[0] == []  # nothing new: nothing again
    later = customer_dm(sky, "immer noch nichts")
    answer = sky.add_brand_dm(sky.convo_for(CUSTOMER), "Wir sind dran.")
    events, state = chat_events(poller, state)
    assert [(e.post_id, e.is_brand) for e in events] == [(later, False), (answer, True)]  # type: ignore[attr-defined]
    assert events[1].conversation_id == events[0].conversation_id  # type: ignore[attr-defined]
    assert chat_events(poller, state)[0] == []
    assert all(r.header("atproto-proxy") == CHAT_PROXY for r in sky.accepted if "/xrpc/chat." in r.path)


def test_chat_log_pages_forward_until_it_is_read_and_a_delete_is_a_deletion(sky: FakeBluesky,
                                                                             http: httpx.Client) -> None:
    poller = BlueskyPoller(client_for(sky, http))
    _, state = chat_events(poller, None)
    sky.log_page = 2
    sent = [customer_dm(sky, f"Nachricht {i}") for i in range(5)]
    sky.delete_dm(sent[0])
    pages = list(poller.walk("chat", state, datetime.now(UTC)))
    assert len(pages) >= 3 and pages[-1].batch.events == ()
    events = [e for p in pages for e in p.batch.events]
    assert [e.post_id for e in events if isinstance(e, Mention)] == sent
    (deleted,) = [e for e in events if isinstance(e, Deletion)]
    assert deleted.post_id == sent[0] and deleted.author_id == CUSTOMER
    assert [p.state["cursor"] for p in pages] == sorted(p.state["cursor"] for p in pages)


def test_a_look_back_cut_by_the_runs_bounds_continues_next_run(sky: FakeBluesky, http: httpx.Client,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(sky, http)
    real = client.list_convos
    monkeypatch.setattr(client, "list_convos", lambda cursor: real(cursor, limit=1))
    poller = BlueskyPoller(client)
    now = datetime.now(UTC)
    dms = [sky.add_dm(f"Frage {i}", author_did=f"did:plc:kunde{i}", handle=f"kunde{i}.bsky.social") for i in range(3)]
    walk = poller.walk("chat", None, now)
    seeded, first = next(walk), next(walk)  # the run stops after two pages (its bound)
    walk.close()
    assert seeded.batch.events == () and seeded.state["lookback"]["convos"] is None
    assert [e.post_id for e in first.batch.events] == [dms[2]]  # the most recently active conversation
    assert first.state["lookback"]["convos"] and first.state["cursor"] == seeded.state["cursor"]
    newer = sky.add_dm("noch eine", author_did="did:plc:kunde0", handle="kunde0.bsky.social")
    rest = list(poller.walk("chat", first.state, now))
    seen = [e.post_id for p in rest for e in p.batch.events]
    assert sorted(set(seen)) == sorted([dms[0], dms[1], newer]) and dms[2] not in seen
    assert rest[-1].state["lookback"] is None


def test_a_dm_is_answered_in_its_conversation_never_in_public(sky: FakeBluesky, http: httpx.Client) -> None:
    message = customer_dm(sky)
    convo = sky.convo_for(CUSTOMER)
    gateway = BlueskyGateway(client_for(sky, http))
    post = stored(post_id=message, kind="dm", conversation_id=convo, author_id=CUSTOMER)
    note = gateway.public_reply(post, "Danke, wir melden uns bis 11 Uhr.")
    private = gateway.send_private(post, "Ihr Fall HX-1", datetime.now(UTC))
    assert note.startswith("msg") and private.startswith("msg")
    assert [(m["convo_id"], m["text"]) for m in sky.messages] == [(convo, "Danke, wir melden uns bis 11 Uhr."),
                                                                  (convo, "Ihr Fall HX-1")]
    assert sky.replies == []  # no public post
    assert not [r for r in sky.accepted if "getConvoForMembers" in r.path]  # the stored convo id, no lookup
    with pytest.raises(PrivateChannelRefused):
        gateway.public_reply(post.model_copy(update={"conversation_id": "convo-gone"}), "Hallo")
