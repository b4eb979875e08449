"""Mastodon: polled (no webhooks). Customers' mentions (``visibility: direct`` ones are DMs) come
from the brand's notifications, the brand's own replies from its accounts' statuses, radar hits
from hashtag timelines and, where the instance has full-text search, ``/api/v2/search``. The
handoff is a direct status, the public note a reply; both carry an ``Idempotency-Key``.
Configured by ``MASTODON_BASE_URL``, ``MASTODON_ACCESS_TOKEN``, ``MASTODON_ACCOUNT_IDS``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hilft.channels import Capabilities, SendOnce, register
from hilft.channels.mastodon import parse
from hilft.channels.mastodon.client import PAGE_LIMIT, MastodonClient, NotSupported
from hilft.channels.polling import PolledPage, id_newer, newest_id, register_poller
from hilft.core.document import MentionDoc
from hilft.core.errors import PlatformRateLimited, PrivateChannelRefused
from hilft.core.models import Deletion, Kind, Mention, ParsedBatch, Platform

if TYPE_CHECKING:
    import httpx

    from hilft.settings import Settings

PLATFORM = Platform.MASTODON.value
FIRST_RUN_LOOKBACK = timedelta(days=1)
SEARCH_RETRY = timedelta(hours=6)  # an instance without full-text search is asked again this much later
MAX_SEARCH_OFFSET = 2000  # a search catch-up reads at most this many hits back (50 pages)
# The deleted-post check costs one request per post, from the account's 300 per 5 minutes (Mastodon's
# default) that polling and replies share: a small batch per run, and none while the window runs low.
VISIBILITY_ORDER = ("public", "unlisted", "private", "direct")  # widest first
SEND_STARTED = "mastodon_sent_at"  # noted in the send-once claim before a status is first posted
IDEMPOTENCY_WINDOW = timedelta(minutes=55)  # Mastodon keeps an Idempotency-Key for one hour
CHECK_BATCH = 10
CHECK_RESERVE = 100  # requests of the window the check leaves to polling, replies and DMs
CAPABILITIES = Capabilities(delivery="poll", can_reply=True, can_dm=True, can_fetch=True,
                            can_hide=False)  # no API hides a reply for the brand: the handoff DM says how to delete it
_TAG = re.compile(r"#?([^\W_][\w]{0,99})")


def idempotency_key(purpose: str, post_id: str, send: SendOnce | None = None) -> str:
    """One key per send: a retry of the same send (the same send-once claim and part) repeats the
    key, so Mastodon answers with the status it already posted instead of posting a second one;
    a different send to the same post (a holding reply after an out-of-hours note) has its own.
    Without ``send`` the key is the post's and the call's."""
    name = f"send\x1f{send.key}" if send is not None else f"{purpose}\x1f{post_id}"
    return hashlib.sha256(f"hilft\x1fmastodon\x1f{name}".encode()).hexdigest()


class MastodonGateway:
    capabilities = CAPABILITIES

    def __init__(self, client: MastodonClient) -> None:
        self.client = client

    def send_private(self, post: MentionDoc, text: str, now: datetime, *, send: SendOnce | None = None) -> str:
        acct = parse.safe_acct(post.author_handle)
        if acct is None:  # a direct status reaches only the accounts it mentions
            raise PrivateChannelRefused("mastodon: author's account name unknown")
        return self._post(post, f"@{acct} {text}", "direct", "private", send)

    def public_reply(self, post: MentionDoc, text: str, *, send: SendOnce | None = None) -> str:
        """A reply as visible as the post it answers, never more: a followers-only or unlisted
        mention gets a followers-only or unlisted answer (Mastodon's own compose rule), a DM a
        direct one."""
        acct = parse.safe_acct(post.author_handle)
        body = f"@{acct} {text}" if acct else text
        visibility = "direct" if post.kind == Kind.DM else self._reply_visibility(post.post_id)
        return self._post(post, body, visibility, "public", send)

    def _reply_visibility(self, post_id: str) -> str:
        status = self.client.status(post_id) if post_id.isdigit() else None
        if status is None:
            raise PrivateChannelRefused("mastodon: the status to answer is gone")
        return _narrower("public", status.get("visibility"))

    def _post(self, post: MentionDoc, body: str, visibility: str, purpose: str, send: SendOnce | None) -> str:
        """``POST /api/v1/statuses`` with the send's ``Idempotency-Key``. Mastodon keeps a key for one
        hour only, and a task retries for 24: a retry more than ``IDEMPOTENCY_WINDOW`` after the
        send began (noted in its claim) first reads the post's thread and takes the brand's reply
        with this visibility written since then as this send's, instead of posting it again."""
        now = datetime.now(UTC)
        started = parse.parse_time(send.recall(SEND_STARTED)) if send is not None else None
        if send is not None and started is None:
            send.note(SEND_STARTED, now.isoformat())
        elif started is not None and now - started > IDEMPOTENCY_WINDOW:
            earlier = self._earlier_reply(post.post_id, visibility, started)
            if earlier is not None:
                return earlier
        return self.client.post_status(body, in_reply_to_id=post.post_id, visibility=visibility,
                                       idempotency_key=idempotency_key(purpose, post.post_id, send))

    def _earlier_reply(self, post_id: str, visibility: str, since: datetime) -> str | None:
        context = self.client.context(post_id) if post_id.isdigit() else None
        if context is None:
            return None
        brand = self.client.own_account_id()
        for status in parse.items_of(context.get("descendants")):
            account = status.get("account")
            created = parse.parse_time(status.get("created_at"))
            if (isinstance(account, Mapping) and account.get("id") == brand and status.get("in_reply_to_id") == post_id
                    and status.get("visibility") == visibility and created is not None
                    and created >= since - timedelta(minutes=2) and isinstance(status.get("id"), str)):
                return str(status["id"])
        return None


def _narrower(a: str, b: Any) -> str:
    """The narrower of two visibilities (an unknown one counts as ``direct``)."""
    rank = {v: i for i, v in enumerate(VISIBILITY_ORDER)}
    return max((a, b if b in rank else "direct"), key=lambda v: rank[v])


class MastodonPoller:
    platform = PLATFORM
    check_batch = CHECK_BATCH

    def __init__(self, client: MastodonClient, account_ids: frozenset[str]) -> None:
        self.client = client
        self._accounts = account_ids

    def brand_ids(self) -> frozenset[str]:
        if not self._accounts:
            self._accounts = frozenset({self.client.own_account_id()})
        return self._accounts

    def sources(self, radar_keywords: Sequence[str]) -> list[str]:
        found = ["notifications", *(f"account:{a}" for a in sorted(self.brand_ids()))]
        for keyword in radar_keywords:
            keyword = keyword.strip()
            if not keyword:
                continue
            tag = _TAG.fullmatch(keyword)
            if tag:
                found.append(f"tag:{tag.group(1)}")
            found.append(f"search:{keyword}")
        return found

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]:
        brand = self.brand_ids()
        account = sorted(brand)[0] if brand else None
        to_batch: Callable[[list[Any]], ParsedBatch]
        fetch: Callable[[str | None], list[Any]]
        cursor_of: Callable[[Mapping[str, Any]], str]
        if source == "notifications":
            fetch = self.client.notifications
            to_batch = lambda items: parse.parse_notifications(items, brand, account)  # noqa: E731
            cursor_of = lambda n: str(n.get("id") or "")  # noqa: E731  # notification ids, not status ids
        elif source.startswith("account:"):
            own = source.removeprefix("account:")
            fetch = lambda min_id: self.client.account_statuses(own, min_id)  # noqa: E731
            to_batch = lambda items: parse.parse_statuses(items, brand, own)  # noqa: E731
            cursor_of = lambda s: str(s.get("id") or "")  # noqa: E731
        elif source.startswith("tag:"):
            tag = source.removeprefix("tag:")
            fetch = lambda min_id: self.client.tag_timeline(tag, min_id)  # noqa: E731
            to_batch = lambda items: parse.parse_statuses(items, brand, account)  # noqa: E731
            cursor_of = lambda s: str(s.get("id") or "")  # noqa: E731
        elif source.startswith("search:"):
            yield from self._search(source.removeprefix("search:"), state or {}, now, brand, account)
            return
        else:
            raise ValueError(f"unknown mastodon source {source!r}")
        yield from _walk_forward(fetch, to_batch, cursor_of, state or {}, now)

    def _search(self, query: str, state: Mapping[str, Any], now: datetime, brand: frozenset[str],
                account: str | None) -> Iterator[PolledPage]:
        until = parse.parse_time(state.get("unsupported_until"))
        if until is not None and until > now:
            return

        def fetch(min_id: str | None, offset: int) -> list[Any]:
            return parse.statuses_of_search(self.client.search_statuses(query, min_id, offset=offset))

        try:
            yield from _walk_search(fetch, lambda items: parse.parse_statuses(items, brand, account), state, now)
        except NotSupported:
            later = (now + SEARCH_RETRY).astimezone(UTC).isoformat()
            yield PolledPage(ParsedBatch(), {**state, "unsupported_until": later})

    def check(self, posts: Sequence[MentionDoc]) -> ParsedBatch:
        """Gone posts become deletions. An open direct message is read with its thread: the brand's
        direct answers appear in no timeline hilft polls, so an answer in the thread (written in a
        Mastodon app) is the brand's reply to that message."""
        brand = self.brand_ids()
        account = sorted(brand)[0] if brand else None
        events: list[Mention | Deletion] = []
        now = datetime.now(UTC)
        for post in posts:
            post_id = post.post_id
            if not post_id.isdigit():
                continue
            self._keep_reserve(now)
            if post.kind != Kind.DM or not post.unanswered:
                if not self.client.status_exists(post_id):
                    events.append(Deletion(platform=Platform.MASTODON, post_id=post_id, deleted_at=now))
                continue
            context = self.client.context(post_id)
            if context is None:
                events.append(Deletion(platform=Platform.MASTODON, post_id=post_id, deleted_at=now))
                continue
            thread = parse.parse_statuses(parse.items_of(context.get("descendants")), brand, account).events
            answers = [e for e in thread if isinstance(e, Mention) and e.is_brand]
            if answers:
                first = min(answers, key=lambda e: e.created_at)
                events.append(first.model_copy(update={"in_reply_to": post_id, "kind": Kind.REPLY}))
        return ParsedBatch(events=tuple(events))

    def deleted(self, post_ids: Sequence[str]) -> list[Deletion]:
        now = datetime.now(UTC)
        found = []
        for post_id in (p for p in post_ids if p.isdigit()):
            self._keep_reserve(now)
            if not self.client.status_exists(post_id):
                found.append(Deletion(platform=Platform.MASTODON, post_id=post_id, deleted_at=now))
        return found

    def _keep_reserve(self, now: datetime) -> None:
        """Stop the check (a rate limit until the window resets: the poll service parks it, the
        batch is asked again then) when the window has ``CHECK_RESERVE`` requests left or fewer."""
        remaining = self.client.rate_remaining
        if remaining is not None and remaining <= CHECK_RESERVE:
            reset = self.client.rate_reset
            until = reset if reset is not None and reset > now else now + timedelta(minutes=5)
            raise PlatformRateLimited(until, "mastodon: rate-limit window kept for polling and replies")


