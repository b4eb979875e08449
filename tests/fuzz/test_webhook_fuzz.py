"""Fuzzing both webhooks through functions-framework's real Flask app.

Valid X and Meta deliveries (every fixture) are mutated: truncated, fields dropped or given the
wrong type, huge strings, deep nesting, invalid UTF-8, duplicate keys, odd content types; each
is sent either correctly signed over the mutated bytes or with a bad signature. The webhook may
answer 2xx or 4xx, never 5xx (a 5xx makes the platform retry a poison delivery forever) and
never a traceback; a bad signature stores and schedules nothing, and neither does any 4xx.

Firestore and Cloud Tasks are replaced by in-memory recorders (``tests/unit/memory.py``, the suites' one store); all
else is production code. Examples per test: ``HILFT_FUZZ_EXAMPLES`` (CI default 300;
``make fuzz`` runs 10,000).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deliveries
from tests.unit.memory import MemoryScheduler, MemoryStore

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = int(os.environ.get("HILFT_FUZZ_EXAMPLES", "300"))

X_CLIENT_SECRET = "fuzz-x-client-secret"
X_CONSUMER_SECRET = "fuzz-x-consumer-secret"
META_APP_SECRET = "fuzz-meta-app-secret"
META_VERIFY_TOKEN = "fuzz-meta-verify-token"

ENV = {
    "GOOGLE_CLOUD_PROJECT": "hilft-fuzz",
    "X_CLIENT_SECRET": X_CLIENT_SECRET,
    "X_CONSUMER_SECRET": X_CONSUMER_SECRET,
    "X_BRAND_USER_IDS": "1000000001",
    "META_APP_SECRET": META_APP_SECRET,
    "META_VERIFY_TOKEN": META_VERIFY_TOKEN,
    "META_PAGE_IDS": "110000000000001",
    "META_IG_USER_IDS": "17841400000000001",
    "HILFT_TASKS_QUEUE": "projects/hilft-fuzz/locations/europe-west3/queues/deadlines",
    "HILFT_DEADLINE_URL": "http://127.0.0.1:9/deadline",
}

FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture])


def _fixture_bodies(platform: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((FIXTURES / platform).glob("*.json"))]


X_BODIES = _fixture_bodies("x")
META_BODIES = _fixture_bodies("meta")


class Rig:
    """The two Flask apps plus the recorders standing in for Firestore and Cloud Tasks."""

    def __init__(self) -> None:
        import functions_framework

        from hilft.app import get_app, reset_app
        from hilft.settings import reset_settings

        reset_settings()
        reset_app()
        source = str(ROOT / "functions" / "main.py")
        self.x = functions_framework.create_app(target="x_webhook", source=source).test_client()
        self.meta = functions_framework.create_app(target="meta_webhook", source=source).test_client()
        self.store = MemoryStore()
        self.scheduler = MemoryScheduler()
        app = get_app()
        app.store = self.store  # cached_property: the instance attribute wins
        app.scheduler = self.scheduler

    def reset(self) -> None:
        self.store.reset()
        self.scheduler.reset()

    @property
    def nothing_written(self) -> bool:
        return not self.store.write_log and not self.scheduler.calls


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    from hilft.app import reset_app
    from hilft.settings import reset_settings

    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    try:
        yield Rig()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()
        reset_app()


# -- strategies --------------------------------------------------------------------------------------

HUGE = "A" * 300_000
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "null", "true", "1e309", "\u202e", "\ud83d\ude29", "a" * 5000,
                     "2024-13-45T99:99:99Z", "\ud800", "x\udfff", "Mon Feb 30 25:61:61 +0000 2024", "99999999999999999999999"]),
)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=10)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


class _Raw:
    """A value serialised verbatim (deep nesting beyond what ``json.dumps`` can recurse into)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _dumps(node: Any, duplicate_at: tuple[Any, ...] | None, duplicate: Any, ascii_only: bool,
           path: tuple[Any, ...] = ()) -> str:
    """JSON text; the object at ``duplicate_at`` repeats its first key with the value ``duplicate``."""
    if isinstance(node, _Raw):
        return node.text
    if isinstance(node, dict):
        parts = [f"{json.dumps(str(k), ensure_ascii=ascii_only)}:"
                 f"{_dumps(v, duplicate_at, duplicate, ascii_only, (*path, k))}" for k, v in node.items()]
        if path == duplicate_at and node:
            first = next(iter(node))
            parts.append(f"{json.dumps(str(first), ensure_ascii=ascii_only)}:"
                         f"{_dumps(duplicate, None, None, ascii_only)}")
        return "{" + ",".join(parts) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_dumps(v, duplicate_at, duplicate, ascii_only, (*path, i))
                              for i, v in enumerate(node)) + "]"
    return json.dumps(node, ensure_ascii=ascii_only)


