"""Does a customer's message close a conversation the brand already answered?

"Danke, läuft wieder!" after the brand's reply asks for nothing; starting a new promise on it
pages on-call for a thank-you. Precision comes first (a missed complaint is worse than an extra
item), so a message counts as closing only when all of these hold:

* it contains one of the policy's closing phrases for its language (``[closing] phrases``),
* it asks nothing and carries no personal data (the caller checks PII): no question mark of any
  script (``?``, ``？``, ``¿``, ``❓``, ``❔``, …), no clause opening with a question word
  ("wann", "how") and no clause asking with its verb first ("ist das Problem gelöst", "hat es
  geklappt", "is it working again", "did that fix it" — ``asks_without_question_mark``),
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

import functools
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
        "für nichts", "fürs nix", "für nix", "na toll", "na super", "ganz toll", "echt toll", "danke auch", "toll",
        "wieder mal", "mal wieder", "ja wieder",
        # leaving, escalating
        "kündig*", "wechsel*", "wechsle", "anwalt", "verbraucherzentrale", "bundesnetzagentur", "beschwerde",
        "zurück", "nein", "nö", "nee"),
    "en": (
        "but", "still", "again", "not", "n't", "no", "nope", "never", "unfortunately", "however", "please",
        "one more", "another", "question", "also", "how", "when", "why", "where", "can you", "could you", "since",
        "waiting",
        "outage", "down", "dead", "broken", "wrong", "error", "without", "nothing", "slow", "awful", "terrible",
        "useless", "charged", "refund*",
        "for nothing", "wow", "great job", "well done", "for now",
        "cancel*", "switch*", "leav*", "lawyer", "ombudsman", "ofcom", "complain*"),
}
# Emoji that turn "thanks" into sarcasm or anger: checked before emoji are removed.
SARCASM_EMOJI: tuple[str, ...] = ("👎", "😡", "🤬", "😠", "😤", "🙄", "😒", "💩", "🤡", "😑", "🙃", "🤦", "🖕", "😞",
                                  "😢", "😭", "😂", "🤣", "👏", "😏", "😬", "🥴", "🤔", "🫠", "🤷")
# Question marks of other scripts and the emoji ones (emoji are removed before the text is read).
QUESTION_MARKS: tuple[str, ...] = ("?", "？", "¿", "❓", "❔", "⁇", "⁈", "⁉", "‽", "؟", "\u037e", "﹖")
# Words that open a question ("wann kommt …", "how long …").
QUESTION_WORDS: Mapping[str, frozenset[str]] = {
    "de": frozenset({"wann", "wie", "wieso", "weshalb", "warum", "wo", "woran", "wofür", "wozu", "woher", "wohin",
                     "was", "wer", "wen", "wem", "wessen", "welche", "welcher", "welches", "welchen", "ob"}),
    "en": frozenset({"what", "when", "why", "how", "where", "who", "whom", "whose", "which", "whether"}),
}
# A clause opening with one of these verbs and then its subject asks ("ist das Problem gelöst",
# "hat es geklappt", "is it working again"); with no subject after it, it tells ("ist gelöst",
# "hat geklappt", "läuft wieder", "hat sich erledigt"), as German and English closings often do.
QUESTION_VERBS: Mapping[str, frozenset[str]] = {
    "de": frozenset({"ist", "sind", "war", "waren", "bin", "bist", "seid", "hat", "haben", "hast", "habt", "hatte",
                     "hattet", "wird", "werden", "wurde", "wurden", "kann", "können", "kannst", "könnt", "könnte",
                     "könnten", "muss", "müssen", "musst", "soll", "sollen", "sollte", "darf", "dürfen", "gibt",
                     "gab", "geht", "läuft", "funktioniert", "klappt", "passt", "kommt", "liegt", "lag", "bleibt",
                     "gilt", "braucht", "dauert", "stimmt", "tut", "macht", "heißt", "weiß", "wisst", "meint"}),
    "en": frozenset({"is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "will", "would",
                     "should", "shall", "may", "might", "must", "has", "have", "had", "isn't", "aren't", "didn't",
                     "doesn't", "don't", "won't", "can't"}),
}
# What may stand between the verb and its subject ("ist jetzt das Internet …").
_BEFORE_SUBJECT: Mapping[str, frozenset[str]] = {
    "de": frozenset({"jetzt", "nun", "denn", "wieder", "auch", "schon", "dann", "eigentlich", "wirklich", "echt",
                     "da", "so", "ja", "bei", "euch", "mir"}),
    "en": frozenset({"now", "then", "really", "also", "finally", "actually"}),
}
SUBJECTS: Mapping[str, frozenset[str]] = {
    "de": frozenset({"es", "das", "der", "die", "den", "dem", "des", "dies", "dieses", "diese", "dieser", "ein",
                     "eine", "einer", "er", "sie", "ihr", "ich", "wir", "du", "man", "jemand", "mein", "meine",
                     "meiner", "meinen", "dein", "deine", "euer", "eure", "unser", "unsere", "ihre", "sein",
                     "seine"}),
    "en": frozenset({"it", "that", "this", "the", "there", "you", "we", "i", "he", "she", "they", "someone",
                     "anyone", "somebody", "anybody", "everything", "anything", "something", "all", "my", "your",
                     "our", "their", "his", "her", "its", "a", "an", "u", "ya", "mine", "these", "those"}),
}
# Verb and next word that wish rather than ask ("have a nice day", "habt ein schönes Wochenende").
_WISHES: frozenset[tuple[str, str]] = frozenset({("have", "a"), ("have", "an"), ("habt", "ein"), ("habt", "einen"),
                                                 ("habt", "eine")})
# Thanks and greetings a clause may open with before its question ("danke hat es geklappt",
# "thanks is everything fixed"): skipped when looking for the clause's first word.
_OPENERS = re.compile(r"(?:dank\w*|merci|thank\w*|thx|ty|cheers|ok|okay|oki|ja|yes|yeah|yep|hallo|hi|hey|moin|"
                      r"vielen|lieben|besten|herzlichen|tausend|many|so|much|you|u|mate|super|top|perfekt|"
                      r"perfect|great|prima)$")
_CLAUSE = re.compile(r"[.,;:!…]+|\s[-–—]\s|\b(?:und|aber|and|but)\b")
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


@functools.lru_cache(maxsize=4096)
def _pattern(entry: str) -> re.Pattern[str] | None:
    """A list entry as a regex: words at word boundaries, ``*`` a word prefix; None for an emoji.
    Cached: every message is checked against the same few hundred entries."""
    entry = entry.strip().lower()
    if not entry:
        return None
    prefix = entry.endswith("*")
    body = re.escape(entry.rstrip("*").strip())
    if not any(ch.isalnum() for ch in entry):
        return None  # an emoji or punctuation: the caller checks it as a substring
    return re.compile(r"(?<!\w)" + body + (r"\w*" if prefix else r"(?!\w)"))


@functools.lru_cache(maxsize=64)
def _phrase_patterns(phrases: tuple[str, ...]) -> tuple[re.Pattern[str] | None,
                                                      tuple[tuple[str, re.Pattern[str]], ...]]:
    """A phrase list's regexes, longest phrase first, and one regex for any of them: built once per
    list (the policy's lists do not change while an instance runs), not once per message."""
    ordered = sorted(set(phrases), key=lambda phrase: (-len(phrase), phrase))
    patterns = tuple((phrase, pattern) for phrase in ordered if (pattern := _pattern(phrase)) is not None)
    return _any_of([pattern for _, pattern in patterns]), patterns


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


@functools.lru_cache(maxsize=64)
def _blocker_patterns(blockers: tuple[str, ...]) -> tuple[re.Pattern[str] | None,
                                                        tuple[tuple[str, re.Pattern[str] | None], ...]]:
    """A blocker list's entries with their regexes (None: an emoji, found as a substring) and one
    regex for any of the regex ones: a message with none of them skips the per-entry check."""
    entries = tuple((entry, _pattern(entry)) for entry in dict.fromkeys(blockers))
    return _any_of([pattern for _, pattern in entries if pattern is not None]), entries


def _any_of(patterns: list[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One regex that matches where any of ``patterns`` does (None for none)."""
    return re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns)) if patterns else None


def _blocks(entry: str, pattern: re.Pattern[str] | None, clean: str, raw: str, inside: list[tuple[int, int]]) -> bool:
    """A blocker found outside the closing phrases ("again" in "works again" is no complaint)."""
    if pattern is None:
        return bool(entry.strip()) and entry.strip() in raw
    return any(not any(a <= start and end <= b for a, b in inside) for start, end in _spans(pattern, clean))


def asks_without_question_mark(clean: str, languages: Iterable[str]) -> bool:
    """A clause that opens with a question word, or with a verb followed by its subject: a
    question even without "?" ("Danke, ist das Problem gelöst", "thanks is everything fixed").
    ``clean`` is ``normalise``d text."""
    langs = [lang for lang in languages if lang in QUESTION_WORDS] or list(QUESTION_WORDS)
    for clause in _CLAUSE.split(clean):
        words = _WORD.findall(clause)
        while words and _OPENERS.match(words[0]):
            words.pop(0)
        if not words:
            continue
        first, rest = words[0], words[1:]
        for lang in langs:
            if first in QUESTION_WORDS[lang]:
                return True
            if first in QUESTION_VERBS[lang]:
                following = [w for w in rest if w not in _BEFORE_SUBJECT[lang]]
                if following and following[0] in SUBJECTS[lang] and (first, following[0]) not in _WISHES:
                    return True
    return False


def closing_phrase(text: str, language: str | None, *, phrases: Mapping[str, Iterable[str]] = DEFAULT_PHRASES,
                   blockers: Mapping[str, Iterable[str]] = DEFAULT_BLOCKERS,
                   fillers: Mapping[str, Iterable[str]] = DEFAULT_FILLERS, brand_words: Iterable[str] = (),
                   max_words: int = MAX_WORDS) -> str | None:
    """The closing phrase the message ends the conversation with, or None (it may need an answer)."""
    raw = unicodedata.normalize("NFC", text).lower()
    clean = normalise(text)
    if not clean or any(mark in raw for mark in QUESTION_MARKS) or len(_WORD.findall(clean)) > max_words:
        return None
    if any(emoji in raw for emoji in SARCASM_EMOJI):
        return None
    languages: list[str] = [language] if language is not None and language in phrases else list(phrases)
    any_phrase, patterns = _phrase_patterns(tuple(p for lang in languages for p in phrases.get(lang, ())))
    if any_phrase is None or not any_phrase.search(clean):
        return None  # most messages: one scan instead of one per phrase
    if asks_without_question_mark(clean, languages):
        return None
    found = [(phrase, pattern) for phrase, pattern in patterns if pattern.search(clean)]
    if not found:
        return None
    inside = [span for _, pattern in found for span in _spans(pattern, clean)]
    any_blocker, blocker_entries = _blocker_patterns(tuple(b for lang in languages for b in blockers.get(lang, ())))
    some_word_blocker = any_blocker is not None and any_blocker.search(clean) is not None
    if any(_blocks(b, pattern, clean, raw, inside) for b, pattern in blocker_entries
           if pattern is None or some_word_blocker):
        return None
    residue = clean
    for _, pattern in found:
        residue = pattern.sub(" ", residue)
    ignorable = {w.strip().lower() for lang in languages for w in fillers.get(lang, ())}
    ignorable |= {w for name in brand_words for w in _WORD.findall(name.lower())}
    left = [w for w in _WORD.findall(residue) if w not in ignorable]
    return found[0][0] if not left else None
