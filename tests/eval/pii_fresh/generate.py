"""The fresh PII evaluation set: values from Faker and mimesis, care posts written apart from the detector.

Written on 2026-11-30 without the detector, its policy patterns or the other two sets' templates in view
(issue 14, "How to measure it honestly"). The values come from outside generators: Faker (de_DE, de_AT,
de_CH, en_GB, en_US) for phone numbers, IBANs, card numbers, e-mail addresses, street names, house
numbers, postcodes, cities, birth dates and customer numbers; mimesis for part of the German street names
and for IMEIs. Everything this module adds is how customers of a German telecom write on X, Facebook and
Instagram: the sentences, labels before or after a value, separators (dots, dashes, en dashes, slashes,
no-break and narrow no-break spaces), obfuscated e-mail addresses, dates in words, lower case and ALL CAPS,
emojis, hashtags and line breaks.

Two rules decide what counts as personal data (README, "Personal data"): an address needs a street and a
house number (postcode and city alone are the outage radar's location), and the brand's own hotline,
addresses, e-mail domain and ticket numbers are never personal data. Phone numbers are kept only when the
numbering plan of their country allows them (python-phonenumbers' metadata): Faker also invents numbers
nobody can have ("00008063608"), and those are not the personal data a customer posts.

Each positive post lists, per value, the exact substring (``value``) and the part that must be gone
(``secret``): the last six digits of a phone number, the last ten digits of an IBAN or card number, the
whole customer number, the whole birth date, the e-mail local part, the street and house number.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, timedelta

import phonenumbers
from faker import Faker
from mimesis import Address as MimesisAddress
from mimesis import Code as MimesisCode
from mimesis.locales import Locale as MimesisLocale

from tests.eval.pii.scoring import BrandData, Label, Post, from_nth_digit_from_end
from tests.eval.pii_fresh.templates import EXTRA, NEGATIVE, POSITIVE

SEED = 20261130
LOCALES = ("de_DE", "de_AT", "de_CH", "en_GB", "en_US")
REGION = {"de_DE": "DE", "de_AT": "AT", "de_CH": "CH", "en_GB": "GB", "en_US": "US"}
MIMESIS_LOCALE = {"de_DE": MimesisLocale.DE, "de_AT": MimesisLocale.DE_AT, "de_CH": MimesisLocale.DE_CH}
POSITIVE_POSTS = 600
NEGATIVE_POSTS = 400
LOCALE_WEIGHTS = {"de_DE": 35, "de_AT": 15, "de_CH": 12, "en_GB": 20, "en_US": 18}
KIND_WEIGHTS = {"phone": 24, "email": 16, "iban": 12, "card": 8, "birthdate": 12, "address": 16, "customer_number": 12}

NBSP, NNBSP, EN_DASH = "\u00a0", "\u202f", "\u2013"
# A customer's own number is a fixed line or a mobile; Faker also gives toll-free, shared-cost and other
# service numbers ("(866) 298-4567", "0808 157 0660"), which are companies' numbers.
PERSONAL_LINES = {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                  phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
NOT_A_STREET = re.compile(r"^(?:Bahnhof|Haltestelle|Brücke|U-Bahn|S-Bahn|Fußgängertunnel|Kolonie)\b"
                          r"|(?:brücke|Brücke|-Bahnhof|-Park|passage|Steg)$|\bStation\b")

# ---------------------------------------------------------------------------------------------- values


class Values:
    """One locale's value makers: each returns (value as written in the post, the part that must be gone)."""

    def __init__(self, locale: str, rng: random.Random) -> None:
        self.locale, self.rng, self.region = locale, rng, REGION[locale]
        self.faker = Faker(locale)
        self.faker.seed_instance(rng.randrange(2**32))
        self.mimesis = (MimesisAddress(MIMESIS_LOCALE[locale], seed=rng.randrange(2**32))
                        if locale in MIMESIS_LOCALE else None)

    # phone ------------------------------------------------------------------------------------------
    def _faker_phone(self) -> str:
        f, rng = self.faker, self.rng
        if self.locale == "de_DE" and rng.random() < 0.5:  # Faker's de_DE has no mobile numbers of its own
            prefix = rng.choice(["0151", "0152", "0157", "0159", "0160", "0162", "0163", "0170", "0171",
                                 "0172", "0173", "0174", "0175", "0176", "0177", "0178", "0179"])
            return f.numerify(prefix + "#" * rng.choice([7, 8]))
        if hasattr(f, "cellphone_number") and rng.random() < 0.5:
            return str(f.cellphone_number())
        return re.sub(r"\s*x\d+$", "", f.phone_number())  # en_US extensions "x9150"

    def phone(self) -> tuple[str, str]:
        for _ in range(200):
            raw = self._faker_phone()
            try:
                parsed = phonenumbers.parse(raw, self.region)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(parsed) or \
                    phonenumbers.region_code_for_number(parsed) != self.region or \
                    phonenumbers.number_type(parsed) not in PERSONAL_LINES:
                continue
            value = raw if self.rng.random() < 0.35 else render_phone(self.rng, parsed)
            return value, from_nth_digit_from_end(value, 6)
        raise RuntimeError(f"no valid phone number from Faker {self.locale}")

    # e-mail -----------------------------------------------------------------------------------------
    def email(self) -> tuple[str, str]:
        f, rng = self.faker, self.rng
        r = rng.random()
        if r < 0.2 and self.locale.startswith("de"):  # names as typed, umlauts kept
            local = (f.first_name().lower() + rng.choice([".", "_", "", "-", "."]) + f.last_name().lower()
                     + rng.choice(["", "", str(rng.randint(1, 99)), str(rng.randint(1950, 2005))]))
            local = local.replace(" ", "")
            address = f"{local}@{f.free_email_domain()}"
        elif r < 0.65:
            address = f.free_email()
        elif r < 0.85:
            address = f.email(safe=False)
        else:
            address = f.company_email()
        local, domain = address.split("@")
        host, _, tld = domain.rpartition(".")
        value = rng.choice([
            address, address, address, address, address,
            f"{local}[at]{domain}", f"{local}(at){domain}", f"{local} at {domain}", f"{local} [at] {domain}",
            f"{local} (at) {host} (dot) {tld}", f"{local} at {host} dot {tld}", f"{local} @ {domain}",
            f"{local}[at]{host}[dot]{tld}", f"{local} ät {domain}" if self.locale.startswith("de") else address,
            f"{local} at {host} punkt {tld}" if self.locale.startswith("de") else f"{local} AT {host} DOT {tld}",
        ])
        return value, local

    # IBAN -------------------------------------------------------------------------------------------
    def iban(self) -> tuple[str, str]:
        raw = self.faker.iban()
        rng = self.rng
        groups = [raw[i:i + 4] for i in range(0, len(raw), 4)]
        style = rng.choice(["compact", "fours", "fours", "fours", "cc_apart", "dash", "dot", "nbsp", "mixed"])
        if style == "compact":
            value = raw
        elif style == "fours":
            value = " ".join(groups)
        elif style == "cc_apart":
            rest = raw[4:]
            value = f"{raw[:2]} {raw[2:4]} " + " ".join(rest[i:i + 4] for i in range(0, len(rest), 4))
        elif style == "dash":
            value = "-".join(groups)
        elif style == "dot":
            value = ".".join(groups)
        elif style == "nbsp":
            value = NBSP.join(groups)
        else:  # hand-typed: groups of 4 with one group run together
            joint = rng.randrange(1, len(groups) - 1)
            value = " ".join(groups[:joint]) + " " + "".join(groups[joint:joint + 2]) + (
                " " + " ".join(groups[joint + 2:]) if groups[joint + 2:] else "")
        return value, from_nth_digit_from_end(value, 10)

    # card -------------------------------------------------------------------------------------------
    def card(self) -> tuple[str, str]:
        rng = self.rng
        card_type = rng.choice(["visa16", "visa16", "visa16", "mastercard", "mastercard", "mastercard", "amex",
                                "amex", "discover", "jcb16", "diners", "visa13", "visa19"])
        raw = self.faker.credit_card_number(card_type=card_type)
        if len(raw) in (14, 15):  # Amex, Diners: 4-6-5, 4-6-4
            groups = [raw[:4], raw[4:10], raw[10:]]
        elif len(raw) == 13:  # as a 13-digit Visa is printed: 4-3-3-3
            groups = [raw[:4], raw[4:7], raw[7:10], raw[10:]]
        else:
            groups = [raw[i:i + 4] for i in range(0, len(raw), 4)]
        sep = rng.choice([" ", " ", " ", "-", "-", "", ".", NBSP, NNBSP, " - "])
        value = sep.join(groups)
        return value, from_nth_digit_from_end(value, 10)

    # birth date -------------------------------------------------------------------------------------
    def birth_date(self) -> date:
        born: date = self.faker.date_of_birth(minimum_age=18, maximum_age=92)
        return born

    def birthdate_numeric(self) -> tuple[str, str]:
        d, rng = self.birth_date(), self.rng
        if self.locale.startswith("de"):
            value = rng.choice([
                f"{d:%d.%m.%Y}", f"{d:%d.%m.%Y}", f"{d.day}.{d.month}.{d.year}", f"{d:%d.%m.%y}",
                f"{d.day}. {MONTHS_DE[d.month - 1]} {d.year}", f"{d.day}.{MONTHS_DE[d.month - 1]} {d.year}",
                f"{d.day}. {MONTHS_DE[d.month - 1][:3]}. {d.year}", f"{d:%d/%m/%Y}", f"{d:%Y-%m-%d}",
                f"{d:%d.%m}.{d.year}", f"{d:%d. %m. %Y}",
            ])
        elif self.locale == "en_GB":
            value = rng.choice([
                f"{d:%d/%m/%Y}", f"{d:%d/%m/%Y}", f"{d.day}{ordinal_suffix(d.day)} {MONTHS_EN[d.month - 1]} {d.year}",
                f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}", f"{d.day} {MONTHS_EN[d.month - 1][:3]} {d.year}",
                f"{d:%d.%m.%Y}", f"{d:%d-%m-%Y}", f"{d:%d/%m/%y}",
            ])
        else:
            value = rng.choice([
                f"{d:%m/%d/%Y}", f"{d:%m/%d/%Y}", f"{d.month}/{d.day}/{d.year}", f"{MONTHS_EN[d.month - 1]} {d.day}, {d.year}",
                f"{MONTHS_EN[d.month - 1][:3]} {d.day} {d.year}", f"{d.month}-{d.day}-{d.year}", f"{d:%Y-%m-%d}",
                f"{MONTHS_EN[d.month - 1]} {d.day}{ordinal_suffix(d.day)}, {d.year}",
            ])
        return value, value

    def birthdate_words(self) -> tuple[str, str]:
        """A date with the day in words: "neunten Dezember 1967" (after "am"), "ninth of December 1967"."""
        d = self.birth_date()
        if self.locale.startswith("de"):
            value = f"{ORDINALS_DE[d.day - 1]} {MONTHS_DE[d.month - 1]} {d.year}"
        else:
            value = f"{ORDINALS_EN[d.day - 1]} of {MONTHS_EN[d.month - 1]} {d.year}"
        return value, value

    # address ----------------------------------------------------------------------------------------
    def _building_number(self) -> str:
        """Faker's building number; "0", "057", "0/8" and "4/0" (its formats allow a zero) drawn again."""
        number = self.faker.building_number()
        while number.startswith("0") or "/0" in number:
            number = self.faker.building_number()
        return str(number)

    def _house_number(self) -> str:
        number = self._building_number()
        r = self.rng.random()
        if "/" in number:
            return number
        if r < 0.12:
            return number + self.rng.choice("abcde")
        if r < 0.17:
            return number + " " + self.rng.choice("abc")
        if r < 0.21 and self.locale.startswith("de") and number.isdigit():
            return f"{number}-{int(number) + self.rng.choice([1, 2])}"
        return number

    def address(self) -> tuple[str, str]:
        f, rng = self.faker, self.rng
        if self.locale.startswith("de"):
            street = self.street_only()
            number = self._house_number()
            line = f"{street} Nr. {number}" if rng.random() < 0.05 else f"{street} {number}"
            secret = line
            if self.locale == "de_AT" and rng.random() < 0.5 and "/" not in number:
                door = rng.choice([f"/{rng.randint(1, 9)}/{rng.randint(1, 40)}", f"/{rng.randint(1, 30)}",
                                   f"/Top {rng.randint(1, 40)}", f"/Stiege {rng.randint(1, 6)}/Top {rng.randint(1, 40)}"])
                line += door
                secret = line
                if rng.random() < 0.3:
                    line = f"{street} {number}, Stiege {rng.randint(1, 5)}, Top {rng.randint(1, 30)}"
                    secret = f"{street} {number}"
            postcode = f.postcode()
            if self.locale == "de_AT" and rng.random() < 0.2:
                postcode = "A-" + postcode
            if self.locale == "de_CH" and rng.random() < 0.3:
                postcode = "CH-" + postcode
            place = f"{postcode} {self.city()}"
            value = rng.choice([line, line, f"{line}, {place}", f"{line}, {place}", f"{line} {place}",
                                f"{line}\n{place}", f"{line} in {place}"])
            return value, secret
        number = self._building_number()
        if self.locale == "en_GB":
            if rng.random() < 0.12:
                number += rng.choice("ABC")
            line = f"{number} {f.street_name()}"
            flat = rng.choice(["", "", "", f"Flat {rng.randint(1, 30)}, ", f"flat {rng.randint(1, 12)} ",
                               f"Apartment {rng.randint(1, 80)}, "])
            tail = rng.choice(["", f", {self.city()}", f", {self.city()} {f.postcode()}", f"\n{self.city()}\n{f.postcode()}",
                               f", {f.postcode()}"])
            return f"{flat}{line}{tail}", line
        line = f"{number} {f.street_name()}"
        if rng.random() < 0.15:
            line = f"{number} {f.street_name().rsplit(' ', 1)[0]} {rng.choice(['St', 'Ave', 'Rd', 'Blvd', 'Dr', 'Ln'])}"
        secondary = rng.choice(["", "", "", f" {f.secondary_address()}", f", {f.secondary_address()}",
                                f" #{rng.randint(1, 400)}"])
        tail = rng.choice(["", f", {self.city()}, {f.state_abbr()} {f.postcode()}", f", {self.city()} {f.state_abbr()}",
                           f"\n{self.city()}, {f.state_abbr()} {f.postcode()}"])
        return f"{line}{secondary}{tail}", line

    # customer number --------------------------------------------------------------------------------
    def customer_number(self) -> tuple[str, str]:
        rng = self.rng
        digits = self.faker.numerify("%" + "#" * (rng.choice([8, 9, 9, 10, 10, 10, 10, 11, 12]) - 1))
        r = rng.random()
        if r < 0.15 and len(digits) == 10:
            value = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
        elif r < 0.22:  # grouped as printed: 4-4, 3-3-3, 3-3-4, 3-4-4, 4-4-4
            sizes = {8: [4, 4], 9: [3, 3, 3], 10: [3, 3, 4], 11: [3, 4, 4], 12: [4, 4, 4]}[len(digits)]
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            value = rng.choice(["-", ".", " ", NBSP]).join(digits[a:a + n] for a, n in zip(starts, sizes, strict=True))
        else:
            value = digits
        return value, value

    # places and the rest that is not personal data ---------------------------------------------------
    def city(self) -> str:
        """A city name; Faker's de_AT list has one with a digit ("Drosendorf-Zissersdorf 1"), left out."""
        name = self.faker.city()
        while any(ch.isdigit() for ch in name):
            name = self.faker.city()
        return str(name)

    def place(self) -> str:
        """Where an outage is: postcode and city (DE/AT/CH, US), city and outward code (GB)."""
        f = self.faker
        if self.locale == "en_GB":
            return self.rng.choice([f"{self.city()} {f.postcode().split()[0]}", self.city()])
        if self.locale == "en_US":
            return self.rng.choice([f"{self.city()}, {f.state_abbr()} {f.postcode()}", f"{self.city()} {f.postcode()}"])
        return self.rng.choice([f"{f.postcode()} {self.city()}", f"{f.postcode()} {self.city()}", f"{self.city()} ({f.postcode()})"])

    def street_only(self) -> str:
        """A street name (no house number: alone it is no address): Faker's, or for German 40 % mimesis'."""
        if self.mimesis is not None and self.rng.random() < 0.4:
            return self._mimesis_street()
        return str(self.faker.street_name())

    def _mimesis_street(self) -> str:
        """mimesis' register of real street names, without the entries that are no postal street: numbered
        plan names ("Straße 179"), stations, bridges, parks and allotments ("U-Bahn Station Längenfeldgasse")."""
        assert self.mimesis is not None
        name = self.mimesis.street_name()
        while any(ch.isdigit() for ch in name) or NOT_A_STREET.search(name):
            name = self.mimesis.street_name()
        return str(name)


