"""The holding reply staff send from the board: "We're looking into it and will get back to you
by 15:10." — pure text, with the promised time told as ``promise_phrase`` tells every promise.

The time it names: the post's own due time when that is still ahead (the brand keeps the promise
it already made), else the policy's promise counted afresh from now in business time. The words
are the template ``holding_reply`` (``core.templates``: built in per language and address form,
overridable in the policy's ``[templates.<language>.<address_form>]``; the sign-off is added).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from hilft.core import templates
from hilft.core.promise_phrase import promise_phrase

MAX_LENGTH = 280  # the shortest public reply limit among the channels (X)
MIN_LEAD = timedelta(minutes=10)  # a due time closer than this is not a promise worth repeating


def holding_target(due_at: datetime, now: datetime, fresh_due: datetime) -> datetime:
    """Which time the reply promises: the post's due time if still ahead, else a fresh one."""
    return due_at if due_at - now >= MIN_LEAD else fresh_due


def holding_text(target: datetime, now: datetime, tz: tzinfo, language: str, address_form: str, *,
                 overrides: Mapping[str, str] | None = None, name: str | None = None) -> str:
    """The reply's text; ``overrides`` are the policy's templates for this language and form."""
    language = language if language in templates.LANGUAGES else "de"
    form = address_form if address_form in templates.ADDRESS_FORMS else "sie"
    phrase = promise_phrase(target, now, tz, language, form)
    return templates.render("holding_reply", language=language, address_form=form, overrides=overrides,
                            promise=phrase.text, name=name, case_ref=None, department=None,
                            private_channel=None, reopens=None)
