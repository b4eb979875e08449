"""hilft's Mastodon client and poller against the fake instance (which checks what Mastodon checks)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from fakes.mastodon import BRAND_ACCOUNT_ID, FakeMastodon, make_mastodon
from hilft.channels import SendOnce
from hilft.channels.mastodon import MastodonGateway, MastodonPoller, idempotency_key
from hilft.channels.mastodon.client import MastodonClient
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformConfigError, PlatformRateLimited, PlatformUnavailable, PrivateChannelRefused

TOKEN = "fake-mastodon-token"  # noqa: S105
BRANDS = frozenset({BRAND_ACCOUNT_ID})


def stored(**fields: object) -> MentionDoc:
    """A stored Mastodon post with just these fields, as the services hand it to the gateway."""
    return MentionDoc.from_store({"platform": "mastodon", **fields})


@pytest.fixture(scope="module")
def running() -> Iterator[FakeMastodon]:
    with make_mastodon(TOKEN) as server:
        yield server


@pytest.fixture
def masto(running: FakeMastodon) -> FakeMastodon:
    running.reset()
    return running


def client_for(masto: FakeMastodon, http: httpx.Client, token: str = TOKEN) -> MastodonClient:
    return MastodonClient(masto.url, token, http=http)


def test_a_wrong_token_is_a_configuration_error(masto: FakeMastodon, http: httpx.Client) -> None:
    with pytest.raises(PlatformConfigError):
        client_for(masto, http, "nope").notifications(None)


def test_a_token_without_the_write_scope_is_an_operators_problem_not_closed_dms(masto: FakeMastodon,
                                                                                  http: httpx.Client) -> None:
    """Mastodon answers a missing scope with 403 "outside the authorized scopes": a configuration
    error (operator alert), never ``PrivateChannelRefused`` (which posts a public "DMs closed" note)."""
    post_id = masto.add_status("kabelsalat", "@telkohilft Hilfe")
    masto.scopes = {"read"}
    with pytest.raises(PlatformConfigError):
        MastodonGateway(client_for(masto, http)).send_private(
            stored(post_id=post_id, author_handle="kabelsalat"), "Ihr Fall", datetime.now(UTC))
    assert masto.posted == []


@pytest.mark.parametrize("scopes", [{"write"}, {"write", "read:statuses"}])
def test_reads_without_their_scope_are_configuration_errors(masto: FakeMastodon, http: httpx.Client,
                                                            scopes: set[str]) -> None:
    masto.scopes = scopes
    with pytest.raises(PlatformConfigError):
        list(MastodonPoller(client_for(masto, http), BRANDS).walk("notifications", None, datetime.now(UTC)))


def test_a_403_about_the_request_itself_stays_a_refusal(masto: FakeMastodon, http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft Hilfe")
    masto.fail_next(1, 403, body={"error": "This action is not allowed"}, path_contains="/api/v1/statuses")
    with pytest.raises(PrivateChannelRefused):
        MastodonGateway(client_for(masto, http)).send_private(stored(post_id=post_id, author_handle="kabelsalat"),
                                                              "Hallo", datetime.now(UTC))


def test_a_long_reply_is_shortened_with_an_ellipsis_counting_the_account_prefix(masto: FakeMastodon,
                                                                                  http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat@social.example", "@telkohilft Hilfe")
    text = "Wir prüfen das. " * 40  # 640 characters
    MastodonGateway(client_for(masto, http)).public_reply(
        stored(post_id=post_id, author_handle="kabelsalat@social.example"), text)
    posted = masto.posted[0]["text"]
    assert posted.startswith("@kabelsalat@social.example Wir prüfen das.") and posted.endswith("…")
    assert len(posted) <= 500 + len("@social.example")  # Mastodon counts a remote mention as @user


@pytest.mark.parametrize("visibility", ["unlisted", "private"])
def test_a_reply_is_never_more_visible_than_the_post_it_answers(masto: FakeMastodon, http: httpx.Client,
                                                                visibility: str) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft nur für Follower", visibility=visibility)
    MastodonGateway(client_for(masto, http)).public_reply(stored(post_id=post_id, author_handle="kabelsalat"),
                                                          "Wir melden uns.")
    assert masto.posted[0]["visibility"] == visibility


class Claim:
    """A send-once claim kept in memory (service.claims keeps it in Firestore)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def once(self) -> SendOnce:
        return SendOnce(key="replies/r1/public", recall=self.values.get, note=self.values.__setitem__)