def render_phone(rng: random.Random, parsed: phonenumbers.PhoneNumber) -> str:
    """The number as people type it: national or international, grouped in their own ways."""
    nsn = phonenumbers.national_significant_number(parsed)
    ndc_length = phonenumbers.length_of_national_destination_code(parsed) or 3
    ndc, subscriber = nsn[:ndc_length], nsn[ndc_length:]
    cc = str(parsed.country_code)
    inner = rng.choice([" ", " ", "", "", "-", ".", NBSP, NNBSP])
    chunk = rng.choice([0, 0, 2, 3])
    if chunk and len(subscriber) > chunk + 1:
        parts = [subscriber[i:i + chunk] for i in range(0, len(subscriber), chunk)]
        if len(parts[-1]) == 1:
            parts[-2:] = [parts[-2] + parts[-1]]
        grouped = inner.join(parts)
    else:
        grouped = subscriber
    if cc == "1":
        return rng.choice([
            f"({ndc}) {subscriber[:3]}-{subscriber[3:]}", f"{ndc}-{subscriber[:3]}-{subscriber[3:]}",
            f"{ndc}.{subscriber[:3]}.{subscriber[3:]}", f"+1 {ndc} {subscriber[:3]} {subscriber[3:]}",
            f"1-{ndc}-{subscriber[:3]}-{subscriber[3:]}", f"({ndc}){subscriber[:3]}-{subscriber[3:]}",
            f"{ndc} {subscriber[:3]} {subscriber[3:]}", f"+1{nsn}", f"{ndc}{EN_DASH}{subscriber[:3]}{EN_DASH}{subscriber[3:]}",
        ])
    area_sep = rng.choice([" ", " ", "/", "/", "-", " - ", f" {EN_DASH} ", ".", NBSP, NNBSP, ""])
    return rng.choice([
        f"0{ndc}{area_sep}{grouped}", f"0{ndc}{area_sep}{grouped}", f"(0{ndc}) {grouped}",
        f"+{cc} {ndc}{area_sep if area_sep.strip() not in ('/',) else ' '}{grouped}", f"+{cc} (0){ndc} {grouped}",
        f"00{cc} {ndc} {grouped}", f"+{cc}{nsn}", f"0{nsn}",
    ])


