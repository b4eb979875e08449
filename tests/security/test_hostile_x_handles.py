"""Attack: a handle that is no X handle ends up in a reply the brand publishes on X.

``XGateway.public_reply`` prefixes the author's handle to the reply (``@handle text``). X handles
are letters, digits and "_", at most 15; a stored or delivered "handle" outside that alphabet
(a link, a second @mention, a line break, look-alike characters, markup) must never reach the
posted text. The parser treats such a value as an unknown handle (the delivery is still stored,
not refused with a 400), and the gateway names only a validated handle (``public_handle``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.x_api import FakeXApi, make_x_api
from hilft.channels.x import XGateway
from hilft.channels.x import parse as x
from hilft.channels.x.client import XClient
from hilft.core.document import MentionDoc
from hilft.core.models import Mention
from tests.conftest import FIXTURES

TOKEN = "x-user-token"  # noqa: S105
BRAND = frozenset({"1000000001"})
HOSTILE = [
    "evil https://evil.example/login",
    "kunde @ceo_of_brand",
    "kunde\n\nOffizielle Antwort: alles gratis",
    "bit.ly",
    "ｅｖｉｌ",  # full-width look-alikes
    "k\u202eunde",  # a right-to-left override
    "<script>",
    "a" * 16,  # one character longer than X allows
    "",
    " ",
]


@pytest.fixture(scope="module")
def x_api() -> Iterator[FakeXApi]:
    with make_x_api(TOKEN) as server:
        yield server


@pytest.fixture
def gateway(x_api: FakeXApi) -> Iterator[XGateway]:
    x_api.reset()
    with httpx.Client() as http:
        yield XGateway(XClient(x_api.url, TOKEN, http=http))


def _post(handle: str | None) -> MentionDoc:
    return MentionDoc(platform="x", post_id="1858786321410785281", kind="mention", author_id="1472583690",
                      author_handle=handle, text="Kein Internet")


@pytest.mark.parametrize("handle", HOSTILE)
def test_a_hostile_stored_handle_never_reaches_the_posted_reply(gateway: XGateway, x_api: FakeXApi,
                                                                handle: str) -> None:
    gateway.public_reply(_post(handle), "Wir schauen uns das an.")

    assert [reply["text"] for reply in x_api.replies] == ["Wir schauen uns das an."]


@pytest.mark.parametrize("handle", ["kabelsalat_kiel", "A" * 15, "x_1"])
def test_a_real_x_handle_still_addresses_the_author(gateway: XGateway, x_api: FakeXApi, handle: str) -> None:
    gateway.public_reply(_post(handle), "Wir schauen uns das an.")

    assert [reply["text"] for reply in x_api.replies] == [f"@{handle} Wir schauen uns das an."]


# -- the parser ----------------------------------------------------------------------------------


def _aaa_mention(screen_name: str) -> bytes:
    body = json.loads((FIXTURES / "x" / "aaa_mention.json").read_bytes())
    body["tweet_create_events"][0]["user"]["screen_name"] = screen_name
    return json.dumps(body).encode()


def _xaa_mention(username: str) -> bytes:
    body = json.loads((FIXTURES / "x" / "xaa_mention.json").read_bytes())
    for user in body["data"]["includes"]["users"]:
        user["username"] = username
    return json.dumps(body).encode()


def _handles(body: bytes) -> list[str | None]:
    mentions = [event for event in x.parse(body, brand_user_ids=BRAND).events if isinstance(event, Mention)]
    assert mentions, "the delivery is still stored"
    return [mention.author.handle for mention in mentions]


@pytest.mark.parametrize("delivery", [_aaa_mention, _xaa_mention], ids=["account-activity", "x-activity"])
@pytest.mark.parametrize("handle", [*HOSTILE, "@kunde"])  # X never sends the "@"
def test_the_parser_treats_a_hostile_handle_as_unknown(delivery: Any, handle: str) -> None:
    assert _handles(delivery(handle)) == [None]


@given(handle=st.text(min_size=0, max_size=40))
@settings(max_examples=200, deadline=None)
def test_any_handle_is_either_an_x_handle_or_unknown(handle: str) -> None:
    parsed = _handles(_aaa_mention(handle))
    assert parsed == ([handle] if x.HANDLE.fullmatch(handle) else [None])
    assert parsed[0] is None or (parsed[0].isascii() and len(parsed[0]) <= 15
                                 and all(c.isalnum() or c == "_" for c in parsed[0]))
