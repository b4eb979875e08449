"""Call one entry point in-process, through the same error mapping ``functions/main.py`` uses
(``web.handle``): an exception that escapes a handler is the 500 an attacker would see."""

from __future__ import annotations

from typing import Any

import flask

from hilft import handlers, web
from hilft.app import App

_FLASK = flask.Flask(__name__)


def answer(app: App, entry_point: str, *, method: str = "POST", path: str = "/", body: bytes = b"",
           headers: dict[str, str] | None = None, environ: dict[str, Any] | None = None) -> flask.Response:
    """The response of ``entry_point`` to one request. ``environ`` sets raw WSGI values (a header
    as a server decodes it: Latin-1), which the header mapping would otherwise normalise."""
    with _FLASK.test_request_context(path, method=method, data=body, headers=headers or {},
                                     environ_base=environ or {}):
        return web.handle(entry_point, flask.request, lambda: getattr(handlers, entry_point)(app, flask.request))