def ordinal_suffix(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
ORDINALS_DE = ["ersten", "zweiten", "dritten", "vierten", "fünften", "sechsten", "siebten", "achten", "neunten",
               "zehnten", "elften", "zwölften", "dreizehnten", "vierzehnten", "fünfzehnten", "sechzehnten",
               "siebzehnten", "achtzehnten", "neunzehnten", "zwanzigsten", "einundzwanzigsten",
               "zweiundzwanzigsten", "dreiundzwanzigsten", "vierundzwanzigsten", "fünfundzwanzigsten",
               "sechsundzwanzigsten", "siebenundzwanzigsten", "achtundzwanzigsten", "neunundzwanzigsten",
               "dreißigsten", "einunddreißigsten"]
ORDINALS_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
               "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
               "eighteenth", "nineteenth", "twentieth", "twenty-first", "twenty-second", "twenty-third",
               "twenty-fourth", "twenty-fifth", "twenty-sixth", "twenty-seventh", "twenty-eighth", "twenty-ninth",
               "thirtieth", "thirty-first"]

# ------------------------------------------------------------------------------------ what surrounds them

TARIFFS = ["MagentaMobil L 5G", "MagentaMobil M", "MagentaMobil XL", "MagentaZuhause L", "MagentaZuhause XL",
           "MagentaZuhause M Hybrid", "MagentaTV Smart", "MagentaTV 2.0", "MagentaEINS", "Magenta Zuhause S",
           "MagentaMobil Prepaid L", "MagentaZuhause Giga", "MagentaMobil S mit 10 GB", "Young L 5G"]
