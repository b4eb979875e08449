"""A fake Threads API (graph.threads.net): reply containers, publishing, the reply quota.

It checks what Threads would check: the access token (``Authorization: Bearer`` or an
``access_token`` parameter) before anything else, a form-encoded body, a container of
``media_type=TEXT`` with a non-empty ``text`` of at most 500 characters and a ``reply_to_id``,
a publish with the ``creation_id`` of an unpublished container of the same account, and the
24-hour reply quota (Meta: 1,000 API-published replies per profile; ``quota_total`` here). It
answers with Graph-shaped errors and records what it published. Routes work with or without a
version prefix (``/v1.0/me/threads`` and ``/me/threads``), so ``THREADS_API_BASE_URL`` can be
``http://127.0.0.1:PORT/v1.0`` exactly like production.

Reply moderation: ``POST /{reply-id}/manage_reply`` with a form ``hide=true|false`` hides (or shows)
a reply the fake knows (``add_reply``) if it is a top-level reply to one of the brand's own posts and
not the brand's own; ``hidden`` holds the ids hidden now. Others are refused Graph-style (an unknown
id: code 100, subcode 33; a reply elsewhere or nested deeper: code 100).

Reading a node (``GET /{id}?fields=…``, Threads API "Media Retrieval" and "Troubleshooting"): a
container answers its ``status`` (``FINISHED`` until published, then ``PUBLISHED``); a post the
fake knows (``add_reply``, ``add_post``, ``add_brand_reply``, the brand's published replies)
answers the fields asked for (``replied_to`` on replies); a deleted (``delete_post``) or unknown
id answers Graph's "does not exist" error (code 100, subcode 33), as Graph does for an object
that is gone. ``lose_publish_answers(n)`` publishes the
next n containers but answers 502, as if the answer was lost on the way back;
``fail_publish_next(n)`` answers the next n publishes 503 without publishing.

Meta does not document which error code a publish past the quota gets; the fake answers
Graph's application rate-limit error (``code 4``), which the client treats as a rate limit.

Run alone: ``python -m fakes.threads_api --port 8791 --token T`` (from ``infra/local``); it prints
one ready line with its URL and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import itertools
import re
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fakes.base import FakeServer, Request, Response

DEFAULT_USER_ID = "17841400000000077"
REPLY_QUOTA = 1000
QUOTA_DURATION = 86400
TEXT_LIMIT = 500

_VERSION = r"(?:/v\d+\.\d+)?"
_USER = r"/(?P<user>me|[0-9]+)"
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class Container:
    id: str
    user_id: str
    media_type: str
    text: str
    reply_to_id: str


@dataclass(frozen=True)
class PublishedReply:
    id: str
    user_id: str
    reply_to_id: str
    text: str
    container_id: str


class FakeThreadsApi(FakeServer):
    """See the module docstring. ``rate_limit_next(k)`` throttles the next k authorised calls;
    ``refuse_replies_to`` holds post ids Threads will not take a reply to (deleted, restricted);
    ``quota_used`` can be set to script a spent quota."""

    def __init__(self, token: str, *, user_id: str = DEFAULT_USER_ID, quota_total: int = REPLY_QUOTA,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.token = token
        self.user_id = user_id
        self.quota_total = quota_total
        self.quota_used = 0
        self.containers: dict[str, Container] = {}
        self.published: list[PublishedReply] = []
        self.refuse_replies_to: set[str] = set()
        # replies Threads knows of, for moderation: id -> {"author_id", "root_owner_id", "top_level"}
        self.replies: dict[str, dict[str, Any]] = {}
        self.hidden: set[str] = set()
        self.deleted: set[str] = set()  # posts their authors deleted: ``GET /{id}`` says they do not exist
        self._lost_publish_answers = 0
        self._failed_publishes = 0
        self._state = threading.Lock()
        self._ids = itertools.count(1)
        self._throttled_calls = 0
        self._throttle_code = 613
        self.route("POST", _VERSION + _USER + "/threads", self._create_container)
        self.route("POST", _VERSION + _USER + "/threads_publish", self._publish)
        self.route("GET", _VERSION + _USER + "/threads_publishing_limit", self._publishing_limit)
        self.route("POST", _VERSION + r"/(?P<reply>[A-Za-z0-9_-]+)/manage_reply", self._manage_reply)
        self.route("GET", _VERSION + r"/(?P<node>[A-Za-z0-9_-]+)", self._read_node)

    # -- scripting ---------------------------------------------------------------------------

    def rate_limit_next(self, count: int, code: int = 613) -> None:
        with self._state:
            self._throttled_calls, self._throttle_code = count, code

    def add_reply(self, reply_id: str, *, author_id: str = "17841499999999999", root_owner_id: str | None = None,
                  top_level: bool = True, text: str = "", username: str = "kundin_anna") -> None:
        """A reply Threads knows of: in a thread whose root post ``root_owner_id`` wrote (default: the
        brand), directly under the root (``top_level``) or nested deeper."""
        with self._state:
            self.replies[reply_id] = {"author_id": author_id, "root_owner_id": root_owner_id or self.user_id,
                                      "top_level": top_level, "text": text, "username": username}

    def add_brand_reply(self, reply_id: str, *, replied_to: str, text: str = "", username: str = "telekom_hilft",
                        timestamp: str | None = None) -> None:
        """A reply the brand wrote in the Threads app (not through the API): Threads sends only a
        ``publish`` webhook without ``replied_to``; ``GET /{id}?fields=replied_to`` names the parent."""
        with self._state:
            self.replies[reply_id] = {"author_id": self.user_id, "root_owner_id": None, "top_level": False,
                                      "text": text, "username": username, "replied_to": replied_to,
                                      "timestamp": timestamp}

    def add_post(self, post_id: str, *, author_id: str = "17841499999999999", text: str = "",
                 username: str = "kundin_anna") -> None:
        """A post Threads knows of that is no reply (e.g. a customer's post mentioning the brand)."""
        self.add_reply(post_id, author_id=author_id, root_owner_id=author_id, top_level=False, text=text,
                       username=username)

    def delete_post(self, post_id: str) -> None:
        """The author deletes the post: Threads no longer has it (no webhook tells the brand)."""
        with self._state:
            self.deleted.add(post_id)

    def lose_publish_answers(self, count: int) -> None:
        with self._state:
            self._lost_publish_answers = count

    def fail_publish_next(self, count: int) -> None:
        with self._state:
            self._failed_publishes = count

    def reset(self) -> None:
        super().reset()
        with self._state:
            self.replies.clear()
            self.hidden.clear()
            self.deleted.clear()
            self._lost_publish_answers = 0
            self._failed_publishes = 0
            self.containers.clear()
            self.published.clear()
            self.refuse_replies_to.clear()
            self.quota_used = 0
            self._throttled_calls = 0

    def start(self) -> FakeThreadsApi:
        super().start()
        return self

    def __enter__(self) -> FakeThreadsApi:
        return self.start()

    # -- handlers ----------------------------------------------------------------------------

    def _create_container(self, req: Request, match: re.Match[str]) -> Response:
        params, refusal = self._gate(req, match)
        if refusal:
            return refusal
        media_type, text, reply_to = params.get("media_type"), params.get("text"), params.get("reply_to_id")
        if media_type != "TEXT":
            return _graph_error(400, 100, "(#100) The parameter media_type must be TEXT for a text reply")
        if not text or not text.strip():
            return _graph_error(400, 100, "(#100) The parameter text is required for media_type=TEXT")
        if len(text) > TEXT_LIMIT:
            return _graph_error(400, 100, f"(#100) text is longer than {TEXT_LIMIT} characters")
        if not reply_to or not _ID.fullmatch(reply_to):
            return _graph_error(400, 100, "(#100) The parameter reply_to_id is required to reply")
        if reply_to in self.refuse_replies_to:
            return _graph_error(400, 100, f"Unsupported post request. Object with ID '{reply_to}' does not "
                                "exist, cannot be loaded due to missing permissions, or does not support "
                                "this operation.", subcode=33)
        with self._state:
            container = Container(f"1800{next(self._ids):011d}", self.user_id, media_type, text, reply_to)
            self.containers[container.id] = container
        return Response(200, {"id": container.id})

    def _publish(self, req: Request, match: re.Match[str]) -> Response:
        params, refusal = self._gate(req, match)
        if refusal:
            return refusal
        creation_id = params.get("creation_id") or ""
        with self._state:
            if self._failed_publishes > 0:
                self._failed_publishes -= 1
                return _graph_error(503, 2, "Service temporarily unavailable", is_transient=True)
            container = self.containers.get(creation_id)
            if container is None or any(p.container_id == creation_id for p in self.published):
                return _graph_error(400, 24, "(#24) The requested resource does not exist", subcode=4279009)
            if self.quota_used >= self.quota_total:
                return _graph_error(400, 4, "(#4) Application request limit reached", is_transient=True)
            self.quota_used += 1
            reply = PublishedReply(f"1790{next(self._ids):011d}", container.user_id, container.reply_to_id,
                                   container.text, container.id)
            self.published.append(reply)
            if self._lost_publish_answers > 0:
                self._lost_publish_answers -= 1
                return _graph_error(502, 2, "An unexpected error has occurred. Please retry your request later.",
                                    is_transient=True)
        return Response(200, {"id": reply.id})

    def _read_node(self, req: Request, match: re.Match[str]) -> Response:
        params, refusal = self._gate(req, match)
        if refusal:
            return refusal
        node = match["node"]
        fields = [name for name in (params.get("fields") or "id").split(",") if name]
        with self._state:
            if node in self.containers:
                published = any(p.container_id == node for p in self.published)
                return Response(200, {"id": node, "status": "PUBLISHED" if published else "FINISHED"})
            known: dict[str, Any] | None = None
            if node in self.replies and node not in self.deleted:
                reply = self.replies[node]
                known = {"id": node, "text": reply["text"], "username": reply["username"],
                         "media_type": "TEXT_POST", "is_reply": reply["root_owner_id"] != reply["author_id"]}
                if reply.get("replied_to"):
                    known["replied_to"] = {"id": reply["replied_to"]}
                if reply.get("timestamp"):
                    known["timestamp"] = reply["timestamp"]
            mine = next((p for p in self.published if p.id == node), None)
            if mine is not None and node not in self.deleted:
                known = {"id": node, "text": mine.text, "media_type": "TEXT_POST", "is_reply": True,
                         "replied_to": {"id": mine.reply_to_id}}
        if known is None:
            return _graph_error(400, 100, f"Unsupported get request. Object with ID '{node}' does not exist, "
                                "cannot be loaded due to missing permissions, or does not support this operation.",
                                subcode=33)
        return Response(200, {name: known[name] for name in fields if name in known} | {"id": node})

    def _manage_reply(self, req: Request, match: re.Match[str]) -> Response:
        params, refusal = self._gate(req, match)
        if refusal:
            return refusal
        reply_id, hide = match["reply"], params.get("hide")
        if hide not in ("true", "false"):
            return _graph_error(400, 100, "(#100) The parameter hide must be true or false")
        with self._state:
            reply = self.replies.get(reply_id)
            if reply is None:
                return _graph_error(400, 100, f"Unsupported post request. Object with ID '{reply_id}' does not "
                                    "exist, cannot be loaded due to missing permissions, or does not support "
                                    "this operation.", subcode=33)
            if reply["root_owner_id"] != self.user_id or reply["author_id"] == self.user_id:
                return _graph_error(400, 100, "(#100) Only replies to your own posts can be hidden")
            if not reply["top_level"]:
                return _graph_error(400, 100, "(#100) Only top-level replies can be hidden")
            if hide == "true":
                self.hidden.add(reply_id)
            else:
                self.hidden.discard(reply_id)
        return Response(200, {"success": True})

    def _publishing_limit(self, req: Request, match: re.Match[str]) -> Response:
        params, refusal = self._gate(req, match)
        if refusal:
            return refusal
        fields = {name for name in (params.get("fields") or "").split(",") if name}
        row: dict[str, Any] = {}
        with self._state:
            if "reply_quota_usage" in fields:
                row["reply_quota_usage"] = self.quota_used
            if "reply_config" in fields:
                row["reply_config"] = {"quota_total": self.quota_total, "quota_duration": QUOTA_DURATION}
        if not row:
            return _graph_error(400, 100, "(#100) Unknown or missing fields parameter")
        return Response(200, {"data": [row]})

    # -- checks ------------------------------------------------------------------------------

    def _gate(self, req: Request, match: re.Match[str]) -> tuple[dict[str, str], Response | None]:
        """Token first (Graph answers 190 before anything else), then the account, the body's
        encoding and the scripted rate limit. Parameters: the query, plus a form body on POST."""
        params = {k: v[0] for k, v in parse_qs(req.query).items()}
        if req.method == "POST":
            ctype = (req.header("content-type") or "").split(";")[0].strip()
            if ctype != "application/x-www-form-urlencoded":
                return params, _graph_error(400, 100, "(#100) parameters must be form-encoded")
            params.update({k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()})
        bearer = req.header("authorization") or ""
        offered = bearer.removeprefix("Bearer ") if bearer else params.get("access_token", "")
        if offered != self.token:
            return params, _graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token",
                                        error_type="OAuthException")
        if "user" in match.groupdict() and match["user"] not in ("me", self.user_id):
            return params, _graph_error(400, 100, f"Unsupported post request. Object with ID '{match['user']}' "
                                        "does not exist", subcode=33)
        with self._state:
            if self._throttled_calls > 0:
                self._throttled_calls -= 1
                code = self._throttle_code
                return params, _graph_error(400, code, f"(#{code}) Calls to this api have exceeded the rate limit.",
                                            error_type="OAuthException", is_transient=True)
        return params, None


def make_threads_api(token: str, *, user_id: str = DEFAULT_USER_ID, quota_total: int = REPLY_QUOTA,
                     host: str = "127.0.0.1", port: int = 0) -> FakeThreadsApi:
    """A fake Threads API (not yet started: ``with make_threads_api("T") as threads: ...``)."""
    return FakeThreadsApi(token, user_id=user_id, quota_total=quota_total, host=host, port=port)


def _graph_error(status: int, code: int, message: str, *, subcode: int | None = None,
                 error_type: str = "THApiException", is_transient: bool = False) -> Response:
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code,
                             "is_transient": is_transient, "fbtrace_id": "AFakeThreadsTrace0"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.threads_api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see the ready line)")
    parser.add_argument("--token", required=True, help="the Threads access token to accept")
    parser.add_argument("--user-id", default=DEFAULT_USER_ID, help="the brand's Threads user id")
    parser.add_argument("--quota", type=int, default=REPLY_QUOTA, help="replies per 24 hours")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    api = make_threads_api(args.token, user_id=args.user_id, quota_total=args.quota, host=args.host,
                           port=args.port).start()
    print(f"fake Threads API ready at {api.url}", flush=True)
    try:
        stop.wait()
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
