"""Does a customer's message close a conversation the brand already answered?

"Danke, läuft wieder!" after the brand's reply asks for nothing; starting a new promise on it
pages on-call for a thank-you. Precision comes first (a missed complaint is worse than an extra
item), so a message counts as closing only when all of these hold:

* it contains one of the policy's closing phrases for its language (``[closing] de/en``),
* it asks nothing (no ``?``) and carries no personal data (the caller checks PII),
* it is short (at most ``max_words`` words once @handles, links and emoji are removed),
* it has none of the words that turn thanks into a complaint ("aber", "immer noch", "still",
  "but", "again", "leider", …).

Pure: text and lists in, a yes/no and the phrase that matched out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

DEFAULT_PHRASES: Mapping[str, tuple[str, ...]] = {
    "de": ("danke", "vielen dank", "dankeschön", "läuft wieder", "geht wieder", "funktioniert wieder",
           "hat sich erledigt", "erledigt", "alles gut", "alles klar", "passt", "super, danke", "top",
           "problem gelöst", "ist gelöst", "klappt wieder", "wieder online", "jetzt geht's", "jetzt gehts"),
    "en": ("thanks", "thank you", "thx", "cheers", "sorted", "all good", "working again", "works again",
           "fixed now", "it's fixed", "resolved", "back online", "problem solved", "that did it", "perfect"),
}
DEFAULT_BLOCKERS: Mapping[str, tuple[str, ...]] = {
    "de": ("aber", "immer noch", "noch immer", "nochmal", "schon wieder", "wieder nicht", "wieder weg",
           "wieder ausgefallen", "leider", "nicht", "kein", "keine", "trotzdem", "störung", "weiterhin", "bitte",
           "noch was", "noch etwas", "noch eine", "noch ein", "frage", "außerdem", "zusätzlich", "wie", "wann",
           "warum", "wo", "können", "könnt", "kannst", "könnten"),
    "en": ("but", "still", "again", "not", "n't", "no ", "unfortunately", "however", "please", "outage", "down",
           "one more", "another", "question", "also", "how", "when", "why", "where", "can you", "could you"),
}
MAX_WORDS = 14

_HANDLE_OR_LINK = re.compile(r"(?:@\w+|https?://\S+|www\.\S+)")
_WORD = re.compile(r"[\w'’]+")


def normalise(text: str) -> str:
    text = _HANDLE_OR_LINK.sub(" ", text)
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch)[0] != "S")
    return " ".join(text.lower().replace("’", "'").split())


def _contains(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text) is not None


def closing_phrase(text: str, language: str | None, *, phrases: Mapping[str, Iterable[str]] = DEFAULT_PHRASES,
                   blockers: Mapping[str, Iterable[str]] = DEFAULT_BLOCKERS, max_words: int = MAX_WORDS) -> str | None:
    """The closing phrase the message ends the conversation with, or None (it may need an answer)."""
    clean = normalise(text)
    if not clean or "?" in clean or len(_WORD.findall(clean)) > max_words:
        return None
    languages: list[str] = [language] if language is not None and language in phrases else list(phrases)
    for lang in languages:
        if any(_contains(clean, b.strip()) if b.strip().isalpha() or " " in b.strip() else b in clean
               for b in blockers.get(lang, ())):
            return None
    for lang in languages:
        for phrase in sorted(phrases.get(lang, ()), key=len, reverse=True):
            if _contains(clean, phrase.lower()):
                return phrase
    return None
