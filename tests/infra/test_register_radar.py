"""`make register-webhooks` syncs the radar's Filtered Stream rules against the fake X API."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from fakes.base import Request, Response
from fakes.x_api import FakeXApi

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "scripts" / "register_webhooks.py"
X_URL = "https://hilft-x-webhook-123456789012.europe-west3.run.app"
META_URL = "https://hilft-meta-webhook-123456789012.europe-west3.run.app"
APP_TOKEN = "app-token-do-not-print"
USER_TOKEN = "user-token-do-not-print"
WEBHOOK_ID = "1146654567674912769"

POLICY = """
[radar]
keywords = ["telekom", "t-online", "magentatv"]
exclude = ["#anzeige"]
languages = ["de"]
"""


def load_register() -> ModuleType:
    spec = importlib.util.spec_from_file_location("register_webhooks_radar", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


register = load_register()


def fake_x() -> FakeXApi:
    """The project's fake X API with the two Account Activity calls registration makes before the radar."""
    x_api = FakeXApi(USER_TOKEN, app_token=APP_TOKEN)

    def webhooks(request: Request, _: object) -> Response:
        return Response(200, {"data": [{"id": WEBHOOK_ID, "url": X_URL, "valid": True}]})

    def subscription(request: Request, _: object) -> Response:
        return Response(200, {"data": {"subscribed": True}})

    x_api.route("GET", r"/2/webhooks", webhooks)
    x_api.route("GET", r"/2/account_activity/webhooks/\d+/subscriptions/all", subscription)
    return x_api


def run(x_api: FakeXApi, tmp_path: Path, *args: str, confirm: bool = True, policy: str = POLICY) -> tuple[int, str]:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(policy, encoding="utf-8")
    env = {"X_API_BASE_URL": x_api.url, "X_BEARER_TOKEN": APP_TOKEN, "X_USER_ACCESS_TOKEN": USER_TOKEN,
           "X_BRAND_USER_IDS": "1000000001"}
    if confirm:
        env["CONFIRM"] = "1"
    out = io.StringIO()
    code = register.main(["--x-webhook-url", X_URL, "--meta-webhook-url", META_URL, "--policy", str(policy_file),
                          *args], env=env, out=out, client=httpx.Client(timeout=5))
    return code, out.getvalue()


WANTED = '(telekom OR "t-online" OR magentatv) -#anzeige lang:de -is:retweet -from:1000000001'


def test_first_run_adds_the_rule_and_links_the_stream_second_run_changes_nothing(tmp_path: Path) -> None:
    with fake_x() as x_api:
        x_api.stream_rules.append({"id": "5", "value": "competitor", "tag": "marketing"})
        code, printed = run(x_api, tmp_path)
        assert code == 0, printed
        assert [(r["value"], r.get("tag")) for r in x_api.stream_rules] == [
            ("competitor", "marketing"), (WANTED, "hilft-radar")]
        assert f"+ {WANTED}  [hilft-radar]" in printed
        assert "(not hilft's: left alone)" in printed
        link = x_api.stream_links[WEBHOOK_ID]
        assert "created_at" in link["tweet.fields"] and link["expansions"] == "author_id,referenced_tweets.id"

        before = len(x_api.requests)
        code, printed = run(x_api, tmp_path)
        writes = [(r.method, r.path) for r in x_api.requests[before:] if r.method == "POST"]
        assert code == 0
        assert writes == []  # idempotent: nothing added, deleted or linked again
        assert f"= {WANTED}  [hilft-radar]" in printed and "already linked" in printed


def test_a_changed_policy_deletes_the_stale_rule_and_adds_the_new_one(tmp_path: Path) -> None:
    with fake_x() as x_api:
        assert run(x_api, tmp_path)[0] == 0
        old_id = x_api.stream_rules[0]["id"]
        code, printed = run(x_api, tmp_path, policy=POLICY.replace('"magentatv"', '"entertain"'))
        assert code == 0, printed
        assert [r["id"] for r in x_api.stream_rules] != [old_id]
        assert [r["value"] for r in x_api.stream_rules] == [WANTED.replace("magentatv", "entertain")]
        assert "- " + WANTED in printed and "+ " + WANTED.replace("magentatv", "entertain") in printed


@pytest.mark.parametrize("confirm", [False, True])
def test_dry_run_reads_and_prints_the_diff_and_changes_nothing(tmp_path: Path, confirm: bool) -> None:
    with fake_x() as x_api:
        code, printed = run(x_api, tmp_path, "--dry-run", confirm=confirm)  # --dry-run wins over CONFIRM=1
        assert code == 0
        assert x_api.stream_rules == [] and x_api.stream_links == {} and x_api.activity_subscriptions == []
        assert {r.method for r in x_api.requests} == {"GET"}
        assert ("GET", "/2/tweets/search/stream/rules") in [(r.method, r.path) for r in x_api.requests]
        assert "would change: 1 to add" in printed and f"+ {WANTED}" in printed


