"""Attack: choose a display name (or handle) that turns hilft's messages into the attacker's.

hilft publishes the public "continue in DM" note and, when DMs are closed, a public reply under
the brand's account, and it greets the customer by name in the handoff DM. A display name is
free text the customer chooses: a URL, an @mention of someone else, markdown or HTML, a
right-to-left override that reverses what follows, thousands of characters, line breaks. None
of it may reach a public post, and a DM may carry only the name, without links or mentions.

The service is driven as in production (ingest, then HandoffService) with a recording gateway.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hilft.core.errors import PrivateChannelRefused
from hilft.core.ids import mention_doc_id
from hilft.core.models import Author, Kind, Mention, ParsedBatch, Platform
from hilft.core.policy import parse_policy
from hilft.service.handoff import HandoffService
from hilft.service.ingest import IngestService
from tests.unit.memory import DEFAULTS, FakeClock, MemoryScheduler, MemoryStore

POLICY = """
[promise]
first_response = "60m"
warning_before = "15m"
[departments.kundenservice]
label = "Kundenservice"
"""
BRAND = frozenset({"1000000001"})

URLS = ["https://evil.example/login", "http://x.co/a?b=c", "www.evil.com", "evil.com", "bit.ly/3xYz",
        "ｅｖｉｌ．ｃｏｍ", "evil\u3002com", "hxxps://evil[.]com", "javascript:alert(1)", "evil.com/@brand",
        "xn--80ak6aa92e.com", "192.168.0.1", "t.me/join"]
MENTIONS = ["@elonmusk", "＠Telekom_hilft", "﹫support", "@everyone", ".@brand", "@ brand"]
MARKUP = ["<script>alert(1)</script>", "[login](https://evil.example)", "**FREE**", "`code`", "<b>x</b>",
          "&lt;b&gt;", "<!channel>", "<https://evil|login>", "_x_", "~~x~~", "|", "#hashtag", "$TSLA"]
BIDI = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u200e", "\u061c",
        "\u200b", "\u2060", "\ufeff", "\u00ad"]
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\t", "\x00", "\x1b[31m"]
LONG = ["A" * 2000, "Anna " * 400, "e\u0301" * 300, "👍" * 500]
WORDS = ["Anna", "Jana K.", "Jürgen", "Zoë", "O'Brien", "李雷", "محمد", "Дарья"]

hostile_piece = st.sampled_from(URLS + MENTIONS + MARKUP + BIDI + BREAKS + LONG)
hostile_name = st.lists(st.one_of(hostile_piece, st.sampled_from(WORDS), st.text(max_size=12)),
                        min_size=1, max_size=6).map(" ".join).filter(
    lambda name: any(piece in name for piece in URLS + MENTIONS + MARKUP + BIDI + BREAKS + LONG))
any_handle = st.one_of(st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True), hostile_name)

SAFE_HANDLE = re.compile(r"[A-Za-z0-9_]{1,30}", re.ASCII)
URLISH = re.compile(r"(?i)(://|www\.|[a-z0-9]\.[a-z0-9]|javascript:|\[\.\])")
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
MARKUP_CHARS = set("<>[]*`|~#$&{}\\")  # "_" is part of handles


class Gateway:
    def __init__(self, refuse_dm: bool) -> None:
        self.refuse_dm = refuse_dm
        self.dms: list[str] = []
        self.replies: list[str] = []

    def send_private(self, post, text, now, *, send=None):
        if self.refuse_dm:
            raise PrivateChannelRefused("closed")
        self.dms.append(text)
        return "dm1"

    def public_reply(self, post, text, *, send=None):
        self.replies.append(text)
        return "r1"


def hand_off(name: str | None, handle: str | None, *, refuse_dm: bool, language: str = "de") -> Gateway:
    """A public post with personal data by an author with this display name and handle, handed off."""
    policy = parse_policy(POLICY)
    clock, store, scheduler = FakeClock(), MemoryStore(), MemoryScheduler()
    IngestService(store=store, scheduler=scheduler, policy=policy, clock=clock,
                  claim_ttl=DEFAULTS.claim_ttl).ingest(ParsedBatch(events=(
        Mention(platform=Platform.X, post_id="1", kind=Kind.MENTION,
                author=Author(id="42", handle=handle, name=name),
                text="@Telekom_hilft ruft mich an: 0171 2345678", created_at=clock(), lang=language,
                mentioned_user_ids=("1000000001",)),
    )), BRAND)
    gateway = Gateway(refuse_dm)
    service = HandoffService(store=store, scheduler=scheduler, policy=policy, clock=clock,
                             gateways=lambda platform: gateway, notifier=None, claim_ttl=DEFAULTS.claim_ttl)
    service.handoff(mention_doc_id("x", "1"), department=None, reason="pii", pii=True)
    return gateway


def assert_plain(text: str) -> None:
    bad = [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in FORBIDDEN_CATEGORIES and c != "\n"]
    assert not bad, f"invisible or control characters {bad} in {text!r}"


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(name=hostile_name, handle=any_handle, refuse_dm=st.booleans(), language=st.sampled_from(["de", "en"]))
def test_public_texts_never_carry_the_display_name_only_the_validated_handle(name, handle, refuse_dm, language):
    attacked = hand_off(name, handle, refuse_dm=refuse_dm, language=language)
    # A handle may be stored with its "@" ("@jana"); the plain handle after it is what is valid.
    plain = handle.removeprefix("@")
    safe_handle = plain if SAFE_HANDLE.fullmatch(plain) else None
    baseline = hand_off(None, safe_handle, refuse_dm=refuse_dm, language=language)
    assert attacked.replies, "a public text was published (the note, or the DM-closed fallback)"
    # What the brand publishes does not depend on the display name at all …
    assert attacked.replies == baseline.replies
    for reply in attacked.replies:
        # … and carries no link, no other @mention, no markup and nothing invisible.
        assert "@" not in reply and "＠" not in reply
        assert not URLISH.search(reply), reply
        assert not MARKUP_CHARS & set(reply), reply
        assert_plain(reply)
        assert len(reply) <= 280


@SETTINGS
@given(name=hostile_name, handle=any_handle, language=st.sampled_from(["de", "en"]))
def test_a_dm_greets_by_name_without_links_mentions_markup_or_control_characters(name, handle, language):
    gateway = hand_off(name, handle, refuse_dm=False, language=language)
    nameless = hand_off(None, None, refuse_dm=False, language=language)
    (dm,), (plain,) = gateway.dms, nameless.dms
    assert "@" not in dm and "＠" not in dm and "﹫" not in dm
    assert not URLISH.search(dm), dm
    assert not MARKUP_CHARS & set(dm), dm
    assert "\n" not in dm  # no sign-off in this policy: a line break could only come from the name
    assert_plain(dm)
    assert len(dm) <= len(plain) + 1 + 50, "a name is cut to 50 characters"


def test_an_ordinary_name_still_greets_the_customer():
    dm = hand_off("Jana K.", "jana_k", refuse_dm=False).dms[0]
    assert dm.startswith("Hallo Jana K., danke")
    reply = hand_off("Jana K.", "jana_k", refuse_dm=True).replies[0]
    assert reply.startswith("Hallo jana_k, wir möchten")


def test_a_name_that_is_only_a_link_falls_back_to_the_handle_without_at():
    dm = hand_off("https://evil.example/login", "jana_k", refuse_dm=False).dms[0]
    assert dm.startswith("Hallo jana_k, danke")
    assert hand_off("\u202e@evil.com", None, refuse_dm=False).dms[0].startswith("Hallo, danke")
