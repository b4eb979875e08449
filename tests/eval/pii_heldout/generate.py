"""A held-out evaluation set for hilft.core.pii: values from mimesis, posts written fresh for this file.

Why a second set: tests/eval/pii's generated set takes its values from Faker and its sentences from
templates the team wrote while the detector was being tuned on it, so its figures are an upper bound. This
set was built to be scored once *before* anyone looked at what the detector does with it (README, "Personal
data", gives that first figure and the figures after the fixes it led to, which are no longer held-out).

- Values come from a different outside generator, ``mimesis`` (locales de, de-at, de-ch, en-gb, en):
  phone numbers (``Person.telephone``), e-mail addresses (``Person.email``, and ``first_name``/``last_name``
  local parts), street lines, postcodes, cities and states (``Address``), card numbers
  (``Payment.credit_card_number``), birth dates (``Person.birthdate``), customer numbers
  (``Person.identifier`` masks), and for the hard negatives dates, prices, versions, counts. mimesis has no
  IBAN provider: an IBAN is the country's BBAN shape (ISO 13616 registry: DE 8+10 digits, AT 5+11, CH 5+12,
  GB 4 letters + 6 + 8) filled by mimesis, with the check digits computed here (mod 97) — not by stdnum,
  which the detector uses.
- The post templates were written for this file without reusing tests/eval/pii/generate.py's sentences and
  without looking at what the detector finds: informal, typos in the labels ("kundenummer", "gebohren",
  "emial"), all lower case, values in brackets, at the start or the end of a post, line breaks, emojis,
  German and English mixed (lang "mix").
- What is skipped, as in the first set: a phone value ``phonenumbers`` calls invalid, a service number or
  a number of another country (no such line belongs to a customer of the locale; mimesis fills masks at
  random, so about a third of its numbers cannot exist, and "(0037) 167234420" is Latvian), and street names
  mimesis takes from city registers that no household lives at (allotment colonies, underground stations,
  bridges, names with brackets or digits such as Berlin's "Fußweg 475" and "Straße 254").
- Hard negatives: outage posts with place names, postcodes and street names without house numbers, counts,
  prices, versions, appointment dates and times, tariff names, error codes and other numbers that are no
  order or customer numbers, and the brand's own hotline, address, domain and ticket numbers (from the
  policy under test).

Seeded: every run builds the same posts (for one mimesis version; pyproject pins the major version).
"""

from __future__ import annotations

import random
import re
from datetime import date

import phonenumbers
from mimesis import Address, Datetime, Development, Finance, Numeric, Payment, Person
from mimesis.enums import CardType
from mimesis.locales import Locale
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tests.eval.pii.scoring import BrandData, Label, Post, from_nth_digit_from_end

SEED = 424_242
LOCALES: dict[str, tuple[Locale, str, str]] = {  # name -> (mimesis locale, language, country)
    "de": (Locale.DE, "de", "DE"),
    "de-at": (Locale.DE_AT, "de", "AT"),
    "de-ch": (Locale.DE_CH, "de", "CH"),
    "en-gb": (Locale.EN_GB, "en", "GB"),
    "en": (Locale.EN, "en", "US"),
}
KINDS = ("phone", "iban", "email", "customer_number", "address", "birthdate", "card")
_SERVICE = {PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST,
            PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL}
# street names from city registers that no household lives at: allotment colonies, stations, bridges, and the
# numbered paths and planned streets of Berlin's register ("Fußweg 475", "Straße 254")
_NOT_RESIDENTIAL = re.compile(r"(?i)kolonie|u-bahn|s-bahn|station|brücke|steg\b|friedhof|bezirk|[(),0-9]")


# ---------------------------------------------------------------------------------------------- values

