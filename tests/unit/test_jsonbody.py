"""Webhook JSON: lone surrogates are cleaned, not fatal; valid pairs (emoji) are kept."""

from __future__ import annotations

import pytest

from hilft.core.errors import MalformedPayload
from hilft.core.jsonbody import loads


def test_escaped_emoji_pair_is_kept():
    assert loads(b'{"t": "kaputt \\ud83d\\ude21"}') == {"t": "kaputt \U0001f621"}


def test_lone_surrogate_is_replaced_so_the_text_can_be_stored():
    doc = loads(b'{"t": ["Router \\ud800 kaputt"], "\\udfff": 1}')
    assert doc == {"t": ["Router \ufffd kaputt"], "\ufffd": 1}
    doc["t"][0].encode("utf-8")


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"[" * 100000, b'{"a":"x\xed\xa0\x80y"}'])
def test_not_json_is_malformed(body):
    with pytest.raises(MalformedPayload):
        loads(body)
