# ruff: noqa
"""The outside reviewer's probe corpus for issue 14, kept as written (tests/eval/pii_probe/README.md).

Brought in from the reviewer's /tmp/pii_probe/gen.py on 2026-11-30 with two edits only: the
``CARD_DIGIT`` environment switch became the ``card_digit`` argument of ``build``, and the German IBANs
in US posts come from a Faker seeded with the set (the original's was unseeded, so 7 of the 1,220 posts
changed from run to run). The templates, value
generators and hard negatives are the reviewer's, written without the detector's patterns in view; do not
tune them to the detector.
"""
import random, re, string
import phonenumbers
from faker import Faker

SEED = 777_31
LOCALES = ["de_DE", "de_AT", "de_CH", "en_GB", "en_US"]
REGION = {"de_DE": "DE", "de_AT": "AT", "de_CH": "CH", "en_GB": "GB", "en_US": "US"}
NBSP = "\u00a0"

class Post:
    def __init__(self, text, lang, locale, cls, labels):
        self.text, self.lang, self.locale, self.cls, self.labels = text, lang, locale, cls, labels

def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2: n = n * 2 - 9 if n > 4 else n * 2
        s += n
    return s % 10 == 0

def good_phone(f, region, r):
    for _ in range(200):
        raw = f.phone_number().split("x")[0].strip()
        try:
            n = phonenumbers.parse(raw, region)
        except Exception:
            continue
        t = phonenumbers.number_type(n)
        if phonenumbers.is_valid_number(n) and t in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
            # some re-spellings of my own
            v = r.random()
            if v < 0.5:
                return raw
            nat = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
            intl = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            if v < 0.7: return nat
            if v < 0.85: return intl
            return re.sub(r"[\s()\-/]", "", nat)
    raise RuntimeError(region)

def card(f, r):
    while True:
        c = f.credit_card_number()
        if 13 <= len(c) <= 19 and luhn_ok(c):
            break
    sep = r.choice(["", " ", " ", "-", NBSP, "."])
    if sep == "" or len(c) not in (16,):
        return c if sep == "" else (c if len(c) != 15 else sep.join([c[:4], c[4:10], c[10:]]))
    return sep.join(c[i:i+4] for i in range(0, 16, 4))

_DE_FOR_US = Faker("de_DE")  # German IBANs for US posts, seeded in build (the original's was unseeded)

def iban(f, loc, r):
    i = _DE_FOR_US.iban() if loc == "en_US" else f.iban()
    st = r.random()
    g = " ".join(i[k:k+4] for k in range(0, len(i), 4))
    if st < 0.25: return i
    if st < 0.5: return g
    if st < 0.62: return i[:2] + " " + i[2:4] + " " + " ".join(i[k:k+4] for k in range(4, len(i), 4))
    if st < 0.74: return g.replace(" ", "-")
    if st < 0.86: return g.replace(" ", ".")
    return g.replace(" ", NBSP)

UML = ["jürgen", "müller", "größe", "bärbel", "özil", "jörg", "günther", "käthe"]

def email(f, r, lang):
    local = f.user_name()
    host = f.free_email_domain()
    st = r.random()
    if st < 0.12:
        local = r.choice(UML) + r.choice([".", "_", ""]) + r.choice(UML + [str(r.randint(1, 99))])
    if st < 0.45:
        v = f"{local}@{host}"; sec = local
    elif st < 0.58:
        v = f"{local}[at]{host}"; sec = local
    elif st < 0.70:
        v = f"{local}(at){host}"; sec = local
    elif st < 0.80:
        v = f"{local} (at) {host.replace('.', ' (dot) ')}"; sec = local
    elif st < 0.90:
        v = f"{local} at {host.replace('.', ' dot ')}"; sec = local
    else:
        v = f"{local} @ {host}"; sec = local
    return v, sec

MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
ORD_DE = ["ersten", "zweiten", "dritten", "vierten", "fünften", "sechsten", "siebten", "achten", "neunten", "zehnten", "elften", "zwölften", "dreizehnten", "vierzehnten", "fünfzehnten", "sechzehnten", "siebzehnten", "achtzehnten", "neunzehnten", "zwanzigsten", "einundzwanzigsten", "zweiundzwanzigsten", "dreiundzwanzigsten", "vierundzwanzigsten", "fünfundzwanzigsten", "sechsundzwanzigsten", "siebenundzwanzigsten", "achtundzwanzigsten"]

