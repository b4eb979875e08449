"""The e2e suite's customer and the brand on X: Account Activity bodies with fresh ids, built by
``deliveries`` (infra/local/deliveries.py, shapes of tests/fixtures/x/documented), for scenarios
that need fresh ids or texts (PII posts, bursts). The customer's handle and name are the ones the
log audit (test_log_audit.py) looks for."""

from __future__ import annotations

from datetime import UTC, datetime

import deliveries

BRAND_ID = deliveries.BRAND_X_ID
BRAND_HANDLE = deliveries.BRAND_X_HANDLE
next_post_id = deliveries.new_x_id


def aaa_tweet(text: str, *, post_id: str | None = None, user_id: str = "1472583690",
              handle: str = "kabelsalat_kiel", name: str = "Jana K.", reply_to: str | None = None,
              reply_to_user: str | None = None, mention_brand: bool = True, at: datetime | None = None,
              lang: str = "de") -> tuple[str, bytes]:
    """A post by the customer (or, with ``user_id=BRAND_ID``, by the brand) and its id."""
    post_id = post_id or next_post_id()
    body = deliveries.x_tweet(post_id, deliveries.Author(user_id, handle, name), text, at or datetime.now(UTC),
                              reply_to=reply_to, reply_to_user=reply_to_user, lang=lang,
                              mention_brand=mention_brand and user_id != BRAND_ID)
    return post_id, body


def brand_reply(to_post_id: str, to_user_id: str, text: str = "Das tut uns leid! Wir schauen uns das an. ^an",
                at: datetime | None = None) -> tuple[str, bytes]:
    """The brand's public reply to ``to_post_id`` (marks it answered)."""
    return aaa_tweet(text, user_id=BRAND_ID, handle=BRAND_HANDLE, name=deliveries.BRAND_X_NAME,
                     reply_to=to_post_id, reply_to_user=to_user_id, mention_brand=False, at=at)
