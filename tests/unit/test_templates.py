from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hilft.core.templates import (
    ADDRESS_FORMS,
    LANGUAGES,
    PLACEHOLDERS,
    case_reference,
    customer_name,
    pick_language,
    placeholders_of,
    private_name,
    promise_phrase,
    public_handle,
    render,
)

VALUES = {
    "name": "Anna",
    "case_ref": "HX-7K3Q9D",
    "promise": "innerhalb der nächsten Stunde",
    "department": "Festnetz & Internet",
}
EVERY_FORM = [(language, form) for language in LANGUAGES for form in ADDRESS_FORMS]


@pytest.mark.parametrize(
    ("duration", "language", "phrase"),
    [
        (timedelta(hours=1), "de", "innerhalb der nächsten Stunde"),
        (timedelta(minutes=30), "de", "innerhalb der nächsten 30 Minuten"),
        (timedelta(hours=2), "de", "innerhalb der nächsten 2 Stunden"),
        (timedelta(minutes=90), "de", "innerhalb der nächsten 90 Minuten"),
        (timedelta(minutes=1), "de", "innerhalb der nächsten Minute"),
        (timedelta(seconds=40), "de", "innerhalb der nächsten 40 Sekunden"),
        (timedelta(days=1), "de", "innerhalb der nächsten 24 Stunden"),
        (timedelta(days=2), "de", "innerhalb der nächsten 2 Tage"),
        (timedelta(hours=1), "en", "within the next hour"),
        (timedelta(minutes=30), "en", "within the next 30 minutes"),
        (timedelta(hours=2), "en", "within the next 2 hours"),
        (timedelta(seconds=40), "en", "within the next 40 seconds"),
        (timedelta(days=3), "en", "within the next 3 days"),
    ],
)
def test_the_promise_reads_in_the_largest_whole_unit(duration: timedelta, language: str, phrase: str) -> None:
    assert promise_phrase(duration, language, "sie") == phrase
    assert promise_phrase(duration, language, "du") == phrase


def test_a_promise_phrase_needs_a_positive_duration_and_a_known_language() -> None:
    with pytest.raises(ValueError, match="positive"):
        promise_phrase(timedelta(0), "de")
    with pytest.raises(ValueError, match="unsupported language"):
        promise_phrase(timedelta(hours=1), "fr")


@pytest.mark.parametrize(("language", "form"), EVERY_FORM)
def test_the_handoff_dm_greets_and_gives_the_case_reference_department_and_promise(
    language: str, form: str
) -> None:
    text = render("handoff_dm", language=language, address_form=form, **VALUES)
    assert text.startswith(("Hallo Anna,", "Hello Anna,", "Hi Anna,"))
    assert "HX-7K3Q9D" in text and "Festnetz & Internet" in text and "innerhalb der nächsten Stunde." in text
    assert "{" not in text


@pytest.mark.parametrize("name", ["public_reply", "dm_closed_reply"])
@pytest.mark.parametrize(("language", "form"), EVERY_FORM)
def test_public_texts_are_short_enough_for_any_platform(name: str, language: str, form: str) -> None:
    text = render(name, language=language, address_form=form, **{**VALUES, "name": "A" * 50})
    assert len(text) <= 280
    assert "HX-7K3Q9D" not in text  # nothing about the case is said in public


def test_templates_see_nothing_of_the_post_itself() -> None:
    assert PLACEHOLDERS == {"name", "case_ref", "promise", "department", "private_channel", "reopens"}


@pytest.mark.parametrize("name", ["handoff_dm", "public_reply", "dm_closed_reply"])
def test_sie_and_du_address_the_customer_differently(name: str) -> None:
    formal = render(name, language="de", address_form="sie", **VALUES)
    informal = render(name, language="de", address_form="du", **VALUES)
    assert re.search(r"\b(Ihr|Ihre|Ihnen|Sie)\b", formal) and not re.search(
        r"\b(dein|deine|dir|du)\b", formal
    )
    assert re.search(r"\b(dein|deine|dir|öffne|folge)\b", informal) and not re.search(
        r"\b(Ihnen|Sie)\b", informal
    )


@pytest.mark.parametrize("missing_name", [None, ""])
def test_a_customer_without_a_name_is_greeted_without_a_gap(missing_name: str | None) -> None:
    text = render("public_reply", language="de", address_form="sie", **{**VALUES, "name": missing_name})
    assert text.startswith("Hallo, das schauen wir uns")


def test_a_policy_override_replaces_the_built_in_text() -> None:
    overrides = {"public_reply": "Hey {name}, schau mal in deine DMs!"}
    assert render("public_reply", language="de", address_form="du", overrides=overrides, **VALUES) == (
        "Hey Anna, schau mal in deine DMs!"
    )
    built_in = render("dm_closed_reply", language="de", address_form="du", overrides=overrides, **VALUES)
    assert built_in.startswith("Hallo Anna, wir möchten dir")


def test_the_sign_off_follows_a_blank_line_in_a_dm_and_a_space_in_public() -> None:
    overrides = {"sign_off": "^an"}
    dm = render("handoff_dm", language="de", address_form="sie", overrides=overrides, **VALUES)
    public = render("public_reply", language="de", address_form="sie", overrides=overrides, **VALUES)
    assert dm.endswith("Stunde.\n\n^an")
    assert public.endswith("Stunde. ^an")
    assert not render("public_reply", language="de", address_form="sie", **VALUES).endswith("^an")


def test_rendering_without_a_value_the_template_needs_fails_loudly() -> None:
    with pytest.raises(ValueError, match="needs case_ref"):
        render("handoff_dm", language="de", address_form="sie", name="Anna", promise="x", department="y")


