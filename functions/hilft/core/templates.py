"""The few sentences hilft writes to customers itself, in German and English, "Sie" and "du".

Friendly, human and short, in the tone social care teams such as @Telekom_hilft made familiar:
say what happens next and by when, never repeat anything of the customer's post. A policy may
override any template per language and address form; placeholders are checked when the policy
loads, so a typo cannot reach a customer.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Literal

Language = Literal["de", "en"]
AddressForm = Literal["sie", "du"]
LANGUAGES: tuple[Language, ...] = ("de", "en")
ADDRESS_FORMS: tuple[AddressForm, ...] = ("sie", "du")

TEMPLATE_NAMES = ("handoff_dm", "dm_handoff", "public_reply", "dm_closed_reply", "private_pointer",
                  "out_of_hours_reply", "out_of_hours_dm", "holding_reply", "sign_off", "delete_hint")
PLACEHOLDERS = frozenset({"name", "case_ref", "promise", "department", "private_channel", "reopens"})
"""What a template may use: the customer's name (may be empty; see below), the case reference,
the promise phrase ("innerhalb der nächsten Stunde", "bis Montag, 8:55 Uhr") and the department's
label; ``{private_channel}`` is where to continue privately on a channel without DMs (the policy's
``[channels.<platform>] private_channel``, e.g. "per Direktnachricht an @brand auf Instagram");
``{reopens}`` is when the team is back, in the out-of-hours answers ("ab Montag, 8:00 Uhr").

