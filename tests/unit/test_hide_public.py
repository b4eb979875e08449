"""Personal data never stays in public: hiding a customer's public post on the brand's own surface.

The clients' exact requests on the wire (respx) and their errors; the gateways' choice of what may be
hidden; the fake X, Graph and Threads APIs checking what the real ones check; the handoff service
hiding before the DM, recording what happened, and telling the customer how to delete the post
where it could not be hidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from fakes.graph_api import HiddenComment, make_graph_api
from fakes.threads_api import make_threads_api
from fakes.x_api import make_x_api
from hilft.channels.bluesky import CAPABILITIES as BLUESKY
from hilft.channels.mastodon import CAPABILITIES as MASTODON
from hilft.channels.meta import CAPABILITIES as META
from hilft.channels.meta import MetaGateway
from hilft.channels.meta.client import MetaClient
from hilft.channels.threads import CAPABILITIES as THREADS
from hilft.channels.threads import ThreadsGateway
from hilft.channels.threads.client import ThreadsClient
from hilft.channels.x import CAPABILITIES as X
from hilft.channels.x import XGateway
from hilft.channels.x.client import HideNotAllowed, RateLimited, XAuthError, XClient
from hilft.core import templates
from hilft.core.document import MentionDoc
from hilft.core.errors import (
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PlatformUnavailable,
)
from hilft.core.ids import mention_doc_id
from hilft.core.models import Kind
from hilft.core.policy import PolicyError, parse_policy
from hilft.service.handoff import HandoffService
from tests.unit.memory import DEFAULTS
from tests.unit.test_services import POLICY_24_7, FakeGateway, World

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
X_BASE = "https://api.x.test"
GRAPH_BASE = "https://graph.facebook.test/v21.0"
THREADS_BASE = "https://graph.threads.test/v1.0"
TOKEN = "token-that-must-not-leak"
REPLY_ID = "1858786321410785281"


def stored(platform: str, kind: Kind, post_id: str = REPLY_ID, **extra) -> MentionDoc:
    return MentionDoc.from_store({"platform": platform, "post_id": post_id, "kind": kind.value, "author_id": "42",
                                  **extra})


@pytest.fixture
def wire() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


# -- capabilities ---------------------------------------------------------------------------------

def test_the_channels_that_can_hide_say_so():
    assert (X.can_hide, META.can_hide, THREADS.can_hide) == (True, True, True)
    assert (BLUESKY.can_hide, MASTODON.can_hide) == (False, False)


# -- X: PUT /2/tweets/:id/hidden ------------------------------------------------------------------

def test_x_hide_is_one_put_with_hidden_true(wire):
    route = wire.put(f"{X_BASE}/2/tweets/{REPLY_ID}/hidden").mock(
        return_value=httpx.Response(200, json={"data": {"hidden": True}}))
    with XClient(X_BASE, TOKEN) as client:
        assert client.hide_reply(REPLY_ID) is None
    request = route.calls.last.request
    assert request.method == "PUT" and request.content == b'{"hidden":true}'
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize(("answer", "error"), [
    (httpx.Response(403, json={"title": "Forbidden", "type": "about:blank", "status": 403}), HideNotAllowed),
    (httpx.Response(404, json={"title": "Not Found Error", "status": 404,
                               "type": "https://api.twitter.com/2/problems/resource-not-found"}), HideNotAllowed),
    (httpx.Response(429, headers={"x-rate-limit-reset": "1900000000"}, json={}), RateLimited),
    (httpx.Response(401, json={"title": "Unauthorized", "type": "about:blank", "status": 401}), XAuthError),
    (httpx.Response(403, json={"type": "https://api.twitter.com/2/problems/client-forbidden"}), XAuthError),
    (httpx.Response(503, text="over capacity"), PlatformUnavailable),
    (httpx.Response(200, json={"data": {"hidden": False}}), Exception),
])
def test_x_hide_errors_are_hilfts(wire, answer, error):
    wire.put(f"{X_BASE}/2/tweets/{REPLY_ID}/hidden").mock(return_value=answer)
    with XClient(X_BASE, TOKEN) as client, pytest.raises(error) as caught:
        client.hide_reply(REPLY_ID)
    assert TOKEN not in str(caught.value)
    if error is HideNotAllowed:
        assert isinstance(caught.value, PlatformRefused)


def test_x_gateway_hides_the_newest_version_of_a_reply_and_never_asks_for_a_top_level_post(wire):
    route = wire.put(url__regex=r".*/hidden").mock(return_value=httpx.Response(200, json={"data": {"hidden": True}}))
    gateway = XGateway(XClient(X_BASE, TOKEN))
    gateway.hide_public(stored("x", Kind.REPLY, latest_post_id="1858786321410785299"))
    assert route.calls.last.request.url.path == "/2/tweets/1858786321410785299/hidden"
    with pytest.raises(PlatformRefused):
        gateway.hide_public(stored("x", Kind.MENTION))
    assert route.call_count == 1


# -- Meta: POST /{comment-id} is_hidden / hide ----------------------------------------------------

def test_facebook_hide_posts_is_hidden_with_bearer_and_appsecret_proof(wire):
    route = wire.post(f"{GRAPH_BASE}/820000000000001_930000000000001").mock(
        return_value=httpx.Response(200, json={"success": True}))
    client = MetaClient(GRAPH_BASE, TOKEN, app_secret="app-secret")
    client.hide_comment("820000000000001_930000000000001")
    request = route.calls.last.request
    assert request.method == "POST" and json.loads(request.content) == {"is_hidden": True}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    query = parse_qs(request.url.query.decode())
    assert set(query) == {"appsecret_proof"} and TOKEN not in str(request.url)


def test_instagram_hide_posts_hide_true(wire):
    route = wire.post(f"{GRAPH_BASE}/17890000000000001").mock(return_value=httpx.Response(200, json={"success": True}))
    MetaClient(GRAPH_BASE, TOKEN).hide_instagram_comment("17890000000000001")
    assert json.loads(route.calls.last.request.content) == {"hide": True}


@pytest.mark.parametrize(("error", "raised"), [
    ({"code": 200, "message": "(#200) Permissions error"}, PlatformRefused),
    ({"code": 100, "error_subcode": 33, "message": "does not exist"}, PlatformRefused),
    ({"code": 190, "message": "Invalid OAuth access token"}, PlatformConfigError),
    ({"code": 613, "message": "rate limit"}, PlatformRateLimited),
    ({"code": 2, "message": "temporarily unavailable", "is_transient": True}, PlatformUnavailable),
])
def test_meta_hide_errors_are_hilfts(wire, error, raised):
    wire.post(f"{GRAPH_BASE}/930000000000001").mock(return_value=httpx.Response(400, json={"error": error}))
    with pytest.raises(raised):
        MetaClient(GRAPH_BASE, TOKEN).hide_comment("930000000000001")


def test_meta_hide_without_success_is_refused(wire):
    wire.post(f"{GRAPH_BASE}/930000000000001").mock(return_value=httpx.Response(200, json={"success": False}))
    with pytest.raises(PlatformRefused):
        MetaClient(GRAPH_BASE, TOKEN).hide_comment("930000000000001")


def test_meta_gateway_hides_comments_only(wire):
    route = wire.post(url__regex=r".*").mock(return_value=httpx.Response(200, json={"success": True}))
    gateway = MetaGateway(MetaClient(GRAPH_BASE, TOKEN))
    gateway.hide_public(stored("facebook", Kind.REPLY, "820000000000001_930000000000001"))
    gateway.hide_public(stored("instagram", Kind.REPLY, "17890000000000001"))
    assert [json.loads(c.request.content) for c in route.calls] == [{"is_hidden": True}, {"hide": True}]
    for post in (stored("facebook", Kind.MENTION, "820000000000001"),  # a visitor's Page post / a mention
                 stored("instagram", Kind.MENTION, "17890000000000002"),
                 stored("messenger", Kind.DM, "m_1")):
        with pytest.raises(PlatformRefused):
            gateway.hide_public(post)
    assert route.call_count == 2


# -- Threads: POST /{reply-id}/manage_reply hide=true ---------------------------------------------

def test_threads_hide_is_a_form_post_to_manage_reply(wire):
    route = wire.post(f"{THREADS_BASE}/17890000000000009/manage_reply").mock(
        return_value=httpx.Response(200, json={"success": True}))
    with httpx.Client() as http:
        ThreadsClient(THREADS_BASE, TOKEN, http=http).hide_reply("17890000000000009")
    request = route.calls.last.request
    assert request.content == b"hide=true" and request.url.query == b""
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(("status", "error", "raised"), [
    (400, {"code": 100, "message": "Only replies to your own posts"}, PlatformRefused),
    (400, {"code": 190, "message": "token"}, PlatformConfigError),
    (400, {"code": 4, "message": "limit"}, PlatformRateLimited),
    (500, {"code": 1, "message": "unknown"}, PlatformUnavailable),
])
def test_threads_hide_errors_are_hilfts(wire, status, error, raised):
    wire.post(f"{THREADS_BASE}/17890000000000009/manage_reply").mock(
        return_value=httpx.Response(status, json={"error": error}))
    with httpx.Client() as http, pytest.raises(raised):
        ThreadsClient(THREADS_BASE, TOKEN, http=http).hide_reply("17890000000000009")


def test_threads_gateway_never_asks_for_a_top_level_post(wire):
    route = wire.post(url__regex=r".*").mock(return_value=httpx.Response(200, json={"success": True}))
    with httpx.Client() as http:
        gateway = ThreadsGateway(ThreadsClient(THREADS_BASE, TOKEN, http=http))
        with pytest.raises(PlatformRefused):
            gateway.hide_public(stored("threads", Kind.MENTION, "17890000000000009"))
        gateway.hide_public(stored("threads", Kind.REPLY, "17890000000000009"))
    assert route.call_count == 1


# -- the fakes check what the platforms check -----------------------------------------------------

def test_fake_x_hides_only_replies_in_the_brands_conversations():
    with make_x_api(TOKEN) as x_api, httpx.Client() as http:
        brand = x_api.user_id
        x_api.add_post("111", "42", conversation_id="100", conversation_author_id=brand)  # reply to the brand
        x_api.add_post("222", "42", conversation_id="200", conversation_author_id="77")  # someone else's thread
        x_api.add_post("333", "42")  # a top-level post
        client = XClient(x_api.url, TOKEN, http=http)
        client.hide_reply("111")
        for refused in ("222", "333", "444"):
            with pytest.raises(HideNotAllowed):
                client.hide_reply(refused)
        with pytest.raises(XAuthError):
            XClient(x_api.url, "wrong", http=http).hide_reply("111")
        bad = http.put(f"{x_api.url}/2/tweets/111/hidden", content=b'{"hidden":"yes"}',
                       headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        assert bad.status_code == 400
        assert x_api.hidden == {"111"}


def test_fake_graph_hides_comments_under_the_brands_posts_only():
    graph = make_graph_api(TOKEN, page_ids={"110000000000001"}, ig_user_ids={"17841400000000001"})
    with graph, httpx.Client() as http:
        graph.add_comment("820_1", on="110000000000001", message="x", **{"from": {"id": "42"}})
        graph.add_comment("1789", on="17841400000000001", platform="instagram", text="x")
        graph.add_comment("820_2", on="999", message="on someone else's page")
        graph.add_comment("820_3", on="110000000000001", **{"from": {"id": "110000000000001"}})  # the Page's own
        client = MetaClient(graph.url + "/v21.0", TOKEN, http=http)
        client.hide_comment("820_1")
        client.hide_instagram_comment("1789")
        for call in (lambda: client.hide_comment("820_2"), lambda: client.hide_comment("820_3"),
                     lambda: client.hide_comment("820_404"), lambda: client.hide_comment("1789"),
                     lambda: client.hide_instagram_comment("820_1")):
            with pytest.raises(PlatformRefused):
                call()
        with pytest.raises(PlatformConfigError):
            MetaClient(graph.url, "wrong", http=http).hide_comment("820_1")
        query_form = http.post(f"{graph.url}/v21.0/820_1?is_hidden=false",
                               headers={"Authorization": f"Bearer {TOKEN}"})  # the documented query form
        assert query_form.json() == {"success": True}
        assert graph.hidden == {"1789": HiddenComment("1789", "instagram", "17841400000000001")}


def test_fake_threads_hides_top_level_replies_to_the_brands_posts_only():
    with make_threads_api(TOKEN) as threads, httpx.Client() as http:
        threads.add_reply("1801")
        threads.add_reply("1802", top_level=False)
        threads.add_reply("1803", root_owner_id="555")
        client = ThreadsClient(threads.url + "/v1.0", TOKEN, http=http)
        client.hide_reply("1801")
        for refused in ("1802", "1803", "1804"):
            with pytest.raises(PlatformRefused):
                client.hide_reply(refused)
        with pytest.raises(PlatformConfigError):
            ThreadsClient(threads.url, "wrong", http=http).hide_reply("1801")
        as_json = http.post(f"{threads.url}/1801/manage_reply", json={"hide": True},
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert as_json.status_code == 400  # Threads takes form parameters
        assert threads.hidden == {"1801"}


# -- templates and policy -------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("form", ["sie", "du"])
def test_delete_hint_exists_in_every_language_and_form_and_goes_before_the_sign_off(language, form):
    hint = templates.render("delete_hint", language=language, address_form=form, overrides={"sign_off": "^an"})
    assert hint and "^an" not in hint  # a fragment carries no sign-off of its own
    values = dict.fromkeys(templates.PLACEHOLDERS, "x")
    dm = templates.render("handoff_dm", language=language, address_form=form, overrides={"sign_off": "^an"},
                          append=("delete_hint",), **values)
    assert dm.endswith(f". {hint}\n\n^an")


def test_delete_hint_is_overridable_and_checked_like_the_other_templates():
    policy = parse_policy('[templates.de.sie]\ndelete_hint = "Bitte löschen Sie Ihren Beitrag, {name}."\n')
    assert policy.template_overrides("de", "sie") == {"delete_hint": "Bitte löschen Sie Ihren Beitrag, {name}."}
    with pytest.raises(PolicyError, match="delete_hint"):
        parse_policy('[templates.de.sie]\ndelete_hint = "Ihre {telefon}"\n')
    with pytest.raises(PolicyError, match="hide_public"):
        parse_policy("[handoff]\nhide_public = 1\n")
    assert parse_policy("").handoff.hide_public is True


# -- the handoff service ----------------------------------------------------------------------------

class HidingGateway(FakeGateway):
    def __init__(self, refuse: Exception | None = None, *, can_hide: bool = True, can_dm: bool = True) -> None:
        super().__init__()
        self.capabilities = type("Caps", (), {"can_hide": can_hide, "can_dm": can_dm})()
        self.refuse = refuse
        self.hidden: list[str] = []
        self.calls: list[str] = []

    def hide_public(self, post):
        self.calls.append("hide")
        if self.refuse is not None:
            raise self.refuse
        self.hidden.append(post.post_id)

    def send_private(self, post, text, now, *, send=None):
        self.calls.append("dm")
        return super().send_private(post, text, now)


PHONE = "@Telekom_hilft ruft mich an: 0171 2345678"
HINT = templates.BUILT_IN["de"]["sie"]["delete_hint"]


def hide_world(gateway: FakeGateway, policy: str = POLICY_24_7) -> tuple[World, HandoffService]:
    world = World(policy)
    service = HandoffService(store=world.store, scheduler=world.scheduler, policy=world.policy, clock=world.clock,
                             gateways=lambda platform: gateway, notifier=None, claim_ttl=DEFAULTS.claim_ttl)
    return world, service


def record(world: World) -> dict:
    (only,) = world.store.data["handoffs"].values()
    return only


def reply(world: World, text: str = PHONE, *, kind: Kind = Kind.REPLY):
    world.deliver(world.mention(text=text, kind=kind, in_reply_to="9" if kind == Kind.REPLY else None,
                                conversation="c1" if kind == Kind.DM else "9"))


def test_a_hidden_post_needs_no_hint_and_is_hidden_before_the_dm():
    gateway = HidingGateway()
    world, service = hide_world(gateway)
    reply(world)
    assert service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True).outcome == "dm_sent"
    assert gateway.calls == ["hide", "dm"] and gateway.hidden == ["1"]
    assert HINT not in gateway.dms[0] and "2345678" not in gateway.dms[0]
    assert record(world)["public_hidden"] is True and "hide_refused" not in record(world)


def test_a_refused_hide_puts_the_delete_hint_into_the_dm():
    gateway = HidingGateway(PlatformRefused("x: refused (403)"))
    world, service = hide_world(gateway)
    reply(world)
    assert service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True).outcome == "dm_sent"
    assert gateway.dms[0].endswith(HINT) and "2345678" not in gateway.dms[0]
    saved = record(world)
    assert saved["hide_refused"] == "x: refused (403)" and saved["delete_hint"] is True
    assert "public_hidden" not in saved and saved["state"] == "sent"


@pytest.mark.parametrize(("failure", "reason"), [
    (PlatformRateLimited(NOW + timedelta(minutes=15)), "rate_limited"),
    (PlatformUnavailable("x down"), "unavailable"),
    (PlatformConfigError("scope tweet.moderate.write missing"), "config_error: scope tweet.moderate.write missing"),
    (RuntimeError("bug"), "error: RuntimeError"),
])
def test_a_failing_hide_never_stops_or_reschedules_the_handoff(failure, reason):
    gateway = HidingGateway(failure)
    world, service = hide_world(gateway)
    reply(world)
    handoff_tasks = lambda: {n for n, t in world.scheduler.tasks.items() if t.payload["kind"] == "handoff"}  # noqa: E731
    tasks_before = handoff_tasks()
    result = service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True)
    assert result.outcome == "dm_sent" and len(gateway.dms) == 1 and gateway.dms[0].endswith(HINT)
    assert record(world)["hide_refused"] == reason
    assert handoff_tasks() <= tasks_before  # no retry of the handoff for the hide


def test_a_dm_is_never_hidden_and_gets_no_hint():
    gateway = HidingGateway()
    world, service = hide_world(gateway)
    reply(world, "Meine Nummer: 0171 2345678", kind=Kind.DM)
    service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True)
    assert gateway.calls == ["dm"] and HINT not in gateway.dms[0]
    assert "public_hidden" not in record(world) and "hide_refused" not in record(world)


def test_policy_hide_public_false_hides_nothing_and_gives_the_hint():
    gateway = HidingGateway()
    world, service = hide_world(gateway, POLICY_24_7 + "[handoff]\nhide_public = false\n")
    reply(world)
    service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True)
    assert gateway.calls == ["dm"] and gateway.dms[0].endswith(HINT)
    assert "public_hidden" not in record(world) and "hide_refused" not in record(world)


def test_a_channel_that_cannot_hide_gives_the_hint_also_after_a_staff_text():
    gateway = HidingGateway(can_hide=False)
    world, service = hide_world(gateway)
    reply(world)
    service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True, text="Wir rufen Sie an.")
    assert gateway.calls == ["dm"] and gateway.dms[0] == f"Wir rufen Sie an. {HINT}"
    assert record(world)["hide_refused"] == "channel_cannot_hide"


def test_without_personal_data_nothing_is_hidden():
    gateway = HidingGateway()
    world, service = hide_world(gateway)
    reply(world, "@Telekom_hilft Rechnung falsch")
    service.handoff(mention_doc_id("x", "1"), department=None, reason="manual")
    assert gateway.calls == ["dm"] and HINT not in gateway.dms[0]


def test_a_hide_result_survives_a_rate_limited_dm():
    gateway = HidingGateway()
    gateway.rate_limited_until = World().clock() + timedelta(minutes=15)
    world, service = hide_world(gateway)
    reply(world)
    assert service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True).outcome == "rate_limited"
    assert record(world)["public_hidden"] is True and record(world)["state"] == "rate_limited"



def test_a_channel_whose_handoff_is_a_pointer_under_the_post_does_not_hide_it():
    """Threads: hiding a reply hides what is posted under it, so the public pointer would vanish."""
    gateway = HidingGateway(can_dm=False)
    world, service = hide_world(gateway)
    reply(world)
    assert service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True).outcome == "public_pointer"
    assert "hide" not in gateway.calls and gateway.hidden == []
    assert record(world)["hide_refused"] == "pointer_reply_below"
    assert len(gateway.replies) == 1 and HINT not in gateway.replies[0]
