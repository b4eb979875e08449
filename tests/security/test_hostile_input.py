"""Attacks with input that must be a 4xx — never a 5xx (which makes platforms retry forever) and
never a hang: deep nesting, absurd windows, foreign paths in task bodies, cross-site posts to the
staff doors."""

from __future__ import annotations

import json

import flask
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hilft import handlers, web
from hilft.app import App
from hilft.core import jsonbody
from hilft.core.errors import MalformedPayload
from hilft.settings import Settings

# -- deep nesting -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(min_value=1, max_value=20_000), container=st.sampled_from(["[]", "{}"]),
       leaf=st.sampled_from(['"\\ud800"', '"\\udfff x"', "1", '"ok"']))
def test_any_nesting_depth_parses_or_is_malformed_never_a_crash(depth, container, leaf):
    open_, close = container
    if open_ == "{":
        body = ('{"k":' * depth + leaf + "}" * depth).encode()
    else:
        body = (open_ * depth + leaf + close * depth).encode()
    try:
        jsonbody.loads(body)
    except MalformedPayload:
        pass


def _nested(envelope: str, depth: int) -> bytes:
    """``envelope`` with a lone surrogate escape ``depth`` arrays deep in place of ``NEST``."""
    return envelope.replace("NEST", "[" * depth + '"\\ud800"' + "]" * depth).encode()


def _signed_x(e2e, body: bytes):
    return e2e.post_x(body)


def _signed_meta(e2e, body: bytes):
    return e2e.post_meta(body)


def _signed_threads(e2e, body: bytes):
    import deliveries
    from tests.stack_fixtures import CREDENTIALS

    return e2e.http.post(e2e.url("threads_webhook"), content=body, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": deliveries.hub_signature(body, CREDENTIALS.threads_secret)})


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("depth", [500, 5_000])
@pytest.mark.parametrize(("post", "envelope"), [
    (_signed_x, '{"for_user_id":"1000000001","note":NEST}'),
    (_signed_meta, '{"object":"page","entry":[],"note":NEST}'),
    (_signed_threads, '{"app_id":"1","topic":"moderate","target_id":"1","time":1,"values":{"field":"other",'
                      '"value":{}},"note":NEST}'),
], ids=["x_webhook", "meta_webhook", "threads_webhook"])
def test_deeply_nested_signed_body_is_400_and_stores_nothing(e2e, depth, post, envelope):
    assert post(e2e, _nested(envelope, 1)).status_code == 200  # shallow, the same delivery is fine
    response = post(e2e, _nested(envelope, depth))
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text
    assert e2e.mentions() == []


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("depth", [500, 2_000])  # the board's own POSTs are capped at 16 KB
@pytest.mark.parametrize(("target", "query", "headers"), [
    ("ack", "", {}),
    ("handoff", "", {}),
    ("board", "?action=ack", {"X-Hilft-Board": "1"}),
])
def test_deeply_nested_staff_bodies_are_400(e2e, depth, target, query, headers):
    from tests.stack_fixtures import STAFF_TOKEN

    def post(depth: int):
        # A well-formed request for a post that does not exist, but for the nesting in "note".
        body = _nested('{"doc_id":"' + "a" * 40 + '","department":"festnetz","note":NEST}', depth)
        return e2e.http.post(e2e.url(target) + query, content=body, headers={
            "Authorization": f"Bearer {STAFF_TOKEN}", "Content-Type": "application/json", **headers})

    assert post(1).status_code != 400  # shallow, the same request gets past the body (unknown post)
    response = post(depth)
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text


# -- the board's window -------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("window", ["99999999999999d", "9" * 30 + "h", "999999999999999999m1s", "0s"])
def test_absurd_board_windows_are_clamped_not_a_500(e2e, window):
    from tests.stack_fixtures import STAFF_TOKEN

    response = e2e.http.get(e2e.url("board"), params={"window": window, "format": "json"},
                            headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    assert response.status_code == 200, response.text
    # Clamped to the documented bounds (core/board_view.py: 5 minutes .. 7 days), not merely survived.
    assert response.json()["window_seconds"] == (5 * 60 if window == "0s" else 7 * 24 * 3600)


# -- task bodies must name our documents ------------------------------------------------------


@pytest.mark.parametrize("doc_id", ["../handoffs/x", "mentions/abc", "a" * 41, "", 7, None, ["a"], "ZZ" * 20])
def test_deadline_refuses_foreign_document_paths(doc_id):
    app = App(Settings(oidc_required=False))
    flask_app = flask.Flask(__name__)
    with flask_app.test_request_context("/", method="POST", data=json.dumps({"kind": "handoff", "doc_id": doc_id}),
                                        content_type="application/json"):
        response = web.handle("deadline", flask.request, lambda: handlers.deadline(app, flask.request))
    assert response.status_code == 400


# -- cross-site posts to the staff doors -------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("target", ["ack", "handoff"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None])
def test_staff_doors_accept_only_json(e2e, target, content_type):
    from tests.e2e.builders import aaa_tweet
    from tests.stack_fixtures import STAFF_TOKEN

    post_id, body = aaa_tweet("Kein Netz")
    assert e2e.post_x(body).status_code == 200
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"} | ({"Content-Type": content_type} if content_type else {})
    response = e2e.http.post(e2e.url(target), headers=headers,
                             content=json.dumps({"platform": "x", "post_id": post_id, "department": "festnetz"}))
    assert response.status_code == 415
    assert not e2e.mention("x", post_id).get("acknowledged")
    assert e2e.mention("x", post_id)["status"] == "open"


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("target", ["ack", "handoff"])
@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost:1", "null"])
def test_staff_doors_refuse_a_foreign_origin(e2e, target, origin):
    from tests.e2e.builders import aaa_tweet
    from tests.stack_fixtures import STAFF_TOKEN

    post_id, body = aaa_tweet("Kein Netz")
    assert e2e.post_x(body).status_code == 200
    response = e2e.http.post(e2e.url(target), json={"platform": "x", "post_id": post_id, "department": "festnetz"},
                             headers={"Authorization": f"Bearer {STAFF_TOKEN}", "Origin": origin})
    assert response.status_code == 403
    assert not e2e.mention("x", post_id).get("acknowledged")
