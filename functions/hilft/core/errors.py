"""One exception tree for hilft; the functions layer maps each class to one HTTP answer.

Messages are safe to show to a caller: they never contain payload text, tokens or secrets.
"""

from __future__ import annotations


class HilftError(Exception):
    """Base of every error hilft raises on purpose."""

    http_status = 500
    public_message = "internal error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.public_message)
        self.message = message or self.public_message


class InvalidSignature(HilftError):
    """The request is not signed by the platform (missing or wrong signature)."""

    http_status = 401
    public_message = "invalid signature"


class Unauthorized(HilftError):
    """A caller without a valid identity (e.g. OIDC token) tried an authenticated entry point."""

    http_status = 401
    public_message = "unauthorized"


class Forbidden(HilftError):
    http_status = 403
    public_message = "forbidden"


class MissingSecret(HilftError):
    """A signing secret is not configured: fail closed, never accept unsigned requests."""

    http_status = 500
    public_message = "webhook secret not configured"


class MalformedPayload(HilftError):
    http_status = 400
    public_message = "malformed payload"


class PayloadTooLarge(HilftError):
    http_status = 413
    public_message = "payload too large"


class UnsupportedMediaType(HilftError):
    http_status = 415
    public_message = "unsupported media type"


class MethodNotAllowed(HilftError):
    http_status = 405
    public_message = "method not allowed"


class NotFound(HilftError):
    http_status = 404
    public_message = "not found"


class Conflict(HilftError):
    http_status = 409
    public_message = "conflict"


class TransientError(HilftError):
    """An outside system failed in a way a retry may cure: answer 503 so the caller retries."""

    http_status = 503
    public_message = "temporarily unavailable, retry later"


class TransientStoreError(TransientError):
    pass


class TransientSchedulerError(TransientError):
    pass


class TransientSinkError(TransientError):
    pass


class SinkUnavailable(TransientSinkError):
    """The sink kept failing in a way a later retry may cure (429, 5xx, timeout)."""

    def __init__(self, sink: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"alert sink {sink} unavailable: {reason}")
        self.sink = sink
        self.reason = reason
        self.retry_after = retry_after


class SinkMisconfigured(HilftError):
    """The sink refused the request for good (bad URL, key, secret or payload): do not retry.

    ``reason`` holds only what the sink answered in a known, payload-free form (an error code).
    """

    http_status = 500
    public_message = "alert sink misconfigured"

    def __init__(self, sink: str, status: int | None, reason: str | None = None) -> None:
        answer = f"HTTP {status}" if status is not None else "no HTTP answer"
        super().__init__(f"alert sink {sink} misconfigured: {answer}" + (f" ({reason})" if reason else ""))
        self.sink = sink
        self.status = status
        self.reason = reason


class PolicyError(ValueError):
    """The policy file is invalid. The message names the offending key."""


# -- outbound platform calls (DMs, replies), independent of the platform -----------------------
class PlatformRateLimited(TransientError):
    """The platform said 'too many requests'; ``retry_at`` is when it allows the next call."""

    def __init__(self, retry_at: object, message: str | None = None) -> None:
        super().__init__(message or "platform rate limit")
        self.retry_at = retry_at


class PlatformUnavailable(TransientError):
    public_message = "platform unavailable"


class PrivateChannelRefused(HilftError):
    """A private message is not possible (DMs closed, Meta's 7-day or one-reply rule, ...)."""

    http_status = 409
    public_message = "private message refused by the platform"


class PlatformConfigError(HilftError):
    """Token revoked or expired, wrong ids: needs an operator, not a retry."""

    http_status = 500
    public_message = "platform configuration error"


class PlatformRefused(HilftError):
    """The platform refused a read or write for good (unknown object, no permission): no retry."""

    http_status = 409
    public_message = "the platform refused the request"
