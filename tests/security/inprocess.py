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


SECRET = "s3cret"
STAFF_TOKEN = "staff-token"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}", "Content-Type": "application/json"}


def app_with_post(**settings: Any) -> tuple[App, str]:
    """An ``App`` on the in-memory store and scheduler, staff in token mode, holding one open post
    that came in through ``x_webhook`` (its document id is returned)."""
    import deliveries
    from hilft.channels.x import parse as x
    from hilft.core.ids import mention_doc_id
    from hilft.settings import Settings
    from tests.e2e.builders import aaa_tweet
    from tests.unit.memory import MemoryScheduler, MemoryStore

    app = App(Settings(oidc_required=False, x_client_secret=SECRET, staff_auth="token", staff_token=STAFF_TOKEN,
                       x_brand_user_ids=frozenset({deliveries.BRAND_X_ID}), **settings))
    app.store, app.scheduler = MemoryStore(), MemoryScheduler()  # type: ignore[assignment]
    post_id, body = aaa_tweet("Kein Netz seit gestern")
    stored = answer(app, "x_webhook", body=body, headers={
        "Content-Type": "application/json", "X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, SECRET)})
    assert stored.status_code == 200, stored.get_data(as_text=True)
    return app, mention_doc_id("x", post_id)
