"""The scripted demo day (``make demo``) is consistent with the replay and the live view, so the
full day cannot fail on a post the short smoke run never replays."""

from __future__ import annotations

from demo import scenario, view


def test_every_post_of_the_day_is_on_a_channel_the_replay_and_the_view_know() -> None:
    day = scenario.load_day()
    assert day.posts, "the day has posts"
    for post in day.posts:
        assert post.channel in scenario.CHANNELS, post.id
        assert post.channel in view.PLATFORMS, post.id


def test_the_view_names_exactly_the_replays_channels() -> None:
    assert set(view.PLATFORMS) == set(scenario.CHANNELS)


def test_the_short_scenario_is_a_subset_of_the_day() -> None:
    ids = {p.id for p in scenario.load_day().posts}
    assert {p.id for p in scenario.load_day(scenario="short").posts} <= ids


def test_the_day_replays_a_dm_on_every_channel_that_has_dms() -> None:
    channels = {p.channel for p in scenario.load_day().posts}
    assert {"x_dm", "messenger", "bluesky_dm", "mastodon_dm"} <= channels
