"""Channels without usable webhooks (Bluesky, Mastodon): what the ``poll`` service asks of them.

A channel package registers a ``Poller`` builder next to its gateway. The poll service walks
each of the poller's *sources* (its notifications, the brand's own posts, one per radar keyword)
page by page: ``walk(source, state, now)`` yields ``PolledPage``s, each with the events it found
and the cursor state that is correct once those events are stored. The service stores, then
saves the state, and may stop between any two pages (page bound, time budget): the next run
continues from the last saved state, so a crash re-reads at most one page (``create()`` dedupes)
and downtime is caught up.

Two cursor shapes cover the platforms:

* ``walk_newest_first`` for APIs that list newest first and page backwards with an opaque cursor
  (Bluesky): the state is a high-water *mark* (the newest item fully stored) and, while a
  catch-up is unfinished, a *gap* (where the backward walk stopped and the newest item it began
  at). A walk ends when it reaches the mark; then the mark moves up to where the walk began.
* ``walk_forward`` for APIs that page forward from an id (Mastodon's ``min_id``): the state is
  the newest id stored.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from hilft.core.document import MentionDoc
from hilft.core.models import ParsedBatch

if TYPE_CHECKING:
    import httpx

    from hilft.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class PolledPage:
    batch: ParsedBatch
    state: dict[str, Any]  # the cursor state to save once ``batch`` is stored
    fetched: int = 0  # items the platform returned on this page (before filtering)


class Poller(Protocol):
    """One channel's inbound side when it has to be fetched. Errors are hilft's ``Platform*``.

    A poller may name ``check_batch``: how many stored posts one run's ``check`` is given at most
    (default: the poll service's batch), for platforms where each post costs a request.
    """

    platform: str

    def brand_ids(self) -> frozenset[str]: ...

    def sources(self, radar_keywords: Sequence[str]) -> list[str]: ...

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]: ...

    def check(self, posts: Sequence[MentionDoc]) -> ParsedBatch:
        """What the platform says now about these stored posts: a ``Deletion``
        for each one gone, and brand answers no other source shows (e.g. in a private thread)."""
        ...


PollerBuilder = Callable[["Settings", "httpx.Client"], Poller | None]

_POLLERS: dict[str, PollerBuilder] = {}


def register_poller(platform: str, builder: PollerBuilder) -> None:
    _POLLERS[platform] = builder


def build_pollers(settings: Settings, http: httpx.Client) -> list[Poller]:
    """Every configured poller (a channel without credentials builds ``None`` and is left out)."""
    from hilft import channels

    for module in channels.CHANNEL_MODULES:
        importlib.import_module(module)
    made = (builder(settings, http) for builder in _POLLERS.values())
    return [poller for poller in made if poller is not None]


# -- cursor walks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Mark:
    """The newest stored item: its sort key (e.g. an ISO time or a TID) and the ids sharing it."""

    key: str
    ids: tuple[str, ...] = ()

    def as_state(self) -> dict[str, Any]:
        return {"key": self.key, "ids": list(self.ids)}

    @classmethod
    def from_state(cls, raw: Any) -> Mark | None:
        if isinstance(raw, Mapping) and isinstance(raw.get("key"), str):
            return cls(raw["key"], tuple(str(i) for i in raw.get("ids") or ()))
        return None

    def is_newer(self, key: str, item_id: str) -> bool:
        return key > self.key or (key == self.key and item_id not in self.ids)


def top_mark(items: Sequence[T], key: Callable[[T], str], ident: Callable[[T], str]) -> Mark | None:
    if not items:
        return None
    newest = max(key(i) for i in items)
    return Mark(newest, tuple(ident(i) for i in items if key(i) == newest))


@dataclass
class NewestFirst:
    """Inputs of ``walk_newest_first``: how to fetch a page and read an item's sort key and id."""

    fetch: Callable[[str | None], tuple[list[Any], str | None]]  # cursor → (items newest first, next cursor)
    key: Callable[[Any], str]
    ident: Callable[[Any], str]
    to_batch: Callable[[list[Any]], ParsedBatch]
    start: str  # the sort key a first-ever walk goes back to (e.g. one day ago)
    extra: dict[str, Any] = field(default_factory=dict)  # kept in every state (e.g. "unsupported_until")


def walk_newest_first(spec: NewestFirst, state: Mapping[str, Any] | None) -> Iterator[PolledPage]:
    state = state or {}
    mark = Mark.from_state(state.get("mark")) or Mark(spec.start)
    gap = state.get("gap") if isinstance(state.get("gap"), Mapping) else None
    cursor: str | None = str(gap["cursor"]) if gap and gap.get("cursor") else None
    top = Mark.from_state(gap.get("top")) if gap else None
    resuming = cursor is not None and top is not None
    while True:
        items, next_cursor = spec.fetch(cursor)
        if top is None:
            top = top_mark(items, spec.key, spec.ident) or mark
        fresh = [i for i in items if mark.is_newer(spec.key(i), spec.ident(i))]
        reached = len(fresh) < len(items) or not next_cursor or not items
        if reached:
            new_state = {**spec.extra, "mark": (top if top.key >= mark.key else mark).as_state(), "gap": None}
        else:
            new_state = {**spec.extra, "mark": mark.as_state(),
                         "gap": {"cursor": next_cursor, "top": top.as_state()}}
        yield PolledPage(spec.to_batch(fresh), new_state, len(items))
        if not reached:
            cursor = next_cursor
            continue
        if not resuming:
            return
        # The catch-up from an earlier run is complete: now walk down from the newest again.
        mark = Mark.from_state(new_state["mark"]) or mark
        cursor, top, resuming = None, None, False


def newest_id(ids: Sequence[str]) -> str | None:
    """The largest of numeric string ids (Mastodon's), compared as numbers."""
    numeric = [i for i in ids if i.isdigit()]
    return max(numeric, key=lambda i: (len(i), i)) if numeric else None


def id_newer(candidate: str, than: str | None) -> bool:
    if than is None:
        return True
    return (len(candidate), candidate) > (len(than), than)
