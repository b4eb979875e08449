"""Outbound HTTP: one thread running an asyncio loop, one runner coroutine per queue.

A runner sleeps until the earliest task of its queue is due (or until the store nudges it
because an earlier task arrived, the queue resumed, or its limits changed), then dispatches
while it holds a concurrency slot and a rate token. Attempts run as asyncio tasks sharing
one keep-alive HTTP client; the store decides what an outcome means (delete, retry, give up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .http_client import HttpClient, HttpError
from .oidc import OidcIssuer
from .retry import parse_retry_after
from .state import Attempt, Outcome, QueueState, Store

log = logging.getLogger("cloudtasks_emulator")

_DEADLINE_EXCEEDED = 4
_UNAVAILABLE = 14


class TokenBucket:
    """max_dispatches_per_second with bursts up to max_burst_size, as the queue's RateLimits say."""

    def __init__(self) -> None:
        self._tokens: float | None = None
        self._updated = time.monotonic()

    def delay_for_token(self, rate: float, burst: int) -> float:
        """Take a token and return 0, or return how long to wait before one is available."""
        now = time.monotonic()
        if self._tokens is None:
            self._tokens = float(burst)
        self._tokens = min(float(burst), self._tokens + (now - self._updated) * rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / rate


class Dispatcher:
    def __init__(self, store: Store, issuer: OidcIssuer) -> None:
        self._store = store
        self._issuer = issuer
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="cloudtasks-dispatcher", daemon=True)
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._client = HttpClient()
        self._background: set[asyncio.Task[None]] = set()

    # -- called from any thread ------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        if self._thread.is_alive() and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join()

    def watch_queue(self, queue: QueueState) -> None:
        self._loop.call_soon_threadsafe(self._spawn, self._run_queue(queue))

    def submit(self, attempt: Attempt) -> None:
        """Run one attempt outside the queue's limits (RunTask)."""
        self._loop.call_soon_threadsafe(self._spawn, self._attempt(attempt, None))

    # -- loop thread -----------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self._ready.set()
        await self._stopping.wait()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._client.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run_queue(self, queue: QueueState) -> None:
        wake = asyncio.Event()
        def nudge() -> None:
            self._loop.call_soon_threadsafe(wake.set)

        queue.wake = nudge
        slot_freed = asyncio.Event()
        in_flight = 0
        bucket = TokenBucket()

        def release() -> None:
            nonlocal in_flight
            in_flight -= 1
            slot_freed.set()

        while not queue.deleted:
            wake.clear()
            delay = self._store.seconds_until_due(queue)
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), delay)
                continue
            if in_flight >= queue.rate.max_concurrent_dispatches:
                slot_freed.clear()
                await slot_freed.wait()
                continue
            wait = bucket.delay_for_token(queue.rate.max_dispatches_per_second, queue.rate.max_burst_size)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            attempt = self._store.begin_due_attempt(queue)
            if attempt is None:  # paused, deleted or rescheduled meanwhile; the token stays spent
                continue
            in_flight += 1
            self._spawn(self._attempt(attempt, release))

    async def _attempt(self, attempt: Attempt, release: Callable[[], None] | None) -> None:
        try:
            outcome = await self._send(attempt)
        finally:
            if release is not None:
                release()
        self._store.finish_attempt(attempt, outcome)
        log.debug("dispatched task %s of queue %s: %s", attempt.task.task_id, attempt.task.queue.queue_id,
                  outcome.status if outcome.status is not None else outcome.error_message)

    async def _send(self, attempt: Attempt) -> Outcome:
        headers = attempt.headers
        if attempt.oidc is not None:
            email, audience = attempt.oidc
            token = self._issuer.token(email, audience, time.time())
            headers = {**headers, "Authorization": f"Bearer {token}"}
        elif attempt.oauth is not None:
            # Google access tokens are opaque; receivers cannot verify one locally anyway.
            headers = {**headers, "Authorization": "Bearer emulator-oauth-access-token"}
        try:
            # Redirects are not followed: Cloud Tasks counts a 3xx as a failed attempt.
            async with asyncio.timeout(attempt.deadline):
                response = await self._client.request(attempt.method, attempt.url, headers, attempt.body)
        except TimeoutError:
            return Outcome(None, error_code=_DEADLINE_EXCEEDED, error_message="dispatch_deadline exceeded")
        except HttpError as exc:
            return Outcome(None, error_code=_UNAVAILABLE, error_message=str(exc))
        retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
        return Outcome(response.status, retry_after=retry_after)