``{name}`` is never the display name as the customer typed it: in a public text (posted under the
brand's account) it is only the author's handle, and only if it is a plain handle
(``public_handle``); in a DM it is the display name without links, @, markup or control
characters (``private_name``). ``render`` enforces both, whatever the caller passes."""

_PUBLIC = frozenset({"public_reply", "dm_closed_reply", "private_pointer", "out_of_hours_reply", "holding_reply"})
# Pieces added to another text (``render(..., append=...)``), never sent alone: no sign-off of their own.
# ``delete_hint`` goes into a handoff DM when the customer's public post could not be hidden.
_FRAGMENTS = frozenset({"sign_off", "delete_hint"})

BUILT_IN: dict[str, dict[str, dict[str, str]]] = {
    "de": {
        "sie": {
            "handoff_dm": (
                "Hallo {name}, danke für Ihre Nachricht! Persönliche Daten wie Kunden- oder "
                "Telefonnummern besprechen wir lieber hier privat als öffentlich. Ihr Anliegen "
                "liegt jetzt bei unseren Kolleginnen und Kollegen ({department}), Ihre Vorgangsnummer "
                "ist {case_ref}. Wir melden uns {promise}."
            ),
            # a DM handed to a department: it is private already, so no word about moving there
            "dm_handoff": (
                "Hallo {name}, danke für Ihre Nachricht! Ihr Anliegen liegt jetzt bei unseren Kolleginnen "
                "und Kollegen ({department}), Ihre Vorgangsnummer ist {case_ref}. Wir melden uns {promise}."
            ),
            "public_reply": (
                "Hallo {name}, das schauen wir uns gern genauer an. Wir haben Ihnen eine "
                "Direktnachricht geschickt und melden uns dort {promise}."
            ),
            "dm_closed_reply": (
                "Hallo {name}, wir möchten Ihnen gern privat weiterhelfen. Bitte öffnen Sie Ihre "
                "Direktnachrichten für uns oder folgen Sie uns kurz, dann schreiben wir Ihnen."
            ),
            "private_pointer": (
                "Hallo {name}, das schauen wir uns gern genauer an. Damit persönliche Daten nicht "
                "öffentlich stehen, schreiben Sie uns bitte privat {private_channel} und verweisen Sie "
                "dabei auf diesen Beitrag. Wir antworten Ihnen dort {promise}."
            ),
            "out_of_hours_reply": (
                "Hallo {name}, danke für Ihre Nachricht! Unser Team ist {reopens} wieder für Sie da "
                "und meldet sich {promise}."
            ),
            "out_of_hours_dm": (
                "Hallo {name}, danke für Ihre Nachricht! Unser Team ist {reopens} wieder für Sie da "
                "und meldet sich {promise}."
            ),
            # the holding reply staff send from the board (public; counts as the first response)
            "holding_reply": "Danke für Ihre Geduld! Wir schauen uns das an und melden uns {promise}.",
            "sign_off": "",
            "delete_hint": "Tipp: Ihr öffentlicher Beitrag zeigt persönliche Daten – Sie können ihn jederzeit löschen.",
        },
        "du": {
            "handoff_dm": (
                "Hallo {name}, danke für deine Nachricht! Persönliche Daten wie Kunden- oder "
                "Telefonnummern besprechen wir lieber hier privat als öffentlich. Dein Anliegen "
                "liegt jetzt bei unseren Kolleginnen und Kollegen ({department}), deine Vorgangsnummer "
                "ist {case_ref}. Wir melden uns {promise}."
            ),
            # a DM handed to a department: it is private already, so no word about moving there
            "dm_handoff": (
                "Hallo {name}, danke für deine Nachricht! Dein Anliegen liegt jetzt bei unseren Kolleginnen "
                "und Kollegen ({department}), deine Vorgangsnummer ist {case_ref}. Wir melden uns {promise}."
            ),
            "public_reply": (
                "Hallo {name}, das schauen wir uns gern genauer an. Wir haben dir eine "
                "Direktnachricht geschickt und melden uns dort {promise}."
            ),
            "dm_closed_reply": (
                "Hallo {name}, wir möchten dir gern privat weiterhelfen. Bitte öffne deine "
                "Direktnachrichten für uns oder folge uns kurz, dann schreiben wir dir."
            ),
            "private_pointer": (
                "Hallo {name}, das schauen wir uns gern genauer an. Damit persönliche Daten nicht "
                "öffentlich stehen, schreib uns bitte privat {private_channel} und verweis dabei auf "
                "diesen Beitrag. Wir antworten dir dort {promise}."
            ),
            "out_of_hours_reply": (
                "Hallo {name}, danke für deine Nachricht! Unser Team ist {reopens} wieder für dich da "
                "und meldet sich {promise}."
            ),
            "out_of_hours_dm": (
                "Hallo {name}, danke für deine Nachricht! Unser Team ist {reopens} wieder für dich da "
                "und meldet sich {promise}."
            ),
            # the holding reply staff send from the board (public; counts as the first response)
            "holding_reply": "Danke für deine Geduld! Wir schauen uns das an und melden uns {promise}.",
            "sign_off": "",
            "delete_hint": "Tipp: Dein öffentlicher Beitrag zeigt persönliche Daten – du kannst ihn jederzeit löschen.",
        },
    },
    "en": {
        "sie": {
            "handoff_dm": (
                "Hello {name}, thank you for your message. We would rather discuss personal details "
                "such as customer or phone numbers here in private than in public. Your request is "
                "now with our colleagues ({department}), your case reference is {case_ref}. We will "
                "get back to you {promise}."
            ),
            # a DM handed to a department: it is private already, so no word about moving there
            "dm_handoff": (
                "Hello {name}, thank you for your message. Your request is now with our colleagues "
                "({department}), your case reference is {case_ref}. We will get back to you {promise}."
            ),
            "public_reply": (
                "Hello {name}, we are happy to look into this. We have sent you a direct message "
                "and will get back to you there {promise}."
            ),
            "dm_closed_reply": (
                "Hello {name}, we would like to help you in private. Please open your direct "
                "messages to us or follow us for a moment, and we will write to you."
            ),
            "private_pointer": (
                "Hello {name}, we are happy to look into this. So that personal details are not shared "
                "in public, please write to us privately {private_channel} and refer to this post. We "
                "will answer you there {promise}."
            ),
            "out_of_hours_reply": (
                "Hello {name}, thank you for your message. Our team is back {reopens} and will get "
                "back to you {promise}."
            ),
            "out_of_hours_dm": (
                "Hello {name}, thank you for your message. Our team is back {reopens} and will get "
                "back to you {promise}."
            ),
            # the holding reply staff send from the board (public; counts as the first response)
            "holding_reply": "Thank you for your patience! We're looking into it and will get back to you {promise}.",
            "sign_off": "",
            "delete_hint": "Tip: your public post shows personal details – you can delete it at any time.",
        },
        "du": {
            "handoff_dm": (
                "Hi {name}, thanks for your message! Personal details such as customer or phone "
                "numbers are better discussed here in private than in public. Your request is now "
                "with our colleagues ({department}), your case reference is {case_ref}. We'll get "
                "back to you {promise}."
            ),
            # a DM handed to a department: it is private already, so no word about moving there
            "dm_handoff": (
                "Hi {name}, thanks for your message! Your request is now with our colleagues "
                "({department}), your case reference is {case_ref}. We'll get back to you {promise}."
            ),
            "public_reply": (
                "Hi {name}, happy to look into this! We've sent you a direct message and will get "
                "back to you there {promise}."
            ),
            "dm_closed_reply": (
                "Hi {name}, we'd like to help you in private. Please open your DMs to us or follow "
                "us for a moment, and we'll write to you."
            ),
            "private_pointer": (
                "Hi {name}, happy to look into this! So your personal details stay out of public view, "
                "please message us privately {private_channel} and mention this post. We'll answer you "
                "there {promise}."
            ),
            "out_of_hours_reply": (
                "Hi {name}, thanks for your message! Our team is back {reopens} and will get back "
                "to you {promise}."
            ),
            "out_of_hours_dm": (
                "Hi {name}, thanks for your message! Our team is back {reopens} and will get back "
                "to you {promise}."
            ),
            # the holding reply staff send from the board (public; counts as the first response)
            "holding_reply": "Thanks for your patience! We're looking into it and will get back to you {promise}.",
            "sign_off": "",
            "delete_hint": "Tip: your public post shows personal details – you can delete it any time.",
        },
    },
}


def placeholders_of(text: str) -> frozenset[str]:
    """The placeholders a template uses; ValueError for anything `render` could not fill safely."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"{error} (write {{{{ and }}}} for literal braces)") from None
    used = set()
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS))
            shown = (
                "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
            raise ValueError(f"unknown placeholder {shown} (allowed: {allowed})")
        used.add(field)
    return frozenset(used)


def validate_template(name: str, text: str) -> None:
    """Raise ValueError for an unknown template name or placeholder (used at policy load time)."""
    if name not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {name!r} (known: {', '.join(TEMPLATE_NAMES)})")
    placeholders_of(text)


def render(
    template: str,
    /,
    *,
    language: str,
    address_form: str,
    overrides: Mapping[str, str] | None = None,
    append: Sequence[str] = (),
    **values: str | None,
) -> str:
    """Fill the template named `template` (positional: `name=` is the customer's name placeholder).

    `overrides` (template name → text, from `Policy.template_overrides(language, address_form)`)
    win over the built-in texts. Pass every placeholder the template uses (callers pass all of
    `PLACEHOLDERS`); None or "" leaves a value out cleanly ("Hallo {name}," becomes "Hallo,").
    ``append`` names fragments (``delete_hint``) rendered with the same values and added after the
    text as one more sentence (after a space: a line break could only come from the customer's name),
    before the sign-off.
    The policy's sign-off, when set, is appended: after a blank line in a DM, a space in public.
    """
    if template not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {template!r}")
    if language not in LANGUAGES or address_form not in ADDRESS_FORMS:
        raise ValueError(f"no templates for language {language!r} and address form {address_form!r}")
    if "name" in values:  # whatever the caller passed: only what may be said where the text goes
        values["name"] = public_handle(values["name"]) if template in _PUBLIC else private_name(values["name"])
    text = _fill(_template(template, language, address_form, overrides), values, template)
    separator = " " if template in _PUBLIC else "\n\n"
    for fragment in append:
        if fragment not in _FRAGMENTS or fragment == "sign_off":
            raise ValueError(f"{fragment!r} is not a fragment to append")
        extra = _fill(_template(fragment, language, address_form, overrides), values, fragment)
        if extra:
            text = f"{text} {extra}" if text else extra
    if template not in _FRAGMENTS:
        sign_off = _fill(_template("sign_off", language, address_form, overrides), values, "sign_off")
        if sign_off:
            text = f"{text}{separator}{sign_off}"
    return text


def _template(name: str, language: str, address_form: str, overrides: Mapping[str, str] | None) -> str:
    text = (overrides or {}).get(name)
    return text if text is not None else BUILT_IN[language][address_form][name]


def _fill(template: str, values: Mapping[str, str | None], name: str) -> str:
    needed = placeholders_of(template)
    missing = needed - values.keys()
    if missing:
        raise ValueError(f"template {name} needs {', '.join(sorted(missing))}")
    text = template.format_map({key: values[key] or "" for key in needed})
    text = re.sub(r"[ \t]+([,.!?)])", r"\1", text)  # an empty value must not leave "Hallo ,"
    text = re.sub(r"\( *\)", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


NAME_LIMIT = 50
"""A name in a DM is cut to this many characters (on a word boundary where possible)."""
_SAFE_HANDLE = re.compile(r"(?=.*[A-Za-z0-9])[A-Za-z0-9_]{1,30}", re.ASCII)
_NAME_PUNCTUATION = frozenset("-'’._")
_DOMAINISH = re.compile(r"\w\.\w")  # "evil.com", "bit.ly", "192.168": a dot between two word characters
_URLISH = re.compile(r"(?i)[a-z][a-z0-9+.-]*:|www\.|\w\.\w|/")  # a scheme ("https:", "javascript:"), a path


def public_handle(handle: str | None) -> str:
    """The author's handle as a public text may name it: letters, digits and "_" only, else "".

    X handles are exactly that alphabet; an Instagram handle with a dot ("evil.com" is a valid
    one) or anything else is left out, so a public text can never carry a link, a mention of
    someone else or markup. Written without "@": the platform's reply already addresses the author.
    """
    if not isinstance(handle, str):
        return ""
    handle = handle.removeprefix("@")
    return handle if _SAFE_HANDLE.fullmatch(handle) else ""


def private_name(name: str | None) -> str:
    """A display name fit for a DM greeting: no links, no @, no markup, nothing invisible, short.

    NFKC first (so "ｅｖｉｌ．ｃｏｍ" and "＠x" are caught as what they look like); format and
    control characters (right-to-left overrides, zero-width spaces, line breaks) go; anything but
    letters, marks, digits and ``-'’._`` becomes a space; a word with a dot inside ("evil.com",
    "K.Müller") is left out; the rest is cut to ``NAME_LIMIT`` characters.
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKC", name)
    # Bidi overrides, zero-width joiners, soft hyphens (format characters) go without a gap.
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    kept = []
    for token in text.split():  # every line break and odd space splits too
        if _URLISH.search(token):
            continue  # "https://…", "www.…", "evil.com/x", "javascript:…": the whole word goes
        kept.append("".join(char if unicodedata.category(char)[0] in "LMN" or char in _NAME_PUNCTUATION
                            else " " for char in token))
    # No punctuation at the start of a word ("O'Neil", "K." stay): a leading ".0" could otherwise join
    # the greeting into something that reads like a domain ("Hallo.0").
    words = [word.lstrip("".join(_NAME_PUNCTUATION)) for word in " ".join(kept).split()]
    words = [word for word in words
             if not _DOMAINISH.search(word) and any(unicodedata.category(c)[0] in "LN" for c in word)]
    result = " ".join(words)
    if len(result) > NAME_LIMIT:
        cut = result[: NAME_LIMIT + 1]
        space = cut.rfind(" ")
        result = cut[:space] if space >= NAME_LIMIT // 2 else result[:NAME_LIMIT]
    return result.strip(" -'’")


def customer_name(display_name: str | None, handle: str | None, *, public: bool) -> str:
    """What ``{name}`` becomes: the plain handle in public; in a DM the cleaned display name,
    else the plain handle, else "" (the greeting then reads "Hallo," without a gap)."""
    if public:
        return public_handle(handle)
    return private_name(display_name) or public_handle(handle)


def promise_phrase(duration: timedelta, language: str, address_form: str = "sie") -> str:
    """ "innerhalb der nächsten Stunde", "within the next 30 minutes" … in the largest whole unit.

    The address form does not change the phrase today; it is a parameter so an override can.
    """
    del address_form
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        raise ValueError("a promise must be a positive duration")
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    units = _UNITS_DE if language == "de" else _UNITS_EN
    for unit_seconds, singular, plural in units:
        if seconds % unit_seconds == 0 and (unit_seconds != 86_400 or seconds > 86_400):
            count = seconds // unit_seconds
            return singular if count == 1 else plural.format(count)
    raise AssertionError("unreachable: seconds divide every duration")  # pragma: no cover


_UNITS_DE = (
    (86_400, "", "innerhalb der nächsten {} Tage"),
    (3_600, "innerhalb der nächsten Stunde", "innerhalb der nächsten {} Stunden"),
    (60, "innerhalb der nächsten Minute", "innerhalb der nächsten {} Minuten"),
    (1, "innerhalb der nächsten Sekunde", "innerhalb der nächsten {} Sekunden"),
)
_UNITS_EN = (
    (86_400, "", "within the next {} days"),
    (3_600, "within the next hour", "within the next {} hours"),
    (60, "within the next minute", "within the next {} minutes"),
    (1, "within the next second", "within the next {} seconds"),
)


def pick_language(post_language: str | None, default: str) -> Language:
    """German or English from a platform's language tag ("de", "de-AT", "en_GB"), else `default`."""
    primary = (post_language or "").replace("_", "-").split("-")[0].strip().lower()
    if primary in LANGUAGES:
        return primary  # type: ignore[return-value]
    if default not in LANGUAGES:
        raise ValueError(f"unsupported default language {default!r}")
    return default  # type: ignore[return-value]


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read out on the phone


def case_reference(post_id: str, platform: str) -> str:
    """A short, stable, non-sequential reference for a post, e.g. "HX-7K3Q9D".

    Derived from a hash, so it reveals neither the post id nor how many cases exist.
    """
    digest = int.from_bytes(hashlib.sha256(f"{platform}:{post_id}".encode()).digest()[:4], "big")
    chars = [_CROCKFORD[(digest >> shift) & 0x1F] for shift in range(25, -1, -5)]
    return "HX-" + "".join(chars)