_FREEMAIL = {
    "DE": ["gmx.de", "web.de", "t-online.de", "posteo.de", "freenet.de", "gmail.com", "outlook.de"],
    "AT": ["gmx.at", "aon.at", "chello.at", "gmail.com", "a1.net"],
    "CH": ["bluewin.ch", "gmx.ch", "sunrise.ch", "gmail.com", "hispeed.ch"],
    "GB": ["btinternet.com", "hotmail.co.uk", "sky.com", "gmail.com", "yahoo.co.uk"],
    "US": ["gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com"],
}
_DE_MONTHS = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()
_EN_MONTHS = "January February March April May June July August September October November December".split()
# ISO 13616 BBAN shapes: (country, mimesis mask) — "#" a digit, "@" a capital letter
_BBAN = {"DE": "##################", "AT": "################", "CH": "#####" + "############",
         "GB": "@@@@" + "##############"}


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 7064 mod 97-10, written out here so the set does not lean on the detector's library."""
    rearranged = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return f"{98 - number % 97:02d}"


class Values:
    """One locale's personal data values, each with the secret part that must be gone after redaction."""

    def __init__(self, name: str, seed: int, rng: random.Random) -> None:
        locale, self.lang, self.country = LOCALES[name]
        self.person = Person(locale, seed=seed)
        self.address_provider = Address(locale, seed=seed + 1)
        self.payment = Payment(seed=seed + 2)
        self.numeric = Numeric(seed=seed + 3)
        self.rng = rng
        self.rejected_phones = 0

    def phone(self) -> tuple[str, str]:
        for _ in range(500):
            raw = self.person.telephone()
            try:
                number = phonenumbers.parse(raw, self.country)
            except phonenumbers.NumberParseException:
                self.rejected_phones += 1
                continue
            if (
                not phonenumbers.is_valid_number(number)
                or phonenumbers.number_type(number) in _SERVICE
                # mimesis' "(0037) 167234420" is a Latvian number, not the locale's: not how its people write theirs
                or number.country_code != phonenumbers.country_code_for_region(self.country)
            ):
                self.rejected_phones += 1
                continue
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            digits = re.sub(r"[^0-9]", "", national)
            style = self.rng.randrange(8)
            if style == 0:
                value = raw  # as mimesis wrote it
            elif style == 1:
                value = national
            elif style == 2:
                value = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
            elif style == 3:
                value = digits  # all in one
            elif style == 4 and self.country in ("DE", "AT", "CH"):
                area = len(re.split(r"[ )/-]", national.lstrip("("))[0])
                value = f"{digits[:area]}/{digits[area:]}"  # 0171/2345678
            elif style == 5:
                value = "00" + phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]
            elif style == 6 and self.country in ("DE", "AT"):
                e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
                cc = str(number.country_code)
                value = f"+{cc} (0){e164[1 + len(cc):]}"
            else:
                value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            return value, from_nth_digit_from_end(value, 6)
        raise RuntimeError("no valid phone number from mimesis")

    def email(self) -> tuple[str, str]:
        rng, person = self.rng, self.person
        style = rng.randrange(6)
        if style <= 1:
            address = person.email()  # mimesis' own: word + number at its domains
        elif style == 2:
            address = person.email(domains=_FREEMAIL[self.country])
        else:
            first, last = person.first_name(), person.last_name()
            local = rng.choice([f"{first}.{last}", f"{first[0]}.{last}", f"{last}{rng.randint(60, 99)}",
                                f"{first}_{last}", f"{first}{last}"]).replace(" ", "")
            if rng.random() < 0.7:
                local = local.lower()
            address = f"{local}@{rng.choice(_FREEMAIL[self.country])}"
        local, _, domain = address.partition("@")
        shape = rng.random()
        if shape < 0.7:
            return address, local
        name, _, tld = domain.rpartition(".")
        if shape < 0.78:
            return f"{local} @ {domain}", local
        if shape < 0.86:
            return f"{local}(at){name}.{tld}", local
        if shape < 0.93:
            return f"{local} at {name} punkt {tld}" if self.lang == "de" else f"{local} at {name} dot {tld}", local
        if rng.random() < 0.3:
            return address.upper(), local.upper()
        return f"<{address}>", local

    def iban(self) -> tuple[str, str]:
        country = self.country if self.country in _BBAN else "DE"  # a US customer of a German brand pays from DE
        bban = self.person.identifier(mask=_BBAN[country])
        compact = f"{country}{iban_check_digits(country, bban)}{bban}"
        grouped = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
        value = self.rng.choice([compact, grouped, grouped, grouped.lower(), compact.lower(), f"{compact[:4]} {compact[4:]}"])
        return value, value[-10:]

    def card(self) -> tuple[str, str]:
        kind = self.rng.choice([CardType.VISA, CardType.VISA, CardType.MASTER_CARD, CardType.AMERICAN_EXPRESS])
        spaced = self.payment.credit_card_number(kind)
        style = self.rng.randrange(3)
        value = spaced if style == 0 else spaced.replace(" ", "") if style == 1 else spaced.replace(" ", "-")
        return value, value[-9:]

    def customer_number(self) -> tuple[str, str]:
        mask = self.rng.choice(["##########", "#########", "########", "### ### ####", "@@-#######", "#######",
                                "##########", "## ### ### ##"])
        value = self.person.identifier(mask=mask)
        return value, value

    def _street_line(self) -> str:
        provider = self.address_provider
        for _ in range(200):
            name = provider.street_name()
            if _NOT_RESIDENTIAL.search(name) or len(name.split()) > 4:
                continue
            if self.lang == "de":
                number = provider.street_number(maximum=300)
                if self.rng.random() < 0.15:
                    number += self.rng.choice("abc")
                return f"{name} {number}"
            return f"{provider.street_number()} {name} {provider.street_suffix()}"
        raise RuntimeError("no residential street from mimesis")

    def address(self) -> tuple[str, str]:
        """(the address as written, its street line)."""
        provider, rng = self.address_provider, self.rng
        street = self._street_line()
        city = provider.city()
        if self.country == "US":
            tail = f"{city}, {provider.state(abbr=True)} {provider.zip_code()}"
            shapes = [street, f"{street}, {tail}", f"{street}\n{tail}", f"{street}, {city}"]
        elif self.country == "GB":
            postcode = provider.postal_code()
            shapes = [street, f"{street}, {city} {postcode}", f"{street}\n{city}\n{postcode}", f"{street}, {city}"]
        else:
            postcode = provider.postal_code()
            shapes = [street, f"{street}, {postcode} {city}", f"{street}\n{postcode} {city}", f"{postcode} {city}, {street}",
                      f"{street} in {city}"]
        return rng.choice(shapes), street

    def birthdate(self) -> tuple[str, str]:
        born = self.person.birthdate(min_year=1935, max_year=2006)
        rng = self.rng
        if self.lang == "de":
            value = rng.choice([
                f"{born.day:02d}.{born.month:02d}.{born.year}", f"{born.day}.{born.month}.{born.year}",
                f"{born.day}.{born.month}.{born.year % 100:02d}", f"{born.day}. {_DE_MONTHS[born.month - 1]} {born.year}",
                f"{born.day:02d}/{born.month:02d}/{born.year}", f"{born.day:02d}.{born.month:02d}. {born.year}",
            ])
        else:
            month = _EN_MONTHS[born.month - 1]
            day_first = self.country != "US"
            value = rng.choice([
                f"{born.day:02d}/{born.month:02d}/{born.year}" if day_first else f"{born.month:02d}/{born.day:02d}/{born.year}",
                f"{born.day} {month} {born.year}", f"{month} {born.day}, {born.year}", f"{born.day} {month[:3]} {born.year}",
                f"{born.day}.{born.month}.{born.year}", f"{born.year}-{born.month:02d}-{born.day:02d}",
            ])
        return value, value


