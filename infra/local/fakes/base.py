"""A tiny threaded HTTP server with routes, recorded requests and scripted failures."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON, str/bytes → as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body if self.body is not None else {}).encode(), "application/json"


Handler = Callable[[Request, re.Match[str]], Response]


class FakeServer:
    """Start with ``with FakeServer() as s:`` or ``s.start()``; ``s.url`` is its base URL.

    ``route(method, regex, handler)`` registers a handler. ``fail_next(n, status, headers)``
    makes the next n matching requests fail before the handler runs (used to script 5xx/429).
    ``requests`` holds every request received, ``accepted`` those the handler answered with 2xx.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._failures: list[tuple[str | None, Response]] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.accepted: list[Request] = []
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration -------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(pattern + r"$"), handler))

    def fail_next(self, count: int, status: int = 500, headers: dict[str, str] | None = None,
                  body: Any = None, path_contains: str | None = None) -> None:
        with self._lock:
            for _ in range(count):
                self._failures.append((path_contains, Response(status, body or {"error": "injected"},
                                                               headers or {})))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.accepted.clear()
            self._failures.clear()

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self._server.server_address[1]}"

    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # silence stderr
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                req = Request(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body)
                resp = fake._dispatch(req)
                payload, ctype = resp.encode()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.headers.get("Content-Type", ctype))
                for k, v in resp.headers.items():
                    if k.lower() != "content-type":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

        self._server = ThreadingHTTPServer((self._host, self._port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------
    def _dispatch(self, req: Request) -> Response:
        with self._lock:
            self.requests.append(req)
        for method, pattern, handler in self._routes:
            match = pattern.match(req.path)
            if method == req.method and match:
                with self._lock:
                    for i, (needle, failure) in enumerate(self._failures):
                        if needle is None or needle in req.path:
                            del self._failures[i]
                            return failure
                try:
                    resp = handler(req, match)
                except Exception as exc:  # a broken fake must be loud, not silent
                    return Response(500, {"error": f"fake handler crashed: {exc!r}"})
                if 200 <= resp.status < 300:
                    with self._lock:
                        self.accepted.append(req)
                return resp
        return Response(404, {"error": f"no route for {req.method} {req.path}"})

    def wait_for(self, predicate: Callable[[list[Request]], bool], timeout: float = 10.0) -> bool:
        """Poll ``accepted`` until predicate holds; True if it did within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.accepted)
            if predicate(snapshot):
                return True
            time.sleep(0.02)
        return False
