"""A generated evaluation set for hilft.core.pii: values from Faker, sentences written here.

Independent of the hand-written corpus (tests/fixtures/pii) and of the detector: the values (names, phone
numbers, streets, postcodes, IBANs, card numbers, birth dates) come from Faker's de_DE, de_AT, de_CH, en_GB
and en_US locales; the sentences around them are care-post templates written for this file without
reference to the detector's patterns, in varied phrasing. Seeded, so every run builds the same posts.

Three parts:

- ``pii``: posts with one or two pieces of personal data, each labelled with its kind, its exact text and
  its *secret* (the part that must be gone after redaction: the digits of a phone number, the local part of
  an e-mail address, the street and house number of an address, …). Numbers that cannot exist (Faker also
  makes phone numbers no network would route) identify nobody and are skipped: a phone value is kept only
  if ``phonenumbers`` calls it a valid, non-service number of the locale's country.
- ``negative``: care posts full of numbers that are not personal data: counts, prices, speeds, dates and
  times, calendar weeks, firmware versions, compounds that end like streets, postcode + city alone (the
  outage location, not an address), the brand's own hotline, switchboard, address, e-mail domain and
  ticket numbers (taken from the policy under test, so the set checks what the brand configured).
- both carry ``lang`` (de/en) and ``locale``.

Some values are typed the ways an outside audit found customers type them (separators, case, full-width
digits, " at " for "@", two numbers in a row, words around a label), and some negatives are its hard
classes (words that end like street types, road classes, IMEIs); these draw from a random stream of their
own (``Values.typing``); only a pair of numbers draws extra values from the main stream.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date

import phonenumbers
from faker import Faker
from phonenumbers import PhoneNumberType

from tests.eval.pii.scoring import BrandData, Label, Post, from_nth_digit_from_end

SEED = 20261130
LOCALES: dict[str, tuple[str, str]] = {  # locale -> (language, country)
    "de_DE": ("de", "DE"),
    "de_AT": ("de", "AT"),
    "de_CH": ("de", "CH"),
    "en_GB": ("en", "GB"),
    "en_US": ("en", "US"),
}
KINDS = ("phone", "iban", "email", "customer_number", "address", "birthdate", "card")


# ---------------------------------------------------------------------------------------------- values

_DE_MONTHS = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()
_EN_MONTHS = "January February March April May June July August September October November December".split()
_DE_ORDINALS = (
    "ersten zweiten dritten vierten fünften sechsten siebten achten neunten zehnten elften zwölften dreizehnten "
    "vierzehnten fünfzehnten sechzehnten siebzehnten achtzehnten neunzehnten zwanzigsten einundzwanzigsten "
    "zweiundzwanzigsten dreiundzwanzigsten vierundzwanzigsten fünfundzwanzigsten sechsundzwanzigsten "
    "siebenundzwanzigsten achtundzwanzigsten neunundzwanzigsten dreißigsten einunddreißigsten"
).split()
_EN_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth twenty-first twenty-second twenty-third "
    "twenty-fourth twenty-fifth twenty-sixth twenty-seventh twenty-eighth twenty-ninth thirtieth thirty-first"
).split()
_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_SERVICE = {PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST,
            PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL}


def _en_ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


class Values:
    """Personal data values for one locale, each with the secret part to check after redaction."""

    def __init__(self, fake: Faker, rng: random.Random, locale: str, typing: random.Random | None = None) -> None:
        self.fake, self.rng, self.locale = fake, rng, locale
        self.lang, self.country = LOCALES[locale]
        # how the customer types a value (separators, case, full-width characters): its own random stream,
        # so the values and sentences drawn from ``rng`` stay those of the set before these styles existed
        self.typing = typing or random.Random(0)

    def phone(self) -> tuple[str, str]:
        for _ in range(200):
            value = self.fake.phone_number().split("x")[0].strip()
            try:
                number = phonenumbers.parse(value, self.country)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) not in _SERVICE:
                if self.rng.random() < 0.3:  # also the way people type their own number
                    style = self.rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL,
                                             phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                                             phonenumbers.PhoneNumberFormat.E164])
                    value = phonenumbers.format_number(number, style)
                value = self._typed_number(value)
                return value, from_nth_digit_from_end(value, 6)
        raise RuntimeError("no valid phone number from Faker")

    def _typed_number(self, value: str) -> str:
        """Groups joined with an en dash or dots, or digits typed full-width, as some people do."""
        style = self.typing.random()
        if style < 0.06 and " " in value:
            head, _, rest = value.partition(" ")
            return f"{head}{self.typing.choice(['–', ' – '])}{rest}"
        if style < 0.1 and value.count(" ") in (1, 2) and not value.startswith("+"):
            return value.replace(" ", ".")
        if style < 0.13:
            return value.translate(_FULL_WIDTH_DIGITS)
        return value

    def email(self) -> tuple[str, str]:
        fake, rng = self.fake, self.rng
        local = rng.choice([
            lambda: fake.user_name(),
            lambda: f"{fake.first_name()}.{fake.last_name()}".lower().replace(" ", ""),
            lambda: f"{fake.first_name()}{rng.randint(1, 99)}".lower(),
            lambda: f"{fake.last_name()}_{fake.first_name()[0]}".lower().replace(" ", ""),
        ])()
        domain = rng.choice([fake.free_email_domain(), fake.domain_name(), fake.free_email_domain()])
        style = rng.random()
        if style < 0.55:
            typed = self.typing.random()
            if typed < 0.08:
                return f"{local} at {domain}", local
            if typed < 0.13:
                return f"{local} @ {domain.replace('.', ' . ')}", local
            if typed < 0.16:
                return f"{local}＠{domain}", local
            return f"{local}@{domain}", local
        name, _, tld = domain.rpartition(".")
        if style < 0.7:
            return f"{local}[at]{domain}", local
        if style < 0.8:
            return f"{local} (at) {name} (dot) {tld}", local
        if style < 0.88:
            return f"{local} at {name} dot {tld}", local
        if style < 0.94:
            return f"{local} [at] {name} [dot] {tld}", local
        return f"{local}(at){domain}", local

    def iban(self) -> tuple[str, str]:
        compact = self.fake.iban()
        groups = [compact[i : i + 4] for i in range(0, len(compact), 4)]
        style = self.rng.randrange(7)
        if style == 0:
            value = compact
        elif style == 1:
            value = " ".join(groups)
        elif style == 2:
            value = f"{compact[:2]} {compact[2:4]} " + " ".join(compact[i : i + 4] for i in range(4, len(compact), 4))
        elif style == 3:
            value = "-".join(groups)
        elif style == 4:
            value = ".".join(groups)
        elif style == 5:
            value = "\u00a0".join(groups)
        else:
            value = " ".join(groups).lower()
        if style in (1, 2) and self.typing.random() < 0.3:  # a narrow no-break space, doubled spaces, " / "
            value = value.replace(" ", self.typing.choice(["\u202f", "  ", " / "]))
        return value, value[-10:]

    def card(self) -> tuple[str, str]:
        digits = self.fake.credit_card_number()
        style = self.rng.randrange(3)
        if style == 0 or len(digits) not in (15, 16):
            value = digits
        elif len(digits) == 16:
            sep = " " if style == 1 else "-"
            if self.typing.random() < 0.4:
                sep = self.typing.choice([".", "\u00a0", "\u202f", "  ", "/", "\n", " - "])
            value = sep.join(digits[i : i + 4] for i in range(0, 16, 4))
        else:
            value = f"{digits[:4]} {digits[4:10]} {digits[10:]}"
        return value, value[-9:]

    def customer_number(self) -> str:
        rng = self.rng
        digits = str(rng.randint(10**5, 10**11 - 1))
        style = rng.random()
        if style < 0.6:
            return digits
        if style < 0.8 and len(digits) >= 9:
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
        return f"{self.fake.random_uppercase_letter()}{self.fake.random_uppercase_letter()}-{digits}"

    def street_line(self) -> str:
        # Faker also numbers houses "0", "0/7" or "094": no such house exists, so those are drawn again.
        for _ in range(100):
            line = self.fake.street_address().replace("\n", ", ")
            if not re.search(r"(?<![0-9])0", line):
                return line
        raise RuntimeError("no street line with a plausible house number from Faker")

    def address(self) -> tuple[str, str]:
        """(full address, street line)."""
        full, street = self._address()
        typed = self.typing.random()
        if typed < 0.08:  # the street in lower case in a post with capitals
            return full.replace(street, street.lower()), street.lower()
        if typed < 0.13:  # shouted
            return full.upper(), street.upper()
        return full, street

    def _address(self) -> tuple[str, str]:
        fake, rng = self.fake, self.rng
        street = self.street_line()
        if self.country == "US":
            tail = f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}"
            return rng.choice([f"{street}, {tail}", street, f"{street} {tail}"]), street
        if self.country == "GB":
            tail = rng.choice([f"{fake.city()} {fake.postcode()}", f"{fake.city()}, {fake.postcode()}"])
            return rng.choice([f"{street}, {tail}", street, f"{street}, {fake.city()}"]), street
        tail = f"{fake.postcode()} {fake.city()}"
        return rng.choice([f"{street}, {tail}", f"{street} in {tail}", street, f"{street}, {fake.city()}",
                           f"{tail}, {street}"]), street

    def birthdate(self) -> str:
        born: date = self.fake.date_of_birth(minimum_age=18, maximum_age=90)
        rng = self.rng
        if self.lang == "de":
            month = _DE_MONTHS[born.month - 1]
            return rng.choice([
                born.strftime("%d.%m.%Y"), f"{born.day}.{born.month}.{born.year}", f"{born.day}. {month} {born.year}",
                f"{born.day}.{month} {born.year}", f"{_DE_ORDINALS[born.day - 1]} {month} {born.year}",
                born.strftime("%d.%m.%y"), born.isoformat(),
            ])
        month = _EN_MONTHS[born.month - 1]
        typed = self.typing.random()
        if typed < 0.08:  # the US order with dashes, the year first with slashes
            return born.strftime("%m-%d-%Y") if self.country == "US" else born.strftime("%Y/%m/%d")
        if typed < 0.14:
            return f"{_EN_ORDINAL_WORDS[born.day - 1]} of {month} {born.year}"
        local = born.strftime("%m/%d/%Y") if self.country == "US" else born.strftime("%d/%m/%Y")
        return rng.choice([
            local, f"{month} {born.day}, {born.year}", f"{born.day} {month} {born.year}",
            f"{_en_ordinal(born.day)} of {month} {born.year}", born.isoformat(), f"{month[:3]} {born.day} {born.year}",
        ])


# ------------------------------------------------------------------------------------- post templates
# Each template is a function of (values, rng) returning (text, labels). Written as a customer would write
# to a telco's care account; "{h}" is the brand's handle.

Template = Callable[["Values", random.Random, str], tuple[str, list[Label]]]


def _one(kind: str, make: Callable[[Values], tuple[str, str]], sentences: list[str]) -> Template:
    def template(values: Values, rng: random.Random, handle: str) -> tuple[str, list[Label]]:
        value, secret = make(values)
        return rng.choice(sentences).format(h=handle, v=value), [Label(kind, value, secret)]

    return template


def _same(make: Callable[[Values], str]) -> Callable[[Values], tuple[str, str]]:
    def both(values: Values) -> tuple[str, str]:
        value = make(values)
        return value, value

    return both


DE_PHONE = [
    "{h} Ruft mich bitte zurück unter {v}, ich bin den ganzen Tag erreichbar",
    "{h} meine Festnetznummer {v} ist seit Montag tot. Kein Freizeichen!!",
    "Hallo {h}, der Techniker soll sich vorher unter {v} melden. Danke",
    "{h} erreicht mich besser auf dem Handy: {v}",
    "{h} {v} geht nicht mehr, nur Besetztzeichen. Was ist da los?",
    "{h} Rückruf bitte an {v} – ab 17 Uhr",
    "seit gestern kann ich von {v} aus nicht telefonieren {h}",
    "{h} mein Anschluss ({v}) hat schon wieder Störung",
    "{h} Bin unter {v} zu erreichen. Seit 3 Tagen kein Internet",
    "{h} nummer {v} 5G geht nicht obwohl der tarif das hat",
    "{h} Tel. {v}, bitte um Rückruf wegen der Rechnung",
    "{h} ich hab die {v} – wieso kommen keine SMS an?",
    "{h} Portierung meiner alten Nummer {v} hängt seit 2 Wochen",
    "{h} bitte an {v} anrufen, nicht an die alte Nummer",
    "{h} die nummer {v} 50 Mbit gebucht, 8 kommen an",
    "{h} Handy: {v} (ab 18 Uhr)",
    "{h} WhatsApp geht auch: {v}",
    "{h} tel.: {v} oder per DM",
    "{h} unter der {v} bin ich tagsüber erreichbar",
    "{h} {v} (mobil) – Rückruf wäre super",
    "{h} Festnetz [{v}] seit KW 12 tot",
    "Moin {h}!\nSeit Dienstag geht bei uns gar nix mehr 🙄 Ihr könnt mich gern anrufen ({v}), bin ab 16:30 daheim.",
    "{h} 3. Versuch heute: Rückrufbitte an {v}!!! 2 Std. Warteschleife reichen",
    "{h} „Rückruf erfolgt in 48h“ – ja ne. Nummer nochmal: {v}",
]
EN_PHONE = [
    "{h} please call me back on {v}, I'm home all day",
    "{h} my landline {v} has been dead since Monday. No dial tone!",
    "Hi {h}, the engineer should ring {v} before coming round",
    "{h} best to reach me on my mobile: {v}",
    "{h} {v} just gives an engaged tone. What's going on?",
    "{h} can someone call {v} after 5pm please",
    "since yesterday I can't make calls from {v} {h}",
    "{h} my line ({v}) is down again",
    "{h} you can reach me at {v}. No internet for 3 days now",
    "{h} number {v} 5G not working even though my plan includes it",
    "{h} tel {v}, please call back about my bill",
    "{h} porting my old number {v} has been stuck for two weeks",
    "{h} text me on {v} when the engineer is on the way",
    "{h} mob: {v} (after 6pm)",
    "{h} my number's {v}, landline is dead anyway",
    "{h} whatsapp me at {v} or dm",
    "{h} landline [{v}] down since Tuesday",
    "Hi {h}!\nNo broadband since Tuesday 🙄 feel free to call me ({v}), home from 4:30pm.",
    "{h} 3rd attempt today: call back on {v}!!! 2 hrs on hold is enough",
]
DE_EMAIL = [
    "{h} Schickt die Rechnung bitte an {v}, die alte Adresse gibt es nicht mehr",
    "{h} meine Mailadresse ist {v} – da kommt nichts an",
    "Hallo {h}, antwortet mir bitte per Mail: {v}",
    "{h} seit dem Update kann ich {v} nicht mehr abrufen",
    "{h} Passwort für {v} zurücksetzen geht nicht!!",
    "{h} erreichbar unter {v}, bitte melden",
    "{h} kontakt: {v} (bitte keine anrufe)",
    "{h} mein Login {v} wird gesperrt, warum?",
    "{h} E-Mail: <{v}>; bitte dorthin antworten",
    "{h} mail an {v}.",
]
EN_EMAIL = [
    "{h} please send the invoice to {v}, the old address is gone",
    "{h} my email is {v} and nothing arrives there",
    "Hi {h}, reply by email please: {v}",
    "{h} since the update I can't get mail on {v}",
    "{h} password reset for {v} doesn't work!!",
    "{h} contact me at {v}, thanks",
    "{h} my login {v} keeps getting locked, why?",
    "{h} email: <{v}>; reply there please",
]
DE_IBAN = [
    "{h} Bitte den Betrag zurück auf mein Konto {v} überweisen",
    "{h} ihr bucht von der falschen IBAN ab! Richtig ist {v}",
    "{h} neue Bankverbindung: {v}, bitte ab sofort verwenden",
    "{h} Lastschrift von {v} ist doppelt abgegangen",
    "{h} IBAN {v} – warum wurde zweimal abgebucht?",
    "{h} Erstattung bitte an {v}. Danke",
    "{h} IBAN:{v} – Gutschrift fehlt",
]
EN_IBAN = [
    "{h} please refund the amount to my account {v}",
    "{h} you're charging the wrong account! It should be {v}",
    "{h} new bank details: {v}, please use from now on",
    "{h} the direct debit from {v} was taken twice",
    "{h} IBAN {v} - why was I charged twice?",
]
DE_CARD = [
    "{h} Kreditkarte {v} wurde zweimal belastet, was soll das",
    "{h} habe mit der Karte {v} bezahlt, Bestellung nicht da",
    "{h} die Zahlung mit {v} wurde abgelehnt, Karte ist aber gedeckt",
    "{h} Visa {v} läuft ab, wie ändere ich das im Kundencenter?",
    "{h} Kartennummer {v} wurde gesperrt, Abbuchung trotzdem",
]
EN_CARD = [
    "{h} my credit card {v} was charged twice, what is this",
    "{h} paid with card {v} and the order never came",
    "{h} the payment with {v} was declined but the card is fine",
    "{h} card number {v} expires soon, how do I update it?",
]
DE_CUSTOMER_BEFORE = [
    "{h} Kundennummer {v}, seit 2 Wochen falsche Rechnung",
    "{h} meine Kundennummer ist die {v}, bitte schaut mal rein",
    "{h} Kd.-Nr. {v} – warum wurde der Tarif geändert?",
    "{h} Vertragsnummer: {v}. Kündigung bestätigt, trotzdem abgebucht",
    "{h} Meine Vertragsnummer lautet {v}, wann kommt der Techniker?",
    "{h} Kundennr {v} bitte prüfen, Rechnung ist doppelt",
    "{h} Kundennummer ist {v} und keiner ruft zurück",
    "{h} Kundennr.:{v} – Gutschrift fehlt",
    "{h} Vertragskonto {v}, doppelte Abbuchung",
    "{h} Kundenkonto-Nr. {v} bitte prüfen",
]
DE_CUSTOMER_ASIDE = [
    "{h} Kundennummer (steht oben auf der Rechnung): {v}, bitte prüfen",
    "{h} meine Kundennummer bei euch ist {v}, seit Wochen keine Antwort",
    "{h} {v} – das ist meine Kundennummer. Warum die Mahnung?",
    "{h} Vertrag Nr. {v}, Kündigung nicht bestätigt",
    "{h} die Kundennummer lautet: {v}",
]
EN_CUSTOMER_ASIDE = [
    "{h} account number (top of the bill): {v}, please check",
    "{h} my account number with you is {v}, no reply for weeks",
    "{h} {v} - that's my account number. Why the reminder?",
]
DE_PHONE_PAIR = [
    "{h} Festnetz {v} {w} – beide ohne Freizeichen",
    "{h} erreichbar unter {v} / {w}",
    "{h} Nummern: {v} {w}, bitte zurückrufen",
]
EN_PHONE_PAIR = [
    "{h} landline {v} {w} both dead",
    "{h} reach me on {v} / {w}",
]
DE_CUSTOMER_AFTER = [
    "{h} {v} = meine Vertragsnummer. Warum 20 € mehr?",
    "{h} {v} ist meine Kundennummer, bitte melden",
    "{h} Es geht um {v} (Kundennummer), Router kam nie an",
]
EN_CUSTOMER_BEFORE = [
    "{h} account number {v}, wrong bill for the second month",
    "{h} my customer number is {v}, please have a look",
    "{h} customer ID {v} - why did my plan change?",
    "{h} contract number: {v}. Cancelled and still charged",
    "{h} account no. {v} please check, double charge",
    "{h} acct {v} - bill doubled",
    "{h} customer no {v}, still no engineer",
]
EN_CUSTOMER_AFTER = [
    "{h} {v} (account number) still no refund",
    "{h} {v} is my account number, please get back to me",
    "{h} it's about {v} (customer number), router never arrived",
]
DE_ADDRESS = [
    "{h} Ich wohne {v} und habe seit Freitag kein Netz",
    "{h} Adresse: {v}. Techniker ist nicht gekommen",
    "{h} Der Router sollte an {v} geliefert werden, kam nie an",
    "{h} Anschluss {v} ist seit 3 Tagen tot",
    "{h} Umzug nach {v} – wann wird der Anschluss geschaltet?",
    "{h} neue Anschrift {v}, bitte im Vertrag ändern",
    "{h} bei uns in der {v} geht gar nichts mehr",
    "{h} Lieferadresse {v} stimmt nicht, bitte ändern",
    "{h} Glasfaser für {v} bestellt, seit Wochen nichts passiert",
    "{h} Techniker bitte zu {v}, Hinterhaus",
    "{h} Meine Adresse lautet {v}",
    "Hallo {h}, Paket mit Router ging an {v} – da wohn ich seit 2 Jahren nicht mehr!!",
]
EN_ADDRESS = [
    "{h} I live at {v} and have had no signal since Friday",
    "{h} address: {v}. The engineer never showed up",
    "{h} the router was meant to be delivered to {v}, never came",
    "{h} line at {v} has been dead for 3 days",
    "{h} moving to {v} - when will the line be switched on?",
    "{h} new address {v}, please update my contract",
    "{h} delivery address {v} is wrong, please change it",
    "{h} ordered fibre for {v}, nothing happened for weeks",
    "{h} my address is {v}",
    "{h} please send the engineer to {v}",
    "Hi {h}, the router parcel went to {v} - I haven't lived there for 2 years!!",
]
DE_BIRTHDATE = [
    "{h} Im Kundencenter steht geb. {v}, das ist falsch",
    "{h} geboren am {v}, und trotzdem will die Hotline noch mehr Daten",
    "{h} Geburtsdatum: {v} – Identifizierung klappt nicht",
    "{h} Max Beispiel, *{v}, Vertrag bitte auf mich umschreiben",
    "{h} bin am {v} geboren, warum heißt es ich sei minderjährig?",
    "{h} Geb.-Datum {v} wird im Portal nicht akzeptiert",
    "{h} Geburtstag: {v}, Identifizierung schlägt fehl",
    "{h} geb. am {v}, bitte korrigieren",
    "Ident-Check klappt nicht, im Ausweis steht {v} als Geburtsdatum. {h}",
]
EN_BIRTHDATE = [
    "{h} my account says DOB {v}, that's wrong",
    "{h} date of birth: {v} - ID check keeps failing",
    "{h} I was born on {v}, why does the app say I'm underage?",
    "{h} born {v}, please move the contract to my name",
    "{h} my birthday is {v} and the verification still fails",
    "ID check fails, my passport says {v} as date of birth. {h}",
]


def _customer(sentences: list[str], asides: list[str]) -> Template:
    """Mostly one of ``sentences``; sometimes words or an aside between label and number."""
    plain = _one("customer_number", _same(Values.customer_number), sentences)
    with_aside = _one("customer_number", _same(Values.customer_number), asides)

    def template(values: Values, rng: random.Random, handle: str) -> tuple[str, list[Label]]:
        return (with_aside if values.typing.random() < 0.15 else plain)(values, rng, handle)

    return template


def _phone(sentences: list[str], pairs: list[str]) -> Template:
    """Mostly one number; sometimes two in a row (landline and mobile, or the same written twice)."""
    single = _one("phone", Values.phone, sentences)

    def template(values: Values, rng: random.Random, handle: str) -> tuple[str, list[Label]]:
        if values.typing.random() >= 0.1:
            return single(values, rng, handle)
        (first, first_secret), (second, second_secret) = values.phone(), values.phone()
        text = values.typing.choice(pairs).format(h=handle, v=first, w=second)
        return text, [Label("phone", first, first_secret), Label("phone", second, second_secret)]

    return template


def _address(sentences: list[str]) -> Template:
    def template(values: Values, rng: random.Random, handle: str) -> tuple[str, list[Label]]:
        full, street = values.address()
        return rng.choice(sentences).format(h=handle, v=full), [Label("address", full, street)]

    return template


TEMPLATES: dict[str, dict[str, list[Template]]] = {
    "de": {
        "phone": [_phone(DE_PHONE, DE_PHONE_PAIR)],
        "email": [_one("email", Values.email, DE_EMAIL)],
        "iban": [_one("iban", Values.iban, DE_IBAN)],
        "card": [_one("card", Values.card, DE_CARD)],
        "customer_number": [_customer(DE_CUSTOMER_BEFORE, DE_CUSTOMER_ASIDE),
                            _customer(DE_CUSTOMER_AFTER, DE_CUSTOMER_ASIDE)],
        "address": [_address(DE_ADDRESS)],
        "birthdate": [_one("birthdate", _same(Values.birthdate), DE_BIRTHDATE)],
    },
    "en": {
        "phone": [_phone(EN_PHONE, EN_PHONE_PAIR)],
        "email": [_one("email", Values.email, EN_EMAIL)],
        "iban": [_one("iban", Values.iban, EN_IBAN)],
        "card": [_one("card", Values.card, EN_CARD)],
        "customer_number": [_customer(EN_CUSTOMER_BEFORE, EN_CUSTOMER_ASIDE),
                            _customer(EN_CUSTOMER_AFTER, EN_CUSTOMER_ASIDE)],
        "address": [_address(EN_ADDRESS)],
        "birthdate": [_one("birthdate", _same(Values.birthdate), EN_BIRTHDATE)],
    },
}
# How often each kind is drawn (care traffic has more phone numbers than card numbers).
WEIGHTS = {"phone": 5, "email": 3, "customer_number": 4, "address": 4, "iban": 2, "birthdate": 2, "card": 1}

DE_FILLERS = [
    " Seit dem {d} um {t} Uhr geht nichts.", " Zahle {p} € im Monat für {m} Mbit/s.", " 😡", "",
    " Ticket #{ticket} läuft seit einer Woche.", " Nochmal: {v}!", " Danke!", " Router schon {n}x neu gestartet.",
]
EN_FILLERS = [
    " Down since {d} at {t}.", " Paying £{p} a month for {m} Mbps.", " 😡", "", " Ticket #{ticket} still open.",
    " Again: {v}!", " Thanks!", " Restarted the router {n} times.",
]


# ------------------------------------------------------------------------------------- hard negatives


def _negatives_de(fake: Faker, rng: random.Random, brand: BrandData) -> list[str]:
    h = brand.handle
    d = fake.date_between(start_date=date(2019, 1, 1), end_date=date(2026, 12, 31))
    d2 = fake.date_between(start_date=d, end_date=date(2026, 12, 31))
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    count = rng.randint(10_000, 99_999)
    ticket = rng.randint(10 ** (brand.ticket_example_digits - 1), 10**brand.ticket_example_digits - 1)
    postcode, city = fake.postcode(), fake.city()
    street_name = fake.street_name()
    price = f"{rng.randint(9, 99)},{rng.randint(0, 99):02d}"
    firmware = f"{rng.randint(10000, 99999):06d}.{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(100, 999)}"
    own_phone = _variant_of(brand.phone_numbers, rng)
    own_address = rng.choice(brand.addresses) if brand.addresses else ""
    own_domain = rng.choice(brand.email_domains) if brand.email_domains else "example.com"
    choices = [
        f"{h} in {postcode} {city} ist seit {hour:02d}:{minute:02d} Uhr Störung. Bekannt?",
        f"{h} Ganz {postcode} {city} ohne Internet, wann geht es wieder?",
        f"{h} {count} Störungsmeldungen auf allestörungen und ihr sagt nichts?",
        f"{h} Störung vom {d:%d.%m.%Y} {hour:02d}:{minute:02d} Uhr immer noch nicht behoben",
        f"{h} Rechnung vom {d:%d.%m.%Y} – {price} € statt wie vereinbart weniger",
        f"{h} Techniker-Termin {d:%d.%m.}–{d2:%d.%m.%Y}, bitte bestätigen",
        f"{h} Baustelle KW {rng.randint(1, 52)}/{d.year} angekündigt, Leitung seit KW {rng.randint(1, 52)} tot",
        f"{h} Speedport Firmware {firmware} – seitdem ständig Abbrüche",
        f"{h} MagentaTV: Programmplatz {rng.randint(100, 399)} zeigt nur schwarzes Bild",
        f"{h} Testsieger-Platz {rng.randint(1, 3)} im Netztest und bei mir kein Empfang 😂",
        f"{h} Frankfurter Allee 5G? Fehlanzeige, nur Edge",
        f"{h} Eure Hotline {own_phone} hängt mich nach {rng.randint(20, 59)} Minuten einfach ab",
        f"{h} Zentrale {own_phone} verbindet nur weiter ins Nichts",
        f"{h} Habe schon an eure Zentrale in der {own_address} geschrieben",
        f"{h} Brief an {own_address} kam zurück?!",
        f"{h} Die Mail von service@{own_domain} ist echt oder Phishing?",
        f"{h} Ticketnummer {ticket} – seit {rng.randint(2, 9)} Tagen keine Antwort",
        f"{h} Ticket-Nr. {ticket}: Techniker kam nicht",
        f"{h} Ticket {ticket} wurde einfach geschlossen",
        f"{h} In der {street_name} ist seit gestern alles tot, ganze Straße betroffen",
        f"{h} {rng.randint(2, 9)}x angerufen, {rng.randint(40, 120)} Min Warteschleife, {price} € für nix",
        f"{h} {rng.randint(16, 250)} Mbit/s gebucht, {rng.randint(1, 15)},{rng.randint(1, 9)} Mbit/s kommen an",
        f"{h} Router-IP 192.168.{rng.randint(0, 9)}.1 nicht erreichbar",
        f"{h} seit {d.year} Kunde, {rng.randint(2, 9)} Verträge, so ein Chaos hatte ich noch nie",
        f"{h} Über {count} Haushalte in {city} ohne Festnetz laut Störungskarte",
        f"{h} Sync nur {rng.randint(50, 100)}/{rng.randint(10, 40)} statt 250/40, Leitung {rng.randint(400, 900)} m lang",
        f"{h} Auftrag vom {d:%d.%m.} um {hour}:{minute:02d} Uhr storniert, warum?",
        f"{h} Fritzbox {rng.choice(['7590', '7530', '6660', '5590'])} AX am Glasfaser-Modem, kein Sync seit {d:%d.%m.%Y}",
        f"{h} iPhone {rng.randint(11, 16)} zeigt {rng.randint(1, 4)} Balken, aber nix lädt",
        f"{h} Datenvolumen {rng.randint(5, 50)} GB schon am {rng.randint(2, 20)}. leer??",
        f"{h} Vom {d:%d.%m.} bis {d2:%d.%m.%Y} {rng.randint(3, 12)} Ausfälle, Gutschrift?",
        f"{h} Mast in {postcode} {city} abgebaut? Seit {d:%d.%m.} kein LTE mehr",
        f"{h} Ab {d:%d.%m.%Y} soll der Tarif {rng.randint(2, 9)} € teurer werden, Vertrag seit {d.year - rng.randint(1, 15)}",
        f"{h} Bestellung {d:%Y-%m-%d} bestätigt, Lieferung {d2:%Y-%m-%d} angekündigt, nichts da",
        f"{h} Glasfaserausbau in {city}: {count} Anschlüsse bis {d.year + 1}?",
        f"{h} {rng.randint(1, 9)}.{rng.randint(100, 999)} Haushalte betroffen, Schaden {rng.randint(1, 9)}.{rng.randint(100, 999)},{rng.randint(10, 99)} €",
        f"{h} Warteschleife {rng.randint(10, 59)}:{rng.randint(10, 59)} Minuten, dann aufgelegt",
        f"{h} Kunde {d.year - rng.randint(5, 20)}–{d.year}, jetzt reicht's",
        f"{h} Techniker kommt {rng.randint(7, 10)}:00-{rng.randint(12, 16)}:00 Uhr, ich muss arbeiten",
        f"{h} siehe https://www.{own_domain}/hilfe/{rng.randint(10000, 99999)} – hilft nicht",
        f"{h} Vorwahl 0{rng.randint(20, 99)}{rng.randint(0, 9)} komplett gestört?",
        f"{h} #Störung{d.year} #Telekomfail seit {rng.randint(2, 9)} Tagen",
        f"{h} Vertragslaufzeit {rng.choice([12, 24])} Monate, Kündigung zum {d:%d.%m.%Y} bestätigt?",
        f"{h} Speedtest: {rng.randint(1, 9)},{rng.randint(0, 9)} Mbit/s down, {rng.randint(100, 999)} ms Ping, {rng.randint(1, 30)} % Paketverlust",
        f"{h} Router neu gestartet um {hour:02d}.{minute:02d} Uhr, seitdem {rng.randint(2, 9)} Abbrüche",
    ]
    return rng.sample(choices, 3)


def _negatives_en(fake: Faker, rng: random.Random, brand: BrandData, country: str) -> list[str]:
    h = brand.handle
    d = fake.date_between(start_date=date(2019, 1, 1), end_date=date(2026, 12, 31))
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    count = rng.randint(10_000, 99_999)
    ticket = rng.randint(10 ** (brand.ticket_example_digits - 1), 10**brand.ticket_example_digits - 1)
    place = f"{fake.city()} {fake.postcode()}" if country == "GB" else f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}"
    local_date = d.strftime("%m/%d/%Y") if country == "US" else d.strftime("%d/%m/%Y")
    own_phone = _variant_of(brand.phone_numbers, rng)
    own_domain = rng.choice(brand.email_domains) if brand.email_domains else "example.com"
    choices = [
        f"{h} outage in {place} since {hour:02d}:{minute:02d}, any news?",
        f"{h} {count} reports on downdetector and not a word from you?",
        f"{h} bill from {local_date} says {rng.randint(20, 99)}.{rng.randint(0, 99):02d} instead of the agreed price",
        f"{h} engineer booked for {d:%d %B %Y} between {rng.randint(8, 11)} and {rng.randint(12, 18)}, nobody came",
        f"{h} firmware {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)} broke my router",
        f"{h} your hotline {own_phone} hung up on me after {rng.randint(20, 59)} minutes",
        f"{h} is the email from billing@{own_domain} real or phishing?",
        f"{h} ticket number {ticket} - still no answer after {rng.randint(2, 9)} days",
        f"{h} ticket #{ticket} closed without a fix",
        f"{h} paying {rng.randint(20, 80)} a month for {rng.randint(100, 1000)} Mbps and getting {rng.randint(1, 30)}",
        f"{h} customer since {d.year}, {rng.randint(2, 5)} lines, never seen it this bad",
        f"{h} week {rng.randint(1, 52)} of {d.year} and still no fibre",
        f"{h} iPhone {rng.randint(11, 16)} shows {rng.randint(1, 4)} bars but nothing loads",
        f"{h} the whole of {fake.city()} has been offline since {d:%B %d}",
        f"{h} router IP 192.168.{rng.randint(0, 9)}.1 not reachable",
        f"{h} roaming charged {rng.randint(2, 9)}.99 per MB, {rng.randint(100, 900)} MB in {rng.randint(2, 6)} days",
        f"{h} order from {d.isoformat()} still not shipped",
        f"{h} {rng.randint(1, 9)},{rng.randint(100, 999)} homes affected and {rng.randint(2, 9)} hours of silence",
        f"{h} engineer slot {rng.randint(8, 11)}am-{rng.randint(1, 5)}pm on {d:%d/%m}, nobody came",
        f"{h} see https://www.{own_domain}/help/{rng.randint(10000, 99999)} - useless",
        f"{h} customer {d.year - rng.randint(5, 20)}-{d.year}, never again",
        f"{h} on hold for {rng.randint(10, 59)}:{rng.randint(10, 59)} then cut off",
        f"{h} speedtest {rng.randint(1, 9)}.{rng.randint(0, 9)} Mbps down, {rng.randint(100, 999)} ms ping",
        f"{h} 24 month contract, {rng.randint(2, 9)} outages in {rng.randint(2, 11)} months",
    ]
    return rng.sample(choices, 3)


def _ordinary_words(rng: random.Random, lang: str, handle: str) -> str:
    """Hard negatives of the second kind: words that end like street types, years after a street word, road
    classes, device numbers that pass the Luhn check, "at" before a web address."""
    n, year = rng.randint(2, 60), rng.randint(2019, 2027)
    imei = _luhn_completed(f"35{rng.randint(10**11, 10**12 - 1)}")
    if lang == "de":
        return rng.choice([
            f"{handle} Der Weg zur Glasfaser {year} ist noch weit",
            f"{handle} Bundesstraße {n} gesperrt, Mast umgefallen?",
            f"{handle} Landesstraße {n} ohne Netz, seit Tagen",
            f"{handle} IMEI {imei} gesperrt, Handy geht nicht mehr",
            f"{handle} Seriennummer {imei} – Router tauschen?",
            f"{handle} Auf der Rechnung {n} Posten doppelt",
            f"{handle} In der Warteschleife {n} Minuten gehangen",
        ])
    return rng.choice([
        f"{handle} bought the {rng.choice([7, 14, 30])} Day Travel Pass and no data",
        f"{handle} where are my {n * 100} Bonus Points",
        f"{handle} the {year} Price Rise is a joke",
        f"{handle} {n} Mobile Broadband Center told me to call you",
        f"{handle} IMEI {imei} blocked after the update",
        f"{handle} look at downdetector.co.uk, {n * 10} reports",
    ])


def _luhn_completed(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


def _variant_of(numbers: tuple[str, ...], rng: random.Random) -> str:
    """One of the brand's numbers, written the way a customer might copy it."""
    if not numbers:
        return "0800 000000"
    number = phonenumbers.parse(rng.choice(numbers), "DE")
    style = rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                        phonenumbers.PhoneNumberFormat.E164])
    text = phonenumbers.format_number(number, style)
    return text.replace(" ", rng.choice([" ", " ", "/", "-"]), 1) if style != phonenumbers.PhoneNumberFormat.E164 else text