# ------------------------------------------------------------------------------------- post templates
# "{h}" is the brand's handle, "{v}" the value. A template whose handle is at the end or missing keeps
# the value at the start of the post.

DE: dict[str, list[str]] = {
    "phone": [
        "{h} hey, bitte zurückrufen: {v} danke!!",
        "{v} <- das is meine nummer, ruft an wenn der techniker kommt {h}",
        "{h} handynr {v}",
        "{h} meine tel nr. lautet {v}, festnetz geht seit montag nich",
        "{h} könnt ihr mich kurz anrufen ({v})? bin bis 18h da",
        "{h} Mobil {v} 📱 erreichbar ab mittag",
        "{h}\nKein Internet seit 3 Tagen.\nErreichbar: {v}\nGruß",
        "{h} Rufnummer {v} wurde ohne Grund gesperrt?!",
        "{h} warum krieg ich auf {v} ständig spam anrufe von euch",
        "{h} bitte bei meiner frau melden, ihre nummer ist {v}",
        "{h} das ist die nummer um die es geht {v}",
        "{h} sim tausch für {v} hat nicht geklappt, kein netz",
        "{h} ich warte seit 2std auf euren rückruf!! {v}",
        "{h} Anschluss {v} / Router blinkt rot",
        "Guten Tag {h}, meine neue Nummer ist {v}. Bitte im Kundenkonto hinterlegen. MfG",
        "{h} erreichbarkeit: {v} (mo-fr nach 17 uhr)",
        "{h} tel: {v}",
        "{h} Festnetz knackt bei jedem Regen, Nr. {v}",
        "{v} geht seit heute morgen nicht mehr 😤 {h}",
        "{h} meine Mutter (80) hat kein Telefon mehr, ihr Anschluss: {v}",
    ],
    "email": [
        "{h} mail an {v} bitte, nicht per post",
        "{h} ich bekomm keine rechnungen mehr an {v}",
        "{v} ist meine mailadresse, schreibt mir da {h}",
        "{h} E-Mail-Adresse im Kundencenter auf {v} ändern geht nicht",
        "{h} bestätigungsmail kam nie an ({v})",
        "{h} Mein Account {v} wurde gehackt, was nun?",
        "{h} emial: {v}",
        "{h} schickt mir den vertrag an {v} 🙏",
        "{h}\nAntwort bitte per Mail.\n{v}",
        "{h} kontaktadresse {v} - telefon geht ja nicht",
        "{h} Zugangsdaten an {v} gesendet? Da ist nix",
    ],
    "iban": [
        "{h} bitte erstattung auf {v}",
        "{h} meine bankverbindung hat sich geändert, neue iban {v}",
        "{h} wieso bucht ihr 2x von {v} ab?!",
        "{v} - das ist mein Konto, Geld bitte zurück {h}",
        "{h} Gutschrift bitte an IBAN: {v} (Sparkasse)",
        "{h} lastschrift auf {v} umstellen geht online nicht",
        "{h} Kontoinhaber bin ich, {v}, warum Rücklastschrift?",
    ],
    "card": [
        "{h} meine kreditkarte {v} wurde belastet obwohl ich gekündigt hab",
        "{h} abbuchung von karte {v} 2x??",
        "{h} bezahlt mit {v}, trotzdem steht da zahlung fehlgeschlagen",
        "{v} wurde im onlineshop abgelehnt {h}",
        "{h} Kartennr.: {v} bitte aus dem Konto löschen",
    ],
    "customer_number": [
        "{h} kundennr {v} - rechnung falsch",
        "{h} meine kundenummer: {v}",
        "{h} KdNr. {v}, bitte um Rückruf",
        "{h} Vertragsnr {v}, Kündigung nicht bestätigt",
        "{h} Auftragsnummer {v} – wo bleibt der Router??",
        "{h} ({v} = kundennummer) bitte prüfen",
        "{h} es geht um den vertrag {v}",
        "{h} Kundennummer\n{v}",
        "{v} ist meine Kundennr, warum höre ich nix {h}",
        "{h} Buchungskonto {v}: Rechnung doppelt",
        "{h} Kunden-Nr.: {v}",
        "{h} vertragsnummer lautet {v}, bitte tarif prüfen",
    ],
    "address": [
        "{h} wohne in der {v}, seit gestern kein dsl",
        "{h} techniker soll zu {v} kommen, 2. OG",
        "{h} bitte router an {v} schicken, bin umgezogen",
        "{h} lieferadresse: {v}",
        "{v}\nda wohne ich, da ist seit montag kein netz {h}",
        "{h} Hausanschluss {v} – Glasfaser liegt, aber nix geschaltet",
        "{h} wir sind umgezogen nach {v}, wann wird freigeschaltet?",
        "{h} Paket ging an {v} statt an meine neue adresse",
        "{h} Rechnungsadresse: {v}",
        "{h} ich wohn {v}, Hinterhaus, Klingel kaputt 😅",
    ],
    "birthdate": [
        "{h} geb am {v}, ausweis wird nicht akzeptiert",
        "{h} mein geburtsdatum ({v}) steht falsch im vertrag",
        "{h} Geb.-Dat.: {v}",
        "{h} ich bin {v} geboren, wieso sagt die app ich bin zu jung",
        "{h} gebohren am {v}, videoident klappt nicht",
        "{h} vertrag auf meine mutter (geb. {v}) umschreiben bitte",
        "{v} ist mein geburtstag, steht aber falsch im portal {h}",
    ],
}
EN: dict[str, list[str]] = {
    "phone": [
        "{h} hiya, ring me on {v} pls",
        "{v} is my number, call me when the engineer is on his way {h}",
        "{h} my mobile number {v} got blocked for no reason?!",
        "{h} pls call back {v} asap",
        "{h} can you phone me ({v})? I'm in until 6",
        "{h}\nStill no broadband.\nContact: {v}\nCheers",
        "{h} why am I getting spam calls on {v} every day",
        "{h} you can call my wife instead, her number is {v}",
        "{h} this is the number in question {v}",
        "{h} sim swap for {v} didn't work, no signal",
        "{h} been waiting 2hrs for your callback!! {v}",
        "{h} phone no. {v} 📞",
        "Good afternoon {h}, my new number is {v}. Please update my account. Regards",
        "{h} tel: {v} (mon-fri after 5pm)",
        "{h} the landline ({v}) crackles every time it rains",
        "{v} dead since this morning 😤 {h}",
    ],
    "email": [
        "{h} email me at {v} pls",
        "{h} not getting bills at {v} any more",
        "{v} is my email, write to me there {h}",
        "{h} can't change my email to {v} in the app",
        "{h} confirmation email never arrived ({v})",
        "{h} my account {v} got hacked, what now?",
        "{h} emial: {v}",
        "{h}\nReply by email please.\n{v}",
        "{h} send the contract to {v} 🙏",
    ],
    "iban": [
        "{h} refund to {v} please",
        "{h} changed banks, new IBAN {v}",
        "{h} why did you take two payments from {v}?!",
        "{v} - that's my account, I want my money back {h}",
        "{h} please switch the direct debit to {v}",
    ],
    "card": [
        "{h} my card {v} got charged after I cancelled",
        "{h} you took money from {v} twice??",
        "{h} paid with {v}, still says payment failed",
        "{v} declined in your online shop {h}",
    ],
    "customer_number": [
        "{h} acc no {v} - bill is wrong",
        "{h} account {v}, please call back",
        "{h} my customer ref is {v}",
        "{h} order no. {v} - where's my router??",
        "{h} ({v} = account number) please check",
        "{h} account number\n{v}",
        "{v} is my account no, why no reply {h}",
        "{h} customer number: {v}",
        "{h} contract no {v}, cancellation never confirmed",
    ],
    "address": [
        "{h} I live at {v}, no broadband since yesterday",
        "{h} engineer needs to come to {v}, 2nd floor",
        "{h} send the router to {v} please, I've moved",
        "{h} delivery address: {v}",
        "{v}\nthat's my place, no signal since monday {h}",
        "{h} we've moved to {v}, when will the line go live?",
        "{h} parcel went to {v} instead of my new address",
        "{h} billing address {v}",
    ],
    "birthdate": [
        "{h} dob {v}, id check fails",
        "{h} my date of birth ({v}) is wrong on the contract",
        "{h} I was born {v}, why does the app say I'm too young",
        "{h} birthday: {v}",
        "{h} move the contract to my mum (born {v}) please",
        "{v} is my birthday but your portal shows something else {h}",
    ],
}
MIX: dict[str, list[str]] = {
    "phone": [
        "{h} hi, ich spreche wenig deutsch - please call me {v}",
        "{h} sorry my german is bad. kein internet. tel {v}",
        "{h} bitte call me back unter {v}, thanks!",
    ],
    "email": ["{h} sorry for english, bitte mail an {v}", "{h} kein internet!! please write to {v}"],
    "iban": ["{h} refund bitte auf {v}, thx"],
    "card": ["{h} karte {v} charged twice, bitte refund"],
    "customer_number": ["{h} my kundennummer is {v}, no internet since friday", "{h} customer number {v} - bitte prüfen"],
    "address": ["{h} I live in {v}, kein netz since monday", "{h} wohnung {v}, internet is down"],
    "birthdate": ["{h} my geburtsdatum is {v}, videoident fails", "{h} geb. {v} - I am not under 18!!"],
}
WEIGHTS = {"phone": 5, "email": 3, "customer_number": 4, "address": 4, "iban": 2, "birthdate": 2, "card": 1}
EMOJIS = ["😡", "🙄", "😤", "🤬", "😭", "👎", "🙏", "‼️", "😅"]
DE_TAILS = ["", "", " danke", " Danke!!", " LG", " …", " mfg", "\nGruß", " seit 5 tagen!!", " #fail"]
EN_TAILS = ["", "", " thanks", " Thanks!!", " ta", " …", " cheers", "\nRegards", " for 5 days now!!", " #fail"]