def birth(f, r, lang):
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    day = min(d.day, 28)
    st = r.random()
    if lang == "de":
        opts = [
            ("geb. {v}", f"{day:02d}.{d.month:02d}.{d.year}"),
            ("*{v}", f"{day:02d}.{d.month:02d}.{d.year}"),
            ("geb. {v}", f"{day}.{MONTHS_DE[d.month-1]} {d.year}"),
            ("geboren am {v}", f"{day}. {MONTHS_DE[d.month-1]} {d.year}"),
            ("geboren am {v}", f"{ORD_DE[day-1]} {MONTHS_DE[d.month-1]} {d.year}"),
            ("Geburtsdatum: {v}", f"{day}.{d.month}.{d.year}"),
            ("mein Geburtstag ist der {v}", f"{day:02d}.{d.month:02d}.{d.year}"),
        ]
    else:
        opts = [
            ("DOB {v}", f"{day:02d}/{d.month:02d}/{d.year}"),
            ("date of birth: {v}", f"{MONTHS_EN[d.month-1]} {day}, {d.year}"),
            ("born {v}", f"{day} {MONTHS_EN[d.month-1]} {d.year}"),
            ("born on {v}", f"{d.month}/{day}/{d.year}"),
            ("my birthday is {v}", f"{day:02d}.{d.month:02d}.{d.year}"),
            ("d.o.b. {v}", f"{d.year}-{d.month:02d}-{day:02d}"),
        ]
    cue, v = r.choice(opts)
    return cue, v

DE_SHAPES = ["Lange Reihe", "Platz der Einheit", "Weg am Hang", "Am Sonnenhang", "Unter den Linden", "An der Kirche", "Alte Landstraße", "Zum Steinbruch", "Hinter der Mühle", "Auf dem Berg", "Große Bleichen", "Im Winkel", "Kleiner Markt"]

def address(f, loc, r, lang):
    """returns (value, secret, postcode_city_or_None)"""
    pc, city = f.postcode(), f.city()
    if lang == "de":
        st = r.random()
        if st < 0.35:
            street = r.choice(DE_SHAPES)
        else:
            street = f.street_name()
        num = str(r.randint(1, 180))
        v = r.random()
        if v < 0.2: num += r.choice("abcd")
        elif v < 0.3: num += " " + r.choice("ab")
        elif v < 0.38 and loc == "de_AT": num += f"/{r.randint(1,9)}/{r.randint(1,30)}"
        line = f"{street} {num}"
        return line, line, (pc, city)
    else:
        line = f.street_address()
        while line[0] == "0":
            line = f.street_address()
        return line, line, (pc, city)

def custno(r):
    n = str(r.randint(10**7, 10**11 - 1))
    if r.random() < 0.25:
        n = f"{n[:3]} {n[3:6]} {n[6:]}"
    return n