def _walk_forward(fetch: Callable[[str | None], list[Any]], to_batch: Callable[[list[Any]], ParsedBatch],
                  cursor_of: Callable[[Mapping[str, Any]], str], state: Mapping[str, Any],
                  now: datetime) -> Iterator[PolledPage]:
    """Page forward from ``state["min_id"]`` until a page comes back short.

    The first poll of a source (no cursor yet) takes the newest page, keeps what is younger than
    ``FIRST_RUN_LOOKBACK`` and starts its cursor there.
    """
    min_id = state.get("min_id") if isinstance(state.get("min_id"), str) else None
    while True:
        page = parse.items_of(fetch(min_id))
        ids = [cursor_of(item) for item in page]
        newest = newest_id(ids)
        fresh = [item for item in page if id_newer(cursor_of(item), min_id)]
        if min_id is None:
            floor = now - FIRST_RUN_LOOKBACK
            fresh = [item for item in fresh if (parse.parse_time(item.get("created_at")) or now) >= floor]
        fresh.sort(key=lambda item: (len(cursor_of(item)), cursor_of(item)))  # oldest first
        first_run = min_id is None
        if newest is not None and id_newer(newest, min_id):
            min_id = newest
        new_state = {k: v for k, v in state.items() if k != "unsupported_until"}
        new_state["min_id"] = min_id
        yield PolledPage(to_batch(fresh), new_state, len(page))
        if first_run or len(page) < PAGE_LIMIT:
            return


