"""What the fake sinks accepted about one post, and the waits that prove nothing more can come.

Shared by the e2e suite (``tests.stack_fixtures.Hub``) and the fault tests (``rig.Rig``): both
give ``world`` (the fake outside world), ``db`` (Firestore) and ``post_x``. Every count is scoped
to one post and one level. "Nothing (more) happened" is proven by waiting for an event that must
come later, never by sleeping:

- the post's tasks leaving the queue: Cloud Tasks deletes a task only once its handler answered
  2xx (a retry stays queued), so after that every alert those tasks could send has arrived;
- a later post's alert at a moment past the one in question: deadline tasks are dispatched in
  due order and never early, so a task due at that moment ran seconds before.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

ALL_SINKS = ("google_chat", "pagerduty", "slack", "webhook")
_SLACK_CONTEXT = re.compile(r"level (\d+) · post (\S+)$")


class Stack(Protocol):
    """What these helpers need from a running stack (the e2e ``Hub`` or a fault test's ``Rig``)."""

    @property
    def world(self) -> Any: ...

    @property
    def db(self) -> Any: ...

    def post_x(self, body: bytes) -> httpx.Response: ...


@dataclass(frozen=True)
class Delivery:
    """One alert (trigger) a sink accepted: which sink, which level, when the fake read it."""

    sink: str
    level: int
    received_at: float  # epoch seconds


def doc_id_of(post_id: str, platform: str = "x") -> str:
    from hilft.core.ids import mention_doc_id

    return mention_doc_id(platform, post_id)


def mention(stack: Stack, post_id: str, platform: str = "x") -> dict[str, Any] | None:
    snap = stack.db.collection("mentions").document(doc_id_of(post_id, platform)).get()
    return snap.to_dict() if snap.exists else None


def due_at_of(stack: Stack, post_id: str, platform: str = "x") -> datetime:
    doc = mention(stack, post_id, platform)
    assert doc is not None and doc.get("due_at") is not None, f"post {post_id} has no due time"
    return doc["due_at"]


def alerted(stack: Stack, post_id: str, level: int, platform: str = "x") -> Callable[[], dict[str, Any] | None]:
    """A predicate: the post's alert of this level is recorded as sent (the document, then)."""
    def check() -> dict[str, Any] | None:
        doc = mention(stack, post_id, platform) or {}
        return doc if (doc.get("alerts") or {}).get(str(level), {}).get("state") == "sent" else None
    return check


# -- what the sinks accepted ------------------------------------------------------------------------


def _slack_level(body: dict[str, Any], post_id: str) -> int | None:
    """Slack's trigger carries ``hilft · level N · post P`` in its context block."""
    for block in body.get("blocks") or []:
        if block.get("type") != "context":
            continue
        for element in block.get("elements") or []:
            match = _SLACK_CONTEXT.search(str(element.get("text", "")))
            if match and match.group(2) == post_id:
                return int(match.group(1))
    return None


def _level(sink: str, body: Any, post_id: str, doc_id: str) -> int | None:
    """The level of a trigger about this post, read the way that sink's message carries it."""
    if not isinstance(body, dict):
        return None
    key = f"hilft-{doc_id}"
    if sink == "slack":
        return _slack_level(body, post_id)
    if sink == "google_chat":
        cards = body.get("cardsV2") or []
        if (body.get("thread") or {}).get("threadKey") != key or not cards:
            return None  # another post, or a resolve/acknowledge note
        return int(cards[0]["cardId"].rsplit("-", 1)[1])
    if sink == "pagerduty":
        if body.get("event_action") != "trigger" or body.get("dedup_key") != key:
            return None
        return int(body["payload"]["custom_details"]["level"])
    if body.get("event") != "triggered" or body.get("doc_id") != doc_id:  # the generic webhook
        return None
    return int(body["level"])


def fake_of(world: Any, sink: str) -> Any:
    return {"slack": world.slack, "google_chat": world.chat, "pagerduty": world.pagerduty,
            "webhook": world.webhook}[sink]


def alerts_about(stack: Stack, post_id: str, platform: str = "x") -> list[Delivery]:
    """Every alert about one post that any sink accepted."""
    doc_id = doc_id_of(post_id, platform)
    found = []
    for sink in ALL_SINKS:
        for request in list(fake_of(stack.world, sink).accepted):
            level = _level(sink, request.json(), post_id, doc_id)
            if level is not None:
                found.append(Delivery(sink, level, request.received_at))
    return found


def per_sink(stack: Stack, post_id: str, level: int, platform: str = "x") -> Counter[str]:
    """How many alerts of one level about one post each sink accepted."""
    return Counter(d.sink for d in alerts_about(stack, post_id, platform) if d.level == level)


def once_each(*sinks: str) -> Counter[str]:
    return Counter(dict.fromkeys(sinks, 1))


# -- waiting for events -----------------------------------------------------------------------------


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def task_kind(task: Any) -> str | None:
    return json.loads(task.http_request.body).get("kind") if task.http_request.body else None


def queued_tasks(tasks_client: Any, doc_id: str, kinds: Iterable[str] | None = None) -> list[Any]:
    """The queued tasks about one document (optionally of these kinds)."""
    from google.cloud import tasks_v2

    from stack import QUEUE

    wanted = None if kinds is None else frozenset(kinds)
    listed = tasks_client.list_tasks(request={"parent": QUEUE, "response_view": tasks_v2.Task.View.FULL})
    return [t for t in listed if t.http_request.body
            and json.loads(t.http_request.body).get("doc_id") == doc_id
            and (wanted is None or task_kind(t) in wanted)]


def wait_until_no_tasks(tasks_client: Any, doc_id: str, kinds: Iterable[str] | None = None,
                        timeout: float = 20.0) -> None:
    """Wait until no task (of these kinds) is queued for the document: each ran to a 2xx or was deleted.

    Cloud Tasks deletes a task only once its handler answered 2xx, so after this every alert those
    tasks could send has been received (a retry stays queued until it succeeds).
    """
    kinds = None if kinds is None else frozenset(kinds)
    what = "/".join(sorted(kinds)) if kinds else "all"
    wait_for(lambda: not queued_tasks(tasks_client, doc_id, kinds), timeout=timeout,
             what=f"the {what} tasks of {doc_id[:12]}… to finish")


def wait_until_task_done(tasks_client: Any, name: str, timeout: float = 20.0) -> None:
    """Wait until one task left the queue (its handler answered 2xx)."""
    from google.api_core import exceptions as gexc

    def gone() -> bool:
        try:
            tasks_client.get_task(name=name)
        except gexc.NotFound:
            return True
        return False
    wait_for(gone, timeout=timeout, what=f"task {name.rsplit('/', 1)[-1]} to finish")


def later_post_alerted_past(stack: Stack, moment: datetime, *, new_post: Callable[[str], tuple[str, bytes]],
                            margin: timedelta, realert_every: timedelta | None = None, max_level: int = 1,
                            timeout: float = 25.0) -> str:
    """Proof of absence by a later event that must happen: a fresh post's alert at least ``margin``
    after ``moment``, as received by the generic webhook sink (on every level of the ladder here).

    The fresh post (no personal data, no private department: it is alerted, not handed off) is
    alerted at its due time, or escalated at due + ``realert_every`` × (level − 1) up to
    ``max_level`` when that is needed to get past ``moment``. Deadline tasks are dispatched in due
    order and never early, so anything due at ``moment`` was dispatched at least ``margin`` before
    this alert, which is waited for. Returns the later post's id.
    """
    post_id, body = new_post("Kein Empfang in der Bahn, schon wieder.")
    assert stack.post_x(body).status_code == 200
    due_at = due_at_of(stack, post_id)
    step = realert_every or timedelta(0)
    level = 1
    while due_at + step * (level - 1) < moment + margin and level < max_level:
        level += 1
    assert due_at + step * (level - 1) >= moment + margin, "the later post cannot be alerted far enough past that moment"
    wait_for(lambda: per_sink(stack, post_id, level)["webhook"] >= 1, timeout=timeout,
             what=f"the later post's level-{level} alert")
    return post_id