@st.composite
def mutated_bodies(draw: st.DrawFn, bases: list[bytes]) -> bytes:
    """A fixture body with a few structural mutations, then maybe a byte-level one."""
    doc = json.loads(draw(st.sampled_from(bases)))
    duplicate_at: tuple[Any, ...] | None = None
    duplicate: Any = None
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "replace", "replace", "huge", "deep", "wrap", "duplicate"]))
        if not path:
            if op in ("replace", "wrap"):
                doc = draw(JSON_VALUES) if op == "replace" else [doc]
            continue
        parent, key = _parent(doc, path), path[-1]
        if op == "drop":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(JSON_VALUES)
        elif op == "huge":
            parent[key] = HUGE
        elif op == "deep":
            depth = draw(st.sampled_from([50, 900, 5_000, 100_000]))
            parent[key] = _Raw("[" * depth + "]" * depth)
        elif op == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"value": parent[key]}, str(parent[key])]))
        elif op == "duplicate" and isinstance(parent[key], dict):
            duplicate_at, duplicate = path, draw(JSON_VALUES)
    body = _dumps(doc, duplicate_at, duplicate, ascii_only=draw(st.booleans())).encode("utf-8", "surrogatepass")
    byte_op = draw(st.sampled_from(["none", "none", "truncate", "invalid_utf8", "flip", "nan"]))
    if byte_op == "truncate" and body:
        body = body[:draw(st.integers(min_value=0, max_value=len(body) - 1))]
    elif byte_op == "invalid_utf8":
        at = draw(st.integers(min_value=0, max_value=len(body)))
        body = body[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"\xfe\xff"])) + body[at:]
    elif byte_op == "flip" and body:
        at = draw(st.integers(min_value=0, max_value=len(body) - 1))
        body = body[:at] + bytes([body[at] ^ draw(st.integers(min_value=1, max_value=255))]) + body[at + 1:]
    elif byte_op == "nan":
        body = body.replace(b"1", b"NaN", 1) if b"1" in body else body + b"Infinity"
    return body


CONTENT_TYPES = st.sampled_from(["application/json"] * 6 + [
    "application/json; charset=utf-8", "APPLICATION/JSON", "application/activity+json", "text/plain",
    "application/x-www-form-urlencoded", "", "multipart/form-data; boundary=x"])


HEADER_TEXT = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=80)


# -- properties ---------------------------------------------------------------------------------------


def _check(response: Any, rig: Rig, *, signed: bool) -> None:
    status = response.status_code
    text = response.get_data(as_text=True)
    assert 200 <= status < 500, f"{status}: {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text
    if status >= 300:
        assert rig.nothing_written, f"a {status} answer must not persist anything: {rig.store.write_log}"
    if not signed:
        assert status >= 400 and rig.nothing_written
    for (collection, _doc_id), data in rig.store.docs.items():
        if collection == "mentions" and "due_at" in data:
            assert isinstance(data["due_at"], datetime) and data["due_at"].tzinfo is not None


@FUZZ_SETTINGS
@given(body=mutated_bodies(X_BODIES), content_type=CONTENT_TYPES, legacy=st.booleans())
def test_x_webhook_answers_mutated_signed_bodies_with_2xx_or_4xx(rig: Rig, body: bytes, content_type: str,
                                                                 legacy: bool) -> None:
    rig.reset()
    header = ("X-Twitter-Webhooks-Signature" if legacy else "X-Twitter-Webhooks-Signature-OAuth2")
    signature = deliveries.x_signature(body, X_CONSUMER_SECRET if legacy else X_CLIENT_SECRET)
    response = rig.x.post("/", data=body, headers={"Content-Type": content_type, header: signature})
    _check(response, rig, signed=True)


@FUZZ_SETTINGS
@given(body=st.one_of(mutated_bodies(X_BODIES), st.sampled_from(X_BODIES)), content_type=CONTENT_TYPES,
       data=st.data())
def test_x_webhook_with_a_bad_signature_stores_nothing(rig: Rig, body: bytes, content_type: str,
                                                       data: st.DataObject) -> None:
    rig.reset()
    headers = {"Content-Type": content_type}
    case = data.draw(st.sampled_from(["missing", "garbage", "wrong_secret", "other_body", "swapped", "empty"]))
    if case == "garbage":
        headers["X-Twitter-Webhooks-Signature-OAuth2"] = data.draw(HEADER_TEXT)
    elif case == "wrong_secret":
        headers["X-Twitter-Webhooks-Signature-OAuth2"] = deliveries.x_signature(body, "not-the-secret")
    elif case == "other_body":
        headers["X-Twitter-Webhooks-Signature-OAuth2"] = deliveries.x_signature(body + b" ", X_CLIENT_SECRET)
    elif case == "swapped":  # each secret under the other's header
        headers["X-Twitter-Webhooks-Signature-OAuth2"] = deliveries.x_signature(body, X_CONSUMER_SECRET)
        headers["X-Twitter-Webhooks-Signature"] = deliveries.x_signature(body, X_CLIENT_SECRET)
    elif case == "empty":
        headers["X-Twitter-Webhooks-Signature-OAuth2"] = ""
    response = rig.x.post("/", data=body, headers=headers)
    _check(response, rig, signed=False)
    if content_type.split(";")[0].strip().lower() == "application/json":
        assert response.status_code == 401


