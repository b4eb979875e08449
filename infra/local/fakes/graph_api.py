"""A fake Meta Graph API: private replies, Messenger/Instagram messages, comment replies, hiding comments.

A message goes to exactly one of ``recipient.id`` (a PSID), ``recipient.user_ref`` (a Chat Plugin
guest; answered without ``recipient_id``, as the Send API does) or ``recipient.comment_id`` (a
private reply).

It checks what graph.facebook.com would check (the access token, the body shape, one private
reply per comment), answers with Graph-shaped errors, and records what it accepted.

Hiding: ``POST /{comment-id}`` with ``is_hidden=true`` (Facebook) or ``hide=true`` (Instagram), in
the query, a form or a JSON body, hides a comment the fake knows (``add_comment(id, on=account,
platform=...)``) if it lies under a post of one of the brand's Pages or IG accounts and was not
written by that account; ``hidden`` holds what is hidden now. Anything else is refused as Graph
does: an unknown id (code 100, subcode 33), the other platform's parameter (100), a comment
elsewhere (200, permissions). Routes
work with or without a version prefix (``/v21.0/{page-id}/messages`` and ``/{page-id}/messages``),
so ``META_GRAPH_BASE_URL`` can be ``http://127.0.0.1:PORT/v21.0`` exactly like production.

Run alone: ``python -m fakes.graph_api --port 8790 --token T`` (from ``infra/local``); it prints
one ready line with its URL and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import signal
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fakes.base import FakeServer, Request, Response

DEFAULT_PAGE_IDS = frozenset({"110000000000001"})
DEFAULT_IG_USER_IDS = frozenset({"17841400000000001"})
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})

_VERSION = r"(?:/v\d+\.\d+)?"
_NODE = r"/(?P<node>[A-Za-z0-9_-]+)"
# IG User field expansion for mentions: mentioned_comment.comment_id(ID){f1,f2} / mentioned_media.media_id(ID){…}
_MENTIONED = re.compile(r"(?P<edge>mentioned_comment|mentioned_media)\.(?P<key>comment_id|media_id)"
                        r"\((?P<id>[A-Za-z0-9_]+)\)(?:\{(?P<fields>[a-z_,]+)\})?")
_MENTION_KEYS = {"mentioned_comment": "comment_id", "mentioned_media": "media_id"}


@dataclass(frozen=True)
class PrivateReply:
    account_id: str  # the Page or Instagram account that sent it
    platform: str  # "facebook" or "instagram"
    comment_id: str
    text: str
    message_id: str


@dataclass(frozen=True)
class SentMessage:
    account_id: str
    platform: str
    recipient_id: str | None  # the PSID / IGSID; None when sent to a Chat Plugin ``user_ref``
    messaging_type: str
    text: str
    message_id: str
    user_ref: str | None = None  # ``recipient.user_ref``: a Chat Plugin guest without a PSID


@dataclass(frozen=True)
class HiddenComment:
    comment_id: str
    platform: str  # "facebook" (is_hidden) or "instagram" (hide)
    account_id: str  # the Page or IG account whose post the comment is under


@dataclass(frozen=True)
class CommentReply:
    comment_id: str
    edge: str  # "comments" (Facebook) or "replies" (Instagram)
    text: str
    reply_id: str


class FakeGraphApi(FakeServer):
    """See the module docstring. ``rate_limit_next(k)`` throttles the next k authorised calls."""

    def __init__(self, token: str, *, page_ids: Iterable[str] = DEFAULT_PAGE_IDS,
                 ig_user_ids: Iterable[str] = DEFAULT_IG_USER_IDS, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(host, port)
        self.token = token
        self.page_ids = frozenset(page_ids)
        self.ig_user_ids = frozenset(ig_user_ids)
        self.private_replies: list[PrivateReply] = []
        self.messages: list[SentMessage] = []
        self.comment_replies: list[CommentReply] = []
        self.comments: dict[str, dict[str, Any]] = {}  # what GET /{comment-id} returns
        # where a comment is: comment id -> (platform, account whose post it is under, or None)
        self.comment_surfaces: dict[str, tuple[str, str | None]] = {}
        self.hidden: dict[str, HiddenComment] = {}  # comment id -> hidden now (POST /{comment-id})
        # what GET /{ig-user-id}?fields=mentioned_comment…/mentioned_media… returns, by (edge, id)
        self.mentioned: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads: list[str] = []  # node ids (or "edge:id") that were read, in order
        self._state = threading.Lock()
        self._ids = itertools.count(1)
        self._throttled_calls = 0
        self._throttle_code = 613
        self.route("POST", _VERSION + _NODE + "/messages", self._post_message)
        self.route("POST", _VERSION + _NODE + "/(?P<edge>comments|replies)", self._post_comment_reply)
        self.route("GET", _VERSION + _NODE, self._get_node)
        self.route("POST", _VERSION + _NODE, self._post_node)

    # -- scripting ---------------------------------------------------------------------------

    def rate_limit_next(self, count: int, code: int = 613) -> None:
        """Answer the next ``count`` authorised calls with Graph's rate-limit error (613, 4, 17, 32)."""
        with self._state:
            self._throttled_calls, self._throttle_code = count, code

    def add_comment(self, comment_id: str, *, on: str | None = None, platform: str = "facebook",
                    **fields: Any) -> None:
        """Make ``GET /{comment_id}`` find a comment with these fields (``message``, ``from``…).

        ``on``: the account (Page or IG user) whose post it is under; only a comment under one of the
        brand's own posts can be hidden. ``platform``: "facebook" or "instagram"."""
        if platform not in ("facebook", "instagram"):
            raise ValueError("platform must be facebook or instagram")
        with self._state:
            self.comments[comment_id] = {"id": comment_id, **fields}
            self.comment_surfaces[comment_id] = (platform, on)

    def add_mentioned(self, edge: str, node_id: str, **fields: Any) -> None:
        """Make the IG User's ``mentioned_comment`` (comment) or ``mentioned_media`` (caption) field
        find this object, e.g. ``add_mentioned("mentioned_media", "1790…", caption=…, username=…)``."""
        if edge not in _MENTION_KEYS:
            raise ValueError("edge must be mentioned_comment or mentioned_media")
        with self._state:
            self.mentioned[(edge, node_id)] = {"id": node_id, **fields}

    def reset(self) -> None:
        super().reset()
        with self._state:
            self.private_replies.clear()
            self.messages.clear()
            self.comment_replies.clear()
            self.comments.clear()
            self.comment_surfaces.clear()
            self.hidden.clear()
            self.mentioned.clear()
            self.reads.clear()
            self._throttled_calls = 0

    def start(self) -> FakeGraphApi:
        super().start()
        return self

    def __enter__(self) -> FakeGraphApi:
        return self.start()

    # -- handlers ----------------------------------------------------------------------------

    def _post_message(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._gate(req)
        if refusal:
            return refusal
        account_id = match["node"]
        if account_id in self.page_ids:
            platform = "facebook"
        elif account_id in self.ig_user_ids:
            platform = "instagram"
        else:
            return _no_such_object(account_id)
        body = _json_object(req)
        recipient, message = body.get("recipient"), body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            return _graph_error(400, 100, "(#100) The parameters recipient and message are required")
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            return _graph_error(400, 100, "(#100) The parameter message[text] must be a non-empty string")
        named = {key: value for key, value in recipient.items() if key in ("id", "user_ref", "comment_id")}
        if len(named) != 1 or set(recipient) - set(named) or not all(isinstance(v, str) and v for v in named.values()):
            return _graph_error(400, 100, "(#100) recipient needs exactly one of id, user_ref or comment_id")
        if "comment_id" in named:
            return self._private_reply(account_id, platform, named["comment_id"], text)
        messaging_type = body.get("messaging_type")
        if messaging_type not in MESSAGING_TYPES:
            return _graph_error(400, 100, "(#100) messaging_type is required", subcode=2018312)
        psid, user_ref = named.get("id"), named.get("user_ref")
        with self._state:
            sent = SentMessage(account_id, platform, psid, str(messaging_type), text, self._message_id(),
                               user_ref=user_ref)
            self.messages.append(sent)
        # The Send API leaves out recipient_id for a message sent to a user_ref.
        return Response(200, {"recipient_id": psid, "message_id": sent.message_id} if psid
                        else {"message_id": sent.message_id})

    def _private_reply(self, account_id: str, platform: str, comment_id: str, text: str) -> Response:
        with self._state:
            if any(reply.comment_id == comment_id for reply in self.private_replies):
                return _graph_error(400, 10900, "(#10900) Activity already replied to")
            reply = PrivateReply(account_id, platform, comment_id, text, self._message_id())
            self.private_replies.append(reply)
        return Response(200, {"recipient_id": f"psid-of-{comment_id}", "message_id": reply.message_id})

    def _post_comment_reply(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._gate(req)
        if refusal:
            return refusal
        text = _json_object(req).get("message")
        if not isinstance(text, str) or not text.strip():
            return _graph_error(400, 100, "(#100) The parameter message is required")
        comment_id, edge = match["node"], match["edge"]
        with self._state:
            number = next(self._ids)
            if edge == "comments":  # Facebook comment ids are "{post fbid}_{comment fbid}"
                reply_id = f"{comment_id.split('_')[0]}_{990000000000000 + number}"
            else:
                reply_id = str(17990000000000000 + number)
            self.comment_replies.append(CommentReply(comment_id, edge, text, reply_id))
        return Response(200, {"id": reply_id})

    def _get_node(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._gate(req)
        if refusal:
            return refusal
        fields = parse_qs(req.query).get("fields", [""])[0]
        if match["node"] in self.ig_user_ids and fields.startswith("mentioned_"):
            return self._get_mentioned(match["node"], fields)
        with self._state:
            node = self.comments.get(match["node"])
            self.reads.append(match["node"])
        if node is None:
            return _no_such_object(match["node"])
        wanted = {name for name in fields.split(",") if name} | {"id"}
        return Response(200, {key: value for key, value in node.items() if not fields or key in wanted})

    def _post_node(self, req: Request, match: re.Match[str]) -> Response:
        """``POST /{comment-id}``: hide or unhide (``is_hidden`` on Facebook, ``hide`` on Instagram)."""
        refusal = self._gate(req)
        if refusal:
            return refusal
        node = match["node"]
        params = _params(req)
        with self._state:
            surface = self.comment_surfaces.get(node)
            if surface is None:
                return _no_such_object(node)
            platform, on = surface
            key, other = ("is_hidden", "hide") if platform == "facebook" else ("hide", "is_hidden")
            if other in params or set(params) - {key, "appsecret_proof", "access_token"}:
                unknown = sorted(set(params) - {key, "appsecret_proof", "access_token"})[0]
                return _graph_error(400, 100, f"(#100) Param {unknown} is not valid for this object")
            value = params.get(key)
            if value not in (True, False, "true", "false"):
                return _graph_error(400, 100, f"(#100) Param {key} must be a boolean")
            brand = self.page_ids if platform == "facebook" else self.ig_user_ids
            author = self.comments[node].get("from")
            author_id = author.get("id") if isinstance(author, dict) else None
            if on is None or on not in brand:
                return _graph_error(400, 200, "(#200) Permissions error", error_type="OAuthException")
            if author_id == on:
                return _graph_error(400, 100, "(#100) The owner's own comment cannot be hidden")
            if value in (True, "true"):
                self.hidden[node] = HiddenComment(node, platform, on)
            else:
                self.hidden.pop(node, None)
        return Response(200, {"success": True})

    def _get_mentioned(self, ig_user_id: str, fields: str) -> Response:
        """``GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){…}`` as Graph answers it."""
        spec = _MENTIONED.fullmatch(fields)
        if spec is None or _MENTION_KEYS[spec["edge"]] != spec["key"]:
            return _graph_error(400, 100, "(#100) Tried accessing nonexisting field (mentioned_*)")
        with self._state:
            found = self.mentioned.get((spec["edge"], spec["id"]))
            self.reads.append(f"{spec['edge']}:{spec['id']}")
        if found is None:
            return _graph_error(400, 100, "(#100) The mentioned object does not exist or is not accessible",
                                subcode=33)
        wanted = {name for name in (spec["fields"] or "").split(",") if name} | {"id"}
        body = {k: v for k, v in found.items() if not spec["fields"] or k in wanted}
        return Response(200, {spec["edge"]: body, "id": ig_user_id})

    # -- checks ------------------------------------------------------------------------------

    def _gate(self, req: Request) -> Response | None:
        """Token first (Graph answers 190 before anything else), then the scripted rate limit."""
        bearer = req.header("authorization") or ""
        query_token = parse_qs(req.query).get("access_token", [""])[0]
        offered = bearer.removeprefix("Bearer ").removeprefix("OAuth ") if bearer else query_token
        if offered != self.token:
            return _graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token",
                                error_type="OAuthException")
        with self._state:
            if self._throttled_calls > 0:
                self._throttled_calls -= 1
                code = self._throttle_code
                return _graph_error(400, code, f"(#{code}) Calls to this api have exceeded the rate limit.",
                                    error_type="OAuthException", is_transient=True)
        return None

    def _message_id(self) -> str:
        return f"m_fake{next(self._ids):012d}"


def make_graph_api(token: str, *, page_ids: Iterable[str] = DEFAULT_PAGE_IDS,
                   ig_user_ids: Iterable[str] = DEFAULT_IG_USER_IDS, host: str = "127.0.0.1",
                   port: int = 0) -> FakeGraphApi:
    """A fake Graph API (not yet started: ``with make_graph_api("T") as graph: ...``)."""
    return FakeGraphApi(token, page_ids=page_ids, ig_user_ids=ig_user_ids, host=host, port=port)


def _json_object(req: Request) -> dict[str, Any]:
    """The JSON object sent, or ``{}`` (which every shape check then refuses)."""
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _params(req: Request) -> dict[str, Any]:
    """A POST's parameters as Graph reads them: the query, then a form or JSON body."""
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(req.query).items()}
    ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        params.update(_json_object(req))
    elif req.body:
        params.update({k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()})
    return params


def _graph_error(status: int, code: int, message: str, *, subcode: int | None = None,
                 error_type: str = "GraphMethodException", is_transient: bool = False) -> Response:
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code,
                             "is_transient": is_transient, "fbtrace_id": "AFakeTraceId0"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error})


def _no_such_object(node: str) -> Response:
    return _graph_error(400, 100, f"Unsupported request. Object with ID '{node}' does not exist, cannot "
                        "be loaded due to missing permissions, or does not support this operation.",
                        subcode=33)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.graph_api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see the ready line)")
    parser.add_argument("--token", required=True, help="the Page access token to accept")
    parser.add_argument("--page-id", action="append", dest="page_ids", help="repeatable")
    parser.add_argument("--ig-user-id", action="append", dest="ig_user_ids", help="repeatable")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    graph = make_graph_api(args.token, page_ids=args.page_ids or DEFAULT_PAGE_IDS,
                           ig_user_ids=args.ig_user_ids or DEFAULT_IG_USER_IDS, host=args.host,
                           port=args.port).start()
    print(f"fake Graph API ready at {graph.url}", flush=True)
    try:
        stop.wait()
    finally:
        graph.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