def test_unknown_templates_and_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown template"):
        render("welcome", language="de", address_form="sie", **VALUES)
    with pytest.raises(ValueError, match="no templates"):
        render("public_reply", language="fr", address_form="sie", **VALUES)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Ticket {ticket}", "unknown placeholder {ticket}"),
        ("{name.__class__.__mro__}", "unknown placeholder {name.__class__.__mro__}"),
        ("{name[0]}", "unknown placeholder {name[0]}"),
        ("{}", "unknown placeholder {}"),
        ("{0}", "unknown placeholder {0}"),
        ("{name!r}", "unknown placeholder {name!r}"),
        ("{name:>40}", "unknown placeholder {name:>40}"),
        ("Hallo {name", "literal braces"),
    ],
)
def test_templates_may_only_use_the_plain_placeholders(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        placeholders_of(template)


def test_doubled_braces_are_literal_braces() -> None:
    assert placeholders_of("{{case_ref}} is {case_ref}") == {"case_ref"}
    text = render(
        "sign_off", language="de", address_form="sie", overrides={"sign_off": "{{^}} {case_ref}"}, **VALUES
    )
    assert text == "{^} HX-7K3Q9D"


@pytest.mark.parametrize(
    ("post_language", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("en", "en"),
        ("en_GB", "en"),
        ("EN", "en"),
        (None, "de"),
        ("fr", "de"),
        ("und", "de"),
        ("", "de"),
    ],
)
def test_the_reply_language_follows_the_post_when_we_speak_it(
    post_language: str | None, expected: str
) -> None:
    assert pick_language(post_language, "de") == expected


def test_the_brand_default_language_is_used_for_other_languages() -> None:
    assert pick_language("fr", "en") == "en"
    with pytest.raises(ValueError, match="default language"):
        pick_language("fr", "fr")


def test_a_case_reference_is_short_uppercase_and_easy_to_read_out() -> None:
    reference = case_reference("1790412345678901234", "x")
    assert re.fullmatch(r"HX-[0-9A-HJKMNP-TV-Z]{6}", reference)


def test_the_same_post_always_gets_the_same_case_reference() -> None:
    assert case_reference("123", "x") == case_reference("123", "x")
    assert case_reference("123", "x") != case_reference("123", "facebook")


def test_case_references_of_consecutive_posts_reveal_no_sequence() -> None:
    references = [case_reference(str(1_000_000 + n), "x") for n in range(1000)]
    assert len(set(references)) == len(references)
    assert references != sorted(references)
    assert all("1000" not in reference for reference in references[:10])


@pytest.mark.parametrize(
    ("handle", "shown"),
    [("anna_k", "anna_k"), ("@anna_k", "anna_k"), ("Jana", "Jana"), ("evil.com", ""), ("a b", ""), ("_", ""),
     ("x" * 31, ""), ("ａｎｎａ", ""), (None, ""), ("", "")],
)
def test_a_public_text_names_only_a_plain_handle(handle: str | None, shown: str) -> None:
    assert public_handle(handle) == shown


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Jana K.", "Jana K."),
        ("Jürgen Müller-Lüdenscheidt", "Jürgen Müller-Lüdenscheidt"),
        ("Anna 🌸 https://evil.example/x", "Anna"),
        ("Anna www.evil.com", "Anna"),
        ("Anna ｅｖｉｌ．ｃｏｍ", "Anna"),
        ("Anna @elonmusk", "Anna elonmusk"),
        ("**Anna**", "Anna"),
        ("<b>Anna</b>", ""),
        ("Anna \u202egnp.exe", "Anna"),
        ("Anna\nPS: call 0800", "Anna call 0800"),
        ("O'Brien", "O'Brien"),
        ("\u200b", ""),
    ],
)
def test_a_dm_greets_with_the_name_cleaned_of_links_mentions_and_markup(name: str, greeting: str) -> None:
    assert private_name(name) == greeting


def test_a_long_name_is_cut_on_a_word_boundary() -> None:
    cut = private_name("Maximilian " * 20)
    assert len(cut) <= 50 and cut.endswith("Maximilian") and "  " not in cut


@pytest.mark.parametrize(("language", "form"), EVERY_FORM)
def test_render_itself_keeps_display_names_out_of_public_texts(language: str, form: str) -> None:
    text = render("public_reply", language=language, address_form=form, **{**VALUES, "name": "Anna evil.com"})
    assert "evil" not in text and "Anna" not in text
    dm = render("handoff_dm", language=language, address_form=form, **{**VALUES, "name": "Anna evil.com"})
    assert "Anna" in dm and "evil" not in dm


def test_the_customer_name_falls_back_to_the_handle_in_a_dm_and_is_only_the_handle_in_public() -> None:
    assert customer_name("Jana K.", "jana_k", public=False) == "Jana K."
    assert customer_name("https://evil.example", "jana_k", public=False) == "jana_k"
    assert customer_name("Jana K.", "jana_k", public=True) == "jana_k"
    assert customer_name("Jana K.", None, public=True) == ""


@pytest.mark.parametrize("promise", ["bis Donnerstag, 31.12., 23:55 Uhr", "by Wednesday 30 September, 12:55 pm",
                                     "innerhalb der nächsten 45 Minuten", "so schnell wie möglich"])
@pytest.mark.parametrize(("language", "form"), EVERY_FORM)
def test_the_public_note_with_the_longest_promise_and_handle_still_fits_a_post(promise: str, language: str,
                                                                                 form: str) -> None:
    text = render("public_reply", language=language, address_form=form,
                  **{**VALUES, "promise": promise, "name": "h" * 30})
    assert promise in text and len("@" + "h" * 30 + " " + text) <= 280