def _walk_search(fetch: Callable[[str | None, int], list[Any]], to_batch: Callable[[list[Any]], ParsedBatch],
                 state: Mapping[str, Any], now: datetime) -> Iterator[PolledPage]:
    """Read search hits newest first, page by page with ``offset``, down to the cursor ``min_id``;
    only then does the cursor move up to the newest hit the walk began with.

    Search answers the newest hits after ``min_id`` (not the ones immediately after it, as the
    timelines do), so moving the cursor to a page's newest id would skip everything below it. A walk
    cut short by the run's bounds is kept in ``state["walk"]`` (``offset``, ``top``) and continues next
    run; hits that arrived meanwhile push older ones down, so a resumed walk may read a few twice
    (``create()`` dedupes), never skip one. A first walk (no cursor) reaches back ``FIRST_RUN_LOOKBACK``.
    """
    cursor = state.get("min_id") if isinstance(state.get("min_id"), str) else None
    raw = state.get("walk")
    walk: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    raw_offset = walk.get("offset")
    offset = raw_offset if isinstance(raw_offset, int) and raw_offset >= 0 else 0
    top = walk.get("top") if isinstance(walk.get("top"), str) else None
    floor = now - FIRST_RUN_LOOKBACK
    base = {k: v for k, v in state.items() if k not in ("unsupported_until", "walk")}
    previous: list[str] | None = None
    while True:
        page = parse.items_of(fetch(cursor, offset))
        ids = [str(item.get("id") or "") for item in page]
        if top is None:  # the walk's first page: its newest hit is where the cursor goes when done
            top = newest_id(ids)
        fresh = [item for item in page if id_newer(str(item.get("id") or ""), cursor)]
        if cursor is None:
            fresh = [item for item in fresh if (parse.parse_time(item.get("created_at")) or now) >= floor]
        # The end, the cursor or the look back; or a server that ignores ``offset`` (the same page
        # again) or a backlog deeper than anyone will read: move on rather than loop.
        reached = (len(page) < PAGE_LIMIT or len(fresh) < len(page) or ids == previous
                   or offset + len(page) >= MAX_SEARCH_OFFSET)
        previous = ids
        fresh.sort(key=lambda item: (len(str(item.get("id"))), str(item.get("id"))))  # oldest first
        if reached:
            done = top if top is not None and id_newer(top, cursor) else cursor
            new_state: dict[str, Any] = {**base, "min_id": done}
        else:
            offset += len(page)
            new_state = {**base, "min_id": cursor, "walk": {"offset": offset, "top": top}}
        yield PolledPage(to_batch(fresh), new_state, len(page))
        if reached:
            return


def _client(settings: Settings, http: httpx.Client) -> MastodonClient | None:
    if not settings.mastodon_base_url or not settings.mastodon_access_token:
        return None
    return MastodonClient(settings.mastodon_base_url, settings.mastodon_access_token, http=http)


def _gateway(settings: Settings, http: httpx.Client) -> MastodonGateway | None:
    client = _client(settings, http)
    return MastodonGateway(client) if client else None


def _poller(settings: Settings, http: httpx.Client) -> MastodonPoller | None:
    client = _client(settings, http)
    return MastodonPoller(client, settings.mastodon_account_ids) if client else None


register((PLATFORM,), _gateway)
register_poller(PLATFORM, _poller)
