"""The scripted day (tests/fixtures/demo/day.json) as a timeline, and the demo policy at a speed."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deliveries import Author

ROOT = Path(__file__).resolve().parents[3]
DEMO_FIXTURES = ROOT / "tests" / "fixtures" / "demo"
DAY_FILE = DEMO_FIXTURES / "day.json"
POLICY_FILE = DEMO_FIXTURES / "policy.toml"
CHANNELS = {"x": "x", "x_activity": "x", "x_dm": "x", "x_stream": "x", "facebook": "facebook", "instagram": "instagram",
            "messenger": "messenger", "threads": "threads", "bluesky": "bluesky", "bluesky_dm": "bluesky",
            "mastodon": "mastodon", "mastodon_dm": "mastodon"}
POLLED = frozenset({"bluesky", "mastodon"})  # no webhooks: the replay places posts in the fakes, poll fetches them


@dataclass(frozen=True)
class ScriptedPost:
    """One customer post and what happens to it; times are demo seconds (before ``--speed``)."""

    id: str
    label: str
    channel: str
    author: Author
    text: str
    clock: str  # the fictional time of day, for the view
    at: float
    lang: str = "de"
    reply_after: float | None = None
    reply: str | None = None
    reply_first: bool = False
    deliveries: int = 1
    delete_after: float | None = None
    ack_after: float | None = None
    rules: tuple[str, ...] = ()  # x_stream: the tags of the radar's stream rules the post matched

    @property
    def platform(self) -> str:
        return CHANNELS[self.channel]

    @property
    def polled(self) -> bool:
        return self.platform in POLLED


@dataclass(frozen=True)
class Day:
    posts: list[ScriptedPost]
    replay_seconds: float


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _post(raw: dict[str, Any], at: float) -> ScriptedPost:
    channel = raw["channel"]
    if channel not in CHANNELS:
        raise ValueError(f"{raw['id']}: unknown channel {channel!r}")
    if raw.get("reply_after") is not None and not raw.get("reply"):
        raise ValueError(f"{raw['id']}: reply_after needs a reply text")
    if CHANNELS[channel] in POLLED and (raw.get("reply_first") or int(raw.get("deliveries", 1)) > 1):
        raise ValueError(f"{raw['id']}: {channel} is polled: no webhook to redeliver or to answer first")
    if channel == "x_stream" and not raw.get("rules"):
        raise ValueError(f"{raw['id']}: an X Filtered Stream post names the radar rule tags it matched")
    if raw.get("delete_after") is not None and channel not in ("x", "x_activity", "facebook"):
        raise ValueError(f"{raw['id']}: the demo deletes only X posts and Facebook comments")
    author = raw["author"]
    return ScriptedPost(id=raw["id"], label=raw["label"], channel=channel, text=raw["text"], clock=raw["time"],
                        author=Author(author["id"], author.get("handle"), author.get("name")), at=at,
                        lang=raw.get("lang", "de"), reply_after=raw.get("reply_after"), reply=raw.get("reply"),
                        reply_first=bool(raw.get("reply_first")), deliveries=int(raw.get("deliveries", 1)),
                        delete_after=raw.get("delete_after"), ack_after=raw.get("ack_after"),
                        rules=tuple(raw.get("rules") or ()))


def load_day(path: Path = DAY_FILE, *, scenario: str = "day", limit: int | None = None) -> Day:
    """``day``: every post at its time of day mapped onto ``replay_seconds``; ``short``: the
    ``short`` list, ``short_spacing`` apart. ``limit`` keeps the first N posts of either."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    start, end = _minutes(raw["day_start"]), _minutes(raw["day_end"])
    replay = float(raw["replay_seconds"])
    if scenario == "day":
        posts = [_post(p, (_minutes(p["time"]) - start) / (end - start) * replay) for p in raw["posts"]]
    elif scenario == "short":
        by_id = {p["id"]: p for p in raw["posts"]}
        spacing = float(raw["short_spacing"])
        posts = [_post(by_id[name], index * spacing) for index, name in enumerate(raw["short"])]
    else:
        raise ValueError(f"unknown scenario {scenario!r} (day or short)")
    if limit is not None:
        posts = posts[:limit]
    if len({p.id for p in posts}) != len(posts):
        raise ValueError("post ids in the day must be unique")
    return Day(posts=posts, replay_seconds=max((p.at for p in posts), default=0.0))


def scaled_policy(text: str, speed: float) -> str:
    """Every ``"<n>s"`` duration divided by ``speed``, rounded up to a whole second (at least 1 s,
    except 0 s), so the promise shrinks with the replay and the story stays the same."""
    if speed <= 0:
        raise ValueError("speed must be positive")

    def scale(match: re.Match[str]) -> str:
        seconds = int(match[1])
        return f'"{0 if seconds == 0 else max(1, math.ceil(seconds / speed))}s"'

    return re.sub(r'"(\d+)s"', scale, text)
