"""Outbound Threads API client: a public reply, and hiding a customer's reply to the brand's thread.

Threads publishes in two steps: ``POST /me/threads`` creates a container (``media_type=TEXT``,
``text``, ``reply_to_id``), ``POST /me/threads_publish`` (``creation_id``) publishes it. Replies
are capped per profile (Meta: 1,000 API-published replies in a moving 24-hour window); the quota
is read first (``GET /me/threads_publishing_limit``), so a spent quota costs no container and
becomes ``PlatformRateLimited``. The access token goes in an ``Authorization: Bearer`` header,
never in a URL; parameters go form-encoded in the body, never in a URL.

Errors become hilft's (via ``channels.http_errors`` for the retry time): a rejected token or
missing permission → ``PlatformConfigError``; throttling (HTTP 429 or Graph codes 4, 17, 32, 613,
80000–80099) → ``PlatformRateLimited``; 5xx, Graph's transient codes and transport faults →
``PlatformUnavailable``; any other refusal (post deleted, replies restricted) →
``PrivateChannelRefused`` (the reply will never be taken: do not retry; for a hide,
``PlatformRefused``). Messages carry status and codes only, never the token or the text.

Hiding (reply moderation, ``threads_manage_replies``): ``POST /{reply-id}/manage_reply`` with
``hide=true`` hides a top-level reply to one of the brand's own posts, with its nested replies.

A retried reply never posts twice: Threads has no idempotency key, so the container's id is noted
in hilft's send-once claim (``SendOnce.note``) before publishing. A retry of the same send asks
that container's status (``GET /{container-id}?fields=status``, Threads API "Troubleshooting:
Publishing Does Not Return a Media ID", https://developers.facebook.com/docs/threads/troubleshooting):
``PUBLISHED`` means the first attempt went out (its media id is unknown when the publish answer
was lost: the container's id stands in for it; a publish that was answered notes the media id
too); ``FINISHED`` or ``IN_PROGRESS`` publishes that container; ``EXPIRED``, ``ERROR`` or an
unknown container starts anew.

Deleted posts (Threads sends ``delete`` only for the brand's own posts): ``media_exists`` reads
``GET /{threads-media-id}?fields=id`` (Threads API reference, "Media Retrieval",
https://developers.facebook.com/documentation/threads/reference/media-retrieval). Threads documents
no error for a deleted post; Graph answers an object that is gone with code 100, subcode 33
("does not exist, cannot be loaded due to missing permissions, or does not support this
operation"), which is what ``media_exists`` reads as gone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hilft.channels import SendOnce
from hilft.channels.http_errors import retry_at, typed_error
from hilft.core.errors import (
    HilftError,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PlatformUnavailable,
    PrivateChannelRefused,
)

TEXT_LIMIT = 500  # characters per Threads post
TOKEN_ERROR_CODES = frozenset({102, 190})
PERMISSION_ERROR_CODES = frozenset({10, 200})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
_BUSINESS_RATE_LIMITS = range(80000, 80100)
TRANSIENT_CODES = frozenset({1, 2})
# "The media is not ready for publishing" (Graph 9007 / 2207027): the container is still being
# processed; publishing again later works.
NOT_READY_CODES = frozenset({9007})
# The quota is a moving window: Meta does not say when the oldest reply leaves it. Look again
# after this long (or at the time a Retry-After header names).
QUOTA_RETRY = timedelta(hours=1)
_NODE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
CREATION_ID = "creation_id"  # the names the container's and the post's ids are noted under in the claim
MEDIA_ID = "media_id"
GONE_CODE, GONE_SUBCODE = 100, 33  # Graph: "Object with ID … does not exist, cannot be loaded …"


class ThreadsClient:
    """A thin, synchronous Threads API client; create once per instance and reuse."""

    def __init__(self, base_url: str, access_token: str, *, http: httpx.Client,
                 clock: Callable[[], datetime] | None = None) -> None:
        if not access_token:
            raise ValueError("a Threads access token is required")
        self._base_url = base_url.rstrip("/")
        self._token = access_token
        self._http = http
        self._clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:  # never show the token
        return f"ThreadsClient(base_url={self._base_url!r})"

    def reply(self, reply_to_id: str, text: str, send: SendOnce | None = None) -> str:
        """Publish ``text`` as the brand's public reply to post ``reply_to_id``; the new post's id.

        With ``send``, a container an earlier attempt of the same send created is published (or
        found published) instead of a second one (see the module docstring)."""
        if not _NODE_ID.fullmatch(reply_to_id):
            raise PrivateChannelRefused("threads: not a Threads post id")
        body = _text(text)
        done = send.recall(MEDIA_ID) if send is not None else None
        if done is not None:  # published and answered; only the claim's "sent" was lost
            return done
        earlier = send.recall(CREATION_ID) if send is not None else None
        if earlier is not None and _NODE_ID.fullmatch(earlier):
            status = self.container_status(earlier)
            if status == "PUBLISHED":
                return earlier
            if status in ("FINISHED", "IN_PROGRESS"):
                self._check_quota()
                return self._publish(earlier, send)
        self._check_quota()
        container = self._call("POST", "me/threads", data={"media_type": "TEXT", "text": body,
                                                          "reply_to_id": reply_to_id})
        creation_id = _id_of(container)
        if send is not None:
            send.note(CREATION_ID, creation_id)  # before publishing: a lost answer is found again
        return self._publish(creation_id, send)

    def _publish(self, creation_id: str, send: SendOnce | None) -> str:
        media_id = _id_of(self._call("POST", "me/threads_publish", data={"creation_id": creation_id}))
        if send is not None:
            send.note(MEDIA_ID, media_id)
        return media_id

    def container_status(self, creation_id: str) -> str | None:
        """A container's publishing status (``EXPIRED``, ``ERROR``, ``FINISHED``, ``IN_PROGRESS``,
        ``PUBLISHED``); None when Threads does not know the container."""
        try:
            answer = self._call("GET", creation_id, params={"fields": "status"})
        except PrivateChannelRefused:
            return None
        status = answer.get("status")
        return status if isinstance(status, str) else None

    def media_exists(self, media_id: str) -> bool:
        """Whether Threads still has the post ``media_id`` (False: deleted; see the module docstring).
        Token, permission, throttling and outage answers raise hilft's errors as everywhere."""
        if not _NODE_ID.fullmatch(media_id):
            return False
        try:
            response = self._http.request("GET", f"{self._base_url}/{media_id}", params={"fields": "id"},
                                          headers={"Authorization": f"Bearer {self._token}"})
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"threads: {type(exc).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        body = answer if isinstance(answer, dict) else {}
        if response.is_success and body.get("id"):
            return True
        raw = body.get("error")
        error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if response.status_code == 400 and _int(error.get("code")) == GONE_CODE \
                and _int(error.get("error_subcode")) == GONE_SUBCODE:
            return False
        raise self._error(response, body, PlatformUnavailable)

    def media(self, media_id: str, fields: str) -> dict[str, Any]:
        """``GET /{threads-media-id}?fields=…``: a post's fields. Gone or unreadable →
        ``PlatformRefused``; token, throttling and outage answers as everywhere."""
        if not _NODE_ID.fullmatch(media_id):
            raise PlatformRefused("threads: not a Threads post id")
        return self._call("GET", media_id, params={"fields": fields}, refused=PlatformRefused)

    def hide_reply(self, reply_id: str) -> None:
        """Hide a customer's top-level reply to one of the brand's posts (``manage_reply``, ``hide=true``).
        Threads refuses any other post: ``PlatformRefused``."""
        if not _NODE_ID.fullmatch(reply_id):
            raise PlatformRefused("threads: not a Threads post id")
        answer = self._call("POST", f"{reply_id}/manage_reply", data={"hide": "true"}, refused=PlatformRefused)
        if answer.get("success") is not True:
            raise PlatformUnavailable("threads: hide not confirmed")

    def reply_quota(self) -> tuple[int, int] | None:
        """``(used, total)`` of the 24-hour reply quota, or None if Meta does not say."""
        answer = self._call("GET", "me/threads_publishing_limit",
                            params={"fields": "reply_quota_usage,reply_config"})
        rows = answer.get("data")
        row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
        used, config = row.get("reply_quota_usage"), row.get("reply_config")
        total = config.get("quota_total") if isinstance(config, dict) else None
        if isinstance(used, int) and isinstance(total, int) and not isinstance(used, bool):
            return used, total
        return None

    def _check_quota(self) -> None:
        quota = self.reply_quota()
        if quota is not None and quota[0] >= quota[1]:
            raise PlatformRateLimited(self._clock() + QUOTA_RETRY, "threads: 24-hour reply quota used up")

    def _call(self, method: str, path: str, *, data: Mapping[str, str] | None = None,
              params: Mapping[str, str] | None = None,
              refused: type[HilftError] = PrivateChannelRefused) -> dict[str, Any]:
        try:
            response = self._http.request(method, f"{self._base_url}/{path}", data=data, params=params,
                                          headers={"Authorization": f"Bearer {self._token}"})
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"threads: {type(exc).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.is_success and isinstance(answer, dict):
            return answer
        raise self._error(response, answer if isinstance(answer, dict) else {}, refused)

    def _error(self, response: httpx.Response, answer: Mapping[str, Any],
               refused: type[HilftError] = PrivateChannelRefused) -> Exception:
        raw = answer.get("error")
        error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        status = response.status_code
        where = f"status={status}, code={code}, subcode={subcode}"
        if code in TOKEN_ERROR_CODES:
            return PlatformConfigError(f"threads: access token rejected ({where})")
        if code in PERMISSION_ERROR_CODES and status == 403:
            return PlatformConfigError(f"threads: permission missing ({where})")
        if code in RATE_LIMIT_CODES or (code is not None and code in _BUSINESS_RATE_LIMITS):
            return PlatformRateLimited(retry_at(response.headers, self._clock()), f"threads: rate limited ({where})")
        shared = typed_error(status, response.headers, platform="threads", what=where, now=self._clock())
        if shared is not None:  # 401, 429, 5xx: as every channel reads them
            return shared
        if code in TRANSIENT_CODES or code in NOT_READY_CODES or error.get("is_transient") is True:
            return PlatformUnavailable(f"threads: unavailable ({where})")
        if response.is_success:  # 2xx without an id: Threads answered something we cannot use
            return PlatformUnavailable(f"threads: unexpected answer ({where})")
        return refused(f"threads: {'reply' if refused is PrivateChannelRefused else 'request'} refused ({where})")


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("empty reply text")
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1].rstrip() + "…"


def _id_of(answer: Mapping[str, Any]) -> str:
    value = answer.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _NODE_ID.fullmatch(value):
        raise PlatformUnavailable("threads: answer without an id")
    return value


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
