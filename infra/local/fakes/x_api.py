"""A fake X API v2: one-to-one DMs, posts (replies) and hiding replies, the calls hilft makes to X.

It checks what api.x.com would check (the OAuth 2.0 user token, a JSON body of the right shape
and length), answers with X-shaped problem bodies, and records what it accepted. It can be told
that a user does not accept DMs (``closed_dms``) and to rate-limit the next calls.

Hide replies: ``PUT /2/tweets/:id/hidden`` with ``{"hidden": true|false}`` hides (or shows) a post
the fake knows (``add_post``) if it is a reply in a conversation the brand's account started and
not the brand's own; X answers 403 for any other known post, 404 for an unknown one. ``hidden``
holds the ids hidden now.

The radar's Filtered Stream calls (``make register-webhooks``) need the app-only bearer token
(``app_token``): ``GET``/``POST /2/tweets/search/stream/rules`` (``add`` or ``delete``, never both;
``dry_run``; duplicate values, rules over 2,048 characters and rules with unbalanced parentheses
or an unclosed quote refused as X does, in ``errors``),
``GET /2/tweets/search/webhooks`` and ``POST /2/tweets/search/webhooks/:webhook_id`` (the link;
its query parameters are recorded in ``stream_links``).

``max_rules`` (default unlimited) models X's rule cap: an ``add`` that would exceed it creates
nothing and is refused with a ``rule-cap`` problem (X's error type for "Too many filtered stream
rules"; the status is not documented: 403 here).

X Activity API subscriptions (``make register-webhooks``; shapes of
https://docs.x.com/x-api/activity/quickstart "Subscription management" and X's OpenAPI
``CreateActivitySubscriptionRequest``): ``GET /2/users/me`` (user token) names the brand account;
``GET /2/activity/subscriptions`` (app or user token) lists ``activity_subscriptions``;
``POST /2/activity/subscriptions`` checks the body (only ``event_type``, ``filter``, ``tag``,
``webhook_id``; a known event type; ``filter.user_id`` digits) and the token: any kind the page does
not list as public (profile updates, ``post.create``/``post.delete``, broadcasts) needs the user token
of ``filter.user_id`` itself, as X allows private subscriptions only for users who authorised the app;
a second identical subscription is refused (409; X does not document that answer).
``PUT /2/activity/subscriptions/:id`` (app token) changes ``tag``/``webhook_id`` only.

Author lookups: ``GET /2/users/:id`` (user token; only known ``user.fields``) answers the accounts
added with ``add_user`` (``user_reads`` records the ids asked for); an unknown id gets X's 200 with
only ``errors`` (``resource-not-found``).

Account Activity replay (``make replay``): ``register_webhook(url, secret)`` stands for a registered
webhook, ``deliver(webhook_id, body)`` for X delivering one event (recorded whether or not the webhook
answered), and ``POST /2/account_activity/replay/webhooks/:webhook_id/subscriptions/all`` (app-only
token, X's window limits) redelivers the recorded events of the window, signed like X, then sends
``replay_job_status``; ``wait_replay(job_id)`` waits for the job.

Run alone: ``python -m fakes.x_api --port 8791 --token T`` (from ``infra/local``); it prints one
ready line with its URL and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import signal
import sys
import threading
import time
import urllib.parse
from typing import Any

from fakes.base import FakeServer, Request, Response

DEFAULT_USER_ID = "1000000001"  # the brand account the token belongs to (as in tests/fixtures/x)
MAX_POST_CHARS = 280  # counted in code points; X's weighted count (URLs, CJK) is not modelled
MAX_DM_CHARS = 10_000
# Filtered-stream webhooks are for Enterprise access: rules up to 2,048 characters
# (https://docs.x.com/x-api/webhooks/stream/introduction).
MAX_RULE_CHARS = 2048



def _rule_syntax_error(value: str) -> str | None:
    """What X's rule parser would refuse: a quote left open or unbalanced parentheses (outside quotes)."""
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return "Rules must have balanced parentheses: a ')' closes nothing."
    if quoted:
        return "Rules must close every quoted phrase."
    return "Rules must have balanced parentheses." if depth else None


