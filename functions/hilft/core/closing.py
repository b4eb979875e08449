"""Does a customer's message close a conversation the brand already answered?

"Danke, läuft wieder!" after the brand's reply asks for nothing; starting a new promise on it
pages on-call for a thank-you. Precision comes first (a missed complaint is worse than an extra
item), so a message counts as closing only when all of these hold:

* it contains one of the policy's closing phrases for its language (``[closing] phrases``),
* it asks nothing (no ``?``) and carries no personal data (the caller checks PII),
* it is short (at most ``max_words`` words once @handles, links and emoji are removed),
* it has none of the blockers: words that turn thanks into a complaint, a problem, sarcasm or a
  cancellation ("aber", "nichts", "kaputt", "kündig*", "na toll", "cancel*", "👎", …),
* nothing substantive is left once the closing phrases, greetings and other filler words
  (``[closing] fillers``) and the brand's own name are taken out: "Danke. Router tot." leaves
  "router tot", "Danke, das Modem blinkt rot" leaves "blinkt rot", "Danke euch 👍" leaves nothing.

A list entry ending in ``*`` matches any word starting with it ("kündig*": kündige, Kündigung).

Pure: text and lists in, a yes/no and the phrase that matched out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

DEFAULT_PHRASES: Mapping[str, tuple[str, ...]] = {
    "de": ("danke", "dank*", "vielen dank", "besten dank", "merci", "läuft wieder", "geht wieder",
           "funktioniert wieder", "hat sich erledigt", "erledigt", "alles gut", "alles klar", "passt", "super, danke",
           "top", "problem gelöst", "ist gelöst", "gelöst", "klappt wieder", "hat geklappt", "hat funktioniert",
           "wieder online", "jetzt geht's", "jetzt gehts"),
    "en": ("thanks", "thank you", "thank*", "thx", "cheers", "sorted", "all good", "working again", "works again",
           "fixed now", "it's fixed", "resolved", "back online", "problem solved", "that did it", "perfect",
           "that fixed it", "fixed it"),
}
DEFAULT_BLOCKERS: Mapping[str, tuple[str, ...]] = {
    "de": (
        # more to come, a question, a request
        "aber", "immer noch", "immernoch", "noch immer", "nochmal", "schon wieder", "wieder nicht", "wieder weg",
        "leider", "nicht", "nich", "kein", "keine", "keinen", "trotzdem", "weiterhin", "bitte", "noch was",
        "noch etwas", "noch eine", "noch ein", "frage", "außerdem", "zusätzlich", "wie", "wann", "warum", "wo",
        "können", "könnt", "kannst", "könnten", "seit", "warte*",
        # a problem after the thanks
        "störung", "ausgefallen", "ausfall", "tot", "kaputt", "defekt", "falsch", "fehler", "weg", "funkloch",
        "nichts", "nix", "ohne", "langsam", "ständig", "dauernd", "geht so",
        # sarcasm
        "für nichts", "fürs nix", "na toll", "na super", "ganz toll", "echt toll", "danke auch", "toll",
        # leaving, escalating
        "kündig*", "wechsel*", "wechsle", "anwalt", "verbraucherzentrale", "bundesnetzagentur", "beschwerde",
        "zurück", "nein", "nö", "nee"),
    "en": (
        "but", "still", "again", "not", "n't", "no", "nope", "never", "unfortunately", "however", "please",
        "one more", "another", "question", "also", "how", "when", "why", "where", "can you", "could you", "since",
        "waiting",
        "outage", "down", "dead", "broken", "wrong", "error", "without", "nothing", "slow", "awful", "terrible",
        "useless", "charged", "refund*",
        "for nothing", "wow", "great job", "well done",
        "cancel*", "switch*", "leav*", "lawyer", "ombudsman", "ofcom", "complain*"),
}
# Emoji that turn "thanks" into sarcasm or anger: checked before emoji are removed.
SARCASM_EMOJI: tuple[str, ...] = ("👎", "😡", "🤬", "😠", "😤", "🙄", "😒", "💩", "🤡", "😑", "🙃", "🤦", "🖕", "😞",
                                  "😢", "😭")
# What may stand next to a closing phrase without asking for anything: greetings, address,
# intensifiers, stop-words, and the service that works again ("Danke, das WLAN läuft wieder").
DEFAULT_FILLERS: Mapping[str, tuple[str, ...]] = {
    "de": ("hallo", "hi", "hey", "moin", "servus", "gruß", "grüße", "lg", "vg", "mfg", "liebe", "lieben", "liebes",
           "beste", "besten", "viele", "vielen", "herzlich", "herzlichen", "tausend", "dank", "euch", "dir", "ihnen",
           "sie", "du", "ihr", "team", "leute", "sehr", "so", "ganz", "wirklich", "echt", "mega", "ok", "okay",
           "oki", "ja", "jo", "gut", "prima", "perfekt", "perfect", "klasse", "spitze", "super", "und", "auch",
           "jetzt", "nun", "alles", "wieder", "das", "der", "die", "den", "dem", "es", "ist", "hat", "mit", "für",
           "fürs", "schnell", "schnelle", "schnellen", "hilfe", "antwort", "rückmeldung", "unterstützung", "info",
           "infos", "tipp", "mal", "doch", "schon", "mir", "mich", "uns", "wir", "ich", "läuft", "geht", "gehts",
           "funktioniert", "klappt", "online", "internet", "wlan", "router", "netz", "modem", "telefon",
           "festnetz", "handy", "verbindung", "leitung", "dsl", "tv", "app", "anschluss", "problem", "gelöst"),
    "en": ("hi", "hello", "hey", "guys", "team", "you", "u", "ya", "so", "very", "much", "lots", "many", "a", "lot",
           "the", "for", "your", "ur", "help", "quick", "fast", "reply", "response", "support", "info", "tip", "it",
           "it's", "its", "is", "now", "all", "ok", "okay", "yes", "yeah", "yep", "perfect", "brilliant", "lovely",
           "awesome", "cool", "nice", "works", "working", "fixed", "sorted", "that", "did", "and", "really", "again",
           "online", "back", "internet", "wifi", "router", "broadband", "line", "phone", "connection", "app",
           "problem", "solved", "everything", "again", "mate", "folks"),
}
MAX_WORDS = 14

_HANDLE_OR_LINK = re.compile(r"(?:@\w+|https?://\S+|www\.\S+)")
_WORD = re.compile(r"[\w'’]+")


def normalise(text: str) -> str:
    text = _HANDLE_OR_LINK.sub(" ", text)
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch)[0] != "S")
    return " ".join(text.lower().replace("’", "'").split())


def _pattern(entry: str) -> re.Pattern[str] | None:
    """A list entry as a regex: words at word boundaries, ``*`` a word prefix; None for an emoji."""
    entry = entry.strip().lower()
    if not entry:
        return None
    prefix = entry.endswith("*")
    body = re.escape(entry.rstrip("*").strip())
    if not any(ch.isalnum() for ch in entry):
        return None  # an emoji or punctuation: the caller checks it as a substring
    return re.compile(r"(?<!\w)" + body + (r"\w*" if prefix else r"(?!\w)"))


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _blocks(entry: str, clean: str, raw: str, inside: list[tuple[int, int]]) -> bool:
    """A blocker found outside the closing phrases ("again" in "works again" is no complaint)."""
    pattern = _pattern(entry)
    if pattern is None:
        return bool(entry.strip()) and entry.strip() in raw
    return any(not any(a <= start and end <= b for a, b in inside) for start, end in _spans(pattern, clean))


def closing_phrase(text: str, language: str | None, *, phrases: Mapping[str, Iterable[str]] = DEFAULT_PHRASES,
                   blockers: Mapping[str, Iterable[str]] = DEFAULT_BLOCKERS,
                   fillers: Mapping[str, Iterable[str]] = DEFAULT_FILLERS, brand_words: Iterable[str] = (),
                   max_words: int = MAX_WORDS) -> str | None:
    """The closing phrase the message ends the conversation with, or None (it may need an answer)."""
    raw = unicodedata.normalize("NFC", text).lower()
    clean = normalise(text)
    if not clean or "?" in clean or len(_WORD.findall(clean)) > max_words:
        return None
    if any(emoji in raw for emoji in SARCASM_EMOJI):
        return None
    languages: list[str] = [language] if language is not None and language in phrases else list(phrases)
    found = [(phrase, pattern) for phrase in sorted({p for lang in languages for p in phrases.get(lang, ())},
                                                   key=lambda phrase: (-len(phrase), phrase))
             if (pattern := _pattern(phrase)) is not None and pattern.search(clean)]
    if not found:
        return None
    inside = [span for _, pattern in found for span in _spans(pattern, clean)]
    if any(_blocks(b, clean, raw, inside) for lang in languages for b in blockers.get(lang, ())):
        return None
    residue = clean
    for _, pattern in found:
        residue = pattern.sub(" ", residue)
    ignorable = {w.strip().lower() for lang in languages for w in fillers.get(lang, ())}
    ignorable |= {w for name in brand_words for w in _WORD.findall(name.lower())}
    left = [w for w in _WORD.findall(residue) if w not in ignorable]
    return found[0][0] if not left else None
