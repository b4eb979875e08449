"""The Bluesky and Mastodon parsers read answers from outside: whatever a platform (or a broken
proxy) sends, they return a batch, never raise. Documented answers with any one value replaced
by arbitrary JSON, and arbitrary JSON outright."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hilft.channels.bluesky import parse as bsky
from hilft.channels.mastodon import parse as masto
from hilft.core.models import ParsedBatch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BRAND_DID = frozenset({"did:plc:telkohilftbrand0000000001"})
BRAND_MASTODON = frozenset({"109000000000000001"})

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


BSKY_NOTIFICATIONS = _load("bluesky/documented/list_notifications.json")
BSKY_SEARCH = _load("bluesky/documented/search_posts.json")
BSKY_CHAT_LOG = _load("bluesky/documented/get_log.json")
BSKY_CONVOS = _load("bluesky/documented/list_convos.json")
BSKY_MESSAGES = _load("bluesky/documented/get_messages.json")
MASTO_NOTIFICATIONS = _load("mastodon/documented/notifications.json")
MASTO_STATUSES = _load("mastodon/documented/account_statuses_brand.json")


def _parse_all(bsky_notifications: Any, bsky_search: Any, masto_notifications: Any, masto_statuses: Any,
               chat_log: Any = None, convos: Any = None, messages: Any = None) -> None:
    brand = "did:plc:telkohilftbrand0000000001"
    convo_batches = [bsky.parse_convo_messages(convo, bsky.messages_of(messages), BRAND_DID, brand)
                     for convo in bsky.convos_of(convos)]
    for convo in bsky.convos_of(convos):
        bsky.last_message_at(convo)
    for batch in (bsky.parse_notifications(bsky_notifications, BRAND_DID),
                  bsky.parse_chat_log(bsky.logs_of(chat_log), BRAND_DID, brand),
                  *convo_batches,
                  bsky.parse_post_views(bsky.posts_of(bsky_search), BRAND_DID),
                  bsky.parse_own_records(bsky.records_of(bsky_search), "did:plc:telkohilftbrand0000000001"),
                  masto.parse_notifications(masto.items_of(masto_notifications), BRAND_MASTODON),
                  masto.parse_statuses(masto.items_of(masto_statuses), BRAND_MASTODON)):
        assert isinstance(batch, ParsedBatch)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=JSON)
def test_documented_answers_with_any_value_replaced_never_raise(data: st.DataObject, value: Any) -> None:
    documents = [BSKY_NOTIFICATIONS, BSKY_SEARCH, MASTO_NOTIFICATIONS, MASTO_STATUSES, BSKY_CHAT_LOG, BSKY_CONVOS,
                 BSKY_MESSAGES]
    index = data.draw(st.integers(0, len(documents) - 1))
    path = data.draw(st.sampled_from(_paths(documents[index])))
    documents[index] = _replaced(documents[index], path, value)
    _parse_all(*documents)


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_arbitrary_json_never_raises(value: Any) -> None:
    _parse_all(value, value, value, value, value, value, value)
