"""The holding reply staff send from the board: "We're looking into it and will get back to you
by 15:10." — pure text, with the promised time told as ``promise_phrase`` tells every promise.

The time it names: the post's own due time when that is still ahead (the brand keeps the promise
it already made), else the policy's promise counted afresh from now in business time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from hilft.core.promise_phrase import promise_phrase

MAX_LENGTH = 280  # the shortest public reply limit among the channels (X)
MIN_LEAD = timedelta(minutes=10)  # a due time closer than this is not a promise worth repeating

TEXTS = {
    ("de", "sie"): "Danke für Ihre Geduld! Wir schauen uns das an und melden uns {promise}.",
    ("de", "du"): "Danke für deine Geduld! Wir schauen uns das an und melden uns {promise}.",
    ("en", "sie"): "Thank you for your patience! We're looking into it and will get back to you {promise}.",
    ("en", "du"): "Thanks for your patience! We're looking into it and will get back to you {promise}.",
}


def holding_target(due_at: datetime, now: datetime, fresh_due: datetime) -> datetime:
    """Which time the reply promises: the post's due time if still ahead, else a fresh one."""
    return due_at if due_at - now >= MIN_LEAD else fresh_due


def holding_text(target: datetime, now: datetime, tz: tzinfo, language: str, address_form: str) -> str:
    language = language if language in ("de", "en") else "de"
    form = address_form if address_form in ("sie", "du") else "sie"
    phrase = promise_phrase(target, now, tz, language, form)
    return TEXTS[(language, form)].format(promise=phrase.text)
