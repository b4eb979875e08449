"""Account Activity bodies built on the fly, in the shape of tests/fixtures/x/aaa_mention.json,
for scenarios that need fresh ids or texts (PII posts, bursts)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

BRAND_ID = "1000000001"
BRAND_HANDLE = "Telekom_hilft"
_ids = itertools.count(int(datetime.now(UTC).timestamp() * 1000) << 22)


def next_post_id() -> str:
    return str(next(_ids))


def _v1_time(at: datetime) -> str:
    return at.strftime("%a %b %d %H:%M:%S +0000 %Y")


def aaa_tweet(text: str, *, post_id: str | None = None, user_id: str = "1472583690",
              handle: str = "kabelsalat_kiel", name: str = "Jana K.", reply_to: str | None = None,
              reply_to_user: str | None = None, mention_brand: bool = True, at: datetime | None = None,
              lang: str = "de") -> tuple[str, bytes]:
    post_id = post_id or next_post_id()
    at = at or datetime.now(UTC)
    mentions = [{"screen_name": BRAND_HANDLE, "name": "Telekom hilft", "id": int(BRAND_ID), "id_str": BRAND_ID,
                 "indices": [0, 14]}] if mention_brand else []
    tweet = {
        "created_at": _v1_time(at), "id": int(post_id), "id_str": post_id,
        "text": (f"@{BRAND_HANDLE} " if mention_brand and user_id != BRAND_ID else "") + text,
        "truncated": False,
        "in_reply_to_status_id": int(reply_to) if reply_to else None,
        "in_reply_to_status_id_str": reply_to,
        "in_reply_to_user_id": int(reply_to_user) if reply_to_user else None,
        "in_reply_to_user_id_str": reply_to_user,
        "user": {"id": int(user_id), "id_str": user_id, "name": name, "screen_name": handle,
                 "followers_count": 348, "created_at": "Sat Mar 14 09:26:53 +0000 2015"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
        "lang": lang, "timestamp_ms": str(int(at.timestamp() * 1000)),
    }
    body = {"for_user_id": BRAND_ID, "user_has_blocked": "false", "tweet_create_events": [tweet]}
    return post_id, json.dumps(body, separators=(",", ":")).encode()


def brand_reply(to_post_id: str, to_user_id: str, text: str = "Das tut uns leid! Wir schauen uns das an. ^an",
                at: datetime | None = None) -> tuple[str, bytes]:
    return aaa_tweet(text, user_id=BRAND_ID, handle=BRAND_HANDLE, name="Telekom hilft", reply_to=to_post_id,
                     reply_to_user=to_user_id, mention_brand=False, at=at)
