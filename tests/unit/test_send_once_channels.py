"""One send, one post; two sends, two posts: the send-once claim's id reaches the Bluesky and
Mastodon gateways (record key, ``Idempotency-Key``), and Threads keeps its reply container in the
claim. Real services on in-memory parts, real gateways against the fake platforms."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.bluesky import BRAND_HANDLE, FakeBluesky, make_bluesky
from fakes.mastodon import FakeMastodon, make_mastodon
from fakes.threads_api import FakeThreadsApi, make_threads_api
from hilft.channels.bluesky import BlueskyGateway
from hilft.channels.bluesky.client import BlueskyClient
from hilft.channels.mastodon import MastodonGateway
from hilft.channels.mastodon.client import MastodonClient
from hilft.channels.threads import ThreadsGateway
from hilft.channels.threads.client import ThreadsClient
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformUnavailable, TransientStoreError
from hilft.core.ids import holding_reply_id, mention_doc_id
from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform
from hilft.core.policy import parse_policy
from hilft.service.claims import send_once
from hilft.service.holding import HoldingReplyService
from hilft.service.ingest import IngestService
from hilft.service.out_of_hours import OutOfHoursService
from hilft.service.ports import REPLIES
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 - the fake's app password
TOKEN = "masto-token"  # noqa: S105
THREADS_TOKEN = "threads-token"  # noqa: S105
CUSTOMER_DID = "did:plc:k7q3m2xw5vn4r6tb2yz3hc4a"
POLICY = """
[promise]
first_response = "60m"
warning_before = "15m"
"""


@pytest.fixture(scope="module")
def sky_server() -> Iterator[FakeBluesky]:
    with make_bluesky(PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def masto_server() -> Iterator[FakeMastodon]:
    with make_mastodon(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def threads_server() -> Iterator[FakeThreadsApi]:
    with make_threads_api(THREADS_TOKEN) as server:
        yield server


class Channel:
    """A customer's post on one fake platform, stored by the real ingest, and the gateway to answer it."""

    def __init__(self, name: str, sky: FakeBluesky, masto: FakeMastodon, threads: FakeThreadsApi,
                 http: httpx.Client) -> None:
        self.name = name
        self.sky, self.masto, self.threads = sky, masto, threads
        for fake in (sky, masto, threads):
            fake.reset()
        if name == "bluesky":
            self.post_id = sky.add_post(f"@{BRAND_HANDLE} kein Netz in Kiel", author_did=CUSTOMER_DID,
                                        handle="kabelsalat.bsky.social")
            self.gateway: Any = BlueskyGateway(BlueskyClient(handle=BRAND_HANDLE, app_password=PASSWORD,
                                                             pds_url=sky.url, appview_url=sky.url, http=http))
            author = Author(id=CUSTOMER_DID, handle="kabelsalat.bsky.social")
        elif name == "mastodon":
            self.post_id = masto.add_status("kabelsalat", "@telkohilft kein Netz in Kiel")
            self.gateway = MastodonGateway(MastodonClient(masto.url, TOKEN, http=http))
            author = Author(id="110000000000000001", handle="kabelsalat")
        else:
            self.post_id = "17900000000000701"
            self.gateway = ThreadsGateway(ThreadsClient(threads.url + "/v1.0", THREADS_TOKEN, http=http))
            author = Author(id="17841499999999999", handle="kundin_anna")
        self.clock = FakeClock(datetime(2026, 11, 27, 19, 30, tzinfo=UTC))
        self.store = MemoryStore()
        self.scheduler = MemoryScheduler()
        self.policy = parse_policy(POLICY)
        IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                      claim_ttl=DEFAULTS.claim_ttl).ingest(
            ParsedBatch(events=(Mention(platform=Platform(name), post_id=self.post_id, kind=Kind.MENTION,
                                        author=author, text="@brand kein Netz in Kiel", created_at=self.clock(),
                                        mentioned_user_ids=("brand",)),)), frozenset({"brand"}))
        self.doc_id = mention_doc_id(name, self.post_id)

    def replies(self) -> list[str]:
        """The brand's posts under the customer's post, as the platform has them."""
        if self.name == "bluesky":
            return [r["uri"] for r in self.sky.replies if r["reply"]["parent"]["uri"] == self.post_id]
        if self.name == "mastodon":
            return [p["id"] for p in self.masto.posted if p["in_reply_to_id"] == self.post_id]
        return [p.id for p in self.threads.published if p.reply_to_id == self.post_id]

    def out_of_hours(self) -> str | None:
        service = OutOfHoursService(store=self.store, scheduler=self.scheduler, policy=self.policy,
                                    clock=self.clock, gateways=lambda platform: self.gateway,
                                    claim_ttl=DEFAULTS.claim_ttl)
        reopens = (self.clock() + timedelta(days=3)).isoformat()
        return service.send({"doc_id": self.doc_id, "key": f"ooh-{self.name}", "template": "out_of_hours_reply",
                             "reopens_at": reopens}).message_id

    def holding(self) -> HoldingReplyService:
        return HoldingReplyService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                   gateways=lambda platform: self.gateway, claim_ttl=DEFAULTS.claim_ttl)