def test_a_changed_policy_deletes_before_it_adds_so_the_rule_cap_is_never_hit(tmp_path: Path) -> None:
    with fake_x() as x_api:
        x_api.max_rules = 1
        assert run(x_api, tmp_path)[0] == 0
        before = len(x_api.requests)
        code, printed = run(x_api, tmp_path, policy=POLICY.replace('"magentatv"', '"entertain"'))
        assert code == 0, printed
        assert [r["value"] for r in x_api.stream_rules] == [WANTED.replace("magentatv", "entertain")]
        changes = [(next(iter(r.json())), "dry_run=true" in (r.query or "")) for r in x_api.requests[before:]
                   if r.method == "POST" and r.path == "/2/tweets/search/stream/rules"]
        # checked by X first (the dry run leaves the cap to the real add), then delete, then add
        assert changes == [("add", True), ("delete", False), ("add", False)]


def test_fake_x_refuses_adds_over_the_rule_cap() -> None:
    with FakeXApi(USER_TOKEN, app_token=APP_TOKEN, max_rules=1) as x_api:
        headers = {"Authorization": f"Bearer {APP_TOKEN}"}
        url = f"{x_api.url}/2/tweets/search/stream/rules"
        assert httpx.post(url, json={"add": [{"value": "telekom"}]}, headers=headers).status_code == 201
        refused = httpx.post(url, json={"add": [{"value": "entertain"}]}, headers=headers)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/rule-cap")
        assert [r["value"] for r in x_api.stream_rules] == ["telekom"]


def test_the_rules_calls_need_the_app_token(tmp_path: Path) -> None:
    with fake_x() as x_api:
        x_api.app_token = "another-app"
        code, _ = run(x_api, tmp_path)
        assert code == 1
        assert x_api.stream_rules == []


@pytest.mark.parametrize(("body", "status"), [
    ({"add": [{"value": "x"}], "delete": {"ids": ["1"]}}, 400),
    ({"add": []}, 400),
    ({"add": [{"value": "x", "colour": "red"}]}, 400),
    ({"delete": {"ids": ["not-a-number"]}}, 400),
    ({"add": [{"value": "x" * 2049}]}, 200),  # refused in `errors`, nothing created
    ({"add": [{"value": "(telekom OR magentatv"}]}, 200),  # unbalanced parentheses
    ({"add": [{"value": 'telekom) OR ("t-online'}]}, 200),
    ({"add": [{"value": '"kein netz -is:retweet'}]}, 200),  # a quote left open
])
def test_fake_x_checks_the_rules_body(body: dict[str, object], status: int) -> None:
    with FakeXApi(USER_TOKEN, app_token=APP_TOKEN) as x_api:
        answer = httpx.post(f"{x_api.url}/2/tweets/search/stream/rules", json=body,
                            headers={"Authorization": f"Bearer {APP_TOKEN}"})
        assert answer.status_code == status
        assert x_api.stream_rules == []
        if status == 200:
            assert answer.json()["errors"][0]["title"] in ("RuleTooLong", "UnprocessableEntity")


def test_fake_x_refuses_a_duplicate_value_and_honours_dry_run() -> None:
    with FakeXApi(USER_TOKEN, app_token=APP_TOKEN) as x_api:
        headers = {"Authorization": f"Bearer {APP_TOKEN}"}
        url = f"{x_api.url}/2/tweets/search/stream/rules"
        assert httpx.post(url + "?dry_run=true", json={"add": [{"value": "telekom"}]}, headers=headers
                          ).status_code == 201
        assert x_api.stream_rules == []
        assert httpx.post(url, json={"add": [{"value": "telekom", "tag": "t"}]}, headers=headers).status_code == 201
        again = httpx.post(url, json={"add": [{"value": "telekom"}]}, headers=headers).json()
        assert again["errors"][0]["title"] == "DuplicateRule" and len(x_api.stream_rules) == 1
        listed = httpx.get(url, headers=headers).json()
        assert listed["data"][0]["value"] == "telekom" and listed["meta"]["result_count"] == 1
        assert httpx.get(url, headers={"Authorization": f"Bearer {USER_TOKEN}"}).status_code == 403


def test_a_rule_x_refuses_stops_the_sync_before_any_stale_rule_is_deleted() -> None:
    from hilft.core.radar_rules import StreamRule

    with fake_x() as x_api:
        x_api.stream_rules.append({"id": "7", "value": "telekom -is:retweet", "tag": "hilft-radar"})
        with httpx.Client(timeout=5) as http:
            stream = register.StreamRadar(register.XRegistrar(http, x_api.url, APP_TOKEN, USER_TOKEN), APP_TOKEN)
            wanted = [StreamRule('(telekom OR "t-online" -is:retweet', "hilft-radar")]
            with pytest.raises(register.RegistrationError, match="X refuses 1 rule.*parentheses"):
                stream.sync(wanted, "hilft-radar", io.StringIO(), dry_run=False)
        assert [r["id"] for r in x_api.stream_rules] == ["7"]  # the radar still listens with the old rule
        assert [r.path for r in x_api.requests if r.method == "POST"] == ["/2/tweets/search/stream/rules"]

