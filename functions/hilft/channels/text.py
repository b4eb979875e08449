"""Platform text limits, counted the way the platforms count them: in graphemes (what a reader sees
as one character: "👍🏽", "é" as e + accent), never in Python code points, and cut only between
graphemes so an emoji or an umlaut is never torn apart.

Bluesky's lexicons give a post 300 graphemes (and 3,000 bytes), a chat message 1,000 graphemes (and
10,000 bytes); Mastodon's ``StatusLengthValidator`` counts a status's grapheme clusters, a link as
23 and a mention ``@user@domain`` as ``@user``. Pure: no I/O.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

ELLIPSIS = "…"
_URL = re.compile(r"https?://\S+")
_MASTODON_URL_LENGTH = 23


@cache
def _cluster() -> Any:
    import regex  # only the channels that send text pay its import (about 10 ms)

    return regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """``text`` as its extended grapheme clusters (Unicode UAX #29)."""
    return list(_cluster().findall(text))


def _fits(parts: list[str], limit: int, max_bytes: int | None) -> bool:
    return len(parts) <= limit and (max_bytes is None or len("".join(parts).encode()) <= max_bytes)


def truncate(text: str, limit: int, *, max_bytes: int | None = None) -> str:
    """``text`` unchanged if it fits ``limit`` graphemes (and ``max_bytes``), else cut at a grapheme
    boundary (at a word's end where one is near) with an ellipsis, the whole within the limits."""
    parts = graphemes(text)
    if _fits(parts, limit, max_bytes):
        return text
    keep = parts[: max(limit - 1, 0)]
    while keep and not _fits([*keep, ELLIPSIS], limit, max_bytes):
        keep.pop()
    cut = "".join(keep)
    word_end = cut.rstrip().rfind(" ")
    if word_end >= len(cut) * 0.8:  # a word boundary close to the end: do not cut the last word
        cut = cut[:word_end]
    return cut.rstrip() + ELLIPSIS


def split(text: str, limit: int, *, max_bytes: int | None = None) -> list[str]:
    """``text`` as consecutive pieces of at most ``limit`` graphemes (and ``max_bytes``) each, cut at
    a paragraph, line or word end where one lies in a piece's last fifth, else between graphemes.
    Nothing is lost: the pieces hold every word, in order."""
    parts = graphemes(text.strip())
    pieces: list[str] = []
    while parts:
        take = min(limit, len(parts))
        while take > 1 and not _fits(parts[:take], limit, max_bytes):
            take -= 1
        if take < len(parts):
            window = parts[:take]
            for breaker in ("\n", " "):
                at = max((i for i, g in enumerate(window) if breaker in g), default=-1)
                if at >= take * 0.8:
                    take = at + 1
                    break
        piece = "".join(parts[:take]).strip()
        if piece:
            pieces.append(piece)
        parts = parts[take:]
    return pieces


def mastodon_length(text: str) -> int:
    """A status's length as Mastodon counts it: graphemes, a link as 23, ``@user@domain`` as ``@user``."""
    countable = _URL.sub("x" * _MASTODON_URL_LENGTH, text)
    countable = re.sub(r"(?<![\w@])(@[A-Za-z0-9_]+)@[A-Za-z0-9.-]+", r"\1", countable)
    return len(graphemes(countable))


def truncate_mastodon(text: str, limit: int) -> str:
    """``text`` cut (with an ellipsis, between graphemes) until Mastodon counts it ``limit`` or less."""
    if mastodon_length(text) <= limit:
        return text
    cut = text
    target = limit
    while mastodon_length(cut) > limit and target > 1:
        cut = truncate(text, target)
        target -= max(mastodon_length(cut) - limit, 1)
    return cut
