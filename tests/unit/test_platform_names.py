"""Every channel has a name people read and a way its handles are written, in alerts and on the board."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hilft.core import board_view, platform_names
from hilft.core.alerts import Alert, AlertAction, display_handle, headline
from hilft.core.models import Platform


def test_every_platform_has_a_display_name_and_a_handle_prefix() -> None:
    assert set(platform_names.DISPLAY_NAMES) == {p.value for p in Platform}
    assert set(platform_names.HANDLE_PREFIX) == {p.value for p in Platform}
    assert all(name and name[0].isupper() for name in platform_names.DISPLAY_NAMES.values())
    assert board_view.PLATFORM_NAMES == platform_names.DISPLAY_NAMES  # the board's JSON names them too


@pytest.mark.parametrize(("platform", "handle", "shown"), [
    ("threads", "kundin_anna", "Threads post by @kundin_anna"),
    ("bluesky", "kabelsalat.bsky.social", "Bluesky post by @kabelsalat.bsky.social"),
    ("mastodon", "kabelsalat@social.example", "Mastodon post by @kabelsalat@social.example"),
    ("mastodon", "@kabelsalat", "Mastodon post by @kabelsalat"),
    ("facebook", "Anna Schmidt", "Facebook post by Anna Schmidt"),
])
def test_alerts_name_the_channel_and_write_its_handles_as_people_do(platform: str, handle: str, shown: str) -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    alert = Alert(action=AlertAction.TRIGGER, level=1, platform=platform, post_id="1", doc_id="d",
                  author_handle=handle, excerpt="kein Netz", due_at=now, now=now, url=None, board_url=None)
    assert shown in headline(alert)
    assert not display_handle(alert).startswith("@@")


def test_the_board_writes_polled_channels_handles_with_an_at() -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    doc = {"platform": "bluesky", "post_id": "at://did:plc:x/app.bsky.feed.post/1", "kind": "mention",
           "status": "open", "author_handle": "kabelsalat.bsky.social", "author_name": "Kabel Salat",
           "text": "kein Netz", "created_at": now, "received_at": now, "due_at": now}
    assert board_view._author(board_view.as_doc(doc)) == "@kabelsalat.bsky.social (Kabel Salat)"