def test_a_retry_after_mastodons_idempotency_hour_finds_the_first_reply(masto: FakeMastodon,
                                                                         http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft Hilfe")
    gateway, claim = MastodonGateway(client_for(masto, http)), Claim()
    post = stored(post_id=post_id, author_handle="kabelsalat")
    first = gateway.public_reply(post, "Wir melden uns.", send=claim.once())
    masto.idempotency_ttl = 0  # more than an hour later Mastodon has forgotten the key
    claim.values["mastodon_sent_at"] = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    masto.statuses[first]["created_at"] = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    assert gateway.public_reply(post, "Wir melden uns.", send=claim.once()) == first
    assert len(masto.posted) == 1


def test_notifications_are_asked_for_mentions_only(masto: FakeMastodon, http: httpx.Client) -> None:
    masto.add_status("kabelsalat", "@telkohilft kein Netz")
    assert len(client_for(masto, http).notifications(None)) == 1
    query = parse_qs(masto.accepted[-1].query)
    assert query["types[]"] == ["mention"]
    assert query["include_filtered"] == ["true"]  # Mastodon 4.3+ hides messages from unknown accounts otherwise


def test_rate_limit_reads_mastodons_iso_reset_header(masto: FakeMastodon, http: httpx.Client) -> None:
    reset = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    masto.fail_next(1, 429, {"X-RateLimit-Reset": reset.isoformat().replace("+00:00", ".000Z")},
                    body={"error": "Too many requests"})
    with pytest.raises(PlatformRateLimited) as caught:
        client_for(masto, http).notifications(None)
    assert caught.value.retry_at == reset


def test_an_outage_is_retryable(masto: FakeMastodon, http: httpx.Client) -> None:
    masto.fail_next(1, 503)
    with pytest.raises(PlatformUnavailable):
        client_for(masto, http).notifications(None)


def test_dm_is_a_direct_reply_that_mentions_the_customer(masto: FakeMastodon, http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft meine IBAN ist …")
    gateway = MastodonGateway(client_for(masto, http))
    status_id = gateway.send_private(stored(post_id=post_id, author_handle="kabelsalat"), "Hallo, Fall HX-1",
                                     datetime.now(UTC))
    (posted,) = masto.posted
    assert posted["id"] == status_id and posted["visibility"] == "direct"
    assert posted["text"] == "@kabelsalat Hallo, Fall HX-1" and posted["in_reply_to_id"] == post_id
    assert posted["idempotency_key"] == idempotency_key("private", post_id)


def test_a_retried_send_is_never_a_second_post(masto: FakeMastodon, http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft hilfe")
    gateway = MastodonGateway(client_for(masto, http))
    post = stored(post_id=post_id, author_handle="kabelsalat")
    first = gateway.send_private(post, "Hallo", datetime.now(UTC))
    second = gateway.send_private(post, "Hallo (neu formuliert)", datetime.now(UTC))
    assert first == second and len(masto.posted) == 1
    public = gateway.public_reply(post, "Bitte schauen Sie in Ihre Direktnachrichten.")
    assert public != first and len(masto.posted) == 2  # another purpose, another key
    assert masto.posted[1]["visibility"] == "public"


def test_dm_without_a_safe_account_name_is_refused_before_any_call(masto: FakeMastodon, http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft hilfe")
    with pytest.raises(PrivateChannelRefused):
        MastodonGateway(client_for(masto, http)).send_private(stored(post_id=post_id, author_handle="x <a>"),
                                                              "Hallo", datetime.now(UTC))
    assert [r for r in masto.requests if r.method == "POST"] == []


def test_reply_to_a_deleted_status_is_refused(masto: FakeMastodon, http: httpx.Client) -> None:
    post_id = masto.add_status("kabelsalat", "@telkohilft hilfe")
    masto.delete_status(post_id)
    with pytest.raises(PrivateChannelRefused):
        MastodonGateway(client_for(masto, http)).public_reply(stored(post_id=post_id, author_handle="kabelsalat"),
                                                              "Hallo")


def test_poller_pages_forward_with_min_id_and_catches_up_without_a_gap(masto: FakeMastodon,
                                                                       http: httpx.Client) -> None:
    poller = MastodonPoller(client_for(masto, http), BRANDS)
    now = datetime.now(UTC)
    first = masto.add_status("kabelsalat", "@telkohilft eins")
    (page,) = list(poller.walk("notifications", None, now))
    assert [e.post_id for e in page.batch.events] == [first]
    backlog = [masto.add_status("kabelsalat", f"@telkohilft {i}") for i in range(95)]  # > two pages of 40
    pages = list(poller.walk("notifications", page.state, now))
    seen = [e.post_id for p in pages for e in p.batch.events]
    assert seen == backlog  # oldest first, none skipped, none twice
    assert [p.fetched for p in pages] == [40, 40, 15]
    assert all("min_id" in parse_qs(r.query) for r in masto.accepted[-3:])


def test_poller_sources_brand_accounts_hashtags_and_search(masto: FakeMastodon, http: httpx.Client) -> None:
    poller = MastodonPoller(client_for(masto, http), BRANDS)
    assert poller.sources(["#telkohilft", "Telko hilft"]) == [
        "notifications", f"account:{BRAND_ACCOUNT_ID}", "tag:telkohilft", "search:#telkohilft", "search:Telko hilft"]


def test_poller_learns_the_brand_account_when_none_is_configured(masto: FakeMastodon, http: httpx.Client) -> None:
    assert MastodonPoller(client_for(masto, http), frozenset()).brand_ids() == BRANDS


def test_poller_sees_the_brands_native_replies(masto: FakeMastodon, http: httpx.Client) -> None:
    question = masto.add_status("kabelsalat", "@telkohilft hilfe")
    masto.add_brand_status("@kabelsalat Wir sind dran.", in_reply_to=question)
    events = [e for p in MastodonPoller(client_for(masto, http), BRANDS).walk(
        f"account:{BRAND_ACCOUNT_ID}", None, datetime.now(UTC)) for e in p.batch.events]
    assert len(events) == 1 and events[0].is_brand and events[0].in_reply_to == question


def test_radar_hashtag_timeline(masto: FakeMastodon, http: httpx.Client) -> None:
    hit = masto.add_status("netzfrust", "Schon wieder kein Netz #telkohilft", mention_brand=False)
    events = [e.post_id for p in MastodonPoller(client_for(masto, http), BRANDS).walk(
        "tag:telkohilft", None, datetime.now(UTC)) for e in p.batch.events]
    assert events == [hit]


def test_search_after_downtime_reads_every_hit_down_to_the_cursor(masto: FakeMastodon, http: httpx.Client) -> None:
    """Search answers the NEWEST hits after min_id: stepping the cursor to a page's newest id (as on
    timelines) would store 40 of 100 and skip the rest for good."""
    poller = MastodonPoller(client_for(masto, http), BRANDS)
    now = datetime.now(UTC)
    seed = masto.add_status("netzfrust", "netzausfall in Kiel", mention_brand=False)
    (first,) = list(poller.walk("search:netzausfall", None, now))
    assert first.state["min_id"] == seed
    backlog = [masto.add_status(f"kunde{i}", f"netzausfall {i}", mention_brand=False) for i in range(100)]
    pages = list(poller.walk("search:netzausfall", first.state, now))
    seen = [e.post_id for p in pages for e in p.batch.events]
    assert sorted(seen) == sorted(backlog) and len(seen) == 100
    assert pages[-1].state == {"min_id": backlog[-1]}
    assert [p.fetched for p in pages] == [40, 40, 20]


def test_a_search_walk_cut_short_resumes_below_where_it_stopped(masto: FakeMastodon, http: httpx.Client) -> None:
    poller = MastodonPoller(client_for(masto, http), BRANDS)
    now = datetime.now(UTC)
    seed = masto.add_status("netzfrust", "netzausfall", mention_brand=False)
    backlog = [masto.add_status(f"kunde{i}", f"netzausfall {i}", mention_brand=False) for i in range(60)]
    walk = poller.walk("search:netzausfall", {"min_id": seed}, now)
    stopped = next(walk)  # the run's bounds end it here
    assert stopped.state["min_id"] == seed and stopped.state["walk"] == {"offset": 40, "top": backlog[-1]}
    later = masto.add_status("kunde", "netzausfall wieder", mention_brand=False)
    rest = list(poller.walk("search:netzausfall", stopped.state, now))
    seen = {e.post_id for p in [stopped, *rest] for e in p.batch.events}
    assert set(backlog) <= seen and rest[-1].state == {"min_id": backlog[-1]}
    again = list(poller.walk("search:netzausfall", rest[-1].state, now))
    assert [e.post_id for p in again for e in p.batch.events] == [later]


def test_search_refused_by_the_instance_is_parked_for_hours(masto: FakeMastodon, http: httpx.Client) -> None:
    masto.fail_next(1, 422, path_contains="/api/v2/search")
    now = datetime.now(UTC)
    poller = MastodonPoller(client_for(masto, http), BRANDS)
    (page,) = list(poller.walk("search:Telko", None, now))
    assert page.batch.events == () and page.state["unsupported_until"] > now.isoformat()
    before = len(masto.requests)
    assert list(poller.walk("search:Telko", page.state, now + timedelta(minutes=1))) == []
    assert len(masto.requests) == before  # not asked again while parked


def test_deleted_statuses_are_found_one_by_one(masto: FakeMastodon, http: httpx.Client) -> None:
    kept = masto.add_status("kabelsalat", "@telkohilft a")
    gone = masto.add_status("kabelsalat", "@telkohilft b")
    masto.delete_status(gone)
    deletions = MastodonPoller(client_for(masto, http), BRANDS).deleted([kept, gone, "not-an-id"])
    assert [d.post_id for d in deletions] == [gone]


def test_check_reads_an_open_dms_thread_for_the_brands_direct_answer(masto: FakeMastodon, http: httpx.Client) -> None:
    dm = masto.add_status("kabelsalat", "@telkohilft bitte Rückruf", visibility="direct")
    other = masto.add_status("kabelsalat", "@telkohilft noch offen", visibility="direct")
    gone = masto.add_status("mia", "@telkohilft kein Netz")
    masto.delete_status(gone)
    answer = masto.add_brand_status("@kabelsalat Wir rufen an.", in_reply_to=dm, visibility="direct")
    batch = MastodonPoller(client_for(masto, http), BRANDS).check([
        stored(post_id=dm, kind="dm", status="open"), stored(post_id=other, kind="dm", status="overdue"),
        stored(post_id=gone, kind="mention", status="answered")])
    reply, deletion = batch.events
    assert reply.is_brand and reply.post_id == answer and reply.in_reply_to == dm  # type: ignore[union-attr]
    assert deletion.post_id == gone
    assert any(r.path.endswith(f"/{dm}/context") for r in masto.accepted)
