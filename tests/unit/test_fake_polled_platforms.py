"""The fake Bluesky and Mastodon refuse what the real services refuse, and run as processes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes.bluesky import BRAND_DID, BRAND_HANDLE, FakeBluesky, make_bluesky
from fakes.mastodon import FakeMastodon, make_mastodon

INFRA_LOCAL = Path(__file__).resolve().parents[2] / "infra" / "local"
PASSWORD = "pass-word-pass-word"  # noqa: S105
TOKEN = "masto-token"  # noqa: S105


@pytest.fixture(scope="module")
def sky() -> Iterator[FakeBluesky]:
    with make_bluesky(PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def masto() -> Iterator[FakeMastodon]:
    with make_mastodon(TOKEN) as server:
        yield server


def session(sky: FakeBluesky) -> str:
    answer = httpx.post(f"{sky.url}/xrpc/com.atproto.server.createSession",
                        json={"identifier": BRAND_HANDLE, "password": PASSWORD})
    assert answer.status_code == 200 and answer.json()["did"] == BRAND_DID
    return str(answer.json()["accessJwt"])


@pytest.mark.parametrize("body", [{"identifier": BRAND_HANDLE, "password": "wrong"}, {"identifier": "x.bsky.social",
                                                                                      "password": PASSWORD}])
def test_bluesky_refuses_a_wrong_app_password_or_account(sky: FakeBluesky, body: dict[str, str]) -> None:
    answer = httpx.post(f"{sky.url}/xrpc/com.atproto.server.createSession", json=body)
    assert answer.status_code == 401 and answer.json()["error"] == "AuthenticationRequired"


def test_bluesky_refuses_replies_whose_refs_do_not_name_a_post(sky: FakeBluesky) -> None:
    sky.reset()
    token = session(sky)
    parent = sky.add_post("hallo", author_did="did:plc:abc", handle="a.bsky.social")
    record = {"$type": "app.bsky.feed.post", "text": "Antwort", "createdAt": "2026-11-20T09:00:00Z",
              "reply": {"root": {"uri": parent, "cid": "bafywrong"}, "parent": {"uri": parent, "cid": "bafywrong"}}}
    answer = httpx.post(f"{sky.url}/xrpc/com.atproto.repo.createRecord", headers={"Authorization": f"Bearer {token}"},
                        json={"repo": BRAND_DID, "collection": "app.bsky.feed.post", "record": record})
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidRecord"
    bad_key = httpx.post(f"{sky.url}/xrpc/com.atproto.repo.createRecord", headers={"Authorization": f"Bearer {token}"},
                         json={"repo": BRAND_DID, "collection": "app.bsky.feed.post", "rkey": "not-a-tid",
                               "record": {**record, "reply": None}})
    assert bad_key.status_code == 400
    assert sky.replies == []


def test_bluesky_limits_are_the_lexicons(sky: FakeBluesky) -> None:
    token = session(sky)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{sky.url}/xrpc/app.bsky.notification.listNotifications", params={"limit": 101},
                     headers=headers).status_code == 400
    assert httpx.get(f"{sky.url}/xrpc/app.bsky.feed.getPosts",
                     params=[("uris", f"at://did:plc:x/app.bsky.feed.post/{i}") for i in range(26)]).status_code == 400
    assert httpx.get(f"{sky.url}/xrpc/app.bsky.notification.listNotifications").status_code == 401


def test_mastodon_refuses_a_wrong_token_and_a_direct_status_that_mentions_no_one(masto: FakeMastodon) -> None:
    masto.reset()
    assert httpx.get(f"{masto.url}/api/v1/notifications", headers={"Authorization": "Bearer x"}).status_code == 401
    answer = httpx.post(f"{masto.url}/api/v1/statuses", headers={"Authorization": f"Bearer {TOKEN}"},
                        data={"status": "Hallo ohne Empfänger", "visibility": "direct"})
    assert answer.status_code == 422 and masto.posted == []


def test_mastodon_pages_newest_first_and_min_id_reads_forward(masto: FakeMastodon) -> None:
    masto.reset()
    ids = [masto.add_status("kunde", f"@telkohilft {i}") for i in range(5)]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    statuses = lambda params: [n["status"]["id"] for n in httpx.get(  # noqa: E731
        f"{masto.url}/api/v1/notifications", params=params, headers=headers).json()]
    assert statuses({"limit": 2}) == [ids[4], ids[3]]
    first_notification = httpx.get(f"{masto.url}/api/v1/notifications", headers=headers).json()[-1]["id"]
    assert statuses({"limit": 2, "min_id": first_notification}) == [ids[2], ids[1]]


@pytest.mark.parametrize(("module", "flag", "name"), [("fakes.bluesky", "--app-password", "Bluesky"),
                                                      ("fakes.mastodon", "--token", "Mastodon")])
def test_runs_as_a_process_prints_a_ready_line_and_stops_on_sigterm(module: str, flag: str, name: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", module, "--port", "0", flag, "secret-x"], cwd=INFRA_LOCAL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        match = re.fullmatch(rf"fake {name} ready at (http://127\.0\.0\.1:\d+)\n", ready)
        assert match, ready
        probe = "/xrpc/app.bsky.notification.listNotifications" if name == "Bluesky" else "/api/v1/notifications"
        assert httpx.get(match[1] + probe).status_code == 401  # up, and checking auth
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