@FUZZ_SETTINGS
@given(body=mutated_bodies(META_BODIES), content_type=CONTENT_TYPES, upper=st.booleans())
def test_meta_webhook_answers_mutated_signed_bodies_with_2xx_or_4xx(rig: Rig, body: bytes, content_type: str,
                                                                    upper: bool) -> None:
    rig.reset()
    signature = deliveries.hub_signature(body, META_APP_SECRET)
    response = rig.meta.post("/", data=body, headers={"Content-Type": content_type,
                                                      "X-Hub-Signature-256": signature.upper() if upper else signature})
    _check(response, rig, signed=True)


@FUZZ_SETTINGS
@given(body=st.one_of(mutated_bodies(META_BODIES), st.sampled_from(META_BODIES)), content_type=CONTENT_TYPES,
       data=st.data())
def test_meta_webhook_with_a_bad_signature_stores_nothing(rig: Rig, body: bytes, content_type: str,
                                                          data: st.DataObject) -> None:
    rig.reset()
    headers = {"Content-Type": content_type}
    case = data.draw(st.sampled_from(["missing", "garbage", "wrong_secret", "other_body", "sha1", "empty"]))
    if case == "garbage":
        headers["X-Hub-Signature-256"] = data.draw(HEADER_TEXT)
    elif case == "wrong_secret":
        headers["X-Hub-Signature-256"] = deliveries.hub_signature(body, "not-the-secret")
    elif case == "other_body":
        headers["X-Hub-Signature-256"] = deliveries.hub_signature(body + b"\n", META_APP_SECRET)
    elif case == "sha1":  # the retired header alone must not pass
        headers["X-Hub-Signature"] = deliveries.hub_sha1_signature(body, META_APP_SECRET)
    elif case == "empty":
        headers["X-Hub-Signature-256"] = ""
    response = rig.meta.post("/", data=body, headers=headers)
    _check(response, rig, signed=False)
    if content_type.split(";")[0].strip().lower() == "application/json":
        assert response.status_code == 401


@FUZZ_SETTINGS
@given(params=st.dictionaries(st.sampled_from(["crc_token", "hub.mode", "hub.verify_token", "hub.challenge",
                                               "other"]),
                              st.one_of(st.text(max_size=60), st.sampled_from(["subscribe", META_VERIFY_TOKEN])),
                              max_size=4))
def test_handshakes_answer_2xx_or_4xx_and_store_nothing(rig: Rig, params: dict[str, str]) -> None:
    rig.reset()
    for client in (rig.x, rig.meta):
        response = client.get("/", query_string=params)
        assert 200 <= response.status_code < 500, response.get_data(as_text=True)[:300]
        assert "Traceback" not in response.get_data(as_text=True)
        assert rig.nothing_written


@pytest.mark.parametrize(("platform", "field"), [("x", "id_str"), ("x", "text"), ("meta", "comment_id"),
                                                 ("meta", "message")])
def test_a_lone_surrogate_escape_is_rejected_not_a_crash(rig: Rig, platform: str, field: str) -> None:
    """JSON may spell a lone UTF-16 surrogate (``\\ud800``), which no UTF-8 store can hold: reject it
    (400) or clean it away (200), never crash on it (500)."""
    rig.reset()
    if platform == "x":
        doc = json.loads((FIXTURES / "x" / "aaa_mention.json").read_bytes())
        doc["tweet_create_events"][0][field] = "Router \ud800 kaputt"
        body = json.dumps(doc).encode()
        response = rig.x.post("/", data=body, headers={"Content-Type": "application/json",
                                                       "X-Twitter-Webhooks-Signature-OAuth2": deliveries.x_signature(body, X_CLIENT_SECRET)})
    else:
        doc = json.loads((FIXTURES / "meta" / "page_feed_comment.json").read_bytes())
        doc["entry"][0]["changes"][0]["value"][field] = "Router \ud800 kaputt"
        body = json.dumps(doc).encode()
        response = rig.meta.post("/", data=body, headers={"Content-Type": "application/json",
                                                          "X-Hub-Signature-256": deliveries.hub_signature(body, META_APP_SECRET)})
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert rig.nothing_written


def test_a_valid_delivery_through_the_same_rig_is_stored(rig: Rig) -> None:
    """The rig itself works: an unmutated, correctly signed fixture is stored and scheduled."""
    rig.reset()
    body = (FIXTURES / "x" / "aaa_mention.json").read_bytes()
    response = rig.x.post("/", data=body, headers={"Content-Type": "application/json",
                                                   "X-Twitter-Webhooks-Signature-OAuth2": deliveries.x_signature(body, X_CLIENT_SECRET)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["stored"] == 1
    assert [op for op, collection, _ in rig.store.write_log if collection == "mentions"] == ["create"]
    assert rig.scheduler.tasks, "the due deadline was scheduled"
