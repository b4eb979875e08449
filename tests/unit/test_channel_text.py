"""Platform text limits counted in graphemes and cut between them (hilft.channels.text)."""

from __future__ import annotations

import regex
from hypothesis import given
from hypothesis import strategies as st

from hilft.channels.text import ELLIPSIS, graphemes, mastodon_length, split, truncate, truncate_mastodon

THUMB = "👍🏽"  # two code points, one grapheme
E_ACUTE = "e\u0301"  # e + combining acute: one grapheme


def test_a_grapheme_is_what_a_reader_sees_as_one_character() -> None:
    assert graphemes(THUMB + E_ACUTE + "ö") == [THUMB, E_ACUTE, "ö"]


def test_truncate_counts_graphemes_and_never_tears_one_apart() -> None:
    cut = truncate(THUMB * 400, 300)
    assert cut.endswith(ELLIPSIS) and len(graphemes(cut)) == 300
    assert cut[:-1] == THUMB * 299  # whole emoji only, no lone skin-tone modifier
    assert truncate(E_ACUTE * 300, 300) == E_ACUTE * 300  # 600 code points, 300 graphemes: fits


def test_truncate_keeps_a_byte_limit_too() -> None:
    family = "👨\u200d👩\u200d👧"  # 18 bytes, one grapheme
    cut = truncate(family * 300, 300, max_bytes=3000)
    assert len(cut.encode()) <= 3000 and cut[:-1] == family * ((3000 - 3) // 18)


def test_split_keeps_every_word_in_order_in_pieces_within_the_limit() -> None:
    text = " ".join(f"Wort{i}" for i in range(600))  # 4,289 graphemes
    pieces = split(text, 1000)
    assert all(len(graphemes(p)) <= 1000 for p in pieces) and len(pieces) == 5
    assert " ".join(pieces).split() == text.split()  # cut at word ends: nothing lost, nothing torn


@given(st.text(min_size=1, max_size=3000))
def test_split_never_loses_text_or_exceeds_the_limit(text: str) -> None:
    pieces = split(text, 1000, max_bytes=10_000)
    assert all(len(regex.findall(r"\X", p)) <= 1000 and len(p.encode()) <= 10_000 for p in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def test_mastodon_counts_a_link_as_23_and_a_remote_mention_as_its_user() -> None:
    assert mastodon_length("https://example.org/a") == 23
    assert mastodon_length("@anna@social.example hallo") == len("@anna hallo")
    long = "@kabelsalat " + "Sehr lange Antwort. " * 40
    cut = truncate_mastodon(long, 500)
    assert cut.endswith(ELLIPSIS) and mastodon_length(cut) <= 500 and cut.startswith("@kabelsalat ")
