"""JSON for webhook bodies, cleaned of what no UTF-8 store can hold.

``json.loads`` accepts lone surrogate escapes (``"\\ud800"``); left in, they fail later, deep in
Firestore or hashing, as a 500 that makes the platform resend the whole batch forever. They are
replaced with U+FFFD instead, so one broken character costs neither the post nor the batch
(ids with one still fail their own validation). Only bodies that contain surrogate escapes at
all (Meta escapes every emoji that way) pay for the check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hilft.core.errors import MalformedPayload

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def loads(body: bytes) -> Any:
    try:
        # Strict UTF-8 first: json.loads(bytes) would let encoded surrogates (b"\xed\xa0\x80") through.
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedPayload("body is not JSON") from exc
    if _SURROGATE_ESCAPE.search(body):
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            try:
                return _clean(document)
            except RecursionError as exc:  # garbage nested deeper than any platform sends
                raise MalformedPayload("body nests too deeply") from exc
        except RecursionError as exc:
            raise MalformedPayload("body nests too deeply") from exc
    return document
