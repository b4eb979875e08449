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


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("depth", [500, 5_000])
def test_deeply_nested_signed_body_is_400_and_stores_nothing(e2e, depth):
    body = ('{"for_user_id":"1000000001","x":' + "[" * depth + '"\\ud800"' + "]" * depth + "}").encode()
    response = e2e.post_x(body)
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text
    assert e2e.mentions() == []


# -- the board's window -------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.emulator
@pytest.mark.parametrize("window", ["99999999999999d", "9" * 30 + "h", "999999999999999999m1s", "0s"])
def test_absurd_board_windows_are_clamped_not_a_500(e2e, window):
    from tests.stack_fixtures import STAFF_TOKEN

    response = e2e.http.get(e2e.url("board"), params={"window": window, "format": "json"},
                            headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    assert response.status_code == 200, response.text


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
