"""Threads' documented ``publish`` webhook names the brand's post but not what it answers: the
ingest queues a ``brand_lookup`` task, which reads the post back from Threads (the fake Threads API)
and stops the clock of the customer's post it replies to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fakes.threads_api import DEFAULT_USER_ID, FakeThreadsApi, make_threads_api
from hilft.channels.threads import ThreadsGateway, parse
from hilft.channels.threads.client import ThreadsClient
from hilft.core import ids
from hilft.core.models import Kind, Status
from hilft.service.brand_lookup import KIND, BrandLookupService
from hilft.service.ports import MENTIONS
from tests.unit.test_services import World

TOKEN = "threads-lookup-token"  # noqa: S105
BRAND = DEFAULT_USER_ID
BRANDS = frozenset({BRAND})
PUBLISH = Path(__file__).parents[1] / "fixtures" / "threads" / "documented" / "publish.json"
AT = "2026-11-30T09:00:00+0000"


@pytest.fixture
def api() -> Iterator[FakeThreadsApi]:
    with make_threads_api(TOKEN) as fake:
        yield fake


def delivery(field: str, value: dict[str, object], topic: str) -> bytes:
    return json.dumps({"app_id": "555", "topic": topic, "target_id": BRAND, "time": 1764493200,
                       "values": {"value": value, "field": field}}).encode()


def documented_publish(post_id: str) -> bytes:
    """Meta's documented publish sample (no replied_to, no root_post), for the brand's account."""
    raw = json.loads(PUBLISH.read_bytes())
    raw["target_id"] = BRAND
    raw["values"]["value"]["id"] = post_id
    return json.dumps(raw).encode()


def world_with_customer_reply() -> World:
    world = World(start=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    customer = delivery("replies", {"id": "900", "username": "kundin_anna", "text": "Router blinkt rot",
                                    "timestamp": AT, "replied_to": {"id": "500"},
                                    "root_post": {"id": "500", "owner_id": BRAND, "username": "telekom_hilft"}},
                        "moderate")
    assert world.ingest.ingest(parse.parse(customer, brand_user_ids=BRANDS), BRANDS).stored == 1
    return world


def lookup_tasks(world: World) -> list[dict[str, object]]:
    return [t.payload for t in world.scheduler.tasks.values() if t.payload.get("kind") == KIND]


def test_the_documented_publish_payload_asks_for_a_lookup() -> None:
    (event,) = parse.parse(PUBLISH.read_bytes(), brand_user_ids=frozenset({"78901"})).events
    assert event.is_brand and event.in_reply_to is None and event.needs_enrichment


def test_a_publish_with_replied_to_or_a_top_level_post_needs_no_lookup() -> None:
    replied = {"id": "902", "username": "telekom_hilft", "timestamp": AT, "replied_to": {"id": "900"}}
    top = {"id": "903", "username": "telekom_hilft", "timestamp": AT, "is_reply": False}
    for value in (replied, top):
        (event,) = parse.parse(delivery("publish", value, "interaction"), brand_user_ids=BRANDS).events
        assert not event.needs_enrichment


def test_the_brands_reply_from_the_threads_app_stops_the_clock(api: FakeThreadsApi, http: httpx.Client) -> None:
    world = world_with_customer_reply()
    api.add_brand_reply("902", replied_to="900", text="Wir schauen nach!", timestamp="2026-11-30T09:05:00+0000")
    result = world.ingest.ingest(parse.parse(documented_publish("902"), brand_user_ids=BRANDS), BRANDS)
    assert result.brand == 1 and result.answered == 0  # the webhook alone cannot say what it answers
    (task,) = lookup_tasks(world)
    assert task["post_id"] == "902" and task["account"] == BRAND
    service = BrandLookupService(ingest=world.ingest, scheduler=world.scheduler, clock=world.clock,
                                 gateways=lambda p: ThreadsGateway(ThreadsClient(api.url, TOKEN, http=http)))
    assert service.run(task).outcome == "answered"
    doc = world.store.get(MENTIONS, ids.mention_doc_id("threads", "900"))
    assert doc is not None and doc.data["status"] == Status.ANSWERED.value
    read = next(r for r in api.accepted if r.path.endswith("/902"))
    assert "replied_to" in read.query and read.header("authorization") == f"Bearer {TOKEN}"
    assert service.run(task).outcome == "no_open_post"  # a redelivered task changes nothing


def test_a_brand_top_level_post_or_a_gone_one_answers_nothing(api: FakeThreadsApi, http: httpx.Client) -> None:
    world = world_with_customer_reply()
    api.add_post("904", author_id=BRAND, username="telekom_hilft")
    service = BrandLookupService(ingest=world.ingest, scheduler=world.scheduler, clock=world.clock,
                                 gateways=lambda p: ThreadsGateway(ThreadsClient(api.url, TOKEN, http=http)))
    for post_id, outcome in (("904", "not_a_reply"), ("905", "gone")):
        world.ingest.ingest(parse.parse(documented_publish(post_id), brand_user_ids=BRANDS), BRANDS)
        task = next(t for t in lookup_tasks(world) if t["post_id"] == post_id)
        assert service.run(task).outcome == outcome
    doc = world.store.get(MENTIONS, ids.mention_doc_id("threads", "900"))
    assert doc is not None and doc.data["status"] == Status.OPEN.value and doc.data["kind"] == Kind.REPLY.value


def test_a_rate_limited_lookup_is_asked_again_later(api: FakeThreadsApi, http: httpx.Client) -> None:
    world = world_with_customer_reply()
    world.ingest.ingest(parse.parse(documented_publish("906"), brand_user_ids=BRANDS), BRANDS)
    (task,) = lookup_tasks(world)
    api.rate_limit_next(1)
    service = BrandLookupService(ingest=world.ingest, scheduler=world.scheduler, clock=world.clock,
                                 gateways=lambda p: ThreadsGateway(ThreadsClient(api.url, TOKEN, http=http)))
    assert service.run(task).outcome == "rate_limited"
    assert [t["attempt"] for t in lookup_tasks(world)] == [0, 1]
