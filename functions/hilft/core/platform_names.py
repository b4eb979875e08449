"""How people see each channel: its name (alerts, the board) and how its handles are written.

One small table in the core (which stays pure and imports no channel), with an entry for every
``Platform``: a channel added without one fails ``tests/unit/test_platform_names.py``.
"""

from __future__ import annotations

from hilft.core.models import Platform

DISPLAY_NAMES: dict[str, str] = {
    Platform.X.value: "X",
    Platform.FACEBOOK.value: "Facebook",
    Platform.INSTAGRAM.value: "Instagram",
    Platform.MESSENGER.value: "Messenger",
    Platform.THREADS.value: "Threads",
    Platform.BLUESKY.value: "Bluesky",
    Platform.MASTODON.value: "Mastodon",
}
# Channels whose handles people write as @name (Bluesky @name.bsky.social, Mastodon @name or
# @name@instance); Facebook and Messenger show names, not handles.
HANDLE_PREFIX: dict[str, str] = {
    Platform.X.value: "@",
    Platform.FACEBOOK.value: "",
    Platform.INSTAGRAM.value: "@",
    Platform.MESSENGER.value: "",
    Platform.THREADS.value: "@",
    Platform.BLUESKY.value: "@",
    Platform.MASTODON.value: "@",
}


def display_name(platform: str) -> str:
    """``"Bluesky"`` for ``"bluesky"``; an unknown value as it is."""
    return DISPLAY_NAMES.get(str(platform), str(platform))


def display_handle(platform: str, handle: str) -> str:
    """The handle as people write it on that channel (``@kabelsalat.bsky.social``), never ``@@``."""
    prefix = HANDLE_PREFIX.get(str(platform), "")
    return handle if not prefix or handle.startswith(prefix) else prefix + handle
