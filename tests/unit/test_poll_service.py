"""The poll service: cursors advance only after storing, leases make overlapping runs harmless,
runs are bounded, rate limits park a source, deleted posts are found; and the real Bluesky and
Mastodon pollers through it against their fakes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.bluesky import BRAND_HANDLE, FakeBluesky, make_bluesky
from fakes.mastodon import BRAND_ACCOUNT_ID, FakeMastodon, make_mastodon
from hilft.adapters.poll_queries import LIVE_STATUSES
from hilft.channels.bluesky import BlueskyPoller
from hilft.channels.bluesky.client import BlueskyClient
from hilft.channels.mastodon import MastodonPoller
from hilft.channels.mastodon.client import MastodonClient
from hilft.channels.polling import PolledPage
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformConfigError, PlatformRateLimited, PlatformUnavailable, TransientStoreError
from hilft.core.ids import mention_doc_id
from hilft.core.models import Author, Deletion, Kind, Mention, ParsedBatch, Platform
from hilft.core.policy import parse_policy
from hilft.service.ingest import IngestService
from hilft.service.poll import PollService, cursor_doc_id
from hilft.service.ports import MENTIONS, POLL_CURSORS, Snapshot
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

BRAND = "did:plc:brand"
POLICY = """
[promise]
first_response = "60m"
warning_before = "15m"
[radar]
keywords = ["Telko hilft"]
"""


def memory_live_posts(store: MemoryStore):  # type: ignore[no-untyped-def]
    def live_posts(platform: str, after: str | None, limit: int) -> list[Snapshot]:
        docs = sorted((i, d) for i, d in store.data.get(MENTIONS, {}).items()
                      if d.get("platform") == platform and d.get("status") in LIVE_STATUSES
                      and (after is None or i > after))
        return [Snapshot(i, dict(d), store.versions[(MENTIONS, i)]) for i, d in docs[:limit]]

    return live_posts


class ScriptedPoller:
    """A channel with ``items`` in its one source, served ``page_size`` at a time from ``{"pos": n}``."""

    platform = Platform.BLUESKY.value

    def __init__(self, items: list[Mention], page_size: int = 2) -> None:
        self.items = items
        self.page_size = page_size
        self.fail: Exception | None = None
        self.walks = 0
        self.gone: set[str] = set()
        self.asked: list[list[str]] = []

    def brand_ids(self) -> frozenset[str]:
        return frozenset({BRAND})

    def sources(self, radar_keywords: Sequence[str]) -> list[str]:
        return ["notifications"]

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]:
        self.walks += 1
        if self.fail is not None:
            raise self.fail
        pos = int((state or {}).get("pos", 0))
        while pos < len(self.items):
            chunk = self.items[pos:pos + self.page_size]
            pos += len(chunk)
            yield PolledPage(ParsedBatch(events=tuple(chunk)), {"pos": pos}, len(chunk))

    def check(self, posts: Sequence[MentionDoc]) -> ParsedBatch:
        post_ids = [p.post_id for p in posts]
        self.asked.append(post_ids)
        return ParsedBatch(events=tuple(Deletion(platform=Platform.BLUESKY, post_id=p) for p in post_ids
                                        if p in self.gone))


class World:
    def __init__(self, *pollers: Any, max_pages: int = 10, budget: float = 45.0, check_batch: int = 2) -> None:
        self.clock = FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        self.store = MemoryStore()
        self.scheduler = MemoryScheduler()
        self.ingest = IngestService(store=self.store, scheduler=self.scheduler, policy=parse_policy(POLICY),
                                    clock=self.clock, claim_ttl=DEFAULTS.claim_ttl)
        self.ticks = 0.0
        self.pollers = list(pollers)
        self.service = PollService(store=self.store, ingest=self.ingest, pollers=lambda: self.pollers,
                                   clock=self.clock, live_posts=memory_live_posts(self.store),
                                   radar_keywords=("Telko hilft",), max_pages=max_pages,
                                   time_budget=timedelta(seconds=budget), delete_check_batch=check_batch,
                                   monotonic=self.monotonic)

    def monotonic(self) -> float:
        return self.ticks

    def cursor(self, source: str = "notifications", platform: str = "bluesky") -> dict[str, Any]:
        return self.store.data[POLL_CURSORS][cursor_doc_id(platform, source)]

    def mentions(self) -> dict[str, dict[str, Any]]:
        return self.store.data.get(MENTIONS, {})


def post(n: int, *, at: datetime | None = None) -> Mention:
    return Mention(platform=Platform.BLUESKY, post_id=f"at://did:plc:c{n}/app.bsky.feed.post/{n}", kind=Kind.MENTION,
                   author=Author(id=f"did:plc:c{n}", handle=f"c{n}.bsky.social"), text=f"@brand Nr. {n} kein Netz",
                   created_at=at or datetime(2026, 11, 20, 8, 59, tzinfo=UTC), mentioned_user_ids=(BRAND,))


def test_items_are_stored_and_the_cursor_saved_after_them() -> None:
    poller = ScriptedPoller([post(i) for i in range(5)])
    world = World(poller)
    result = world.service.run()
    assert result.stored == 5 and result.pages == 3 and result.errors == []
    assert world.cursor()["state"] == {"pos": 5}
    assert world.cursor()["lease_owner"] is None  # released
    again = world.service.run()
    assert again.stored == 0 and again.duplicates == 0 and len(world.mentions()) == 5


def test_a_crash_before_the_cursor_is_saved_re_reads_and_dedupes() -> None:
    poller = ScriptedPoller([post(1), post(2)])
    world = World(poller)
    real_mutate = world.store.mutate
    broken = {"left": 1}

    def mutate(collection: str, doc_id: str, decide: Any, attempts: int = 8) -> Any:
        if collection == POLL_CURSORS and broken["left"]:
            broken["left"] -= 1
            raise TransientStoreError("firestore unavailable")
        return real_mutate(collection, doc_id, decide, attempts)

    world.store.mutate = mutate  # type: ignore[method-assign]
    with pytest.raises(TransientStoreError):  # the poll answers 503, Cloud Scheduler retries
        world.service.run()
    assert len(world.mentions()) == 2
    assert world.cursor()["state"] is None  # not advanced
    world.cursor()["lease_until"] = world.clock() - timedelta(seconds=1)  # the crashed run's lease ran out
    result = world.service.run()
    assert result.duplicates == 2 and result.stored == 0 and len(world.mentions()) == 2
    assert world.cursor()["state"] == {"pos": 2}


def test_an_overlapping_run_leaves_a_leased_source_alone() -> None:
    poller = ScriptedPoller([post(1)])
    world = World(poller)
    world.store.create(POLL_CURSORS, cursor_doc_id("bluesky", "notifications"),
                       {"state": None, "lease_owner": "other-run", "lease_until": world.clock() + timedelta(seconds=90)})
    result = world.service.run()
    assert result.skipped == 1 and poller.walks == 0 and world.mentions() == {}
    world.clock.advance(seconds=91)  # the other run died: its lease expires
    assert world.service.run().stored == 1


def test_a_run_is_bounded_in_pages_and_the_next_continues() -> None:
    poller = ScriptedPoller([post(i) for i in range(7)], page_size=2)
    world = World(poller, max_pages=2)
    assert world.service.run().stored == 4
    assert world.cursor()["state"] == {"pos": 4}
    assert world.service.run().stored == 3


def test_a_run_is_bounded_in_time() -> None:
    poller = ScriptedPoller([post(i) for i in range(6)], page_size=1)
    world = World(poller, budget=10.0)
    real = world.ingest.ingest

    def slow_ingest(batch: ParsedBatch, brand_ids: frozenset[str]) -> Any:
        world.ticks += 4.0  # each page takes 4 s
        return real(batch, brand_ids)

    world.ingest.ingest = slow_ingest  # type: ignore[method-assign]
    assert world.service.run().stored == 3  # 4 s, 8 s, 12 s ≥ 10 s: stop
    assert world.cursor()["state"] == {"pos": 3}


def test_a_rate_limit_parks_the_source_until_the_platform_allows() -> None:
    poller = ScriptedPoller([post(1)])
    world = World(poller)
    poller.fail = PlatformRateLimited(world.clock() + timedelta(minutes=5))
    result = world.service.run()
    assert result.errors == [{"platform": "bluesky", "source_id": cursor_doc_id("bluesky", "notifications"),
                               "error": "PlatformRateLimited"}]
    poller.fail = None
    world.clock.advance(minutes=4)
    assert world.service.run().skipped == 1 and poller.walks == 1
    world.clock.advance(minutes=2)
    assert world.service.run().stored == 1


def test_a_configuration_error_is_an_error_line_and_other_channels_go_on(caplog: pytest.LogCaptureFixture) -> None:
    broken = ScriptedPoller([post(1)])
    broken.fail = PlatformConfigError("bluesky: the handle or app password was refused")
    healthy = ScriptedPoller([post(2)])
    healthy.platform = Platform.MASTODON.value
    world = World(broken, healthy)
    result = world.service.run()
    assert result.stored == 1 and result.progressed == 1
    assert [e["error"] for e in result.errors] == ["PlatformConfigError"]


def test_an_outage_is_recorded_and_retried_next_run() -> None:
    poller = ScriptedPoller([post(1)])
    poller.fail = PlatformUnavailable("bluesky answered 502")
    world = World(poller)
    result = world.service.run()
    assert result.progressed == 0 and result.sources == 1 and result.errors
    assert world.cursor()["last_error"] == "PlatformUnavailable"
    poller.fail = None
    assert world.service.run().stored == 1


def test_deleted_posts_are_found_in_rotating_batches() -> None:
    posts = [post(i) for i in range(3)]
    poller = ScriptedPoller(posts)
    world = World(poller)
    world.service.run()
    ids_in_order = sorted(world.mentions())
    by_doc = {mention_doc_id("bluesky", p.post_id): p.post_id for p in posts}
    assert poller.asked == [[by_doc[i] for i in ids_in_order[:2]]]  # batch of 2
    poller.gone.add(by_doc[ids_in_order[2]])
    result = world.service.run()  # the rest, then from the start again to fill the batch
    assert poller.asked[-1] == [by_doc[ids_in_order[2]], by_doc[ids_in_order[0]]] and result.deleted == 1
    assert world.mentions()[ids_in_order[2]]["status"] == "deleted"
    assert world.mentions()[ids_in_order[2]]["text"] == ""
    world.service.run()
    assert poller.asked[-1] == [by_doc[ids_in_order[1]], by_doc[ids_in_order[0]]]  # the deleted one is not open


# -- the real pollers against their fakes ---------------------------------------------------------
@pytest.fixture(scope="module")
def sky() -> Iterator[FakeBluesky]:
    with make_bluesky("app-pass-word-1234") as server:
        yield server


@pytest.fixture(scope="module")
def masto() -> Iterator[FakeMastodon]:
    with make_mastodon("masto-token") as server:
        yield server


def test_bluesky_through_the_service_mention_brand_reply_delete_and_repoll(sky: FakeBluesky) -> None:
    sky.reset()
    with httpx.Client(timeout=5) as http:
        client = BlueskyClient(handle=BRAND_HANDLE, app_password="app-pass-word-1234", pds_url=sky.url,
                               appview_url=sky.url, http=http)
        world = World(BlueskyPoller(client), check_batch=50)
        world.clock.now = datetime.now(UTC)
        question = sky.add_post(f"@{BRAND_HANDLE} kein Netz", author_did="did:plc:aaaa", handle="a.bsky.social")
        other = sky.add_post(f"@{BRAND_HANDLE} Rechnung falsch", author_did="did:plc:bbbb", handle="b.bsky.social")
        radar = sky.add_post("Telko hilft Störung in Kiel", author_did="did:plc:cccc", handle="c.bsky.social",
                             reason=None)
        first = world.service.run()
        assert first.stored == 3 and first.errors == []
        doc = world.mentions()[mention_doc_id("bluesky", question)]
        assert doc["status"] == "open" and doc["author_id"] == "did:plc:aaaa" and doc["radar"] is False
        assert world.mentions()[mention_doc_id("bluesky", radar)]["radar"] is True
        sky.add_brand_post("Wir sind dran.", reply_to=question)
        sky.delete_post(other)
        second = world.service.run()
        assert second.answered == 1 and second.deleted == 1 and second.stored == 0 and second.duplicates == 0
        assert world.mentions()[mention_doc_id("bluesky", question)]["status"] == "answered"
        assert world.mentions()[mention_doc_id("bluesky", other)]["status"] == "deleted"
        assert len(world.mentions()) == 3


def test_mastodon_through_the_service_dm_and_brand_reply(masto: FakeMastodon) -> None:
    masto.reset()
    with httpx.Client(timeout=5) as http:
        world = World(MastodonPoller(MastodonClient(masto.url, "masto-token", http=http),
                                     frozenset({BRAND_ACCOUNT_ID})), check_batch=50)
        world.clock.now = datetime.now(UTC)
        dm = masto.add_status("kabelsalat", "@telkohilft meine Kundennummer ist 1234567", visibility="direct")
        public = masto.add_status("mia", "@telkohilft kein Netz")
        first = world.service.run()
        assert first.stored == 2 and first.errors == []
        assert world.mentions()[mention_doc_id("mastodon", dm)]["kind"] == "dm"
        masto.add_brand_status("@mia Wir sind dran.", in_reply_to=public)
        masto.add_brand_status("@kabelsalat Danke, wir rufen an.", in_reply_to=dm, visibility="direct")
        second = world.service.run()  # the brand's direct answer shows only in the message's thread
        assert second.answered == 2 and second.stored == 0
        assert world.mentions()[mention_doc_id("mastodon", public)]["status"] == "answered"
        assert world.mentions()[mention_doc_id("mastodon", dm)]["status"] == "answered"
        masto.delete_status(public)
        third = world.service.run()
        assert third.deleted == 1 and third.answered == 0
        assert world.mentions()[mention_doc_id("mastodon", public)]["status"] == "deleted"