def build(n_pos=700, n_neg=520, seed=SEED, card_digit=False):
    CARD_DIGIT = card_digit
    _DE_FOR_US.seed_instance(seed)
    r = random.Random(seed)
    fakers = {}
    for i, loc in enumerate(LOCALES):
        f = Faker(loc); f.seed_instance(seed + 13 * i); fakers[loc] = f
    posts = []
    for k in range(n_pos):
        loc = LOCALES[k % 5]
        f = fakers[loc]
        lang = "de" if loc.startswith("de") else "en"
        cls = r.choice(["phone+digit", "phone_plain", "phone_two", "phone_repeat", "custno_label_after", "custno_ist_die",
                        "custno_repeat", "street", "street_lower", "iban", "birth", "email", "card", "phone_plain", "street"] + (["card+digit"] if CARD_DIGIT else []))
        labels = []
        low = False
        if cls == "phone+digit":
            p = good_phone(f, REGION[loc], r)
            tail = r.choice(["5G geht nicht", "50 Mbit", "3 Tage", "2 mal angerufen", "24 Stunden"] if lang == "de" else ["5G not working", "50 Mbps", "3 days", "2 times", "24 hours"])
            text = (f"Bitte ruft mich an: {p} {tail}" if lang == "de" else f"Please call me on {p} {tail} now")
            labels = [("phone", p)]
        elif cls == "phone_plain":
            p = good_phone(f, REGION[loc], r)
            t = r.choice(["Rückruf bitte unter {p}, danke!", "meine nummer {p} geht seit gestern nicht", "Erreichbar bin ich unter {p} ab 18 Uhr.", "Hallo, Handy {p} hat kein Netz 😡"] if lang == "de" else
                         ["Can someone ring me back on {p}?", "my number is {p} and it's dead since Monday", "Reach me at {p} after 6pm pls", "line {p} has no dial tone!!"])
            text = t.format(p=p); labels = [("phone", p)]
        elif cls == "phone_two":
            p, q = good_phone(f, REGION[loc], r), good_phone(f, REGION[loc], r)
            text = (f"Festnetz und Handy: {p} {q} bitte zurückrufen" if lang == "de" else f"landline and mobile: {p} {q} please call back")
            labels = [("phone", p), ("phone", q)]
        elif cls == "phone_repeat":
            p = good_phone(f, REGION[loc], r)
            text = (f"Nummer {p} – ich wiederhole: {p}" if lang == "de" else f"Number {p} - again: {p}")
            labels = [("phone", p)]
        elif cls == "custno_label_after":
            c = custno(r)
            t = r.choice(["{c} = meine Vertragsnummer, bitte prüfen", "Hier {c} (Kundennummer), Rechnung falsch", "{c} ist meine Kundennummer"] if lang == "de" else
                         ["{c} = my account number, please check", "here you go {c} (account number)", "{c} is my customer number"])
            text = t.format(c=c); labels = [("customer_number", c)]
        elif cls == "custno_ist_die":
            c = custno(r)
            text = (f"meine Kundennummer ist die {c}, seit Tagen kein Internet" if lang == "de" else f"my account number is {c}, no internet for days")
            labels = [("customer_number", c)]
        elif cls == "custno_repeat":
            c = str(r.randint(10**9, 10**10 - 1))
            text = (f"Kundennummer {c}. Nochmal: {c}! Warum antwortet keiner?" if lang == "de" else f"Customer number {c}. Again: {c}! Why no answer?")
            labels = [("customer_number", c)]
        elif cls in ("street", "street_lower"):
            line, sec, (pc, city) = address(f, loc, r, lang)
            if lang == "de":
                t = r.choice(["Ich wohne in der {a}, {pc} {c} und habe kein DSL", "Techniker kam nicht: {a} in {pc} {c}", "Lieferadresse {a}, {pc} {c} – Router nie angekommen", "{a}\n{pc} {c}\nbitte den Anschluss prüfen"])
            else:
                t = r.choice(["I live at {a}, {c} {pc} and still no broadband", "Engineer never showed up at {a}, {c}", "deliver to {a}, {c} {pc} please, router missing", "{a}\n{c} {pc}\nplease check my line"])
            text = t.format(a=line, pc=pc, c=city)
            if cls == "street_lower":
                text = text.lower(); line = line.lower(); sec = sec.lower()
            labels = [("address", line, sec)]
        elif cls == "iban":
            i = iban(f, loc, r)
            text = (r.choice(["Bitte Lastschrift auf IBAN {i} umstellen", "meine neue Bankverbindung: {i}", "IBAN {i} wurde doppelt belastet!"]) if lang == "de" else
                    r.choice(["Please change the direct debit to IBAN {i}", "new bank details: {i}", "charged twice on {i}!"])).format(i=i)
            labels = [("iban", i)]
        elif cls == "birth":
            cue, v = birth(f, r, lang)
            text = (f"Vertrag auf mich, {cue.format(v=v)}, bitte Identität prüfen" if lang == "de" else f"contract is mine, {cue.format(v=v)}, verify me please").replace("{v}", v)
            labels = [("birthdate", v)]
        elif cls == "email":
            v, sec = email(f, r, lang)
            text = (r.choice(["schreibt mir an {e}", "Mail an {e} kam nie an", "Rechnung bitte an {e} senden"]) if lang == "de" else
                    r.choice(["email me at {e}", "no mail ever arrived at {e}", "send the bill to {e} please"])).format(e=v)
            labels = [("email", v, sec)]
        elif cls == "card+digit":
            c = card(f, r)
            d = f.credit_card_expire()
            text = (r.choice(["Karte {c} {d} wurde zweimal belastet", "Kreditkarte {c} 2 mal abgebucht!", "mit {c} {d} bezahlt, Geld weg"]) if lang == "de" else
                    r.choice(["card {c} exp {d} charged twice", "card {c} {d} declined", "charged 3 times on {c} 3 times"])).format(c=c, d=d)
            labels = [("card", c)]
        elif cls == "card":
            c = card(f, r)
            text = (r.choice(["Karte {c} wurde zweimal belastet", "Kreditkarte {c} abgelehnt, warum?", "hab mit {c} bezahlt, Geld weg"]) if lang == "de" else
                    r.choice(["card {c} charged twice", "my credit card {c} was declined?", "paid with {c} and nothing happened"])).format(c=c)
            labels = [("card", c)]
        lab = []
        for L in labels:
            kind, v = L[0], L[1]
            sec = L[2] if len(L) > 2 else v
            assert v in text, (v, text)
            lab.append((kind, v, sec))
        posts.append(Post(text, lang, loc, cls, lab))
    # hard negatives
    negs_de = [
        ("plz_city", lambda f, r: f"in {f.postcode()} {f.city()} ist seit {r.randint(2,9)} Stunden Störung"),
        ("plz_city", lambda f, r: f"Internet weg in {f.postcode()} {f.city()}?? #störung"),
        ("count", lambda f, r: f"{r.randint(10000, 99999)} Störungsmeldungen auf allestörungen, und ihr sagt nichts"),
        ("count", lambda f, r: f"schon {r.randint(10000, 99999)} Leute betroffen laut Downdetector"),
        ("compound", lambda f, r: f"Ihr seid Testsieger-Platz {r.randint(1,3)}? Lachhaft."),
        ("compound", lambda f, r: f"MagentaTV Programmplatz {r.randint(100, 400)} zeigt nur schwarz"),
        ("compound", lambda f, r: f"Wann kommt an der Frankfurter Allee 5G? Seit Monaten warte ich"),
        ("compound", lambda f, r: f"Bin mit dem Tarif auf Rang {r.randint(1,9)} im Netztest-Vergleich, trotzdem Funkloch am Marktplatz"),
        ("datetime", lambda f, r: f"Störung vom {r.randint(1,28):02d}.{r.randint(1,12):02d}.2024 {r.randint(0,23):02d}:{r.randint(0,59):02d} Uhr immer noch nicht behoben"),
        ("datetime", lambda f, r: f"Rechnung vom {r.randint(1,28):02d}.{r.randint(1,12):02d}.2019 – {r.randint(10,99)},{r.randint(10,99)} € zu viel abgebucht"),
        ("datetime", lambda f, r: f"Wartungsfenster {r.randint(1,9):02d}.09.–{r.randint(10,28):02d}.09.2025, stimmt das?"),
        ("datetime", lambda f, r: f"Techniker kommt erst KW {r.randint(1,52)}/2025, geht's noch?"),
        ("datetime", lambda f, r: f"Termin am {r.randint(1,28)}.{r.randint(1,12)}.2025 zwischen {r.randint(7,12)}:00 und {r.randint(13,18)}:00 Uhr verpasst"),
        ("version", lambda f, r: f"Firmware {r.randint(10,99):03d}{r.randint(100,999)}.{r.randint(1,9)}.{r.randint(1,9)}.{r.randint(100,999)} auf dem Speedport macht Probleme"),
        ("version", lambda f, r: f"nach dem Update auf {r.randint(1,9)}.{r.randint(0,20)}.{r.randint(0,300)} stürzt die App ab"),
        ("speed", lambda f, r: f"statt 250 Mbit nur {r.randint(10,99)},{r.randint(1,9)} Mbit/s und Ping {r.randint(20,400)} ms"),
        ("price", lambda f, r: f"Preiserhöhung von {r.randint(20,60)},95 € auf {r.randint(61,90)},95 € ab 01.{r.randint(1,12):02d}.2026??"),
        ("own_hotline", lambda f, r: r.choice(["Hab bei 0800 330 1000 angerufen, 40 Min Warteschleife", "eure Hotline 0800 3301000 ist dauerbesetzt", "Zentrale +49 228 181-0 hilft auch nicht", "hab die 0228 1810 angerufen, keiner geht ran"])),
        ("own_address", lambda f, r: r.choice(["Ich schreib jetzt an die Friedrich-Ebert-Allee 140, 53113 Bonn", "Shop Landgrabenweg 151 in Bonn hatte zu", "Beschwerde geht per Post an Friedrich-Ebert-Allee 140"])),
        ("own_email", lambda f, r: r.choice(["hab an kundenservice@telekom.de geschrieben, keine Antwort", "Mail an info@telekom.de kam zurück"])),
        ("ticket", lambda f, r: r.choice([f"Ticketnummer {r.randint(10**7, 10**8-1)} seit 2 Wochen offen", f"Ticket-Nr. {r.randint(10**7, 10**8-1)} – keine Rückmeldung", f"Störungsticket {r.randint(10**7, 10**8-1)} wurde einfach geschlossen", f"Ticket: {r.randint(10**7, 10**8-1)} bitte eskalieren"])),
        ("parcel", lambda f, r: f"Sendungsnummer {r.randint(10**11, 10**12-1)} hängt seit Tagen im Paketzentrum"),
        ("imei", lambda f, r: f"Handy gesperrt, IMEI {imei(r)}"),
        ("street_no_number", lambda f, r: f"In der {f.street_name()} ist schon wieder alles aufgerissen, Glasfaser-Ausbau?"),
        ("road", lambda f, r: f"Funkloch auf der A{r.randint(1,99)} zwischen Ausfahrt {r.randint(1,40)} und {r.randint(41,80)}"),
        ("time_range", lambda f, r: f"seit {r.randint(6,11)}:{r.randint(10,59)} Uhr kein Netz, jetzt {r.randint(12,23)}:{r.randint(10,59)}"),
    ]
    negs_en = [
        ("plz_city", lambda f, r: f"outage in {f.city()} {f.postcode()} since {r.randint(6,11)}am?"),
        ("count", lambda f, r: f"{r.randint(10000, 99999)} reports on downdetector and no statement from you"),
        ("datetime", lambda f, r: f"bill dated {r.randint(1,12):02d}/{r.randint(1,28):02d}/2025 for £{r.randint(10,99)}.{r.randint(10,99)} is wrong"),
        ("datetime", lambda f, r: f"outage since {r.randint(1,28)} October 2025 {r.randint(10,23)}:{r.randint(10,59)}, still nothing"),
        ("datetime", lambda f, r: f"engineer booked for {r.randint(1,28)}/{r.randint(1,12)}/2025 between {r.randint(7,11)}-{r.randint(12,18)}"),
        ("version", lambda f, r: f"since iOS {r.randint(14,18)}.{r.randint(0,6)}.{r.randint(0,3)} no VoLTE"),
        ("speed", lambda f, r: f"paying for 500 Mbps getting {r.randint(10,99)}.{r.randint(1,9)} with {r.randint(20,300)}ms ping"),
        ("own_hotline", lambda f, r: r.choice(["called 0800 330 1000 three times already", "your hotline +49 800 3302202 just hangs up"])),
        ("ticket", lambda f, r: r.choice([f"Ticket #{r.randint(10**7, 10**8-1)} still open after 10 days", f"ticket number {r.randint(10**7, 10**8-1)} closed without a fix", f"Ticket no. {r.randint(10**7, 10**8-1)}"])),
        ("order", lambda f, r: f"order {r.randint(10**5, 10**6-1)}-{r.randint(10,99)} never shipped"),
        ("compound", lambda f, r: f"Top {r.randint(3,20)} worst providers and you're No. {r.randint(1,3)}"),
        ("compound", lambda f, r: f"bought the {r.randint(5,30)} Day Travel Pass and got 0 MB"),
        ("imei", lambda f, r: f"phone blocked, IMEI {imei(r)}"),
        ("street_no_number", lambda f, r: f"roadworks on {f.street_name()} again, is that the fibre rollout?"),
    ]
    for k in range(n_neg):
        loc = LOCALES[k % 5]
        f = fakers[loc]
        lang = "de" if loc.startswith("de") else "en"
        cls, fn = r.choice(negs_de if lang == "de" else negs_en)
        posts.append(Post(fn(f, r), lang, loc, "neg:" + cls, []))
    return posts

def imei(r):
    d = [r.randint(0, 9) for _ in range(14)]
    body = "35" + "".join(map(str, d[:12]))
    for c in range(10):
        if luhn_ok(body + str(c)):
            return body + str(c)
