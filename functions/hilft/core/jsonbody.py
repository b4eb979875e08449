"""Strict JSON for webhook bodies: what cannot be stored is refused as malformed (400).

``json.loads`` accepts lone surrogate escapes (``"\\ud800"``) that no UTF-8 store can hold; they
would fail later, deep in Firestore or hashing, as a 500. Only bodies that contain surrogate
escapes at all (Meta escapes every emoji that way) pay for the full check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hilft.core.errors import MalformedPayload

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(body: bytes) -> Any:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedPayload("body is not JSON") from exc
    if _SURROGATE_ESCAPE.search(body):
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedPayload("body contains a lone surrogate") from exc
        except RecursionError as exc:
            raise MalformedPayload("body nests too deeply") from exc
    return document
