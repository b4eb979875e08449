"""The poll run shares its time and the platforms' rate limits fairly: no channel starves another,
Mastodon's deleted-post check stays small and stops while the account's window runs low, and
Threads' deleted-post check (Threads sends no delete for customers' posts) finds gone posts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.mastodon import BRAND_ACCOUNT_ID, FakeMastodon, make_mastodon
from fakes.threads_api import FakeThreadsApi, make_threads_api
from hilft.channels.mastodon import CHECK_BATCH, CHECK_RESERVE, MastodonPoller
from hilft.channels.mastodon.client import MastodonClient
from hilft.channels.polling import PolledPage
from hilft.channels.threads import ThreadsPoller
from hilft.channels.threads.client import ThreadsClient
from hilft.core.ids import mention_doc_id
from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform
from hilft.service.poll import DELETE_CHECK_SOURCE
from tests.unit.test_poll_service import BRAND, ScriptedPoller, World, post

TOKEN = "masto-token"  # noqa: S105
THREADS_TOKEN = "threads-token"  # noqa: S105


class SlowPoller(ScriptedPoller):
    """A channel whose every page takes ``cost`` seconds of the run's budget."""

    def __init__(self, platform: str, items: list[Mention], cost: float, order: list[str]) -> None:
        super().__init__(items, page_size=1)
        self.platform = platform
        self.cost = cost
        self.order = order
        self.world: World | None = None

    def brand_ids(self) -> frozenset[str]:
        self.order.append(self.platform)
        return super().brand_ids()

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]:
        pages = super().walk(source, state, now)
        while True:
            assert self.world is not None
            self.world.ticks += self.cost  # fetching the page takes the time
            page = next(pages, None)
            if page is None:
                return
            yield page