ROUTERS = ["Speedport Smart 4", "Speedport Smart 4 Plus", "Speedport Pro Plus", "Fritz!Box 7590 AX",
           "FRITZ!Box 7530", "Speed Home WLAN", "MagentaTV One", "Media Receiver 601", "Speedport W 724V",
           "Digitalisierungsbox Smart 2", "Fritzbox 6660 Cable", "iPhone 15 Pro", "Galaxy S24"]
EMOJIS = ["😡", "🙄", "🙏", "😤", "🤬", "👍", "😭", "📵", "📞", "💸", "🔥", "😅", "🤷‍♂️", "‼️", "🙈", "🤦‍♀️"]
HASHTAGS = ["#telekom", "#fail", "#Kundenservice", "#MagentaTV", "#Glasfaser", "#5G", "#servicewüste", "#help",
            "#Störung", "#Telekomfail", "#neuland", "#customerservice", "#outage", "#DSL", "#2025fail"]


class Context:
    """The rest of a post: places, dates, prices, versions, the brand's own data — none of it personal."""

    def __init__(self, values: Values, brand: BrandData) -> None:
        self.v, self.brand, self.rng, self.f = values, brand, values.rng, values.faker

    def fields(self, lang: str) -> dict[str, str]:
        de = lang != "en"
        rng, f = self.rng, self.f
        return {
            "h": self.brand.handle, "place": self.v.place(), "city": self.v.city(), "street": self.v.street_only(),
            "street2": self.v.street_only(), "date": self.recent_date(de), "date2": self.recent_date(de),
            "range": self.date_range(de), "time": self.time(de), "time2": self.time(de), "hours": self.hours(de),
            "count": self.count(de), "price": self.price(de), "price2": self.price(de), "fw": self.firmware(),
            "tariff": rng.choice(TARIFFS), "router": rng.choice(ROUTERS), "mbit": self.speed(de),
            "mbit2": self.speed(de), "ping": str(rng.randint(8, 480)), "ticket": self.ticket(de),
            "tracking": self.tracking(de), "hotline": self.hotline(), "hotline2": self.hotline(),
            "own_address": self.own_address(), "own_email": self.own_email(), "imei": self.imei(),
            "serial": self.serial(), "kw": f"{rng.randint(1, 52)}/{rng.choice([2024, 2025, 2026])}",
            "mins": self.minutes(de), "year": str(rng.randint(1994, 2024)), "name": f.first_name(),
            "month_year": rng.choice([f"{rng.randint(1, 12):02d}/{rng.choice([2025, 2026])}",
                                      f"{rng.randint(1, 12):02d}.{rng.choice([2025, 2026])}"]),
            "small": str(rng.randint(2, 60)),
        }

    def recent_date(self, de: bool) -> str:
        d: date = self.f.date_between(start_date="-500d", end_date="+30d")
        if de:
            return self.rng.choice([f"{d:%d.%m.%Y}", f"{d:%d.%m.}", f"{d.day}.{d.month}.", f"{d:%d.%m.%y}",
                                    f"{d.day}. {MONTHS_DE[d.month - 1]}", f"{d.day}.{d.month}.{d.year}"])
        if self.v.locale == "en_US":
            return self.rng.choice([f"{d:%m/%d/%Y}", f"{MONTHS_EN[d.month - 1]} {d.day}", f"{d.month}/{d.day}",
                                    f"{MONTHS_EN[d.month - 1][:3]} {d.day}, {d.year}"])
        return self.rng.choice([f"{d:%d/%m/%Y}", f"{d.day} {MONTHS_EN[d.month - 1]}", f"{d.day}/{d.month}",
                                f"{d.day}{ordinal_suffix(d.day)} {MONTHS_EN[d.month - 1][:3]}"])

    def date_range(self, de: bool) -> str:
        start: date = self.f.date_between(start_date="-400d", end_date="today")
        end = start + timedelta(days=self.rng.randint(1, 20))
        if de:
            dash = self.rng.choice([EN_DASH, "-", " - ", f" {EN_DASH} ", " bis "])
            return self.rng.choice([f"{start:%d.%m.}{dash}{end:%d.%m.%Y}", f"{start:%d.%m.%Y}{dash}{end:%d.%m.%Y}",
                                    f"{start.day}.{dash}{end.day}.{end.month}."])
        return self.rng.choice([f"{start.day} {MONTHS_EN[start.month - 1][:3]} to {end.day} {MONTHS_EN[end.month - 1][:3]}",
                                f"{start:%d/%m}{EN_DASH}{end:%d/%m/%Y}", f"{start:%m/%d}-{end:%m/%d}"])

    def time(self, de: bool) -> str:
        h, m = self.rng.randint(0, 23), self.rng.choice([0, 5, 15, 30, 45, self.rng.randint(0, 59)])
        if de:
            return self.rng.choice([f"{h:02d}:{m:02d}", f"{h}:{m:02d} Uhr", f"{h}.{m:02d} Uhr", f"{h} Uhr"])
        return self.rng.choice([f"{h:02d}:{m:02d}", f"{(h % 12) or 12}:{m:02d}{'am' if h < 12 else 'pm'}",
                                f"{(h % 12) or 12}{'am' if h < 12 else 'pm'}"])

    def hours(self, de: bool) -> str:
        start = self.rng.randint(7, 16)
        end = start + self.rng.choice([2, 4, 5])
        if de:
            return self.rng.choice([f"{start}{EN_DASH}{end} Uhr", f"{start}-{end} Uhr", f"{start}:00 und {end}:00",
                                    f"{start:02d}:00{EN_DASH}{end:02d}:00"])
        return self.rng.choice([f"{start}am-{end - 12}pm" if end > 12 and start < 12 else f"{start}:00-{end}:00",
                                f"{start:02d}:00{EN_DASH}{end:02d}:00"])

    def count(self, de: bool) -> str:
        n = self.rng.choice([self.rng.randint(1000, 99999), self.rng.randint(100, 999), self.rng.randint(10000, 99999)])
        return self.rng.choice([str(n), f"{n:,}".replace(",", "." if de else ",")])

    def price(self, de: bool) -> str:
        euros, cents = self.rng.randint(5, 120), self.rng.choice([0, 95, 99, 90, 50, self.rng.randint(1, 99)])
        if de:
            return self.rng.choice([f"{euros},{cents:02d} €", f"{euros},{cents:02d}€", f"€ {euros},{cents:02d}",
                                    f"{euros},- €", f"{euros} Euro", f"{euros},{cents:02d} EUR"])
        currency = "$" if self.v.locale == "en_US" else self.rng.choice(["£", "€"])
        return self.rng.choice([f"{currency}{euros}.{cents:02d}", f"{currency}{euros}", f"{euros}.{cents:02d} EUR"])

    def firmware(self) -> str:
        if self.rng.random() < 0.1:  # "!" is a Faker placeholder
            return f"FRITZ!OS {self.rng.randint(6, 8)}.{self.rng.randint(0, 99):02d}"
        return self.f.numerify(self.rng.choice(["######.#.#.###.#", "######.#.#.###", "#.##.#", "v#.##",
                                                "iOS 1#.#.#", "Android 1#", "Version #.#.##", "###.##.###.##"]))

    def speed(self, de: bool) -> str:
        n, frac = self.rng.randint(1, 300), self.rng.randint(1, 9)
        if de:
            return self.rng.choice([f"{n} Mbit/s", f"{n},{frac} Mbit", f"{n}MBit", f"{n} MBit/s", "1 Gbit/s", f"{n} mbit"])
        return self.rng.choice([f"{n} Mbps", f"{n}.{frac} Mbps", f"{n}Mb", f"{n} Mbit/s"])

    def ticket(self, de: bool) -> str:
        digits = self.f.numerify("%" + "#" * (self.rng.randint(6, 10) - 1))
        if de:
            return self.rng.choice([f"Ticketnummer {digits}", f"Ticket-Nr. {digits}", f"Ticketnr. {digits}",
                                    f"Ticket #{digits}", f"Störungsticket {digits}", f"Ticket: {digits}",
                                    f"Ticketnummer: {digits}", f"Ticket {digits}"])
        return self.rng.choice([f"ticket number {digits}", f"Ticket #{digits}", f"ticket no. {digits}",
                                f"Ticket {digits}", f"ticket: {digits}"])

    def tracking(self, de: bool) -> str:
        number = self.rng.choice([self.f.numerify("00340434######" + "######"), "JJD" + self.f.numerify("#" * 18),
                                  self.f.numerify("############")])
        label = self.rng.choice(["Sendungsnummer", "Sendungsnr.", "DHL Sendung", "Paketnummer"] if de
                                else ["tracking number", "tracking no", "DHL tracking"])
        return f"{label} {number}"

    def hotline(self) -> str:
        raw = self.rng.choice(self.brand.phone_numbers)
        if self.rng.random() < 0.4:
            return raw
        return render_phone(self.rng, phonenumbers.parse(raw, "DE"))

    def own_address(self) -> str:
        full = self.rng.choice(self.brand.addresses)
        street, _, place = full.partition(", ")
        return self.rng.choice([full, street, f"{street} in {place.split(' ', 1)[-1]}", f"{street}\n{place}"])

    def own_email(self) -> str:
        local = self.rng.choice(["kundenservice", "datenschutz", "info", "beschwerde", "presse", "impressum", "feedback"])
        return f"{local}@{self.rng.choice(self.brand.email_domains)}"

    def imei(self) -> str:
        return str(MimesisCode(seed=self.rng.randrange(2**32)).imei())

    def serial(self) -> str:
        return self.f.bothify(self.rng.choice(["??#######??", "S/N ####??##???", "#############", "?##?-####-####",
                                               "SN: ##########"])).upper()

    def minutes(self, de: bool) -> str:
        n = self.rng.randint(5, 95)
        if de:
            return self.rng.choice([f"{n} Minuten", f"{n} min", f"{self.rng.randint(1, 4)} Stunden", f"{n} Min."])
        return self.rng.choice([f"{n} minutes", f"{n} mins", f"{self.rng.randint(1, 4)} hours"])