# ------------------------------------------------------------------------------------- hard negatives

_TARIFFS_DE = ["MagentaZuhause L", "MagentaZuhause XL", "MagentaMobil M", "MagentaEINS", "MagentaMobil Prepaid L",
               "MagentaZuhause Glasfaser 500", "MagentaTV Smart", "Data Comfort L"]
_TARIFFS_EN = ["Unlimited Max", "Fibre 500", "Essential 5G", "Broadband 67", "SIM Only 30GB", "Full Fibre 900"]
_DEVICES = ["Speedport Smart 4", "FRITZ!Box 7590 AX", "Speedport Pro Plus", "iPhone 15", "Galaxy S24", "Pixel 8"]


class Negatives:
    def __init__(self, name: str, seed: int, rng: random.Random, brand: BrandData) -> None:
        locale, self.lang, self.country = LOCALES[name]
        self.address = Address(locale, seed=seed + 10)
        self.when = Datetime(locale, seed=seed + 11)
        self.finance = Finance(locale, seed=seed + 12)
        self.development = Development(seed=seed + 13)
        self.numeric = Numeric(seed=seed + 14)
        self.rng, self.brand = rng, brand

    def _n(self, low: int, high: int) -> int:
        return self.numeric.integer_number(low, high)

    def _own_phone(self) -> str:
        number = phonenumbers.parse(self.rng.choice(self.brand.phone_numbers), "DE")
        return phonenumbers.format_number(number, self.rng.choice([PhoneNumberFormat.NATIONAL,
                                                                    PhoneNumberFormat.INTERNATIONAL]))

    def _street(self) -> str:
        for _ in range(50):
            name = self.address.street_name()
            if not _NOT_RESIDENTIAL.search(name):
                return name
        return "Hauptstraße"

    def post(self) -> str:
        h, n, rng = self.brand.handle, self._n, self.rng
        city, postcode, street = self.address.city(), self.address.postal_code(), self._street()
        day: date = self.when.date(2024, 2027)
        version = self.development.version()
        price = self.finance.price(5, 120)
        ticket = n(10**7, 10**8 - 1)
        own_address = rng.choice(self.brand.addresses)
        own_domain = rng.choice(self.brand.email_domains)
        if self.lang == "de":
            euro = f"{price:.2f}".replace(".", ",")
            choices = [
                f"{h} in {postcode} {city} mal wieder kein netz 😤",
                f"{h} störung {city} ({postcode})? bei allen nachbarn tot",
                f"{h} seit {n(5, 23)}:{n(10, 59)} kein Internet in {city}, PLZ {postcode}",
                f"{h} {street}: die ganze straße ist dunkel",
                f"{h} bagger an der baustelle {street} hat wohl das kabel erwischt, {n(20, 80)} haushalte ohne netz",
                f"{h} {n(3, 40)} leute im haus ohne netz und ihr schreibt 'keine störung bekannt'",
                f"{h} {n(2, 6)} wochen, {n(4, 12)} anrufe, 0 lösungen",
                f"{h} statt {euro} € zahle ich jetzt {price + n(3, 15):.2f} € ??".replace(".", ","),
                f"{h} nach dem update auf {version} startet der router dauernd neu",
                f"{h} techniker-termin am {day:%d.%m.%Y} zwischen {n(7, 10)} und {n(11, 16)} uhr, kommt da wer?",
                f"{h} termin {day:%d.%m.} bestätigt? hab extra urlaub genommen",
                f"{h} {rng.choice(_TARIFFS_DE)}, {rng.choice([100, 250, 500])} Mbit gebucht, {n(3, 40)} kommen an",
                f"{h} tarifwechsel auf {rng.choice(_TARIFFS_DE)} geht in der app nicht",
                f"{h} {rng.choice(_DEVICES)} zeigt fehlercode {n(100, 999)}",
                f"{h} info-led blinkt, fehler {n(1000, 9999)} laut handbuch",
                f"{h} hotline {self._own_phone()} – {n(40, 90)} min warteschleife",
                f"{h} eure zentrale in der {own_address} sollte das mal lesen",
                f"{h} ist die mail von rechnung@{own_domain} echt?",
                f"{h} Ticket {ticket} seit {n(3, 14)} Tagen offen",
                f"{h} kunde seit {n(1990, 2015)} und so behandelt ihr mich",
                f"{h} seit dem {day:%d.%m.} um {n(10, 23)}:{n(10, 59)} uhr gestört\n\nbitte meldet euch",
                f"{h} {n(10, 95)} GB datenvolumen weg in {n(2, 5)} tagen??",
                f"{h} 5G in {city}? nur {n(1, 3)} balken LTE 😂",
                f"{h} Glasfaser in {postcode} {city}: Ausbau bis {day.year}?",
                f"{h} Rechnung {day:%m/%Y}: {euro} € zu viel",
                f"{h} kanal {n(1, 400)} auf magentatv hängt seit dem {day:%d.%m.}",
                f"{h} bei {n(1, 9)},{n(1, 9)} Mbit kann ich nicht arbeiten",
                f"{h} Störung {street} Ecke {self._street()}, seit {n(2, 9)} h",
                f"{h} iOS {n(15, 18)}.{n(0, 6)}.{n(1, 3)}: WLAN-Anruf geht nicht mehr",
            ]
        else:
            choices = [
                f"{h} no signal in {city} {postcode if self.country == 'GB' else ''} again 😤".replace("  ", " "),
                f"{h} outage in {city}? all the neighbours are down",
                f"{h} no internet in {city} since {n(5, 12)}:{n(10, 59)}am",
                f"{h} the whole of {street} {self.address.street_suffix()} is dark",
                f"{h} roadworks on {street} cut the cable, {n(20, 80)} homes offline",
                f"{h} {n(3, 40)} people in my building without signal and your status page says all fine",
                f"{h} {n(2, 6)} weeks, {n(4, 12)} calls, 0 fixes",
                f"{h} was £{price:.2f} now £{price + n(3, 15):.2f} a month??",
                f"{h} since the update to {version} the router keeps rebooting",
                f"{h} engineer appointment on {day:%d/%m/%Y} between {n(7, 10)} and {n(11, 16)}, is anyone coming?",
                f"{h} is my appointment on {day:%B} {day.day} confirmed? took the day off",
                f"{h} paying for {rng.choice(_TARIFFS_EN)}, getting {n(3, 40)} Mbps",
                f"{h} can't switch to {rng.choice(_TARIFFS_EN)} in the app",
                f"{h} {rng.choice(_DEVICES)} shows error code {n(100, 999)}",
                f"{h} your hotline {self._own_phone()} - {n(40, 90)} min on hold",
                f"{h} is the email from billing@{own_domain} real?",
                f"{h} ticket {ticket} open for {n(3, 14)} days",
                f"{h} customer since {n(1990, 2015)} and this is how you treat me",
                f"{h} down since {day:%d %b} {n(1, 11)}pm\n\nplease get back to me",
                f"{h} {n(10, 95)}GB of data gone in {n(2, 5)} days??",
                f"{h} 5G in {city}? {n(1, 3)} bars of 4G 😂",
                f"{h} bill for {day:%B %Y}: £{price:.2f} too much",
                f"{h} can't work on {n(1, 9)}.{n(1, 9)} Mbps",
                f"{h} iOS {n(15, 18)}.{n(0, 6)}.{n(1, 3)}: wifi calling broken",
            ]
        return rng.choice(choices)