@pytest.fixture(params=["bluesky", "mastodon", "threads"])
def channel(request: pytest.FixtureRequest, sky_server: FakeBluesky, masto_server: FakeMastodon,
            threads_server: FakeThreadsApi, http: httpx.Client) -> Channel:
    return Channel(request.param, sky_server, masto_server, threads_server, http)


def test_a_holding_reply_after_an_out_of_hours_note_is_a_second_post(channel: Channel) -> None:
    note = channel.out_of_hours()
    result = channel.holding().send(channel.doc_id, text="Wir sind dran und melden uns bis 9 Uhr.",
                                    requested_by="anna")
    assert result.outcome == "sent" and note and result.reply_id != note
    assert sorted(channel.replies()) == sorted([note, result.reply_id])  # two sends, two posts
    doc = channel.store.data["mentions"][channel.doc_id]
    assert doc["status"] == "answered" and doc["holding_reply_id"] == result.reply_id


def test_a_retried_send_is_one_post(channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    service = channel.holding()
    update = channel.store.update
    crashed: list[str] = []

    def crash_once_on_sent(collection: str, doc_id: str, fields: dict[str, Any]) -> bool:
        if collection == REPLIES and fields.get("state") == "sent" and not crashed:
            crashed.append(doc_id)  # the platform took the reply; the instance dies before recording it
            raise TransientStoreError("firestore unavailable")
        return update(collection, doc_id, fields)

    monkeypatch.setattr(channel.store, "update", crash_once_on_sent)
    with pytest.raises(TransientStoreError):
        service.send(channel.doc_id, text="Wir sind dran.", requested_by="anna")
    first = channel.replies()
    assert len(first) == 1
    channel.clock.advance(seconds=service.claim_ttl.total_seconds() + 1)  # the crashed claim expires
    again = service.send(channel.doc_id, text="Wir sind dran.", requested_by="anna")  # the task's retry
    assert again.outcome == "sent" and again.reply_id == first[0]
    assert channel.replies() == first


@pytest.mark.parametrize("name", ["bluesky", "mastodon"])
def test_two_claims_on_one_post_are_two_posts_and_each_retry_repeats_its_own(
        name: str, sky_server: FakeBluesky, masto_server: FakeMastodon, threads_server: FakeThreadsApi,
        http: httpx.Client) -> None:
    channel = Channel(name, sky_server, masto_server, threads_server, http)
    post = MentionDoc.from_store(channel.store.data["mentions"][channel.doc_id])
    handoff = send_once(channel.store, "handoffs", "h1", "public_reply")
    holding = send_once(channel.store, "replies", "r1", "holding_reply")
    first = channel.gateway.public_reply(post, "Bitte schauen Sie in Ihre Direktnachrichten.", send=handoff)
    second = channel.gateway.public_reply(post, "Wir melden uns bis 9 Uhr.", send=holding)
    assert first != second
    assert channel.gateway.public_reply(post, "Bitte schauen Sie in Ihre Direktnachrichten.", send=handoff) == first
    assert channel.gateway.public_reply(post, "Wir melden uns bis 9 Uhr.", send=holding) == second
    assert sorted(channel.replies()) == sorted([first, second])


def test_a_threads_reply_whose_publish_answer_was_lost_is_published_once(
        sky_server: FakeBluesky, masto_server: FakeMastodon, threads_server: FakeThreadsApi,
        http: httpx.Client) -> None:
    channel = Channel("threads", sky_server, masto_server, threads_server, http)
    service = channel.holding()
    threads_server.lose_publish_answers(1)  # Threads publishes, the answer never arrives
    with pytest.raises(PlatformUnavailable):
        service.send(channel.doc_id, text="Wir sind dran.", requested_by="anna")
    assert len(threads_server.published) == 1 and len(threads_server.containers) == 1
    claim = channel.store.data[REPLIES][holding_reply_id(channel.doc_id)]
    assert claim["state"] == "failed" and claim["memo_holding_reply_creation_id"] in threads_server.containers
    again = service.send(channel.doc_id, text="Wir sind dran.", requested_by="anna")  # the task's retry
    assert again.outcome == "sent"
    assert len(threads_server.published) == 1 and len(threads_server.containers) == 1  # no second container


def test_a_threads_container_created_but_never_published_is_published_on_retry(
        sky_server: FakeBluesky, masto_server: FakeMastodon, threads_server: FakeThreadsApi,
        http: httpx.Client) -> None:
    channel = Channel("threads", sky_server, masto_server, threads_server, http)
    service = channel.holding()
    threads_server.fail_publish_next(1)  # publishing fails: nothing went out
    with pytest.raises(PlatformUnavailable):
        service.send(channel.doc_id, text="Wir sind dran.", requested_by="anna")
    assert threads_server.published == [] and len(threads_server.containers) == 1
    again = service.send(channel.doc_id, text="Wir sind dran.", requested_by="anna")
    (published,) = threads_server.published
    assert again.reply_id == published.id and published.container_id in threads_server.containers
    assert len(threads_server.containers) == 1
