"""A fake Mastodon instance: the brand's notifications, its account's statuses, hashtag timelines,
search, single statuses and posting, as Mastodon's REST API documents them.

It checks what Mastodon would check: the bearer token (``401 {"error": "The access token is
invalid"}``), ``types[]``/``limit``/``min_id``/``since_id``/``max_id`` paging (newest first; on
timelines and notifications ``min_id`` gives the page immediately newer, on ``/api/v2/search`` the
newest hits after it, with ``offset`` for the rest, as ``StatusesSearchService`` orders them),
the token's scopes (``403 {"error": "This action is outside the authorized scopes"}``; ``scopes``
holds the token's, ``read`` and ``write`` by default), the status form (``status`` 1–500
characters as Mastodon counts them: graphemes, a link as 23; a known ``visibility``, an existing
``in_reply_to_id``), and the ``Idempotency-Key``: a repeated key answers the first status again
instead of posting a second, for one hour (``idempotency_ttl``) as Mastodon keeps it. A
``direct`` status must mention the account it is for, else no one would receive it. Tests and
the demo add customers' statuses with ``add_status``.

Rate limits as Mastodon's defaults: every authorised answer carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (ISO 8601) for the account's window of
``rate_limit`` requests (300) per 5 minutes; past it, ``429``. ``rate_used`` can be set to script
a window that is nearly spent.

Run alone: ``python -m fakes.mastodon --port 8794 --token T`` (from ``infra/local``).
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import re
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import regex

from fakes.base import FakeServer, Request, Response

RATE_LIMIT = 300  # Mastodon's default: 300 requests per account per 5 minutes
RATE_WINDOW = 300.0
BRAND_ACCOUNT_ID = "109000000000000001"
BRAND_ACCT = "telkohilft"
DOMAIN = "social.example"
VISIBILITIES = {"public", "unlisted", "private", "direct"}
DEFAULT_SCOPES = ("read", "write")
IDEMPOTENCY_TTL = 3600.0  # Mastodon keeps an Idempotency-Key for one hour
_FIRST_ID = 113_000_000_000_000_000


def _iso(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _key(item_id: str) -> tuple[int, str]:
    return len(item_id), item_id


class FakeMastodon(FakeServer):
    def __init__(self, token: str, *, account_id: str = BRAND_ACCOUNT_ID, acct: str = BRAND_ACCT,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.token = token
        self.scopes: set[str] = set(DEFAULT_SCOPES)  # the token's OAuth scopes (``read`` covers ``read:*``)
        self._state = threading.RLock()
        self._ids = itertools.count(1)
        self.brand = self._account(account_id, acct, "Telko hilft")
        self.accounts: dict[str, dict[str, Any]] = {account_id: self.brand}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.notifications: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []  # statuses the brand created through the API
        self.idempotency: dict[str, tuple[str, float]] = {}  # key -> (status id, when first used)
        self.idempotency_ttl = IDEMPOTENCY_TTL
        self.search_enabled = True
        self.rate_limit = RATE_LIMIT
        self.rate_used = 0
        self._window_ends = 0.0
        self.route("GET", r"/api/v1/accounts/verify_credentials", self._verify_credentials)
        self.route("GET", r"/api/v1/notifications", self._list_notifications)
        self.route("GET", r"/api/v1/accounts/(?P<id>[0-9]+)/statuses", self._account_statuses)
        self.route("GET", r"/api/v1/timelines/tag/(?P<tag>[^/]+)", self._tag_timeline)
        self.route("GET", r"/api/v2/search", self._search)
        self.route("GET", r"/api/v1/statuses/(?P<id>[0-9]+)", self._get_status)
        self.route("GET", r"/api/v1/statuses/(?P<id>[0-9]+)/context", self._context)
        self.route("POST", r"/api/v1/statuses", self._post_status)

    # -- scripting -------------------------------------------------------------------------
    def _next_id(self) -> str:
        return str(_FIRST_ID + next(self._ids) * 65536)

    @staticmethod
    def _account(account_id: str, acct: str, name: str) -> dict[str, Any]:
        username = acct.split("@")[0]
        return {"id": account_id, "username": username, "acct": acct, "display_name": name, "locked": False,
                "bot": False, "created_at": "2022-11-01T00:00:00.000Z", "note": "",
                "url": f"https://{DOMAIN}/@{username}", "avatar": "", "header": "", "followers_count": 12,
                "following_count": 3, "statuses_count": 40, "emojis": [], "fields": []}

    def customer(self, acct: str, name: str | None = None) -> dict[str, Any]:
        with self._state:
            for account in self.accounts.values():
                if account["acct"] == acct:
                    return account
            account = self._account(str(110_000_000_000_000_000 + next(self._ids)), acct, name or acct.split("@")[0])
            self.accounts[account["id"]] = account
            return account

    def _status(self, account: dict[str, Any], text: str, *, visibility: str, in_reply_to: str | None,
                mentions: list[dict[str, Any]], tags: list[str], created_at: datetime | None = None,
                language: str = "de") -> dict[str, Any]:
        status_id = self._next_id()
        parent = self.statuses.get(in_reply_to) if in_reply_to else None
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
        status = {"id": status_id, "created_at": _iso(created_at), "in_reply_to_id": in_reply_to,
                  "in_reply_to_account_id": parent["account"]["id"] if parent else None, "sensitive": False,
                  "spoiler_text": "", "visibility": visibility, "language": language,
                  "uri": f"https://{DOMAIN}/users/{account['username']}/statuses/{status_id}",
                  "url": f"https://{DOMAIN}/@{account['username']}/{status_id}", "replies_count": 0,
                  "reblogs_count": 0, "favourites_count": 0, "content": paragraphs, "reblog": None,
                  "account": account, "media_attachments": [], "mentions": mentions,
                  "tags": [{"name": t, "url": f"https://{DOMAIN}/tags/{t}"} for t in tags], "emojis": [],
                  "card": None, "poll": None}
        self.statuses[status_id] = status
        return status

    def add_status(self, acct: str, text: str, *, visibility: str = "public", in_reply_to: str | None = None,
                   mention_brand: bool = True, name: str | None = None, created_at: datetime | None = None) -> str:
        """A customer's status; when it mentions the brand, also the brand's ``mention`` notification."""
        with self._state:
            account = self.customer(acct, name)
            mentions = [{"id": self.brand["id"], "username": self.brand["username"], "acct": self.brand["acct"],
                         "url": self.brand["url"]}] if mention_brand else []
            tags = [t.lower() for t in re.findall(r"#(\w+)", text)]
            status = self._status(account, text, visibility=visibility, in_reply_to=in_reply_to, mentions=mentions,
                                  tags=tags, created_at=created_at)
            if mention_brand:
                self.notifications.append({"id": self._next_id(), "type": "mention", "created_at": status["created_at"],
                                           "account": account, "status": status})
            return str(status["id"])

    def add_brand_status(self, text: str, *, in_reply_to: str | None = None, visibility: str = "public") -> str:
        """The brand answers natively in a Mastodon app."""
        with self._state:
            return str(self._status(self.brand, text, visibility=visibility, in_reply_to=in_reply_to,
                                    mentions=[], tags=[])["id"])

    def delete_status(self, status_id: str) -> None:
        with self._state:
            self.deleted.add(status_id)

    def reset(self) -> None:
        super().reset()
        with self._state:
            self.accounts = {self.brand["id"]: self.brand}
            self.statuses.clear()
            self.deleted.clear()
            self.notifications.clear()
            self.posted.clear()
            self.idempotency.clear()
            self.idempotency_ttl = IDEMPOTENCY_TTL
            self.search_enabled = True
            self.scopes = set(DEFAULT_SCOPES)
            self.rate_limit, self.rate_used, self._window_ends = RATE_LIMIT, 0, 0.0

    def start(self) -> FakeMastodon:
        super().start()
        return self

    def __enter__(self) -> FakeMastodon:
        return self.start()

    # -- rate limit ------------------------------------------------------------------------
    def _dispatch(self, req: Request) -> Response:
        if req.header("authorization") != f"Bearer {self.token}":
            return super()._dispatch(req)
        with self._state:
            now = time.time()
            if not self._window_ends:  # the first request opens the window (``rate_used`` may be scripted)
                self._window_ends = now + RATE_WINDOW
            elif now >= self._window_ends:
                self._window_ends, self.rate_used = now + RATE_WINDOW, 0
            self.rate_used += 1
            over = self.rate_used > self.rate_limit
            headers = {"X-RateLimit-Limit": str(self.rate_limit),
                       "X-RateLimit-Remaining": str(max(self.rate_limit - self.rate_used, 0)),
                       "X-RateLimit-Reset": _iso(datetime.fromtimestamp(self._window_ends, UTC))}
        if over:
            with self._lock:
                self.requests.append(req)
            return Response(429, {"error": "Too many requests"}, headers)
        response = super()._dispatch(req)
        for name, value in headers.items():  # a scripted failure's own headers win
            response.headers.setdefault(name, value)
        return response

    # -- handlers --------------------------------------------------------------------------
    def _authed(self, req: Request, scope: str) -> Response | None:
        """Doorkeeper's answers: 401 for a wrong token, 403 for a token without the call's scope."""
        if req.header("authorization") != f"Bearer {self.token}":
            return Response(401, {"error": "The access token is invalid"})
        if scope not in self.scopes and scope.split(":")[0] not in self.scopes:
            return Response(403, {"error": "This action is outside the authorized scopes"})
        return None

    def _verify_credentials(self, req: Request, match: re.Match[str]) -> Response:
        return self._authed(req, "read:accounts") or Response(200, self.brand)

    def _page(self, req: Request, items: list[dict[str, Any]], default: int, maximum: int) -> Response:
        params = parse_qs(req.query)
        raw = params.get("limit", [str(default)])[0]
        if not raw.isdigit():
            return Response(422, {"error": "limit must be a number"})
        limit = min(max(int(raw), 1), maximum)
        max_id, since_id, min_id = (params.get(k, [None])[0] for k in ("max_id", "since_id", "min_id"))
        chosen = sorted(items, key=lambda i: _key(i["id"]), reverse=True)
        if max_id:
            chosen = [i for i in chosen if _key(i["id"]) < _key(max_id)]
        if since_id:
            chosen = [i for i in chosen if _key(i["id"]) > _key(since_id)]
        if min_id:  # the page immediately newer than min_id, still answered newest first
            chosen = sorted((i for i in chosen if _key(i["id"]) > _key(min_id)), key=lambda i: _key(i["id"]))[:limit]
            chosen.reverse()
        page = chosen[:limit]
        headers = {}
        if page:
            base = f"http://{req.header('host')}{req.path}"
            headers["Link"] = (f'<{base}?max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}?min_id={page[0]["id"]}>; rel="prev"')
        return Response(200, page, headers)

    def _list_notifications(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req, "read:notifications")
        if refused:
            return refused
        types = set(parse_qs(req.query).get("types[]", []))
        with self._state:
            items = [n for n in self.notifications if (not types or n["type"] in types)
                     and n["status"]["id"] not in self.deleted]
        return self._page(req, items, 40, 80)

    def _account_statuses(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req, "read:statuses")
        if refused:
            return refused
        if match["id"] not in self.accounts:
            return Response(404, {"error": "Record not found"})
        with self._state:
            # Mastodon leaves direct statuses out of account timelines.
            items = [s for s in self.statuses.values() if s["account"]["id"] == match["id"]
                     and s["id"] not in self.deleted and s["visibility"] != "direct"]
        return self._page(req, items, 20, 40)

    def _tag_timeline(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req, "read:statuses")
        if refused:
            return refused
        tag = match["tag"].lower()
        with self._state:
            items = [s for s in self.statuses.values() if s["visibility"] == "public" and s["id"] not in self.deleted
                     and any(t["name"] == tag for t in s["tags"])]
        return self._page(req, items, 20, 40)

    def _search(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req, "read:search")
        if refused:
            return refused
        params = parse_qs(req.query)
        query = params.get("q", [""])[0].lower()
        if not query:
            return Response(400, {"error": "Validation failed: q is required"})
        raw_limit, raw_offset = params.get("limit", ["20"])[0], params.get("offset", ["0"])[0]
        if not raw_limit.isdigit() or not raw_offset.isdigit():
            return Response(422, {"error": "limit and offset must be numbers"})
        limit, offset = min(max(int(raw_limit), 1), 40), int(raw_offset)
        min_id, max_id = params.get("min_id", [None])[0], params.get("max_id", [None])[0]
        with self._state:
            items = [] if not self.search_enabled else [
                s for s in self.statuses.values() if s["visibility"] == "public" and s["id"] not in self.deleted
                and query in html.unescape(re.sub("<[^>]+>", " ", s["content"])).lower()
                and (not min_id or _key(s["id"]) > _key(min_id)) and (not max_id or _key(s["id"]) < _key(max_id))]
        # StatusesSearchService: min_id/max_id are after:/before: filters, then order(id: desc)
        # .limit(limit).offset(offset): the NEWEST hits after min_id, not the ones right after it.
        items.sort(key=lambda s: _key(s["id"]), reverse=True)
        return Response(200, {"accounts": [], "statuses": items[offset:offset + limit], "hashtags": []})

    def _get_status(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req, "read:statuses")
        if refused:
            return refused
        with self._state:
            status = self.statuses.get(match["id"])
            if status is None or match["id"] in self.deleted:
                return Response(404, {"error": "Record not found"})
        return Response(200, status)

    def _context(self, req: Request, match: re.Match[str]) -> Response:
        """The thread around a status: its ancestors (oldest first) and descendants (in order)."""
        refused = self._authed(req, "read:statuses")
        if refused:
            return refused
        with self._state:
            status = self.statuses.get(match["id"])
            if status is None or match["id"] in self.deleted:
                return Response(404, {"error": "Record not found"})
            ancestors = []
            parent = self.statuses.get(status["in_reply_to_id"] or "")
            while parent is not None:
                ancestors.insert(0, parent)
                parent = self.statuses.get(parent["in_reply_to_id"] or "")
            descendants, frontier = [], {match["id"]}
            for candidate in sorted(self.statuses.values(), key=lambda s: _key(s["id"])):
                if candidate["in_reply_to_id"] in frontier and candidate["id"] not in self.deleted:
                    descendants.append(candidate)
                    frontier.add(candidate["id"])
        return Response(200, {"ancestors": ancestors, "descendants": descendants})

    def _post_status(self, req: Request, match: re.Match[str]) -> Response:
        refused = self._authed(req, "write:statuses")
        if refused:
            return refused
        ctype = (req.header("content-type") or "").split(";")[0].strip()
        if ctype == "application/json":
            try:
                form = {k: str(v) for k, v in json.loads(req.body).items() if v is not None}
            except (ValueError, AttributeError):
                return Response(400, {"error": "invalid JSON"})
        elif ctype == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        else:
            return Response(415, {"error": "unsupported media type"})
        key = req.header("idempotency-key")
        with self._state:
            kept = self.idempotency.get(key) if key else None
            if kept is not None and time.time() - kept[1] < self.idempotency_ttl:
                return Response(200, self.statuses[kept[0]])
            text = form.get("status", "")
            if not text.strip() or _status_length(text) > 500:
                return Response(422, {"error": "Validation failed: Text can't be blank or longer than 500"})
            visibility = form.get("visibility", "public")
            if visibility not in VISIBILITIES:
                return Response(422, {"error": "Validation failed: Visibility is not included in the list"})
            in_reply_to = form.get("in_reply_to_id")
            if in_reply_to and (in_reply_to not in self.statuses or in_reply_to in self.deleted):
                return Response(404, {"error": "Record not found"})
            mentioned = [a for a in self.accounts.values() if re.search(rf"(?<![\w@])@{re.escape(a['acct'])}\b", text)]
            if visibility == "direct" and not mentioned:
                return Response(422, {"error": "Validation failed: a direct status must mention its recipient"})
            status = self._status(self.brand, text, visibility=visibility, in_reply_to=in_reply_to,
                                  mentions=[{"id": a["id"], "username": a["username"], "acct": a["acct"],
                                             "url": a["url"]} for a in mentioned], tags=[])
            if key:
                self.idempotency[key] = (status["id"], time.time())
            self.posted.append({"id": status["id"], "text": text, "visibility": visibility,
                                "in_reply_to_id": in_reply_to, "idempotency_key": key})
        return Response(200, status)


def _status_length(text: str) -> int:
    """Mastodon's StatusLengthValidator: grapheme clusters, a link as 23, ``@user@domain`` as ``@user``."""
    countable = regex.sub(r"https?://\S+", "x" * 23, text)
    countable = regex.sub(r"(?<![\w@])(@\w+)@[\w.-]+", r"\1", countable)
    return len(regex.findall(r"\X", countable))


def make_mastodon(token: str, *, account_id: str = BRAND_ACCOUNT_ID, host: str = "127.0.0.1",
                  port: int = 0) -> FakeMastodon:
    return FakeMastodon(token, account_id=account_id, host=host, port=port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.mastodon", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    fake = make_mastodon(args.token, host=args.host, port=args.port).start()
    print(f"fake Mastodon ready at {fake.url}", flush=True)
    try:
        stop.wait()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