_TWITTER_EPOCH_MS = 1288834974657
_FIRST_ID_MS = 1732000000000  # ids look like posts from November 2024, then count up
_DIGITS = re.compile(r"[0-9]{1,20}")
_INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
# X's OpenAPI enum of CreateActivitySubscriptionRequest.event_type, and the public ones among them
# (https://docs.x.com/x-api/activity/introduction, "Event privacy and authentication").
ACTIVITY_EVENT_TYPES = frozenset({
    "profile.update.bio", "profile.update.profile_picture", "profile.update.banner_picture",
    "profile.update.screenname", "profile.update.geo", "profile.update.url", "profile.update.verified_badge",
    "profile.update.affiliate_badge", "profile.update.handle", "news.new", "follow.follow", "follow.unfollow",
    "spaces.start", "spaces.end", "broadcast.start", "broadcast.end", "broadcast.chat", "chat.received",
    "chat.sent", "chat.conversation.join", "chat.conversation_join", "dm.sent", "dm.received",
    "dm.indicate_typing", "dm.read", "post.create", "post.delete", "post.mention.create", "post.reply.create",
    "post.quote.create", "post.repost.create", "like.create", "mute.mute", "mute.unmute", "block.block",
    "block.unblock"})
_PUBLIC_ACTIVITY_EVENTS = frozenset({
    "profile.update.bio", "profile.update.profile_picture", "profile.update.banner_picture",
    "profile.update.screenname", "profile.update.geo", "profile.update.url", "profile.update.handle",
    "post.create", "post.delete", "broadcast.start", "broadcast.end"})
_ACTIVITY_BODY_KEYS = frozenset({"event_type", "filter", "tag", "webhook_id"})


