"""`make register-webhooks` syncs the X Activity API subscriptions against the fake X API.

Under the X Activity API a reply to a brand post arrives only as ``post.reply.create``, a quote only
as ``post.quote.create``: without the subscriptions hilft never hears of them.
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from fakes.x_api import FakeXApi
from hilft.channels.x.parse import XAA_SUBSCRIBED_EVENTS
from tests.infra.test_register_radar import APP_TOKEN, USER_TOKEN, WEBHOOK_ID, fake_x, register, run

BRAND = "1000000001"


def subscribed(x_api: FakeXApi) -> dict[str, dict[str, object]]:
    return {str(sub["event_type"]): sub for sub in x_api.activity_subscriptions}


def test_first_run_creates_every_kind_for_the_brand_second_run_changes_nothing(tmp_path: Path) -> None:
    with fake_x() as x_api:
        code, printed = run(x_api, tmp_path, "--skip-radar")
        assert code == 0, printed
        subs = subscribed(x_api)
        assert set(subs) == set(XAA_SUBSCRIBED_EVENTS)
        assert {"post.reply.create", "post.quote.create", "post.mention.create", "chat.received"} <= set(subs)
        for sub in subs.values():
            assert sub["filter"] == {"user_id": BRAND} and sub["webhook_id"] == WEBHOOK_ID and sub["tag"] == "hilft"
        creates = [r for r in x_api.requests if (r.method, r.path) == ("POST", "/2/activity/subscriptions")]
        assert {r.header("authorization") for r in creates} == {f"Bearer {USER_TOKEN}"}  # private events
        assert "+ post.reply.create  user 1000000001" in printed

        before = len(x_api.requests)
        code, printed = run(x_api, tmp_path, "--skip-radar")
        assert code == 0
        assert [r for r in x_api.requests[before:] if r.method != "GET"] == []
        assert "= post.reply.create  user 1000000001" in printed and "0 to add" in printed


def test_only_the_missing_kinds_are_created_and_others_subscriptions_are_left_alone(tmp_path: Path) -> None:
    with fake_x() as x_api:
        x_api.activity_subscriptions += [
            {"subscription_id": "11", "event_type": "post.mention.create", "filter": {"user_id": BRAND},
             "webhook_id": WEBHOOK_ID},
            {"subscription_id": "12", "event_type": "post.reply.create", "filter": {"user_id": "2244994945"},
             "webhook_id": "99"},
            {"subscription_id": "13", "event_type": "dm.received", "filter": {"user_id": BRAND}, "webhook_id": "98"},
        ]
        code, printed = run(x_api, tmp_path, "--skip-radar")
        assert code == 0, printed
        mine = [s for s in x_api.activity_subscriptions if s["filter"] == {"user_id": BRAND}]
        assert sorted(str(s["event_type"]) for s in mine) == sorted(XAA_SUBSCRIBED_EVENTS)
        assert [s["subscription_id"] for s in mine if s["event_type"] == "post.mention.create"] == ["11"]
        other = next(s for s in x_api.activity_subscriptions if s["subscription_id"] == "12")
        assert other["webhook_id"] == "99"  # not hilft's account: untouched
        moved = next(s for s in x_api.activity_subscriptions if s["subscription_id"] == "13")
        assert moved["webhook_id"] == WEBHOOK_ID  # ours, delivered elsewhere: pointed at this webhook
        assert "~ dm.received" in printed


def test_dry_run_prints_the_diff_and_creates_nothing(tmp_path: Path) -> None:
    with fake_x() as x_api:
        code, printed = run(x_api, tmp_path, "--dry-run", "--skip-radar")
        assert code == 0, printed
        assert x_api.activity_subscriptions == []
        assert {r.method for r in x_api.requests} == {"GET"}
        assert f"would change: {len(XAA_SUBSCRIBED_EVENTS)} to add" in printed
        assert "+ post.quote.create  user 1000000001" in printed


def test_skip_activity_leaves_xaa_alone(tmp_path: Path) -> None:
    with fake_x() as x_api:
        assert run(x_api, tmp_path, "--skip-radar", "--skip-activity")[0] == 0
        assert not [r for r in x_api.requests if "/activity/" in r.path or r.path == "/2/users/me"]


def test_the_offline_plan_names_every_subscription() -> None:
    out = io.StringIO()
    code = register.main(["--x-webhook-url", "https://x.example/hook", "--meta-webhook-url", "https://m.example/h",
                          "--skip-radar"], env={}, out=out)
    assert code == 0
    for event_type in XAA_SUBSCRIBED_EVENTS:
        assert f'"event_type": "{event_type}"' in out.getvalue()


@pytest.mark.parametrize(("token", "body", "status"), [
    (USER_TOKEN, {"event_type": "post.reply.create", "filter": {"user_id": BRAND}}, 200),
    (APP_TOKEN, {"event_type": "post.reply.create", "filter": {"user_id": BRAND}}, 403),  # private: user token
    (USER_TOKEN, {"event_type": "post.reply.create", "filter": {"user_id": "2244994945"}}, 403),  # not the token's
    (APP_TOKEN, {"event_type": "post.create", "filter": {"user_id": "2244994945"}}, 200),  # public
    ("someone-else", {"event_type": "post.create", "filter": {"user_id": BRAND}}, 401),
    (USER_TOKEN, {"event_type": "post.replied", "filter": {"user_id": BRAND}}, 400),
    (USER_TOKEN, {"event_type": "post.reply.create", "filter": {"user_id": "brand"}}, 400),
    (USER_TOKEN, {"event_type": "post.reply.create", "filter": {"user_id": BRAND}, "colour": "red"}, 400),
    (USER_TOKEN, {"event_type": "post.reply.create"}, 400),
    (USER_TOKEN, {"event_type": "post.reply.create", "filter": {"user_id": BRAND}, "webhook_id": "x1"}, 400),
])
def test_fake_x_checks_token_and_body_of_a_new_subscription(token: str, body: dict[str, object],
                                                            status: int) -> None:
    with FakeXApi(USER_TOKEN, app_token=APP_TOKEN) as x_api:
        answer = httpx.post(f"{x_api.url}/2/activity/subscriptions", json=body,
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status, answer.text
        assert len(x_api.activity_subscriptions) == (1 if status == 200 else 0)
        if status == 200:
            assert answer.json()["data"]["event_type"] == body["event_type"]
            again = httpx.post(f"{x_api.url}/2/activity/subscriptions", json=body,
                               headers={"Authorization": f"Bearer {token}"})
            assert again.status_code == 409 and len(x_api.activity_subscriptions) == 1


def test_fake_x_lists_and_moves_subscriptions_with_the_app_token() -> None:
    with FakeXApi(USER_TOKEN, app_token=APP_TOKEN) as x_api:
        app = {"Authorization": f"Bearer {APP_TOKEN}"}
        created = httpx.post(f"{x_api.url}/2/activity/subscriptions", headers={"Authorization": f"Bearer {USER_TOKEN}"},
                             json={"event_type": "dm.received", "filter": {"user_id": BRAND}}).json()["data"]
        listed = httpx.get(f"{x_api.url}/2/activity/subscriptions", headers=app).json()
        assert [s["subscription_id"] for s in listed["data"]] == [created["subscription_id"]]
        url = f"{x_api.url}/2/activity/subscriptions/{created['subscription_id']}"
        assert httpx.put(url, json={"event_type": "dm.sent"}, headers=app).status_code == 400
        assert httpx.put(url, json={"webhook_id": WEBHOOK_ID},
                         headers={"Authorization": f"Bearer {USER_TOKEN}"}).status_code == 403
        assert httpx.put(url, json={"webhook_id": WEBHOOK_ID}, headers=app).json()["data"]["webhook_id"] == WEBHOOK_ID
        assert httpx.get(f"{x_api.url}/2/users/me", headers=app).status_code == 401
