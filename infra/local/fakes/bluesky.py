"""A fake Bluesky: the brand's PDS (session, repo, notifications, search through the AppView proxy),
the public AppView (``getPosts``) and the chat service behind the PDS's ``atproto-proxy``.

It checks what Bluesky would check: the app password on ``createSession``, the access token on
every authenticated call (an expired one answers ``400 ExpiredToken``; ``refreshSession`` takes
the refresh token), the ``atproto-proxy: did:web:api.bsky.chat#bsky_chat`` header on chat calls,
the lexicons' parameter limits, text limits in graphemes (a post 300, a chat message 1,000) and
record shapes (reply refs must name existing posts by URI and CID, record keys are TIDs; a key
used twice gets the reference PDS's bare ``500`` (its MST throws
"There is already a value at key"), not a telling 4xx). Unauthenticated search is refused, as
Bluesky's public AppView does. Tests and the demo add customers' posts with ``add_post``.

The chat service keeps conversations and the brand's event log as ``chat.bsky.convo.getLog``
serves it: ``logCreateMessage`` for every message (the brand's own too), ``logDeleteMessage``
when the brand deletes one, ``rev``s that sort as strings; without a cursor the log answers only
its current cursor (it starts "now", as the real service does). Tests and the demo inject a
customer's DM with ``add_dm``, the brand's native answer with ``add_brand_dm``.

Run alone: ``python -m fakes.bluesky --port 8793`` (from ``infra/local``).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import regex

from fakes.base import FakeServer, Request, Response

BRAND_HANDLE = "telkohilft.bsky.social"
BRAND_DID = "did:plc:telkohilftbrand0000000001"
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
POST = "app.bsky.feed.post"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")
_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def _now_iso(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _tid(micros: int, clock: int = 0) -> str:
    value = (micros << 10) | (clock & 0x3FF)
    return "".join(_ALPHABET[(value >> shift) & 0x1F] for shift in range(60, -1, -5))


def _cid(seed: str) -> str:
    return "bafyrei" + hashlib.sha256(seed.encode()).hexdigest()[:52]


def _xrpc_error(status: int, name: str, message: str) -> Response:
    return Response(status, {"error": name, "message": message})


@dataclass
class _Post:
    uri: str
    cid: str
    author: dict[str, Any]
    record: dict[str, Any]
    indexed_at: str

    def view(self) -> dict[str, Any]:
        return {"uri": self.uri, "cid": self.cid, "author": self.author, "record": self.record,
                "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": self.indexed_at, "labels": []}


@dataclass
class _Convo:
    id: str
    members: list[str]
    messages: list[dict[str, Any]] = field(default_factory=list)
    rev: str = ""
    deleted: set[str] = field(default_factory=set)  # message ids the brand deleted for itself


class FakeBluesky(FakeServer):
    """PDS + AppView + chat on one loopback server; ``url`` serves all three."""

    def __init__(self, app_password: str, *, handle: str = BRAND_HANDLE, did: str = BRAND_DID,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.app_password = app_password
        self.handle, self.did = handle, did
        self._state = threading.RLock()
        self._seq = itertools.count(1)
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self.sessions_created = 0
        self.posts: dict[str, _Post] = {}
        self.deleted: set[str] = set()
        self.notifications: list[dict[str, Any]] = []
        self.brand_rkeys: list[str] = []  # the brand repo's post keys
        self.closed_dms: set[str] = set()  # DIDs that accept no messages from the brand
        self.convos: dict[str, _Convo] = {}
        self.messages: list[dict[str, Any]] = []  # DMs the brand sent
        self.replies: list[dict[str, Any]] = []  # posts the brand created through the API
        self.chat_log: list[dict[str, Any]] = []  # the brand's chat event log (getLog), oldest first
        self.log_page = 100  # events per getLog answer
        self.profiles: dict[str, dict[str, Any]] = {did: {"did": did, "handle": handle, "displayName": "Telko hilft"}}
        self._clock_ms = 0
        self._rev_micros = 0
        for method, nsid, handler in (
                ("POST", "com.atproto.server.createSession", self._create_session),
                ("POST", "com.atproto.server.refreshSession", self._refresh_session),
                ("GET", "app.bsky.notification.listNotifications", self._list_notifications),
                ("GET", "app.bsky.feed.searchPosts", self._search_posts),
                ("GET", "app.bsky.feed.getPosts", self._get_posts),
                ("GET", "com.atproto.repo.listRecords", self._list_records),
                ("GET", "com.atproto.repo.getRecord", self._get_record),
                ("POST", "com.atproto.repo.createRecord", self._create_record),
                ("GET", "chat.bsky.convo.getConvoForMembers", self._convo_for_members),
                ("POST", "chat.bsky.convo.sendMessage", self._send_message),
                ("GET", "chat.bsky.convo.getLog", self._get_log),
                ("GET", "chat.bsky.convo.listConvos", self._list_convos),
                ("GET", "chat.bsky.convo.getMessages", self._get_messages)):
            self.route(method, "/xrpc/" + re.escape(nsid), handler)

    # -- scripting -------------------------------------------------------------------------
    def _stamp(self, when: datetime | None) -> str:
        """Strictly increasing ``indexedAt`` times (the real AppView's order)."""
        with self._state:
            micros = int((when or datetime.now(UTC)).timestamp() * 1000)
            self._clock_ms = max(self._clock_ms + 1, micros)
            return _now_iso(datetime.fromtimestamp(self._clock_ms / 1000, UTC))

    def add_post(self, text: str, *, author_did: str, handle: str, display_name: str | None = None,
                 reason: str | None = "mention", reply_to: str | None = None, quote: str | None = None,
                 mention_brand: bool = True, created_at: datetime | None = None, lang: str = "de") -> str:
        """A customer's post; with ``reason`` also the brand's notification about it. Returns its URI."""
        with self._state:
            stamp = self._stamp(created_at)
            rkey = _tid(int(datetime.now(UTC).timestamp() * 1_000_000) + next(self._seq), 7)
            uri = f"at://{author_did}/{POST}/{rkey}"
            record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": _now_iso(created_at), "langs": [lang]}
            if mention_brand and f"@{self.handle}" in text:
                start = text.encode().index(f"@{self.handle}".encode())
                record["facets"] = [{"index": {"byteStart": start, "byteEnd": start + len(self.handle.encode()) + 1},
                                     "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self.did}]}]
            if reply_to:
                parent = self.posts[reply_to]
                root = parent.record.get("reply", {}).get("root") or {"uri": parent.uri, "cid": parent.cid}
                record["reply"] = {"root": root, "parent": {"uri": parent.uri, "cid": parent.cid}}
            if quote:
                quoted = self.posts[quote]
                record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": quoted.uri, "cid": quoted.cid}}
            author = {"did": author_did, "handle": handle, "displayName": display_name or handle.split(".")[0],
                      "avatar": None, "labels": [], "createdAt": "2023-04-01T10:00:00.000Z"}
            post = _Post(uri, _cid(uri), author, record, stamp)
            self.posts[uri] = post
            if reason:
                self.notifications.append({"uri": uri, "cid": post.cid, "author": author, "reason": reason,
                                           "reasonSubject": reply_to or quote, "record": record, "isRead": False,
                                           "indexedAt": stamp, "labels": []})
            return uri

    def add_brand_post(self, text: str, *, reply_to: str | None = None) -> str:
        """A post the brand writes natively in the Bluesky app (hilft sees it in the brand's repo)."""
        with self._state:
            rkey = _tid(int(datetime.now(UTC).timestamp() * 1_000_000) + next(self._seq), 3)
            record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": _now_iso(), "langs": ["de"]}
            if reply_to:
                parent = self.posts[reply_to]
                root = parent.record.get("reply", {}).get("root") or {"uri": parent.uri, "cid": parent.cid}
                record["reply"] = {"root": root, "parent": {"uri": parent.uri, "cid": parent.cid}}
            return self._store_brand(rkey, record)

    def _store_brand(self, rkey: str, record: dict[str, Any]) -> str:
        uri = f"at://{self.did}/{POST}/{rkey}"
        author = {"did": self.did, "handle": self.handle, "displayName": "Telko hilft", "labels": []}
        self.posts[uri] = _Post(uri, _cid(uri), author, record, self._stamp(None))
        self.brand_rkeys.append(rkey)
        return uri

    def delete_post(self, uri: str) -> None:
        with self._state:
            self.deleted.add(uri)

    # -- chat scripting ----------------------------------------------------------------------
    def add_dm(self, text: str, *, author_did: str, handle: str, display_name: str | None = None,
               sent_at: datetime | None = None) -> str:
        """A customer's direct message to the brand (in their one conversation with it). Returns its id."""
        with self._state:
            self.profiles[author_did] = {"did": author_did, "handle": handle,
                                         "displayName": display_name or handle.split(".")[0]}
            return self._post_message(self._convo_with(author_did), author_did, text, sent_at)

    def add_brand_dm(self, convo_id: str, text: str) -> str:
        """The brand answers in a conversation from the Bluesky app (not through hilft)."""
        with self._state:
            return self._post_message(self._convo(convo_id), self.did, text, None)

    def delete_dm(self, message_id: str) -> None:
        """The brand deletes a message for itself (Bluesky chat deletes only for oneself)."""
        with self._state:
            convo = next(c for c in self.convos.values() if any(m["id"] == message_id for m in c.messages))
            message = next(m for m in convo.messages if m["id"] == message_id)
            convo.deleted.add(message_id)
            convo.rev = rev = self._next_rev()
            self.chat_log.append({"$type": "chat.bsky.convo.defs#logDeleteMessage", "rev": rev, "convoId": convo.id,
                                  "message": _deleted_view(message)})

    def convo_for(self, member_did: str) -> str:
        """The id of the brand's conversation with ``member_did``."""
        with self._state:
            return self._convo_with(member_did).id

    def _next_rev(self) -> str:
        self._rev_micros = max(self._rev_micros + 1, int(datetime.now(UTC).timestamp() * 1_000_000))
        return _tid(self._rev_micros)

    def _convo_with(self, member_did: str) -> _Convo:
        key = ",".join(sorted({self.did, member_did}))
        convo = self.convos.get(key)
        if convo is None:
            convo = self.convos[key] = _Convo(f"convo{next(self._seq):06d}", sorted({self.did, member_did}),
                                              rev=self._next_rev())
            self.chat_log.append({"$type": "chat.bsky.convo.defs#logBeginConvo", "rev": convo.rev,
                                  "convoId": convo.id})
        return convo

    def _convo(self, convo_id: Any) -> _Convo:
        found = next((c for c in self.convos.values() if c.id == convo_id), None)
        if found is None:
            raise KeyError(convo_id)
        return found

    def _post_message(self, convo: _Convo, sender: str, text: str, sent_at: datetime | None) -> str:
        rev = self._next_rev()
        message = {"$type": "chat.bsky.convo.defs#messageView", "id": f"msg{next(self._seq):06d}", "rev": rev,
                   "text": text, "sender": {"did": sender}, "sentAt": _now_iso(sent_at)}
        convo.messages.append(message)
        convo.rev = rev
        self.chat_log.append({"$type": "chat.bsky.convo.defs#logCreateMessage", "rev": rev, "convoId": convo.id,
                              "message": message, "relatedProfiles": [self._profile(sender)]})
        return str(message["id"])

    def _profile(self, did: str) -> dict[str, Any]:
        return dict(self.profiles.get(did) or {"did": did, "handle": "handle.invalid"})

    def expire_sessions(self) -> None:
        """Every access token issued so far answers ``ExpiredToken`` from now on."""
        with self._state:
            self._access.clear()

    def reset(self) -> None:
        super().reset()
        with self._state:
            self._access.clear()
            self._refresh.clear()
            self.posts.clear()
            self.deleted.clear()
            self.notifications.clear()
            self.brand_rkeys.clear()
            self.closed_dms.clear()
            self.convos.clear()
            self.messages.clear()
            self.replies.clear()
            self.chat_log.clear()
            self.log_page = 100
            self.profiles = {self.did: {"did": self.did, "handle": self.handle, "displayName": "Telko hilft"}}
            self.sessions_created = 0
            self._clock_ms = 0

    def start(self) -> FakeBluesky:
        super().start()
        return self

    def __enter__(self) -> FakeBluesky:
        return self.start()

    # -- session ---------------------------------------------------------------------------
    def _tokens(self) -> dict[str, Any]:
        n = next(self._seq)
        access, refresh = f"fake-access-{n}-{hashlib.sha256(str(n).encode()).hexdigest()[:16]}", f"fake-refresh-{n}"
        self._access.add(access)
        self._refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.did, "active": True}

    def _create_session(self, req: Request, match: re.Match[str]) -> Response:
        body = _json(req)
        if body is None or not isinstance(body.get("identifier"), str) or not isinstance(body.get("password"), str):
            return _xrpc_error(400, "InvalidRequest", "Input must have the properties identifier and password")
        if body["identifier"] not in (self.handle, self.did) or body["password"] != self.app_password:
            return _xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        with self._state:
            self.sessions_created += 1
            return Response(200, self._tokens())

    def _refresh_session(self, req: Request, match: re.Match[str]) -> Response:
        token = _bearer(req)
        with self._state:
            if token not in self._refresh:
                return _xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self._refresh.discard(token)
            return Response(200, self._tokens())

    def _authed(self, req: Request) -> Response | None:
        token = _bearer(req)
        if token is None:
            return _xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        with self._state:
            if token not in self._access:
                return _xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    # -- reads -----------------------------------------------------------------------------
    def _list_notifications(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req)
        if refused:
            return refused
        params = parse_qs(req.query)
        limit, bad = _limit(params, 50, 100)
        if bad:
            return bad
        reasons = set(params.get("reasons", []))
        cursor = params.get("cursor", [None])[0]
        with self._state:
            items = sorted(self.notifications, key=lambda n: n["indexedAt"], reverse=True)
            items = [n for n in items if (not reasons or n["reason"] in reasons) and n["uri"] not in self.deleted
                     and (cursor is None or n["indexedAt"] < cursor)]
        page = items[:limit]
        body: dict[str, Any] = {"notifications": page, "priority": False}
        if len(items) > limit:
            body["cursor"] = page[-1]["indexedAt"]
        return Response(200, body)

    def _search_posts(self, req: Request, match: re.Match[str]) -> Response:
        if _bearer(req) is None:  # Bluesky's public AppView refuses unauthenticated search
            return Response(403, "Forbidden")
        refused = self._authed(req)
        if refused:
            return refused
        params = parse_qs(req.query)
        query = params.get("q", [""])[0].strip().lower()
        if not query:
            return _xrpc_error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit, bad = _limit(params, 25, 100)
        if bad:
            return bad
        since, cursor = params.get("since", [None])[0], params.get("cursor", [None])[0]
        with self._state:
            hits = sorted((p for p in self.posts.values() if p.uri not in self.deleted
                           and query in str(p.record.get("text", "")).lower()),
                          key=lambda p: p.indexed_at, reverse=True)
        hits = [p for p in hits
                if (since is None or p.indexed_at >= since) and (cursor is None or p.indexed_at < cursor)]
        page = hits[:limit]
        body: dict[str, Any] = {"posts": [p.view() for p in page], "hitsTotal": len(hits)}
        if len(hits) > limit:
            body["cursor"] = page[-1].indexed_at
        return Response(200, body)

    def _get_posts(self, req: Request, match: re.Match[str]) -> Response:
        uris = parse_qs(req.query).get("uris", [])
        if not uris or len(uris) > 25:
            return _xrpc_error(400, "InvalidRequest", "uris must have between 1 and 25 entries")
        if any(not u.startswith("at://") for u in uris):
            return _xrpc_error(400, "InvalidRequest", "uris must be at-uris")
        with self._state:
            found = [self.posts[u].view() for u in uris if u in self.posts and u not in self.deleted]
        return Response(200, {"posts": found})

    def _list_records(self, req: Request, match: re.Match[str]) -> Response:
        params = parse_qs(req.query)
        repo, collection = params.get("repo", [""])[0], params.get("collection", [""])[0]
        if repo not in (self.did, self.handle) or collection != POST:
            return _xrpc_error(400, "InvalidRequest", "Could not find repo or collection")
        limit, bad = _limit(params, 50, 100)
        if bad:
            return bad
        cursor = params.get("cursor", [None])[0]
        with self._state:
            keys = sorted((k for k in self.brand_rkeys if cursor is None or k < cursor), reverse=True)
            page = keys[:limit]
            records = [{"uri": f"at://{self.did}/{POST}/{k}", "cid": self.posts[f"at://{self.did}/{POST}/{k}"].cid,
                        "value": self.posts[f"at://{self.did}/{POST}/{k}"].record} for k in page]
        body: dict[str, Any] = {"records": records}
        if len(keys) > limit:
            body["cursor"] = page[-1]
        return Response(200, body)

    def _get_record(self, req: Request, match: re.Match[str]) -> Response:
        params = parse_qs(req.query)
        uri = f"at://{params.get('repo', [''])[0]}/{params.get('collection', [''])[0]}/{params.get('rkey', [''])[0]}"
        with self._state:
            post = self.posts.get(uri)
        if post is None:
            return _xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Response(200, {"uri": post.uri, "cid": post.cid, "value": post.record})

    # -- writes ----------------------------------------------------------------------------
    def _create_record(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req)
        if refused:
            return refused
        body = _json(req)
        if body is None or body.get("repo") not in (self.did, self.handle) or body.get("collection") != POST:
            return _xrpc_error(400, "InvalidRequest", "repo must be the session's DID and collection a post")
        record = body.get("record")
        if not isinstance(record, dict) or record.get("$type") != POST:
            return _xrpc_error(400, "InvalidRecord", "Invalid app.bsky.feed.post record")
        text = record.get("text")
        if not isinstance(text, str) or not isinstance(record.get("createdAt"), str):
            return _xrpc_error(400, "InvalidRecord", "Record/text must be a string")
        if _graphemes(text) > 300 or len(text.encode()) > 3000:
            return _xrpc_error(400, "InvalidRecord", "Record/text must not be longer than 300 graphemes")
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) if isinstance(reply, dict) else None
                with self._state:
                    target = self.posts.get(ref.get("uri")) if isinstance(ref, dict) else None
                if target is None or ref.get("cid") != target.cid:
                    return _xrpc_error(400, "InvalidRecord", f"Record/reply/{part} must be a strongRef to a post")
        rkey = body.get("rkey")
        with self._state:
            if rkey is None:
                rkey = _tid(int(datetime.now(UTC).timestamp() * 1_000_000) + next(self._seq), 1)
            elif not isinstance(rkey, str) or not _TID.fullmatch(rkey):
                return _xrpc_error(400, "InvalidRequest", "Invalid record key: must be a TID")
            if rkey in self.brand_rkeys:
                # The reference PDS has no check of its own: its MST throws a plain Error ("There is
                # already a value at key"), which the XRPC server answers as an opaque 500.
                return _xrpc_error(500, "InternalServerError", "Internal Server Error")
            uri = self._store_brand(rkey, dict(record))
            self.replies.append({"uri": uri, "text": text, "reply": reply})
            return Response(200, {"uri": uri, "cid": self.posts[uri].cid,
                                  "commit": {"cid": _cid("commit" + uri), "rev": rkey}, "validationStatus": "valid"})

    def _chat_gate(self, req: Request) -> Response | None:
        refused = self._authed(req)
        if refused:
            return refused
        if req.header("atproto-proxy") != CHAT_PROXY:
            return _xrpc_error(404, "XRPCNotSupported", "XRPC Not Supported")  # not a PDS method
        return None

    def _convo_for_members(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._chat_gate(req)
        if refused:
            return refused
        members = parse_qs(req.query).get("members", [])
        if not 1 <= len(members) <= 10 or not all(_DID.fullmatch(m) for m in members):
            return _xrpc_error(400, "InvalidRequest", "members must be 1 to 10 DIDs")
        with self._state:
            if any(m in self.closed_dms for m in members):
                return _xrpc_error(400, "InvalidRequest", "recipient has disabled incoming messages")
            if len(members) == 1:
                convo = self._convo_with(members[0])
            else:
                key = ",".join(sorted({self.did, *members}))
                convo = self.convos.get(key) or _Convo(f"convo{next(self._seq):06d}", sorted({self.did, *members}),
                                                       rev=self._next_rev())
                self.convos[key] = convo
            return Response(200, {"convo": self._convo_view(convo)})

    def _convo_view(self, convo: _Convo) -> dict[str, Any]:
        view: dict[str, Any] = {"id": convo.id, "rev": convo.rev, "members": [self._profile(m) for m in convo.members],
                                "muted": False, "unreadCount": 0, "status": "accepted"}
        if convo.messages:
            view["lastMessage"] = self._message_view(convo, convo.messages[-1])
        return view

    def _message_view(self, convo: _Convo, message: dict[str, Any]) -> dict[str, Any]:
        return _deleted_view(message) if message["id"] in convo.deleted else dict(message)

    def _send_message(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._chat_gate(req)
        if refused:
            return refused
        body = _json(req)
        message = body.get("message") if body else None
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text.strip() or _graphemes(text) > 1000 or len(text.encode()) > 10_000:
            return _xrpc_error(400, "InvalidRequest", "Invalid message: message/text must not be longer than "
                               "1000 graphemes")
        with self._state:
            convo = next((c for c in self.convos.values() if c.id == body.get("convoId")), None)
            if convo is None:
                return _xrpc_error(400, "InvalidConvo", "Convo not found")
            message_id = self._post_message(convo, self.did, text, None)
            sent = next(m for m in convo.messages if m["id"] == message_id)
            self.messages.append({**sent, "convo_id": convo.id,
                                  "to": [m for m in convo.members if m != self.did]})
        return Response(200, sent)

    def _get_log(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._chat_gate(req)
        if refused:
            return refused
        cursor = parse_qs(req.query).get("cursor", [None])[0]
        with self._state:
            head = self.chat_log[-1]["rev"] if self.chat_log else self._next_rev()
            if cursor is None:  # the log starts "now": only where it stands
                return Response(200, {"cursor": head, "logs": []})
            page = [e for e in self.chat_log if e["rev"] > cursor][:self.log_page]
        return Response(200, {"cursor": page[-1]["rev"] if page else cursor, "logs": page})

    def _list_convos(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._chat_gate(req)
        if refused:
            return refused
        params = parse_qs(req.query)
        limit, bad = _limit(params, 50, 100)
        if bad:
            return bad
        cursor = params.get("cursor", [None])[0]
        with self._state:
            convos = sorted((c for c in self.convos.values() if cursor is None or c.rev < cursor),
                            key=lambda c: c.rev, reverse=True)
            page = convos[:limit]
            body: dict[str, Any] = {"convos": [self._convo_view(c) for c in page]}
        if len(convos) > limit:
            body["cursor"] = page[-1].rev
        return Response(200, body)

    def _get_messages(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._chat_gate(req)
        if refused:
            return refused
        params = parse_qs(req.query)
        limit, bad = _limit(params, 50, 100)
        if bad:
            return bad
        cursor = params.get("cursor", [None])[0]
        with self._state:
            convo = next((c for c in self.convos.values() if c.id == params.get("convoId", [None])[0]), None)
            if convo is None or self.did not in convo.members:
                return _xrpc_error(400, "InvalidConvo", "Convo not found")
            messages = [m for m in reversed(convo.messages) if cursor is None or m["rev"] < cursor]
            page = messages[:limit]
            body: dict[str, Any] = {"messages": [self._message_view(convo, m) for m in page]}
        if len(messages) > limit:
            body["cursor"] = page[-1]["rev"]
        return Response(200, body)


def _graphemes(text: str) -> int:
    """Extended grapheme clusters, as the lexicons' ``maxGraphemes`` counts them."""
    return len(regex.findall(r"\X", text))


def _deleted_view(message: dict[str, Any]) -> dict[str, Any]:
    return {"$type": "chat.bsky.convo.defs#deletedMessageView", "id": message["id"], "rev": message["rev"],
            "sender": message["sender"], "sentAt": message["sentAt"]}


def _json(req: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bearer(req: Request) -> str | None:
    value = req.header("authorization") or ""
    return value[7:] if value.startswith("Bearer ") and len(value) > 7 else None


def _limit(params: dict[str, list[str]], default: int, maximum: int) -> tuple[int, Response | None]:
    raw = params.get("limit", [str(default)])[0]
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        return 0, _xrpc_error(400, "InvalidRequest", f"limit must be an integer from 1 to {maximum}")
    return int(raw), None


def make_bluesky(app_password: str, *, handle: str = BRAND_HANDLE, did: str = BRAND_DID,
                 host: str = "127.0.0.1", port: int = 0) -> FakeBluesky:
    return FakeBluesky(app_password, handle=handle, did=did, host=host, port=port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.bluesky", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app-password", required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    fake = make_bluesky(args.app_password, host=args.host, port=args.port).start()
    print(f"fake Bluesky ready at {fake.url}", flush=True)
    try:
        stop.wait()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
