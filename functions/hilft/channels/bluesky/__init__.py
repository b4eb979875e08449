"""Bluesky: polled (no webhooks). Customers' mentions, replies and quotes come from the brand's
notifications, the brand's own replies from its repo, radar hits from post search, and direct
messages both ways from the chat service's event log (``chat.bsky.convo.getLog``): a customer's
message is a DM item, the brand's message in that conversation (sent from any app) its answer.
The handoff is a chat DM, the public note a threaded reply; an answer to a DM goes into its
conversation. Configured by ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD`` (an app password
allowed to use DMs; plus ``BLUESKY_PDS_URL``, ``BLUESKY_APPVIEW_URL``, ``BLUESKY_CHAT_URL``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hilft.channels import Capabilities, SendOnce, register
from hilft.channels.bluesky import parse
from hilft.channels.bluesky.client import GET_POSTS_MAX, BlueskyClient
from hilft.channels.polling import NewestFirst, PolledPage, register_poller, walk_newest_first
from hilft.core.document import MentionDoc
from hilft.core.errors import PrivateChannelRefused
from hilft.core.models import AccessRevoked, Deletion, Kind, Mention, ParsedBatch, Platform

if TYPE_CHECKING:
    import httpx

    from hilft.settings import Settings

PLATFORM = Platform.BLUESKY.value
FIRST_RUN_LOOKBACK = timedelta(days=1)  # how far back the very first poll of a source reaches
CHAT_SOURCE = "chat"
DM_STARTED = "dm_started_at"  # noted in the send-once claim before a chat message is first sent
LOOKBACK_CONVO_PAGES = 5  # a first run reads at most this many listConvos pages (100 convos each)…
LOOKBACK_MESSAGE_PAGES = 5  # …and this many getMessages pages (100 messages each) per conversation
CAPABILITIES = Capabilities(delivery="poll", can_reply=True, can_dm=True, can_fetch=True,
                            can_hide=False)  # no API hides a reply for the brand: the handoff DM says how to delete it


def _client(settings: Settings, http: httpx.Client) -> BlueskyClient | None:
    if not settings.bluesky_handle or not settings.bluesky_app_password:
        return None
    return BlueskyClient(handle=settings.bluesky_handle, app_password=settings.bluesky_app_password,
                         pds_url=settings.bluesky_pds_url, appview_url=settings.bluesky_appview_url,
                         chat_url=settings.bluesky_chat_url, http=http)


class BlueskyGateway:
    capabilities = CAPABILITIES

    def __init__(self, client: BlueskyClient) -> None:
        self.client = client

    def send_private(self, post: MentionDoc, text: str, now: datetime, *, send: SendOnce | None = None) -> str:
        convo = dm_convo(post)
        if convo is not None:  # the customer wrote a DM: the answer goes into that conversation
            return self.client.send_to_convo(convo, text, since=_started(send, now))
        did = post.author_id or ""
        if not did.startswith("did:"):
            raise PrivateChannelRefused("bluesky: author unknown")
        return self.client.send_dm(did, text, since=_started(send, now))

    def public_reply(self, post: MentionDoc, text: str, *, send: SendOnce | None = None) -> str:
        """A threaded reply (a message when the post is a DM). Its record key comes from ``send``:
        a retry of this send finds the record it already wrote, another send writes its own."""
        convo = dm_convo(post)
        if convo is not None:  # a reply to a DM is a message in its conversation, never a public post
            return self.client.send_to_convo(convo, text, since=_started(send, datetime.now(UTC)))
        when = post.created_at or datetime.fromtimestamp(0).astimezone()
        return self.client.reply(post.post_id, text, created_at=when,
                                 purpose=send.key if send is not None else "hilft-reply", lang=post.lang)


class BlueskyPoller:
    platform = PLATFORM

    def __init__(self, client: BlueskyClient) -> None:
        self.client = client

    def brand_ids(self) -> frozenset[str]:
        return frozenset({self.client.session_did()})

    def sources(self, radar_keywords: Sequence[str]) -> list[str]:
        return ["notifications", "own_posts", CHAT_SOURCE, *(f"search:{k}" for k in radar_keywords if k.strip())]

    def walk(self, source: str, state: Mapping[str, Any] | None, now: datetime) -> Iterator[PolledPage]:
        did = self.client.session_did()
        brand = frozenset({did})
        start = now - FIRST_RUN_LOOKBACK
        if source == CHAT_SOURCE:
            yield from self._chat(state or {}, now, brand, did)
            return
        if source == "notifications":
            def notifications(cursor: str | None) -> tuple[list[Any], str | None]:
                body = self.client.list_notifications(cursor)
                return parse.notifications_of(body), _cursor(body)

            spec = NewestFirst(fetch=notifications, key=lambda n: parse.sort_key(n.get("indexedAt")),
                               ident=lambda n: str(n.get("uri")), start=parse.sort_key(start.isoformat()),
                               to_batch=lambda items: parse.parse_notifications({"notifications": items}, brand, did))
        elif source == "own_posts":
            def own(cursor: str | None) -> tuple[list[Any], str | None]:
                body = self.client.own_posts(cursor)
                return parse.records_of(body), _cursor(body)

            spec = NewestFirst(fetch=own, key=lambda r: (parse.uri_parts(str(r.get("uri"))) or ("", "", ""))[2],
                               ident=lambda r: str(r.get("uri")), start=parse.tid_at(start),
                               to_batch=lambda items: parse.parse_own_records(items, did, self.client.handle))
        elif source.startswith("search:"):
            query = source.removeprefix("search:")
            since = start.isoformat().replace("+00:00", "Z")

            def search(cursor: str | None) -> tuple[list[Any], str | None]:
                body = self.client.search_posts(query, cursor, since=since)
                return parse.posts_of(body), _cursor(body)

            spec = NewestFirst(fetch=search, key=lambda p: parse.sort_key(p.get("indexedAt")),
                               ident=lambda p: str(p.get("uri")), start=parse.sort_key(since),
                               to_batch=lambda items: parse.parse_post_views(items, brand, did))
        else:
            raise ValueError(f"unknown bluesky source {source!r}")
        yield from walk_newest_first(spec, state)

    # -- direct messages -------------------------------------------------------------------
    def _chat(self, state: Mapping[str, Any], now: datetime, brand: frozenset[str],
              did: str) -> Iterator[PolledPage]:
        """The chat log, forward from the saved ``rev`` cursor; its state is ``{"cursor", "lookback"}``.

        ``getLog`` without a cursor starts "now" (it answers the log's current cursor, no history), so
        a first run takes that cursor first and then looks back ``FIRST_RUN_LOOKBACK`` through
        ``listConvos`` (recently active conversations first) and ``getMessages``; a look back cut
        short by the run's bounds continues next run (``lookback`` holds its listConvos cursor)
        before the log is read on from the cursor. Anything read twice dedupes in ``create()``.
        The look back reads at most ``LOOKBACK_CONVO_PAGES`` pages of conversations.
        """
        cursor = state.get("cursor") if isinstance(state.get("cursor"), str) else None
        raw = state.get("lookback")
        lookback: dict[str, Any] | None = dict(raw) if isinstance(raw, Mapping) else None
        if cursor is None:
            head = self.client.chat_log(None)
            cursor = _cursor(head) or ""
            since = now - FIRST_RUN_LOOKBACK
            lookback = {"since": since.isoformat(), "convos": None, "pages": 0}
            logs = parse.logs_of(head)
            yield PolledPage(parse.parse_chat_log(logs, brand, did, since=since, now=now),
                             {"cursor": cursor, "lookback": lookback}, len(logs))
        while lookback is not None:
            since = parse.parse_time(lookback.get("since")) or now - FIRST_RUN_LOOKBACK
            body = self.client.list_convos(lookback.get("convos"))
            convos = parse.convos_of(body)
            recent = [c for c in convos if (parse.last_message_at(c) or since - timedelta(seconds=1)) >= since]
            pages = int(lookback.get("pages") or 0) + 1
            more = _cursor(body)
            lookback = {**lookback, "convos": more, "pages": pages} \
                if more and recent and pages < LOOKBACK_CONVO_PAGES else None
            if lookback is None and pages > 1:
                # listConvos pages by each conversation's latest rev: one active again while the look
                # back was under way moved in front of its cursor. Those have a rev past the seed.
                ahead = parse.convos_of(self.client.list_convos(None))
                seen = {str(c.get("id")) for c in recent}
                recent += [c for c in ahead if str(c.get("rev") or "") > cursor and str(c.get("id")) not in seen]
            events: list[Mention | Deletion | AccessRevoked] = []
            for convo in recent:
                messages = self._messages_since(str(convo.get("id") or ""), since)
                events.extend(parse.parse_convo_messages(convo, messages, brand, did, since=since).events)
            yield PolledPage(ParsedBatch(events=tuple(events)), {"cursor": cursor, "lookback": lookback}, len(convos))
        while True:
            body = self.client.chat_log(cursor or None)
            logs = parse.logs_of(body)
            fresh = [e for e in logs if parse.log_rev(e) > cursor] if cursor else logs
            newest = max([cursor, *(parse.log_rev(e) for e in fresh)])
            if not cursor and not fresh:
                newest = _cursor(body) or ""  # the log had no cursor yet: take the first one it names
            yield PolledPage(parse.parse_chat_log(fresh, brand, did, now=now), {"cursor": newest, "lookback": None},
                             len(logs))
            if not fresh or newest == cursor:
                return
            cursor = newest

    def _messages_since(self, convo_id: str, since: datetime) -> list[Mapping[str, Any]]:
        """A conversation's messages sent since ``since`` (getMessages pages newest first)."""
        found: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(LOOKBACK_MESSAGE_PAGES):
            if not convo_id:
                break
            body = self.client.get_messages(convo_id, cursor)
            page = parse.messages_of(body)
            found.extend(page)
            cursor = _cursor(body)
            oldest = min((t for t in (parse.parse_time(m.get("sentAt")) for m in page) if t), default=None)
            if not cursor or not page or (oldest is not None and oldest < since):
                break
        return found

    def check(self, posts: Sequence[MentionDoc]) -> ParsedBatch:
        return ParsedBatch(events=tuple(self.deleted([p.post_id for p in posts])))

    def deleted(self, post_ids: Sequence[str]) -> list[Deletion]:
        found: list[Deletion] = []
        uris = [p for p in post_ids if parse.uri_parts(p)]
        for start in range(0, len(uris), GET_POSTS_MAX):
            batch = uris[start:start + GET_POSTS_MAX]
            found.extend(parse.deletions(batch, self.client.get_posts(batch), datetime.now().astimezone()))
        return found


def _started(send: SendOnce | None, now: datetime) -> datetime | None:
    """When an earlier attempt of this send began (chat messages take no idempotency key: a retry
    looks for what that attempt may have sent); None on a first attempt, which notes its start."""
    if send is None:
        return None
    earlier = parse.parse_time(send.recall(DM_STARTED))
    if earlier is None:
        send.note(DM_STARTED, now.astimezone(UTC).isoformat())
    return earlier


def dm_convo(post: MentionDoc) -> str | None:
    """The chat conversation of a stored DM (its ``conversation_id``); None for posts."""
    convo = post.conversation_id
    if post.kind != Kind.DM or not convo or convo.startswith("at://"):
        return None
    return convo


def _cursor(body: Mapping[str, Any]) -> str | None:
    cursor = body.get("cursor")
    return cursor if isinstance(cursor, str) and cursor else None


def _gateway(settings: Settings, http: httpx.Client) -> BlueskyGateway | None:
    client = _client(settings, http)
    return BlueskyGateway(client) if client else None


def _poller(settings: Settings, http: httpx.Client) -> BlueskyPoller | None:
    client = _client(settings, http)
    return BlueskyPoller(client) if client else None


register((PLATFORM,), _gateway)
register_poller(PLATFORM, _poller)