# ---------------------------------------------------------------------------------------------- build


def _compose(template: str, handle: str, value: str) -> str:
    return template.format(h=handle, v=value).strip()


def build(brand: BrandData, *, seed: int = SEED, pii_per_locale: int = 160, negatives_per_locale: int = 120) -> list[Post]:
    """About 800 posts with personal data and 600 hard negatives."""
    posts: list[Post] = []
    kinds = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
    for index, name in enumerate(LOCALES):
        rng = random.Random(seed * 7 + index)
        values = Values(name, seed + 100 * index, rng)
        negatives = Negatives(name, seed + 100 * index, rng, brand)
        lang = values.lang
        for _ in range(pii_per_locale):
            post_lang = "mix" if rng.random() < 0.12 else lang
            sentences = MIX if post_lang == "mix" else DE if lang == "de" else EN
            chosen = [rng.choice(kinds)]
            if rng.random() < 0.2:
                chosen.append(rng.choice([k for k in kinds if k != chosen[0]]))
            pieces, labels = [], []
            for position, kind in enumerate(chosen):
                value, secret = getattr(values, kind)()
                template = rng.choice(sentences[kind])
                piece = _compose(template, brand.handle if position == 0 else "", value)
                pieces.append(piece)
                labels.append(Label(kind, value, secret))
            text = rng.choice([" ", "\n", " + ", ". "]).join(pieces)
            tails = DE_TAILS if lang == "de" else EN_TAILS
            text += rng.choice(tails)
            if rng.random() < 0.2:
                text += " " + rng.choice(EMOJIS)
            if text.startswith(brand.handle) and rng.random() < 0.15:  # the handle at the end instead
                text = text[len(brand.handle) :].lstrip() + " " + brand.handle
            if rng.random() < 0.1:  # all lower case
                text = text.lower()
                labels = [Label(label.kind, label.value.lower(), label.secret.lower()) for label in labels]
            posts.append(Post(text, post_lang, name, "pii", labels))
        for _ in range(negatives_per_locale):
            text = negatives.post()
            if rng.random() < 0.25:
                text += rng.choice([" ", "\n", ". "]) + negatives.post().removeprefix(brand.handle).strip()
            if rng.random() < 0.1:
                text = text.lower()
            posts.append(Post(text, lang, name, "negative"))
    return posts


TEMPLATES: dict[str, dict[str, list[str]]] = {"de": DE, "en": EN, "mix": MIX}