# ---------------------------------------------------------------------------------------------- build


def build(brand: BrandData, *, seed: int = SEED, pii_per_locale: int = 130, negatives_per_locale: int = 100) -> list[Post]:
    """The evaluation set: about 650 posts with personal data and 600 hard negatives."""
    posts: list[Post] = []
    kinds = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
    for index, (locale, (lang, country)) in enumerate(LOCALES.items()):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        rng = random.Random(seed * 31 + index)
        typing = random.Random(seed * 97 + index)
        values = Values(fake, rng, locale, typing)
        for _ in range(pii_per_locale):
            chosen = [rng.choice(kinds)]
            if rng.random() < 0.25:
                chosen.append(rng.choice([k for k in kinds if k != chosen[0]]))
            text, labels = "", []
            for kind in chosen:
                piece, piece_labels = rng.choice(TEMPLATES[lang][kind])(values, rng, brand.handle if not text else "")
                text = f"{text} {piece.strip()}".strip() if text else piece
                labels += piece_labels
            filler = rng.choice(DE_FILLERS if lang == "de" else EN_FILLERS)
            text += filler.format(
                d=fake.date_between(start_date=date(2024, 1, 1), end_date=date(2026, 12, 31)).strftime(
                    "%d.%m.%Y" if lang == "de" else "%d %b"),
                t=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", p=f"{rng.randint(20, 80)}",
                m=rng.choice([50, 100, 250]), n=rng.randint(2, 9), v=labels[0].value,
                ticket=rng.randint(10**7, 10**8 - 1),
            )
            if rng.random() < 0.08:  # some people never use capitals
                text = text.lower()
                labels = [Label(label.kind, label.value.lower(), label.secret.lower()) for label in labels]
            posts.append(Post(text, lang, locale, "pii", labels))
        for _ in range(negatives_per_locale):
            sentences = _negatives_de(fake, rng, brand) if lang == "de" else _negatives_en(fake, rng, brand, country)
            text = sentences[0] if rng.random() < 0.6 else f"{sentences[0]} {sentences[1].removeprefix(brand.handle).strip()}"
            if typing.random() < 0.15:
                text = _ordinary_words(typing, lang, brand.handle)
            posts.append(Post(text, lang, locale, "negative"))
    return posts