class FakeXApi(FakeServer):
    """See the module docstring. ``dms``, ``replies`` and ``posts`` hold what X accepted."""

    def __init__(self, token: str, *, user_id: str = DEFAULT_USER_ID, host: str = "127.0.0.1",
                 port: int = 0, app_token: str | None = None, max_rules: int | None = None) -> None:
        super().__init__(host, port)
        self.token = token
        self.app_token = app_token
        self.max_rules = max_rules
        self.stream_rules: list[dict[str, str]] = []  # {"id", "value", "tag"}
        # {"subscription_id", "event_type", "filter", "tag"?, "webhook_id"?, "created_at", "updated_at"}
        self.activity_subscriptions: list[dict[str, Any]] = []
        self.stream_links: dict[str, dict[str, str]] = {}  # webhook id -> the link's query parameters
        self.user_id = user_id
        self.closed_dms: set[str] = set()  # participant ids whose DM settings refuse the brand
        self.dms: list[dict[str, str]] = []
        self.replies: list[dict[str, str]] = []
        self.posts: list[dict[str, str]] = []  # top-level posts (hilft never sends these)
        # posts X knows of (others'), for hiding: id -> {"author_id", "conversation_id", "conversation_author_id"}
        self.known_posts: dict[str, dict[str, str]] = {}
        self.hidden: set[str] = set()  # reply ids hidden now
        self.users: dict[str, dict[str, Any]] = {}  # accounts X knows (add_user): id -> v2 user object
        self.user_reads: list[str] = []  # ids looked up with GET /2/users/:id
        self._state = threading.Lock()
        self._sequence = itertools.count(1)
        self._throttled_calls = 0
        self._reset_in = 900.0
        self.route("POST", r"/2/dm_conversations/with/(?P<participant>[^/]+)/messages", self._send_dm)
        self.route("POST", r"/2/tweets", self._create_post)
        self.route("PUT", r"/2/tweets/(?P<post>[^/]+)/hidden", self._hide_reply)
        self.route("GET", r"/2/tweets/search/stream/rules", self._list_rules)
        self.route("POST", r"/2/tweets/search/stream/rules", self._change_rules)
        self.route("GET", r"/2/tweets/search/webhooks", self._list_links)
        self.route("POST", r"/2/tweets/search/webhooks/(?P<webhook_id>[^/?]+)", self._link_webhook)
        self.route("GET", r"/2/users/me", self._users_me)
        self.route("GET", r"/2/users/(?P<user_id>[0-9]{1,20})", self._get_user)
        self.route("GET", r"/2/activity/subscriptions", self._list_activity)
        self.route("POST", r"/2/activity/subscriptions", self._create_activity)
        self.route("PUT", r"/2/activity/subscriptions/(?P<subscription_id>[^/?]+)", self._update_activity)
        self._init_replay()

    # -- scripting ---------------------------------------------------------------------------

    def rate_limit_next(self, count: int, reset_in: float = 900.0) -> None:
        """Answer the next ``count`` authorised calls with 429; the reset lies ``reset_in`` s after each."""
        with self._state:
            self._throttled_calls, self._reset_in = count, reset_in

    def add_post(self, post_id: str, author_id: str, *, conversation_id: str | None = None,
                 conversation_author_id: str | None = None) -> None:
        """A post X knows of: ``conversation_id`` is the id of the post that started its conversation
        (itself when left out: a top-level post), ``conversation_author_id`` who wrote that one."""
        with self._state:
            self.known_posts[post_id] = {
                "author_id": author_id, "conversation_id": conversation_id or post_id,
                "conversation_author_id": conversation_author_id or author_id}

    def add_user(self, user_id: str, username: str, name: str, *, followers: int = 0) -> None:
        """An account X knows, for ``GET /2/users/:id``."""
        with self._state:
            self.users[user_id] = {"id": user_id, "username": username, "name": name,
                                   "public_metrics": {"followers_count": followers, "following_count": 0,
                                                      "tweet_count": 0, "listed_count": 0, "like_count": 0,
                                                      "media_count": 0}}

    def reset(self) -> None:
        super().reset()
        with self._state:
            self.users.clear()
            self.user_reads.clear()
            self.known_posts.clear()
            self.hidden.clear()
            self.dms.clear()
            self.replies.clear()
            self.posts.clear()
            self.closed_dms.clear()
            self.stream_rules.clear()
            self.stream_links.clear()
            self.activity_subscriptions.clear()
            self._throttled_calls = 0
        self._reset_replay()

    def start(self) -> FakeXApi:
        super().start()
        return self

    def __enter__(self) -> FakeXApi:
        return self.start()

    # -- handlers ----------------------------------------------------------------------------

    def _send_dm(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._gate(req)
        if refusal:
            return refusal
        participant = match["participant"]
        if not _DIGITS.fullmatch(participant):
            return _invalid_request("participant_id", "The `participant_id` parameter must be a user id.")
        body = _json_object(req)
        text = body.get("text") if body is not None else None
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_DM_CHARS:
            return _invalid_request("text", f"The `text` field must be 1 to {MAX_DM_CHARS} characters.")
        with self._state:
            if participant in self.closed_dms:
                return _problem(403, "Forbidden", "You cannot send messages to this user.")
            sent = {"participant_id": participant, "text": text, "dm_event_id": self._next_id(),
                    "dm_conversation_id": _conversation_id(self.user_id, participant)}
            self.dms.append(sent)
        return Response(201, {"data": {"dm_conversation_id": sent["dm_conversation_id"],
                                       "dm_event_id": sent["dm_event_id"]}})

    def _create_post(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._gate(req)
        if refusal:
            return refusal
        body = _json_object(req)
        text = body.get("text") if body is not None else None
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_POST_CHARS:
            return _invalid_request("text", f"The `text` field must be 1 to {MAX_POST_CHARS} characters.")
        reply = body.get("reply") if body is not None else None
        in_reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if reply is not None and not (isinstance(in_reply_to, str) and _DIGITS.fullmatch(in_reply_to)):
            return _invalid_request("reply.in_reply_to_tweet_id",
                                    "The `reply.in_reply_to_tweet_id` field must be a post id.")
        with self._state:
            post_id = self._next_id()
            if in_reply_to is None:
                self.posts.append({"id": post_id, "text": text})
            else:
                self.replies.append({"id": post_id, "text": text, "in_reply_to_tweet_id": in_reply_to})
        return Response(201, {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}})

    def _hide_reply(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._gate(req)
        if refusal:
            return refusal
        post_id = match["post"]
        if not _DIGITS.fullmatch(post_id):
            return _invalid_request("id", "The `id` query parameter value is not valid.")
        body = _json_object(req)
        if body is None or set(body) != {"hidden"} or not isinstance(body["hidden"], bool):
            return _invalid_request("hidden", "The `hidden` field must be true or false.")
        with self._state:
            post = self.known_posts.get(post_id)
            if post is None:
                return Response(404, {"title": "Not Found Error",
                                      "detail": f"Could not find tweet with id: [{post_id}].",
                                      "type": "https://api.twitter.com/2/problems/resource-not-found",
                                      "status": 404})
            if (post["conversation_id"] == post_id or post["conversation_author_id"] != self.user_id
                    or post["author_id"] == self.user_id):
                return _problem(403, "Forbidden", "You are not permitted to hide replies to this conversation.")
            if body["hidden"]:
                self.hidden.add(post_id)
            else:
                self.hidden.discard(post_id)
        return Response(200, {"data": {"hidden": body["hidden"]}})

    # -- Filtered Stream rules and webhook links (app-only token) -----------------------------

    def _app_gate(self, req: Request, *, body: bool) -> Response | None:
        if self.app_token is None or req.header("authorization") != f"Bearer {self.app_token}":
            return _problem(403, "Unsupported Authentication",
                            "Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  "
                            "Supported authentication types are [OAuth 2.0 Application-Only].")
        if body:
            content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return _invalid_request("body", "The request body must be JSON (Content-Type: application/json).")
        return None

    def _list_rules(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._app_gate(req, body=False)
        if refusal:
            return refusal
        with self._state:
            rules = [dict(rule) for rule in self.stream_rules]
        meta = {"sent": _now_iso(), "result_count": len(rules)}
        return Response(200, {"data": rules, "meta": meta} if rules else {"meta": meta})

    def _change_rules(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._app_gate(req, body=True)
        if refusal:
            return refusal
        body = _json_object(req)
        if body is None or ("add" in body) == ("delete" in body) or set(body) - {"add", "delete"}:
            return _invalid_request("body", "Exactly one of `add` or `delete` must be given.")
        dry_run = "dry_run=true" in (req.query or "")
        if "delete" in body:
            ids = body["delete"].get("ids") if isinstance(body["delete"], dict) else None
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and _DIGITS.fullmatch(i)
                                                               for i in ids):
                return _invalid_request("delete.ids", "The `delete.ids` field must be a list of rule ids.")
            with self._state:
                known = {rule["id"] for rule in self.stream_rules}
                deleted = [i for i in ids if i in known]
                if not dry_run:
                    self.stream_rules = [rule for rule in self.stream_rules if rule["id"] not in deleted]
            errors = [{"id": i, "title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found"}
                      for i in ids if i not in deleted]
            answer: dict[str, Any] = {"meta": {"sent": _now_iso(), "summary": {"deleted": len(deleted),
                                                                               "not_deleted": len(errors)}}}
            if errors:
                answer["errors"] = errors
            return Response(200, answer)
        adds = body["add"]
        if not isinstance(adds, list) or not adds or not all(
                isinstance(a, dict) and isinstance(a.get("value"), str) and a["value"].strip()
                and isinstance(a.get("tag", ""), str) and set(a) <= {"value", "tag"} for a in adds):
            return _invalid_request("add", "The `add` field must be a list of {value, tag} objects.")
        created: list[dict[str, str]] = []
        errors = []
        with self._state:
            if self.max_rules is not None and len(self.stream_rules) + len(adds) > self.max_rules:
                return _problem(403, "RulesCapExceeded",
                                f"Rule creation would exceed the limit of {self.max_rules} rules.",
                                kind="https://api.twitter.com/2/problems/rule-cap")
            values = {rule["value"]: rule["id"] for rule in self.stream_rules}
            for item in adds:
                value = item["value"]
                syntax = _rule_syntax_error(value)
                if len(value) > MAX_RULE_CHARS:
                    errors.append({"value": value, "title": "RuleTooLong", "details": [
                        f"Rule is too long. Max length is {MAX_RULE_CHARS}."],
                        "type": "https://api.twitter.com/2/problems/invalid-rules"})
                elif syntax:
                    errors.append({"value": value, "title": "UnprocessableEntity", "details": [syntax],
                                   "type": "https://api.twitter.com/2/problems/invalid-rules"})
                elif value in values:
                    errors.append({"value": value, "id": values[value], "title": "DuplicateRule",
                                   "type": "https://api.twitter.com/2/problems/duplicate-rules"})
                else:
                    rule = {"id": self._next_id(), "value": value, **({"tag": item["tag"]} if item.get("tag") else {})}
                    values[value] = rule["id"]
                    created.append(rule)
            if not dry_run:
                self.stream_rules.extend(created)
        summary = {"created": len(created), "not_created": len(errors), "valid": len(created),
                   "invalid": len(errors)}
        answer = {"meta": {"sent": _now_iso(), "summary": summary}}
        if created:
            answer["data"] = created
        if errors:
            answer["errors"] = errors
        return Response(201 if created else 200, answer)

    def _list_links(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._app_gate(req, body=False)
        if refusal:
            return refusal
        with self._state:
            links = [{"webhook_id": webhook_id, "fields": sorted(params)} for webhook_id, params in
                     self.stream_links.items()]
        return Response(200, {"data": {"links": links}})

    def _link_webhook(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._app_gate(req, body=False)
        if refusal:
            return refusal
        webhook_id = match["webhook_id"]
        if not _DIGITS.fullmatch(webhook_id):
            return _invalid_request("webhook_id", "The `webhook_id` parameter must be a webhook id.")
        params = dict(urllib.parse.parse_qsl(req.query or ""))
        with self._state:
            self.stream_links[webhook_id] = params
        return Response(200, {"data": {"provisioned": True}})

    # -- X Activity API subscriptions ------------------------------------------------------------

    def _users_me(self, req: Request, match: re.Match[str]) -> Response:
        if req.header("authorization") != f"Bearer {self.token}":
            return _problem(401, "Unauthorized", "Unauthorized")
        return Response(200, {"data": {"id": self.user_id, "name": "Telekom hilft", "username": "Telekom_hilft"}})

    def _get_user(self, req: Request, match: re.Match[str]) -> Response:
        """``GET /2/users/:id`` (user token): the v2 user object with the ``user.fields`` asked for;
        an unknown account is X's 200 with only ``errors`` (resource-not-found)."""
        if req.header("authorization") != f"Bearer {self.token}":
            return _problem(401, "Unauthorized", "Unauthorized")
        with self._state:
            if self._throttled_calls > 0:
                self._throttled_calls -= 1
                return _problem(429, "Too Many Requests", "Too Many Requests",
                                headers={"x-rate-limit-reset": str(int(time.time() + self._reset_in))})
        params = dict(urllib.parse.parse_qsl(req.query or ""))
        fields = set((params.pop("user.fields", "") or "").split(","))
        allowed = {"username", "name", "public_metrics", "created_at", "description", "location", "verified",
                   "protected", "profile_image_url", "url"}
        if params or not fields <= allowed:
            return _invalid_request("user.fields", "Unknown query parameter or user field.")
        user_id = match["user_id"]
        with self._state:
            self.user_reads.append(user_id)
            user = self.users.get(user_id)
        if user is None:
            return Response(200, {"errors": [{
                "value": user_id, "detail": f"Could not find user with id: [{user_id}].", "title": "Not Found Error",
                "resource_type": "user", "parameter": "id", "resource_id": user_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        data = {"id": user["id"], "username": user["username"], "name": user["name"]}
        if "public_metrics" in fields:
            data["public_metrics"] = user["public_metrics"]
        return Response(200, {"data": data})

    def _list_activity(self, req: Request, match: re.Match[str]) -> Response:
        if req.header("authorization") not in (f"Bearer {self.token}", f"Bearer {self.app_token}"):
            return _problem(401, "Unauthorized", "Unauthorized")
        with self._state:
            subs = [json.loads(json.dumps(sub)) for sub in self.activity_subscriptions]
        meta = {"total_subscriptions": len(subs)}
        return Response(200, {"data": subs, "meta": meta} if subs else {"meta": meta})

    def _create_activity(self, req: Request, match: re.Match[str]) -> Response:
        auth = req.header("authorization")
        as_user = auth == f"Bearer {self.token}"
        as_app = self.app_token is not None and auth == f"Bearer {self.app_token}"
        if not (as_user or as_app):
            return _problem(401, "Unauthorized", "Unauthorized")
        if (req.header("content-type") or "").split(";")[0].strip().lower() != "application/json":
            return _invalid_request("body", "The request body must be JSON (Content-Type: application/json).")
        body = _json_object(req)
        if body is None or not {"event_type", "filter"} <= set(body) or set(body) - _ACTIVITY_BODY_KEYS:
            return _invalid_request("body", "The body must have `event_type` and `filter` (and optionally `tag`, "
                                            "`webhook_id`), nothing else.")
        event_type, flt = body["event_type"], body["filter"]
        if event_type not in ACTIVITY_EVENT_TYPES:
            return _invalid_request("event_type", "The `event_type` field is not a supported event type.")
        if (not isinstance(flt, dict) or set(flt) - {"user_id", "direction", "keyword"}
                or not (isinstance(flt.get("user_id"), str) and _DIGITS.fullmatch(flt["user_id"]))):
            return _invalid_request("filter.user_id", "The `filter.user_id` field must be a user id.")
        webhook_id = body.get("webhook_id")
        if webhook_id is not None and not (isinstance(webhook_id, str) and _DIGITS.fullmatch(webhook_id)):
            return _invalid_request("webhook_id", "The `webhook_id` field must be a webhook id.")
        tag = body.get("tag")
        if tag is not None and not (isinstance(tag, str) and 1 <= len(tag) <= 200):
            return _invalid_request("tag", "The `tag` field must be 1 to 200 characters.")
        if event_type not in _PUBLIC_ACTIVITY_EVENTS and not (as_user and flt["user_id"] == self.user_id):
            return _problem(403, "Forbidden", "Private events need the user-context token of the filtered user.")
        with self._state:
            if any(sub["event_type"] == event_type and sub["filter"] == flt and sub.get("webhook_id") == webhook_id
                   for sub in self.activity_subscriptions):
                return _problem(409, "Conflict", "This subscription already exists.")
            now = _now_iso()
            sub = {"subscription_id": self._next_id(), "event_type": event_type, "filter": dict(flt),
                   "created_at": now, "updated_at": now, **({"tag": tag} if tag else {}),
                   **({"webhook_id": webhook_id} if webhook_id else {})}
            self.activity_subscriptions.append(sub)
            total = len(self.activity_subscriptions)
        return Response(200, {"data": dict(sub), "meta": {"total_subscriptions": total}})

    def _update_activity(self, req: Request, match: re.Match[str]) -> Response:
        refusal = self._app_gate(req, body=True)
        if refusal:
            return refusal
        body = _json_object(req)
        if body is None or not body or set(body) - {"tag", "webhook_id"}:
            return _invalid_request("body", "Only `tag` and `webhook_id` can be updated.")
        webhook_id = body.get("webhook_id")
        if webhook_id is not None and not (isinstance(webhook_id, str) and _DIGITS.fullmatch(webhook_id)):
            return _invalid_request("webhook_id", "The `webhook_id` field must be a webhook id.")
        with self._state:
            sub = next((s for s in self.activity_subscriptions if s["subscription_id"] == match["subscription_id"]),
                       None)
            if sub is None:
                return _problem(404, "Not Found Error", "No such subscription.")
            sub.update({k: v for k, v in body.items() if v is not None}, updated_at=_now_iso())
            answer = {"data": dict(sub), "meta": {"total_subscriptions": len(self.activity_subscriptions)}}
        return Response(200, answer)

    # -- checks ------------------------------------------------------------------------------

    def _gate(self, req: Request) -> Response | None:
        """Token first, then the scripted rate limit, then the media type: X's order of refusals."""
        if req.header("authorization") != f"Bearer {self.token}":
            return _problem(401, "Unauthorized", "Unauthorized")
        with self._state:
            if self._throttled_calls > 0:
                self._throttled_calls -= 1
                reset = int(time.time() + self._reset_in)
                return _problem(429, "Too Many Requests", "Too Many Requests",
                                headers={"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                                         "x-rate-limit-reset": str(reset)})
        content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _invalid_request("body", "The request body must be JSON (Content-Type: application/json).")
        return None

    def _next_id(self) -> str:
        """Snowflake-shaped: a millisecond part (one per id, counting up) above a sequence part."""
        number = next(self._sequence)
        return str(((_FIRST_ID_MS + number - _TWITTER_EPOCH_MS) << 22) | (number & 0xFFF))


    # -- Account Activity webhooks and replay (make replay, issue 16) ------------------------

    def _init_replay(self) -> None:
        self.webhooks: dict[str, dict[str, str]] = {}  # webhook id -> {"url", "secret"} (the app's consumer secret)
        self.activity: list[dict[str, Any]] = []  # what X tried to deliver: {"webhook_id", "at", "body", "status"}
        self.replay_jobs: dict[str, dict[str, Any]] = {}  # job id -> {"webhook_id", "from", "to", "state", "delivered"}
        self.route("POST", r"/2/account_activity/replay/webhooks/(?P<webhook_id>[^/]+)/subscriptions/all",
                   self._create_replay_job)

    def _reset_replay(self) -> None:
        with self._state:
            self.webhooks.clear()
            self.activity.clear()
            self.replay_jobs.clear()

    def register_webhook(self, url: str, secret: str) -> str:
        """What ``POST /2/webhooks`` leaves behind: a webhook id for ``url``, whose deliveries are signed
        with ``secret`` (the app's consumer secret) in ``X-Twitter-Webhooks-Signature``."""
        with self._state:
            webhook_id = self._next_id()
            self.webhooks[webhook_id] = {"url": url, "secret": secret}
        return webhook_id

    def deliver(self, webhook_id: str, body: bytes, *, at: float | None = None) -> int | None:
        """X delivers one Account Activity event now (its time ``at``, default now) to the webhook.

        The attempt is recorded whatever the answer — X replays what it tried to deliver. Returns the
        webhook's status, None when nothing answered. X's own retries (three within about five
        minutes) are not modelled: a failed delivery here is a lost one until it is replayed.
        """
        with self._state:
            webhook = dict(self.webhooks[webhook_id])
        status = _post_signed(webhook["url"], body, webhook["secret"])
        with self._state:
            self.activity.append({"webhook_id": webhook_id, "at": time.time() if at is None else at, "body": body,
                                  "status": status})
        return status

    def wait_replay(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state:
                job = dict(self.replay_jobs[job_id])
            if job["state"] != "running":
                return job
            time.sleep(0.05)
        raise AssertionError(f"replay job {job_id} still running after {timeout}s")

    def _create_replay_job(self, req: Request, match: re.Match[str]) -> Response:
        """``POST /2/account_activity/replay/webhooks/:webhook_id/subscriptions/all?from_date=&to_date=``.

        As X documents it: app-only bearer token; ``yyyymmddhhmm`` UTC, from inclusive, to exclusive;
        within the last 5 days, ``from_date`` at least 31 and ``to_date`` at least 10 minutes ago; one
        job per webhook at a time. Answers ``{"created_at", "job_id"}``, then redelivers the window's
        recorded events oldest first, signed like live ones, and ends with a ``replay_job_status``
        delivery. (The body of X's refusal of a second concurrent job is not documented: 409 here.)
        """
        refusal = self._app_gate(req, body=False)
        if refusal:
            return refusal
        webhook_id = match["webhook_id"]
        if not _DIGITS.fullmatch(webhook_id):
            return _invalid_request("webhook_id", "The `webhook_id` parameter must be a webhook id.")
        params = dict(urllib.parse.parse_qsl(req.query or ""))
        window: list[float] = []
        for name in ("from_date", "to_date"):
            raw = params.get(name, "")
            try:
                if not re.fullmatch(r"[0-9]{12}", raw):
                    raise ValueError(raw)
                window.append(_utc_epoch(raw))
            except ValueError:
                return _invalid_request(name, f"The `{name}` query parameter must be yyyymmddhhmm (UTC).")
        start, end = window
        now = time.time()
        for refused, name, message in (
                (end <= start, "to_date", "The `to_date` must be after the `from_date`."),
                (start < now - 5 * 86400, "from_date", "The `from_date` must be within the last 5 days."),
                (end > now - 600, "to_date", "The `to_date` must be at least 10 minutes in the past."),
                (start > now - 31 * 60, "from_date", "The `from_date` must be at least 31 minutes in the past.")):
            if refused:
                return _invalid_request(name, message)
        with self._state:
            webhook = dict(self.webhooks.get(webhook_id) or {})
            if not webhook:
                return _problem(404, "Not Found Error", "No webhook with that id is registered for this app.")
            if any(job["webhook_id"] == webhook_id and job["state"] == "running" for job in self.replay_jobs.values()):
                return _problem(409, "Conflict", "A replay job is already running for this webhook.")
            job_id = self._next_id()
            events = sorted((e for e in self.activity if e["webhook_id"] == webhook_id and start <= e["at"] < end),
                            key=lambda e: e["at"])
            self.replay_jobs[job_id] = {"webhook_id": webhook_id, "from": params["from_date"],
                                        "to": params["to_date"], "state": "running", "delivered": 0, "failed": 0}
        threading.Thread(target=self._replay, args=(job_id, webhook, [e["body"] for e in events]),
                         name=f"fake-x-replay-{job_id}", daemon=True).start()
        return Response(200, {"created_at": _now_iso(), "job_id": job_id})

    def _replay(self, job_id: str, webhook: dict[str, str], bodies: list[bytes]) -> None:
        delivered = failed = 0
        for body in bodies:
            status = _post_signed(webhook["url"], body, webhook["secret"])
            if status is not None and 200 <= status < 300:
                delivered += 1
            else:
                failed += 1
        with self._state:
            job = self.replay_jobs[job_id]
            webhook_id = job["webhook_id"]
        done = {"replay_job_status": {"webhook_id": webhook_id, "job_state": "Complete",
                                      "job_state_description": "All data has been delivered", "job_id": job_id}}
        _post_signed(webhook["url"], json.dumps(done, separators=(",", ":")).encode(), webhook["secret"])
        with self._state:
            job.update({"state": "complete", "delivered": delivered, "failed": failed})


def _utc_epoch(stamp: str) -> float:
    import calendar

    return float(calendar.timegm(time.strptime(stamp, "%Y%m%d%H%M")))


def _post_signed(url: str, body: bytes, secret: str) -> int | None:
    """POST ``body`` as X does: JSON, ``X-Twitter-Webhooks-Signature: sha256=`` base64 HMAC-SHA256."""
    import urllib.error
    import urllib.request

    from deliveries import x_headers

    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("the fake X delivers to loopback webhooks only")
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - checked above
                                     headers=x_headers(body, secret, legacy=True))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback test URLs
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def make_x_api(token: str, *, user_id: str = DEFAULT_USER_ID, host: str = "127.0.0.1",
               port: int = 0, app_token: str | None = None) -> FakeXApi:
    """A fake X API (not yet started: ``with make_x_api("T") as x_api: ...``)."""
    return FakeXApi(token, user_id=user_id, host=host, port=port, app_token=app_token)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _conversation_id(user_a: str, user_b: str) -> str:
    low, high = sorted((user_a, user_b), key=lambda uid: (len(uid), uid))
    return f"{low}-{high}"


def _json_object(req: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _problem(status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
             kind: str = "about:blank") -> Response:
    return Response(status, {"title": title, "detail": detail, "type": kind, "status": status},
                    headers or {})


def _invalid_request(parameter: str, message: str) -> Response:
    return Response(400, {"errors": [{"parameters": {parameter: []}, "message": message}],
                          "title": "Invalid Request",
                          "detail": "One or more parameters to your request was invalid.",
                          "type": _INVALID_REQUEST})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.x_api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see the ready line)")
    parser.add_argument("--token", required=True, help="the OAuth 2.0 user access token to accept")
    parser.add_argument("--user-id", default=DEFAULT_USER_ID, help="the brand account the token belongs to")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    x_api = make_x_api(args.token, user_id=args.user_id, host=args.host, port=args.port).start()
    print(f"fake X API ready at {x_api.url}", flush=True)
    try:
        stop.wait()
    finally:
        x_api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