def world_with(*pollers: SlowPoller) -> World:
    world = World(*pollers, max_pages=10, budget=45.0)
    for poller in pollers:
        poller.world = world
    # Start at a minute whose turn lets the first poller go first.
    world.clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    if int(world.clock.now.timestamp() // 60) % len(pollers):
        world.clock.now += timedelta(minutes=len(pollers) - int(world.clock.now.timestamp() // 60) % len(pollers))
    return world


def masto_post(n: int) -> Mention:
    return Mention(platform=Platform.MASTODON, post_id=str(113_000_000_000_000_000 + n), kind=Kind.MENTION,
                   author=Author(id=f"11000000000000{n:04d}", handle=f"kunde{n}"), text=f"@telkohilft Nr. {n}",
                   created_at=datetime(2026, 11, 20, 8, 59, tzinfo=UTC), mentioned_user_ids=(BRAND,))


def test_a_slow_channel_gets_its_share_and_the_next_one_is_still_polled() -> None:
    order: list[str] = []
    slow = SlowPoller("bluesky", [post(i) for i in range(40)], cost=10.0, order=order)
    quick = SlowPoller("mastodon", [masto_post(1)], cost=1.0, order=order)
    world = world_with(slow, quick)

    result = world.service.run()

    assert order == ["bluesky", "mastodon"]  # the slow one went first…
    assert mention_doc_id("mastodon", masto_post(1).post_id) in world.mentions()  # …and did not starve this one
    assert result.pages == 4  # bluesky stopped at half the budget (3 pages of 10 s), mastodon took its page
    assert world.ticks <= 45.0


def test_channels_take_turns_going_first() -> None:
    order: list[str] = []
    world = world_with(SlowPoller("bluesky", [], 1.0, order), SlowPoller("mastodon", [], 1.0, order))
    world.service.run()
    world.clock.advance(seconds=60)
    world.service.run()
    assert order == ["bluesky", "mastodon", "mastodon", "bluesky"]


def test_time_a_channel_leaves_unused_goes_to_the_next() -> None:
    order: list[str] = []
    idle = SlowPoller("mastodon", [], cost=1.0, order=order)
    busy = SlowPoller("bluesky", [post(i) for i in range(40)], cost=10.0, order=order)
    world = world_with(idle, busy)
    world.service.run()
    assert order == ["mastodon", "bluesky"]
    assert sum(1 for d in world.mentions().values() if d["platform"] == "bluesky") == 5  # up to 45 s, not 22.5


# -- Mastodon: the deleted-post check within the account's rate limit --------------------------
@pytest.fixture(scope="module")
def masto_server() -> Iterator[FakeMastodon]:
    with make_mastodon(TOKEN) as server:
        yield server


@pytest.fixture
def masto(masto_server: FakeMastodon) -> FakeMastodon:
    masto_server.reset()
    return masto_server


def stored_statuses(world: World, masto: FakeMastodon, count: int) -> list[str]:
    ids = [masto.add_status(f"kunde{n}", f"@telkohilft Nr. {n}", mention_brand=False) for n in range(count)]
    world.ingest.ingest(ParsedBatch(events=tuple(
        Mention(platform=Platform.MASTODON, post_id=i, kind=Kind.MENTION, author=Author(id="1", handle="kunde"),
                text="@telkohilft kein Netz", created_at=world.clock(), mentioned_user_ids=(BRAND_ACCOUNT_ID,))
        for i in ids)), frozenset({BRAND_ACCOUNT_ID}))
    return ids


def status_reads(masto: FakeMastodon) -> list[str]:
    return [r.path for r in masto.requests if r.method == "GET" and r.path.startswith("/api/v1/statuses/")]


def test_the_mastodon_check_asks_about_a_small_batch_per_run(masto: FakeMastodon, http: httpx.Client) -> None:
    poller = MastodonPoller(MastodonClient(masto.url, TOKEN, http=http), frozenset({BRAND_ACCOUNT_ID}))
    world = World(poller, check_batch=50)
    ids = stored_statuses(world, masto, 30)
    masto.delete_status(ids[0])
    before = len(status_reads(masto))

    result = world.service.run()

    assert len(status_reads(masto)) - before == CHECK_BATCH == result.checked  # not 30, not 50
    assert world.mentions()[mention_doc_id("mastodon", ids[0])]["status"] == "deleted"
    world.clock.advance(seconds=60)
    world.service.run()  # the next run goes on with the next batch
    assert len(status_reads(masto)) - before == 2 * CHECK_BATCH


def test_the_mastodon_check_stops_while_the_window_runs_low_and_resumes_after_it(
        masto: FakeMastodon, http: httpx.Client) -> None:
    poller = MastodonPoller(MastodonClient(masto.url, TOKEN, http=http), frozenset({BRAND_ACCOUNT_ID}))
    world = World(poller, check_batch=50)
    ids = stored_statuses(world, masto, 5)
    masto.delete_status(ids[0])
    masto.rate_used = masto.rate_limit - CHECK_RESERVE - 3  # polling this run spends the rest above the reserve
    before = len(status_reads(masto))

    result = world.service.run()

    assert len(status_reads(masto)) - before <= 3  # the reserve is left to polling, replies and DMs
    assert world.mentions()[mention_doc_id("mastodon", ids[0])]["status"] == "open"
    assert any(e["error"] == "PlatformRateLimited" for e in result.errors)
    parked = world.cursor(DELETE_CHECK_SOURCE, "mastodon")["retry_at"]
    assert parked is not None and parked > world.clock()
    masto.rate_used = 0  # a new window
    world.clock.now = parked + timedelta(seconds=1)
    world.service.run()
    assert world.mentions()[mention_doc_id("mastodon", ids[0])]["status"] == "deleted"


# -- Threads: customers' deletions, which no webhook tells --------------------------------------
@pytest.fixture(scope="module")
def threads_server() -> Iterator[FakeThreadsApi]:
    with make_threads_api(THREADS_TOKEN) as server:
        yield server


@pytest.fixture
def threads(threads_server: FakeThreadsApi) -> FakeThreadsApi:
    threads_server.reset()
    return threads_server


def stored_threads_posts(world: World, ids: list[str]) -> None:
    world.ingest.ingest(ParsedBatch(events=tuple(
        Mention(platform=Platform.THREADS, post_id=i, kind=Kind.REPLY, author=Author(id="17841499999999999",
                                                                                   handle="kundin_anna"),
                text="Seit gestern kein Netz", created_at=world.clock(), in_reply_to="17900000000000500",
                on_brand_surface=True)
        for i in ids)), frozenset({"17841400000000077"}))


def threads_poller(threads: FakeThreadsApi, http: httpx.Client, token: str = THREADS_TOKEN) -> ThreadsPoller:
    return ThreadsPoller(ThreadsClient(threads.url + "/v1.0", token, http=http), frozenset({threads.user_id}))


def test_a_customers_deleted_threads_reply_is_forgotten_by_the_poll_run(threads: FakeThreadsApi,
                                                                        http: httpx.Client) -> None:
    ids = [f"179000000000008{n:02d}" for n in range(12)]
    for post_id in ids:
        threads.add_reply(post_id, text="Seit gestern kein Netz")
    world = World(threads_poller(threads, http), check_batch=50)
    stored_threads_posts(world, ids)
    threads.delete_post(ids[0])

    result = world.service.run()

    reads = [r for r in threads.requests if r.method == "GET" and r.path.startswith("/v1.0/17900")]
    assert len(reads) == result.checked == ThreadsPoller.check_batch  # a small batch per run
    assert all(r.header("authorization") == f"Bearer {THREADS_TOKEN}" for r in reads)
    assert world.mentions()[mention_doc_id("threads", ids[0])]["status"] == "deleted"
    assert world.mentions()[mention_doc_id("threads", ids[0])]["text"] == ""
    assert {d["status"] for i, d in world.mentions().items() if i != mention_doc_id("threads", ids[0])} == {"open"}


def test_when_threads_can_read_none_of_the_posts_nothing_is_forgotten_and_an_operator_is_told(
        threads: FakeThreadsApi, http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    ids = ["17900000000000901", "17900000000000902", "17900000000000903"]  # Threads knows none of them
    world = World(threads_poller(threads, http), check_batch=50)
    stored_threads_posts(world, ids)

    result = world.service.run()

    assert [e["error"] for e in result.errors] == ["PlatformConfigError"]
    assert {d["status"] for d in world.mentions().values()} == {"open"}


def test_a_rejected_threads_token_forgets_nothing(threads: FakeThreadsApi, http: httpx.Client) -> None:
    threads.add_reply("17900000000000911")
    world = World(threads_poller(threads, http, token="wrong"), check_batch=50)  # noqa: S106
    stored_threads_posts(world, ["17900000000000911"])
    result = world.service.run()
    assert [e["error"] for e in result.errors] == ["PlatformConfigError"]
    assert world.mentions()[mention_doc_id("threads", "17900000000000911")]["status"] == "open"
