"""Bluesky over plain XRPC (HTTP + JSON) with httpx: the few calls hilft makes.

Why not the ``atproto`` SDK: importing it adds ~0.5–1.3 s and ~890 modules to a cold start
(measured: ``from atproto import Client`` on top of httpx and pydantic, Python 3.11), for thirteen
HTTP calls whose shapes the lexicons pin down. httpx is loaded by hilft anyway.

* Session: ``com.atproto.server.createSession`` with the handle and an app password (one that
  may send DMs), kept per instance; an expired access token is renewed with
  ``com.atproto.server.refreshSession`` (the refresh token as bearer), a failed refresh starts a
  new session. Tokens never reach a log line.
* Reads: ``app.bsky.notification.listNotifications`` and ``app.bsky.feed.searchPosts`` through
  the PDS (authenticated; the PDS proxies ``app.bsky.*`` to the AppView; unauthenticated search
  is refused by Bluesky's public AppView), the brand's own posts with
  ``com.atproto.repo.listRecords``, and ``app.bsky.feed.getPosts`` at the public AppView for
  deleted-post checks.
* Chat (direct messages), all through the PDS to the chat service with the
  ``atproto-proxy: did:web:api.bsky.chat#bsky_chat`` header: incoming and outgoing messages from
  the account's event log ``chat.bsky.convo.getLog`` (forward from a ``rev`` cursor; without one
  it answers only where the log stands now), a first run's look back with
  ``chat.bsky.convo.listConvos`` and ``chat.bsky.convo.getMessages``.
* Writes: a reply is ``com.atproto.repo.createRecord`` with the reply's root and parent refs and
  a record key derived from the customer's post and the send (hilft's send-once claim), so a
  retried reply finds its first copy instead of posting twice, and a second, different reply to
  the same post (a holding reply after an out-of-hours note) gets a key of its own; a DM is
  ``chat.bsky.convo.sendMessage``, into the customer's conversation (the one their DM came in,
  else the one ``chat.bsky.convo.getConvoForMembers`` names).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hilft.channels.bluesky import parse
from hilft.channels.http_errors import typed_error
from hilft.channels.text import split, truncate
from hilft.core.errors import (
    PlatformConfigError,
    PlatformUnavailable,
    PrivateChannelRefused,
)

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
_CHAT_HEADERS = {"atproto-proxy": CHAT_PROXY}
MAX_POST_GRAPHEMES = 300  # app.bsky.feed.post: text maxGraphemes 300, maxLength 3000 (bytes)
MAX_POST_BYTES = 3000
MAX_MESSAGE_GRAPHEMES = 1000  # chat.bsky.convo.defs#messageInput: maxGraphemes 1000, maxLength 10000
MAX_MESSAGE_BYTES = 10_000
CLOCK_SKEW = timedelta(minutes=2)  # the chat service's sentAt against hilft's clock, when matching a resend
GET_POSTS_MAX = 25  # app.bsky.feed.getPosts takes at most 25 URIs
CHAT_PAGE_MAX = 100  # listConvos and getMessages take a limit of at most 100
_EXPIRED = {"ExpiredToken"}
_BAD_AUTH = {"AuthenticationRequired", "InvalidToken", "AccountTakedown", "AuthFactorTokenRequired",
             "AuthMissing", "BadJwtScope"}
_DM_REFUSED = {"InvalidRequest", "RecipientNotFound", "MessagesDisabled", "NotFollowedBySender",
               "ConvoLocked", "InvalidConvo", "BlockedActor"}


class _Expired(Exception):
    """The access token expired: refresh and try once more."""


def _error_name(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


class BlueskyClient:
    def __init__(self, *, handle: str, app_password: str, pds_url: str, appview_url: str,
                 chat_url: str | None = None, http: httpx.Client) -> None:
        self.handle = handle
        self._password = app_password
        self.pds_url = pds_url.rstrip("/")
        self.appview_url = appview_url.rstrip("/")
        self.chat_url = (chat_url or pds_url).rstrip("/")
        self.http = http
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self.did: str | None = None

    # -- session ---------------------------------------------------------------------------
    def _create_session(self) -> None:
        response = self._send("POST", self.pds_url, "com.atproto.server.createSession",
                              json={"identifier": self.handle, "password": self._password}, token=None)
        if response.status_code in (400, 401):
            raise PlatformConfigError("bluesky: the handle or app password was refused")
        self._check(response)
        self._take(response.json())

    def _take(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("accessJwt") or not body.get("did"):
            raise PlatformUnavailable("bluesky: session answer without tokens")
        self._access, self._refresh = str(body["accessJwt"]), str(body.get("refreshJwt") or "")
        self.did = str(body["did"])

    def _refresh_session(self) -> None:
        if self._refresh:
            response = self._send("POST", self.pds_url, "com.atproto.server.refreshSession", token=self._refresh)
            if response.status_code == 200:
                self._take(response.json())
                return
        self._create_session()

    def session_did(self) -> str:
        with self._lock:
            if self._access is None:
                self._create_session()
            return str(self.did)

    # -- transport -------------------------------------------------------------------------
    def _send(self, method: str, base: str, nsid: str, *, token: str | None,
              params: Any = None, json: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        try:
            return self.http.request(method, f"{base}/xrpc/{nsid}", params=params, json=json, headers=hdrs)
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"bluesky: {type(exc).__name__} on {nsid}") from exc

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        name = _error_name(response)
        if name in _EXPIRED:
            raise _Expired()
        # Every 403 from the PDS or the chat service is about the session (an app password without
        # DM access, a taken-down account); a 400 can be too (``_BAD_AUTH`` error names).
        error = typed_error(status, response.headers, platform="bluesky", what=name or "no error name",
                            auth_refusal=True, reset_header="ratelimit-reset")
        if error is not None:
            raise error
        if name in _BAD_AUTH:
            raise PlatformConfigError(f"bluesky refused hilft's session ({status} {name})")

    def call(self, method: str, nsid: str, *, base: str | None = None, params: Any = None, json: Any = None,
             headers: Mapping[str, str] | None = None) -> httpx.Response:
        """An authenticated XRPC call; refreshes the session once when the token expired.

        Returns the response for 2xx and for 4xx answers the caller interprets (e.g. a refused DM);
        raises hilft's Platform* errors for auth, rate limits and outages.
        """
        self.session_did()
        for attempt in (0, 1):
            with self._lock:
                token = self._access
            response = self._send(method, base or self.pds_url, nsid, token=token, params=params, json=json,
                                  headers=headers)
            try:
                self._check(response)
            except _Expired:
                if attempt:
                    raise PlatformConfigError("bluesky: a fresh session token expired at once") from None
                with self._lock:
                    if self._access == token:
                        self._refresh_session()
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response, nsid: str) -> dict[str, Any]:
        if response.status_code >= 400:
            raise PlatformUnavailable(f"bluesky: {nsid} refused ({response.status_code} {_error_name(response)})")
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformUnavailable(f"bluesky: {nsid} answered no JSON") from exc
        if not isinstance(body, dict):
            raise PlatformUnavailable(f"bluesky: {nsid} answered no object")
        return body

    # -- reads -----------------------------------------------------------------------------
    def list_notifications(self, cursor: str | None, limit: int = 50) -> dict[str, Any]:
        params: list[tuple[str, str | int]] = [("reasons", r) for r in parse.ADDRESSED_REASONS]
        params.append(("limit", limit))
        if cursor:
            params.append(("cursor", cursor))
        nsid = "app.bsky.notification.listNotifications"
        return self._json(self.call("GET", nsid, params=params), nsid)

    def search_posts(self, query: str, cursor: str | None, since: str | None = None, limit: int = 50) -> dict[str, Any]:
        params: dict[str, str | int] = {"q": query, "sort": "latest", "limit": limit}
        if cursor:
            params["cursor"] = cursor
        if since:
            params["since"] = since
        nsid = "app.bsky.feed.searchPosts"
        return self._json(self.call("GET", nsid, params=params), nsid)

    def own_posts(self, cursor: str | None, limit: int = 50) -> dict[str, Any]:
        params: dict[str, str | int] = {"repo": self.session_did(), "collection": parse.POST_COLLECTION,
                                        "limit": limit}
        if cursor:
            params["cursor"] = cursor
        nsid = "com.atproto.repo.listRecords"
        return self._json(self.call("GET", nsid, params=params), nsid)

    def get_posts(self, uris: Sequence[str]) -> dict[str, Any]:
        """Post views from the public AppView (no session needed); missing URIs are gone."""
        if len(uris) > GET_POSTS_MAX:
            raise ValueError(f"getPosts takes at most {GET_POSTS_MAX} URIs")
        nsid = "app.bsky.feed.getPosts"
        response = self._send("GET", self.appview_url, nsid, token=None, params=[("uris", u) for u in uris])
        try:
            self._check(response)
        except _Expired:  # pragma: no cover - no token on this call
            raise PlatformUnavailable("bluesky: getPosts expired") from None
        return self._json(response, nsid)

    # -- writes ----------------------------------------------------------------------------
    def reply(self, parent_uri: str, text: str, *, created_at: datetime, purpose: str = "reply",
              lang: str | None = None) -> str:
        """Reply under ``parent_uri``; the record key is derived from it and ``purpose`` (one per send),
        so a retry of the same send cannot post twice and two different sends are two replies.

        The key is a TID within a second after the parent's time (``created_at``): its microseconds
        and clock id come from a hash of purpose and parent, so two sends collide about once in 10⁹.
        """
        views = parse.posts_of(self.get_posts([parent_uri]))
        parent = next((v for v in views if v.get("uri") == parent_uri), None)
        if parent is None or not isinstance(parent.get("cid"), str):
            raise PrivateChannelRefused("bluesky: the post to answer is gone")
        record = _obj(parent.get("record"))
        reply = _obj(record.get("reply"))
        root = _obj_or_none(reply.get("root"))
        parent_ref = {"uri": parent_uri, "cid": parent["cid"]}
        root_ref = {"uri": root["uri"], "cid": root["cid"]} if root and root.get("uri") and root.get("cid") \
            else parent_ref
        did = self.session_did()
        rkey = record_key(parent_uri, purpose, created_at)
        body = {"repo": did, "collection": parse.POST_COLLECTION, "rkey": rkey,
                "record": {"$type": parse.POST_COLLECTION,
                           "text": truncate(text, MAX_POST_GRAPHEMES, max_bytes=MAX_POST_BYTES),
                           "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                           "reply": {"root": root_ref, "parent": parent_ref}, "langs": [lang or "de"]}}
        nsid = "com.atproto.repo.createRecord"
        try:
            response = self.call("POST", nsid, json=body)
        except PlatformUnavailable:
            # The reference PDS answers a record key already in the repo with a bare 500 (its MST
            # throws "There is already a value at key"), the same as an outage: an earlier attempt
            # of this send may have written the record, so look before calling it a failure.
            earlier = self._earlier_reply(did, rkey, parent_uri)
            if earlier is None:
                raise
            return earlier
        if response.status_code < 400:
            return str(self._json(response, nsid).get("uri") or f"at://{did}/{parse.POST_COLLECTION}/{rkey}")
        earlier = self._earlier_reply(did, rkey, parent_uri)
        if earlier is not None:  # the earlier attempt went through: never a second post
            return earlier
        raise PrivateChannelRefused(f"bluesky: reply refused ({response.status_code} {_error_name(response)})")

    def _earlier_reply(self, did: str, rkey: str, parent_uri: str) -> str | None:
        """The URI of the brand's record under ``rkey`` when it is a reply to ``parent_uri`` (an
        earlier attempt of this send wrote it); None when there is none. A key taken by a record
        that answers another post is an error no retry fixes by itself: ``PlatformUnavailable``."""
        existing = self.call("GET", "com.atproto.repo.getRecord",
                             params={"repo": did, "collection": parse.POST_COLLECTION, "rkey": rkey})
        if existing.status_code != 200:  # RecordNotFound (400): nothing was written
            return None
        found = self._json(existing, "getRecord")
        parent_of = _obj(_obj(_obj(found.get("value")).get("reply")).get("parent")).get("uri")
        if parent_of != parent_uri:
            raise PlatformUnavailable("bluesky: the reply's record key is taken by another record")
        return str(found.get("uri") or f"at://{did}/{parse.POST_COLLECTION}/{rkey}")

    def send_dm(self, member_did: str, text: str, *, since: datetime | None = None) -> str:
        """A DM to an account: into the conversation the chat service keeps with it."""
        convo = self.call("GET", "chat.bsky.convo.getConvoForMembers", base=self.chat_url,
                          params=[("members", member_did)], headers=_CHAT_HEADERS)
        if convo.status_code >= 400:
            why = _error_name(convo) or convo.status_code
            raise PrivateChannelRefused(f"bluesky: no conversation possible ({why})")
        convo_id = (self._json(convo, "getConvoForMembers").get("convo") or {}).get("id")
        if not isinstance(convo_id, str):
            raise PlatformUnavailable("bluesky: conversation without id")
        return self.send_to_convo(convo_id, text, since=since)

    def send_to_convo(self, convo_id: str, text: str, *, since: datetime | None = None) -> str:
        """A message into a known conversation (the one a customer's DM came in); the id of its first
        part. A text longer than a chat message may be (1,000 graphemes) goes as several messages,
        cut at paragraph or word ends. ``sendMessage`` takes no idempotency key: a retry of a send
        whose first attempt began at ``since`` (its answer may have been lost) first reads the
        conversation, and parts the brand's account wrote there since then (the same text) are not
        sent again."""
        pieces = split(text, MAX_MESSAGE_GRAPHEMES, max_bytes=MAX_MESSAGE_BYTES)
        earlier = self._brand_messages(convo_id, since - CLOCK_SKEW) if since is not None else {}
        ids: list[str] = []
        for piece in pieces:
            if piece in earlier:
                ids.append(earlier.pop(piece))
                continue
            sent = self.call("POST", "chat.bsky.convo.sendMessage", base=self.chat_url,
                             json={"convoId": convo_id, "message": {"text": piece}}, headers=_CHAT_HEADERS)
            if sent.status_code >= 400:
                raise PrivateChannelRefused(f"bluesky: message refused ({_error_name(sent) or sent.status_code})")
            ids.append(str(self._json(sent, "sendMessage").get("id") or ""))
        return ids[0] if ids else ""

    def _brand_messages(self, convo_id: str, since: datetime) -> dict[str, str]:
        """The brand's messages in a conversation sent since ``since`` (from the latest
        ``getMessages`` page, newest first): text → id."""
        did = self.session_did()
        found: dict[str, str] = {}
        for message in parse.messages_of(self.get_messages(convo_id, None)):
            sender, text = message.get("sender"), message.get("text")
            sent_at = parse.parse_time(message.get("sentAt"))
            if (isinstance(sender, Mapping) and sender.get("did") == did and isinstance(text, str)
                    and sent_at is not None and sent_at >= since):
                found.setdefault(text, str(message.get("id") or ""))
        return found

    # -- chat reads ------------------------------------------------------------------------
    def chat_log(self, cursor: str | None) -> dict[str, Any]:
        """``chat.bsky.convo.getLog``: the account's chat events after ``cursor`` (a ``rev``), oldest
        first; without a cursor only the log's current ``cursor`` (it starts "now")."""
        nsid = "chat.bsky.convo.getLog"
        params = {"cursor": cursor} if cursor else None
        return self._json(self.call("GET", nsid, base=self.chat_url, params=params, headers=_CHAT_HEADERS), nsid)

    def list_convos(self, cursor: str | None, limit: int = CHAT_PAGE_MAX) -> dict[str, Any]:
        nsid = "chat.bsky.convo.listConvos"
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._json(self.call("GET", nsid, base=self.chat_url, params=params, headers=_CHAT_HEADERS), nsid)

    def get_messages(self, convo_id: str, cursor: str | None, limit: int = CHAT_PAGE_MAX) -> dict[str, Any]:
        nsid = "chat.bsky.convo.getMessages"
        params: dict[str, str | int] = {"convoId": convo_id, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._json(self.call("GET", nsid, base=self.chat_url, params=params, headers=_CHAT_HEADERS), nsid)


def record_key(parent_uri: str, purpose: str, parent_created_at: datetime) -> str:
    """The TID record key of one send under ``parent_uri`` (see ``BlueskyClient.reply``)."""
    digest = hashlib.sha256(f"{purpose}\x1f{parent_uri}".encode()).digest()
    micros = int(parent_created_at.timestamp() * 1_000_000) + int.from_bytes(digest[:4], "big") % 1_000_000
    return parse.tid(micros, int.from_bytes(digest[4:6], "big") & 0x3FF)


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _obj_or_none(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
