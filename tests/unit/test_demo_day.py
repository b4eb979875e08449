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


def test_the_day_replays_radar_posts_from_the_x_filtered_stream_with_their_rule_tags() -> None:
    stream = [p for p in scenario.load_day().posts if p.channel == "x_stream"]
    assert len(stream) == 2 and all(p.rules == ("hilft-radar",) and "@" not in p.text for p in stream)
    assert any(p.channel == "x_stream" for p in scenario.load_day(scenario="short").posts)


def test_the_friday_evening_policy_is_the_demos_with_weekday_hours_and_the_real_promise() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from demo import friday
    from hilft.core.policy import parse_policy

    policy = parse_policy(friday.weekday_policy_text())
    tz = ZoneInfo(policy.promise.timezone)
    posted = friday.next_friday_evening(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tz)  # a Monday
    assert f"{posted:%a %d %H:%M}" == "Fri 04 19:55"
    due = policy.calendar.add_business_time(posted, policy.promise_for("x")).astimezone(tz)
    assert f"{due:%a %H:%M}" == "Mon 08:55" and policy.promise.first_response == timedelta(minutes=60)
