"""Attack and its legitimate twin on the board's buttons: the board's own POSTs through
``gcloud run services proxy`` (infra/README) must work — the browser names ``Origin:
http://localhost:PORT`` while the proxy forwards with the run.app ``Host`` — and a page on another
site or another local port, a POST without the board's header, or a text/plain body must not act.

Run against the real stack; ``Host`` is set as the proxy sets it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.builders import aaa_tweet
from tests.stack_fixtures import STAFF_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

RUN_APP = "board-abc123-ew.a.run.app"  # the Host the proxy forwards
PROXY = "http://localhost:8081"  # where the proxy serves the page: the browser's Origin
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
BOARD = {**AUTH, "X-Hilft-Board": "1"}


def _open_post(e2e: Any, text: str = "Kein Netz in der Südstadt") -> tuple[str, str]:
    from hilft.core.ids import mention_doc_id

    post_id, body = aaa_tweet(text)
    assert e2e.post_x(body).status_code == 200
    return post_id, mention_doc_id("x", post_id)


def _ack(e2e: Any, doc_id: str, headers: dict[str, str], **kwargs: Any) -> Any:
    if "content" not in kwargs:
        kwargs["json"] = {"doc_id": doc_id}
    return e2e.http.post(e2e.url("board") + "/?action=ack", headers=headers, **kwargs)


@pytest.mark.parametrize("browser", [
    {"Origin": PROXY},  # a browser without Fetch Metadata: the proxy's localhost origin
    {"Origin": PROXY, "Sec-Fetch-Site": "same-origin"},  # a current browser: its own verdict
    {"Origin": "http://127.0.0.1:8081", "Sec-Fetch-Site": "same-origin"},
], ids=["origin-only", "fetch-metadata", "loopback-ip"])
def test_the_boards_own_post_through_the_proxy_is_accepted(e2e, browser):
    post_id, doc_id = _open_post(e2e)
    response = _ack(e2e, doc_id, {**BOARD, "Host": RUN_APP, **browser})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "acknowledged"
    assert e2e.mention("x", post_id)["acknowledged"] is True


@pytest.mark.parametrize("browser", [
    {"Origin": "https://evil.example"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},  # another local dev server's page
    {"Origin": "null"},  # a sandboxed frame
    {"Origin": "https://localhost.evil.example:8081"},
    {"Sec-Fetch-Site": "cross-site"},  # a browser that left out Origin still says where it came from
], ids=["foreign", "foreign-fetch-metadata", "other-local-port", "null", "lookalike", "no-origin-cross-site"])
@pytest.mark.parametrize("host", [RUN_APP, None], ids=["via-proxy", "direct"])
def test_a_foreign_page_is_refused(e2e, browser, host):
    post_id, doc_id = _open_post(e2e)
    response = _ack(e2e, doc_id, {**BOARD, **({"Host": host} if host else {}), **browser})
    assert response.status_code == 403, response.text
    assert e2e.mention("x", post_id)["acknowledged"] is False


def test_another_local_port_is_refused_when_no_proxy_is_in_between(e2e):
    """The stack's own Host is loopback: a page on another local port reaching it directly is foreign."""
    post_id, doc_id = _open_post(e2e)
    assert _ack(e2e, doc_id, {**BOARD, "Origin": "http://localhost:1"}).status_code == 403
    assert e2e.mention("x", post_id)["acknowledged"] is False


@pytest.mark.parametrize("action,payload", [("ack", {}), ("handoff", {"department": "festnetz"})])
def test_without_the_board_header_nothing_happens_even_from_the_proxy(e2e, action, payload):
    post_id, doc_id = _open_post(e2e)
    response = e2e.http.post(e2e.url("board") + f"/?action={action}", json={"doc_id": doc_id, **payload},
                             headers={**AUTH, "Host": RUN_APP, "Origin": PROXY, "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 403
    doc = e2e.mention("x", post_id)
    assert doc["acknowledged"] is False and doc["status"] == "open"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_simple_form_body_is_refused_even_with_the_header(e2e, content_type):
    post_id, doc_id = _open_post(e2e)
    response = _ack(e2e, doc_id, {**BOARD, "Host": RUN_APP, "Origin": PROXY, "Content-Type": content_type},
                    content=json.dumps({"doc_id": doc_id}))
    assert response.status_code == 415
    assert e2e.mention("x", post_id)["acknowledged"] is False