def tail(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.2:
        return " " + "".join(rng.choice(EMOJIS) for _ in range(rng.randint(1, 3)))
    if r < 0.35:
        return "\n\n" + " ".join(rng.sample(HASHTAGS, rng.randint(1, 3)))
    if r < 0.42:
        return rng.choice(["!!!", "???", "!!1", " …", "\nLG", "\nGruß", "\n\nDanke", " thx"])
    return ""


# ------------------------------------------------------------------------------------------------ posts


def _lang_for(rng: random.Random, locale: str) -> str:
    r = rng.random()
    if locale == "de_DE":
        return "de" if r < 0.82 else "mix" if r < 0.92 else "en"  # a few expats write English
    if locale.startswith("de"):
        return "de" if r < 0.88 else "mix"
    return "en"


def _styled(rng: random.Random, text: str, labels: list[Label], handle: str, lang: str) -> tuple[str, list[Label]]:
    """Greeting, emojis or hashtags, and sometimes all lower case or ALL CAPS (values change with the text)."""
    if not text.startswith(handle) and rng.random() < 0.35:
        text = rng.choice([f"{handle} ", f".{handle} ", f"Hey {handle}\n", "Hallo Telekom,\n" if lang != "en"
                           else "Hi,\n"]) + text
    text += tail(rng)
    r = rng.random()
    case: Callable[[str], str] | None = str.lower if r < 0.16 else str.upper if r < 0.20 else None
    if case is not None:
        text = case(text)
        labels = [Label(lb.kind, case(lb.value), case(lb.secret)) for lb in labels]
    return text, labels


def _value(values: Values, kind: str) -> tuple[str, str]:
    maker: dict[str, Callable[[], tuple[str, str]]] = {
        "phone": values.phone, "email": values.email, "iban": values.iban, "card": values.card,
        "birthdate": values.birthdate_numeric, "birthdate_words": values.birthdate_words,
        "address": values.address, "customer_number": values.customer_number,
    }
    return maker[kind]()


def _positive(rng: random.Random, values: Values, context: Context, kind: str, lang: str) -> Post:
    template_kind = "birthdate_words" if kind == "birthdate" and rng.random() < 0.25 else kind
    value, secret = _value(values, template_kind)
    fields = context.fields(lang)
    text = rng.choice(POSITIVE[template_kind][lang]).format(v=value, **fields)
    labels = [Label(kind, value, secret)]
    if rng.random() < 0.22:  # a second value of another kind
        other = rng.choice([k for k in KIND_WEIGHTS if k != kind])
        other_value, other_secret = _value(values, other)
        text += rng.choice(EXTRA[other]["en" if lang == "en" else "de"]).format(v=other_value)
        labels.append(Label(other, other_value, other_secret))
    if rng.random() < 0.15:  # and something that is not personal data
        text = rng.choice(NEGATIVE[lang]).format(**context.fields(lang)) + rng.choice([". ", "\n", " – ", "! "]) + text
    text, labels = _styled(rng, text, labels, context.brand.handle, lang)
    return Post(text=text, lang=lang, locale=values.locale, part="pii", labels=labels)


def _negative(rng: random.Random, context: Context, lang: str, locale: str) -> Post:
    text = rng.choice(NEGATIVE[lang]).format(**context.fields(lang))
    if rng.random() < 0.3:
        text += rng.choice([". ", "\n", " – ", "! "]) + rng.choice(NEGATIVE[lang]).format(**context.fields(lang))
    text, _ = _styled(rng, text, [], context.brand.handle, lang)
    return Post(text=text, lang=lang, locale=locale, part="negative")


def build(brand: BrandData, seed: int = SEED) -> list[Post]:
    """About 600 posts with personal data and 400 without, the same for the same seed and brand data."""
    rng = random.Random(seed)
    values = {locale: Values(locale, random.Random(rng.randrange(2**32))) for locale in LOCALES}
    contexts = {locale: Context(values[locale], brand) for locale in LOCALES}
    locales, weights = list(LOCALE_WEIGHTS), list(LOCALE_WEIGHTS.values())
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    posts: list[Post] = []
    seen: set[str] = set()
    while len(posts) < POSITIVE_POSTS:
        locale = rng.choices(locales, weights)[0]
        post = _positive(rng, values[locale], contexts[locale], rng.choices(kinds, kind_weights)[0],
                         _lang_for(rng, locale))
        if post.text not in seen:
            seen.add(post.text)
            posts.append(post)
    while len(posts) < POSITIVE_POSTS + NEGATIVE_POSTS:
        locale = rng.choices(locales, weights)[0]
        lang = _lang_for(rng, locale)
        post = _negative(rng, contexts[locale], lang, locale)
        if post.text not in seen:
            seen.add(post.text)
            posts.append(post)
    return posts
