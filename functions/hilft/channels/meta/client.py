"""Outbound Meta Graph API client: private replies, Messenger/Instagram messages, comment replies,
hiding a customer's comment.

Authentication: the Page access token goes in an ``Authorization: Bearer`` header, which
graph.facebook.com accepts like the ``access_token`` parameter but keeps the token out of
URLs, proxy logs and exception messages. With ``app_secret`` set, every call also carries
``appsecret_proof`` (HMAC-SHA256 of the token), which apps with "Require App Secret" need.

Errors map to a small tree that is hilft's own, as X's client does: ``MetaRateLimited`` is a
``PlatformRateLimited`` (``retry_at`` from ``Retry-After``, else Meta's usage headers),
``RetryableMetaError`` a ``PlatformUnavailable`` (try again later), ``MetaTokenError`` a
``PlatformConfigError`` (an operator must act), ``PrivateReplyRefused`` a ``PrivateChannelRefused``
(Meta will never take this private reply), anything else a ``PlatformRefused``. The HTTP status
is read as every channel reads it (``channels.http_errors.typed_error``); Graph's error codes are
Meta's own. Messages carry status and codes only, never tokens or text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx

from hilft.channels.http_errors import retry_at, typed_error
from hilft.core.errors import (
    HilftError,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PlatformUnavailable,
    PrivateChannelRefused,
)

DEFAULT_COMMENT_FIELDS = ("id", "message", "from", "created_time", "parent")
POST_FIELDS = ("id", "message", "from", "created_time")
# Instagram mentions are read through the brand's IG user (IG User "mentioned_comment" and
# "mentioned_media" fields): the mentioning user's own media and comments are not readable directly.
IG_MENTIONED_COMMENT_FIELDS = ("id", "text", "timestamp", "username")
IG_MENTIONED_MEDIA_FIELDS = ("id", "caption", "timestamp", "username")
DEFAULT_RETRY_AFTER = 60.0  # seconds, when Meta gives no hint

# Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling and the
# Messenger Platform error codes).
TOKEN_ERROR_CODES = frozenset({102, 190})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
_BUSINESS_USE_CASE_RATE_LIMITS = range(80000, 80100)  # 80001 Pages, 80002 Instagram, 80006 Messenger…
TRANSIENT_CODES = frozenset({1, 2})  # "unknown error", "service temporarily unavailable"
# Private replies Meta will never accept for this comment, by (code, subcode or None).
PRIVATE_REPLY_REFUSALS: Mapping[tuple[int, int | None], str] = {
    (10900, None): "already_replied",  # "(#10900) Activity already replied to"
    (10902, None): "not_replyable",  # "(#10902) This is not a Replyable activity"
    (10903, None): "not_replyable",  # "(#10903) This user can't reply to this activity"
    (10, 2018278): "window_expired",  # "This message is sent outside of allowed window"
    (10, 2534022): "window_expired",  # the same for Instagram
    (551, None): "recipient_unavailable",  # "This person isn't available right now"
    (551, 1545041): "recipient_unavailable",
}

# Graph node ids are digits, underscores and (Instagram-scoped) letters: nothing that could
# change the path of a request.
_NODE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_FIELD = re.compile(r"[A-Za-z0-9_.{}(),]{1,64}")


class MetaApiError(HilftError):
    """A Graph API call failed. ``code``/``subcode`` are Graph's, ``status`` the HTTP status.

    Sets no ``http_status`` of its own: each subclass keeps the one of its hilft error class.
    """

    public_message = "Meta Graph API call failed"

    def __init__(self, code: int | None, subcode: int | None, status: int | None, *,
                 fbtrace_id: str | None = None) -> None:
        self.code = code
        self.subcode = subcode
        self.status = status
        self.fbtrace_id = fbtrace_id  # quote it to Meta support; safe to log
        # Not super(): the hilft classes mixed in below take other arguments (``retry_at``).
        HilftError.__init__(self, f"{self.public_message} (status={status}, code={code}, subcode={subcode})")


class MetaRequestRefused(MetaApiError, PlatformRefused):
    """Any other refusal: the same request will not succeed later."""


class RetryableMetaError(MetaApiError, PlatformUnavailable):
    """Graph is down or timed out: the same call may succeed later."""

    public_message = "Meta Graph API temporarily unavailable"


class MetaRateLimited(RetryableMetaError, PlatformRateLimited):
    """Graph throttles us; ``retry_after`` (seconds) is Meta's hint or a conservative default,
    ``retry_at`` the moment it names (now + ``retry_after`` unless given)."""

    public_message = "Meta Graph API rate limit reached"

    def __init__(self, code: int | None, subcode: int | None, status: int | None, *,
                 retry_after: float, retry_at: datetime | None = None, fbtrace_id: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(code, subcode, status, fbtrace_id=fbtrace_id)
        self.retry_at = retry_at or datetime.now(UTC) + timedelta(seconds=retry_after)


class MetaTokenError(MetaApiError, PlatformConfigError):
    """The Page access token is invalid or expired: retrying cannot help, an operator must act."""

    public_message = "Meta access token rejected"


class PrivateReplyRefused(MetaApiError, PrivateChannelRefused):
    """Meta will not take a private reply to this comment (``reason`` says why); never retry."""

    public_message = "Meta refused the private reply"

    def __init__(self, code: int | None, subcode: int | None, status: int | None, *, reason: str,
                 fbtrace_id: str | None = None) -> None:
        self.reason = reason
        super().__init__(code, subcode, status, fbtrace_id=fbtrace_id)


class MetaClient:
    """A thin, synchronous Graph API client. Create once per instance and reuse (connection pool)."""

    def __init__(self, base_url: str, page_access_token: str, *, http: httpx.Client | None = None,
                 timeout: float = 10.0, app_secret: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not page_access_token:
            raise ValueError("a Page access token is required")
        self._base_url = base_url.rstrip("/")
        self._token = page_access_token
        self._timeout = timeout
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._proof = (hmac.new(app_secret.encode(), page_access_token.encode(), hashlib.sha256).hexdigest()
                       if app_secret else None)

    def __repr__(self) -> str:  # never show the token
        return f"MetaClient(base_url={self._base_url!r})"

    # -- messaging --------------------------------------------------------------------------

    def private_reply(self, page_id: str, comment_id: str, text: str) -> str:
        """Send the author of a Page post or comment one private Messenger message; its message id.

        Meta allows one per comment, within 7 days (see ``hilft.channels.meta.parse.private_reply_allowed``).
        """
        body = {"recipient": {"comment_id": _node(comment_id)}, "message": {"text": _text(text)}}
        return self._message_id(self._post(f"{_node(page_id)}/messages", body, private_reply=True))

    def instagram_private_reply(self, ig_user_id: str, comment_id: str, text: str) -> str:
        """The Instagram counterpart of ``private_reply`` (sent as the professional account)."""
        body = {"recipient": {"comment_id": _node(comment_id)}, "message": {"text": _text(text)}}
        return self._message_id(self._post(f"{_node(ig_user_id)}/messages", body, private_reply=True))

    def send_message(self, page_id: str, recipient_psid: str, text: str) -> str:
        """Answer a Messenger (or Instagram, with the IG account id) conversation; its message id.

        ``messaging_type: RESPONSE``: only inside the 24-hour window after the customer wrote.
        """
        body = {"recipient": {"id": _node(recipient_psid)}, "messaging_type": "RESPONSE",
                "message": {"text": _text(text)}}
        return self._message_id(self._post(f"{_node(page_id)}/messages", body))

    def send_message_to_user_ref(self, page_id: str, user_ref: str, text: str) -> str:
        """Answer a Chat Plugin guest Meta names by ``user_ref`` only (``recipient.user_ref``).

        Meta's Chat Plugin page: "use the user reference ID to send messages to the person within
        the 24-hour standard messaging window"; the Send API then answers without ``recipient_id``.
        """
        body = {"recipient": {"user_ref": _user_ref(user_ref)}, "messaging_type": "RESPONSE",
                "message": {"text": _text(text)}}
        return self._message_id(self._post(f"{_node(page_id)}/messages", body))

    # -- public comments --------------------------------------------------------------------

    def reply_comment(self, comment_id: str, text: str) -> str:
        """Publicly reply under a Facebook comment (or a post id: the same ``comments`` edge)."""
        return self._created_id(self._post(f"{_node(comment_id)}/comments", {"message": _text(text)}))

    def reply_instagram_comment(self, ig_comment_id: str, text: str) -> str:
        """Publicly reply to an Instagram comment (``replies`` edge)."""
        return self._created_id(self._post(f"{_node(ig_comment_id)}/replies", {"message": _text(text)}))

    def hide_comment(self, comment_id: str) -> None:
        """Hide a Facebook comment on the Page's own post from everyone but its author and their
        friends (``POST /{comment-id}`` with ``is_hidden=true``; needs ``pages_manage_engagement``)."""
        self._success(self._post(_node(comment_id), {"is_hidden": True}))

    def hide_instagram_comment(self, ig_comment_id: str) -> None:
        """Hide an Instagram comment on the brand's media (``POST /{ig-comment-id}`` with
        ``hide=true``; needs ``instagram_manage_comments``)."""
        self._success(self._post(_node(ig_comment_id), {"hide": True}))

    def get_comment(self, comment_id: str, fields: Sequence[str] = DEFAULT_COMMENT_FIELDS) -> dict[str, Any]:
        """Read a comment, e.g. the text of a mention whose webhook carried ids only.

        Instagram comments have other fields: ``("id", "text", "username", "timestamp")``.
        """
        for field in fields:
            if not _FIELD.fullmatch(field):
                raise ValueError("invalid Graph field name")
        return self._send("GET", _node(comment_id), params={"fields": ",".join(fields)})

    def get_post(self, post_id: str) -> dict[str, Any]:
        """Read a Page post (e.g. one that @mentioned the Page): ``message``, ``from``, ``created_time``."""
        return self._send("GET", _node(post_id), params={"fields": ",".join(POST_FIELDS)})

    def get_ig_mentioned_comment(self, ig_user_id: str, comment_id: str) -> dict[str, Any]:
        """An Instagram comment that @mentioned the brand: ``text``, ``username``, ``timestamp``."""
        return self._mentioned(ig_user_id, "mentioned_comment", "comment_id", comment_id,
                               IG_MENTIONED_COMMENT_FIELDS)

    def get_ig_mentioned_media(self, ig_user_id: str, media_id: str) -> dict[str, Any]:
        """Instagram media whose caption @mentioned the brand: ``caption``, ``username``, ``timestamp``."""
        return self._mentioned(ig_user_id, "mentioned_media", "media_id", media_id, IG_MENTIONED_MEDIA_FIELDS)

    def fetch_mention(self, lookup: Mapping[str, str]) -> dict[str, str | None]:
        """Text and author of a mention Meta sent as ids only, by ``lookup`` (see ``service.ingest``).

        ``{"text", "author_id", "author_handle", "author_name"}``; values Meta does not give are None.
        """
        kind, node, account = lookup.get("type"), lookup.get("id") or "", lookup.get("account") or ""
        if kind == "ig_comment":
            body = self.get_ig_mentioned_comment(account, node)
            return {"text": _str(body.get("text")), "author_id": None,
                    "author_handle": _str(body.get("username")), "author_name": None}
        if kind == "ig_media":
            body = self.get_ig_mentioned_media(account, node)
            return {"text": _str(body.get("caption")), "author_id": None,
                    "author_handle": _str(body.get("username")), "author_name": None}
        if kind in ("fb_post", "fb_comment"):
            body = self.get_post(node) if kind == "fb_post" else self.get_comment(node, POST_FIELDS)
            raw_author = body.get("from")
            author: dict[str, Any] = raw_author if isinstance(raw_author, dict) else {}
            return {"text": _str(body.get("message")), "author_id": _str(author.get("id")),
                    "author_handle": None, "author_name": _str(author.get("name"))}
        raise ValueError("unknown mention lookup type")

    def _mentioned(self, ig_user_id: str, edge: str, key: str, node: str, fields: Sequence[str]) -> dict[str, Any]:
        spec = f"{edge}.{key}({_node(node)}){{{','.join(fields)}}}"
        body = self._send("GET", _node(ig_user_id), params={"fields": spec})
        found = body.get(edge)
        if not isinstance(found, dict):
            raise MetaRequestRefused(None, None, 200)
        return found

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MetaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _post(self, path: str, body: Mapping[str, Any], *, private_reply: bool = False) -> dict[str, Any]:
        # Serialised here, not by httpx, so the bytes on the wire are fixed and testable.
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return self._send("POST", path, content=content, private_reply=private_reply)

    def _send(self, method: str, path: str, *, content: bytes | None = None,
              params: Mapping[str, str] | None = None, private_reply: bool = False) -> dict[str, Any]:
        query = dict(params or {})
        if self._proof:
            query["appsecret_proof"] = self._proof
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, f"{self._base_url}/{path}", content=content,
                                          params=query or None, headers=headers, timeout=self._timeout)
        except httpx.TransportError:  # timeouts, refused connections, broken streams
            raise RetryableMetaError(None, None, None) from None
        body = _json_or_none(response)
        if response.is_success and isinstance(body, dict) and "error" not in body:
            return body
        raise _error_for(response, body, private_reply=private_reply, now=self._clock())

    @staticmethod
    def _message_id(body: Mapping[str, Any]) -> str:
        message_id = body.get("message_id")
        if not isinstance(message_id, str):
            raise MetaRequestRefused(None, None, 200)
        return message_id

    @staticmethod
    def _success(body: Mapping[str, Any]) -> None:
        if body.get("success") is not True:
            raise MetaRequestRefused(None, None, 200)

    @staticmethod
    def _created_id(body: Mapping[str, Any]) -> str:
        created = body.get("id")
        if not isinstance(created, str):
            raise MetaRequestRefused(None, None, 200)
        return created


def _node(value: str) -> str:
    if not _NODE_ID.fullmatch(value):
        raise ValueError("invalid Graph node id")
    return value


def _user_ref(value: str) -> str:
    if not 0 < len(value) <= 256 or any(ord(char) < 0x20 or char == "\x7f" for char in value):
        raise ValueError("invalid Messenger user_ref")
    return value


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("message text must not be empty")
    return text


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_for(response: httpx.Response, body: Any, *, private_reply: bool, now: datetime) -> MetaApiError:
    """Classify a failed call: Graph's token codes first (they come with a 400 as often as a 401),
    then its rate-limit codes and the HTTP status through ``http_errors.typed_error``, then the
    private-reply refusals and transient codes that are Meta's own."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = _int_or_none(error.get("code"))
    subcode = _int_or_none(error.get("error_subcode"))
    trace = error.get("fbtrace_id") if isinstance(error.get("fbtrace_id"), str) else None
    status = response.status_code
    if code in TOKEN_ERROR_CODES:
        return MetaTokenError(code, subcode, status, fbtrace_id=trace)
    rate_limit_code = code in RATE_LIMIT_CODES or (code is not None and code in _BUSINESS_USE_CASE_RATE_LIMITS)
    # No auth_refusal: a 403 with code 10 or 200 names a permission this one request lacks.
    shared = typed_error(status, response.headers, platform="meta", what=f"code={code}", now=now,
                         rate_limited=rate_limit_code, retry_time=_graph_retry_at)
    if isinstance(shared, PlatformRateLimited):
        return MetaRateLimited(code, subcode, status, retry_after=_retry_after(response.headers),
                               retry_at=cast(datetime, shared.retry_at), fbtrace_id=trace)
    if private_reply and code is not None:
        reason = PRIVATE_REPLY_REFUSALS.get((code, subcode)) or PRIVATE_REPLY_REFUSALS.get((code, None))
        if reason:
            return PrivateReplyRefused(code, subcode, status, reason=reason, fbtrace_id=trace)
    if isinstance(shared, PlatformConfigError):
        return MetaTokenError(code, subcode, status, fbtrace_id=trace)
    if isinstance(shared, PlatformUnavailable) or code in TRANSIENT_CODES or error.get("is_transient") is True:
        return RetryableMetaError(code, subcode, status, fbtrace_id=trace)
    return MetaRequestRefused(code, subcode, status, fbtrace_id=trace)


def _graph_retry_at(headers: object, now: datetime) -> datetime:
    """When Graph lets us call again: its ``Retry-After`` (seconds or a date) when it sends one,
    else the usage header's estimate (``_retry_after``)."""
    if not isinstance(headers, Mapping) or headers.get("retry-after"):
        return retry_at(headers, now)
    return now + timedelta(seconds=_retry_after(headers))


def _retry_after(headers: Mapping[str, str]) -> float:
    """Seconds to wait: ``Retry-After``, else Meta's ``estimated_time_to_regain_access`` (minutes)."""
    retry_after = headers.get("retry-after", "")
    if retry_after.isdigit():
        return max(float(retry_after), 1.0)
    minutes = 0
    try:
        usage = json.loads(headers.get("x-business-use-case-usage", "") or "{}")
    except ValueError:
        usage = {}
    if isinstance(usage, dict):
        for buckets in usage.values():
            for bucket in buckets if isinstance(buckets, list) else []:
                value = bucket.get("estimated_time_to_regain_access") if isinstance(bucket, dict) else None
                if isinstance(value, int) and not isinstance(value, bool):
                    minutes = max(minutes, value)
    return minutes * 60.0 if minutes > 0 else DEFAULT_RETRY_AFTER


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
