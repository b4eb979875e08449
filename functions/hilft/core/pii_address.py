"""Street addresses in a post: a street with its house number, in German or English shape.

An address is personal data because the street and house number lead to one household. A postcode with a
city alone ("in 53113 Bonn ist Störung") identifies nobody: it is the location the outage radar needs, so it
is never reported on its own; next to a street line it becomes part of the address span.

Street lines:

- German, Austrian, Swiss: a street name then a house number ("Hauptstraße 5", "Konrad-Adenauer-Str. 7",
  "Lange Reihe 24b", "Platz der Einheit 16 b", "Weg am Hang 31a", "van der Dussenplatz 5", "Am Markt 3").
  Names ending in a street word that also ends ordinary compounds ("-platz", "-markt", "-hof", "-berg", …)
  and prepositional names ("Am Markt") are *weak*: they count only next to a postcode or after an address
  cue ("wohne", "Adresse", "geliefert an", "live at"), because "Programmplatz 162" and "Im Jahr 2024" have
  the same shape; a compound named after someone ("Marion-Hartung-Platz", "Obermüllerplatz": a surname's
  ending before the street word) or a house number with a letter or a door ("Kästerplatz 8 a"; not "1a")
  is strong; so is a place compound ("-platz", "-markt", "-hof", "-garten", "-park") right after a preposition
  whose house number ends the phrase ("Glasfaser für Lindenplatz 17"; not "im Kindergarten 2 Gruppen"). A number
  followed by a unit ("Speicherplatz 50 GB", "Frankfurter Allee 5G") is no house
  number. A road class ("Bundesstraße 9") is no address; two-word prepositions ("Unter den Eichen 88") count when
  the house number ends the phrase. The house number may follow "Nr." ("Lindenweg Nr. 12a"), be a range
  with a letter ("Birkenstraße 4-6 b") and carry the Austrian staircase and door ("45/2/14", "3a/Top 4",
  "45, Stiege 2, Top 14", "19 Stiege 2/Tür 5"); an adjective, a saint or a title before a compound is part
  of the name ("Große Neugasse 5", "St.-Gotthard-Straße 156", "Dr.-Külz-Ring 12"); so is a name before it
  written apart, at the start of a line or after a cue ("Hans Böckler Str. 5", "wohne Karl-Heinz Brandt-Allee 9").
- English: a house number then a name ending in a street type ("221B Baker Street", "786 Timothy Summit
  Suite 625", "Flat 3, Bradley Roads", "1200 N Main St Apt 3", "55 W 42nd St"). Types that are ordinary
  words too ("7 Day Travel Pass", "500 Bonus Points") are weak, like the German weak names, unless the house
  number has five digits and is not round ("48216 Maple Hollow").
- A post-office box ("PO Box 4471", "P.O. Box 902", "Postfach 44 21 07") leads to one person's mail: an address.
  A box names no place, so a city right after it that closes the phrase is its address line ("PO Box 1234,
  Anytown"); after a street line a city alone stays.
- Without any street word ("Große Bleichen 12", "Zeil 106", "Graben 19"): a name and a house number count only
  right before a postcode and city ("Große Bleichen 12, 20354 Hamburg"); cue words before the name ("wohne in
  der", "Adresse:") are not part of it.
- A year as house number ("Der Weg zur Glasfaser 2025") makes any street line weak.
- Case: a post without capitals is read ignoring case; in one with capitals, the stretch around a street
  word written in lower case or in capitals ("in der hauptstraße 5", "HAUPTSTRASSE 17") is read again
  ignoring case, keeping only names that are streets beyond doubt.
- The brand's own addresses are compared as normalised street keys, both ways ("Friedrich Ebert Allee 140"
  is the brand's "Friedrich-Ebert-Allee 140").

All patterns are bounded (no nested unbounded repetition), so the cost is linear in the text length.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

_UP = "A-ZÄÖÜ"
_LO = "a-zäöüßéèêëàâáôóòûúùîíìçñ"
_W = rf"[{_UP}][{_LO}']{{1,30}}(?:[{_UP}][{_LO}]{{1,30}})?"  # Hauptstraße, McLean, O'Neill
# Street words as a compound ending: strong ones end almost only street names.
_STRONG_SUFFIX = (
    r"straße|strasse|str\.?|gasse|allee|chaussee|damm|ufer|weg|ring|steig|stieg|pfad|promenade|gürtel|twiete"
    r"|zeile|reihe|kai|quai|gässle|gässli"
)
_WEAK_SUFFIX = (
    r"platz|markt|hof|berg|garten|park|tor|brücke|feld|wiese|höhe|bogen|winkel|anger|kamp|wall|graben|grund"
    r"|hang|siedlung|hain|tal|leite|halde|rain|acker|heide|au|aue"
    # regional: Swiss "-matt(e)", "-stalden", Austrian "-lände", and "-eck"
    r"|matt|matte|stalden|lände|eck"
)
_TYPE_WORD = (
    r"Straße|Strasse|Str\.?|Gasse|Allee|Chaussee|Damm|Ufer|Weg|Ring|Steig|Stieg|Pfad|Promenade|Gürtel|Zeile"
    r"|Reihe|Kai|Quai|Platz|Markt|Hof|Berg|Garten|Park|Tor|Brücke|Feld|Wiese|Höhe|Bogen|Winkel|Anger|Kamp|Wall"
    r"|Graben|Twiete"
)
_STRONG_TYPE_WORDS = frozenset(
    "straße strasse str. str gasse allee chaussee damm ufer weg ring steig stieg pfad promenade gürtel zeile reihe "
    "kai quai twiete".split()
)
_PARTICLE = r"(?:(?:van|von|de|zu|vom)\s(?:(?:der|den|dem)\s)?)"
_ARTICLE = (
    r"(?:der|des|dem|den|am|an\sder|an\sden|im|zum|zur|vor\sdem|hinter\sdem|auf\sdem|auf\sder|unter\sden|in\sder)"
)
_PREPOSITION = (
    r"(?:Am|An\sder|An\sden|Auf\sdem|Auf\sder|Im|In\sder|In\sden|Unter\sden|Zum|Zur|Hinter\sder|Hinter\sdem"
    r"|Vor\sdem|Beim|Alt|An\sdem|Bei\sder)"
)
# Austrian and German parts of a building before the door: "Stiege 2", "Top 14", "Tür 5", "Whg. 3"
_DOOR_WORD = r"(?:[Ss]tiege|[Ss]tg\.?|[Tt]op|[Tt]ür|[Tt]üre|[Tt]uer|[Hh]aus|[Bb]lock|[Ss]tock|[Ww]hg\.?|[Ww]ohnung)"
_HOUSE_NUMBER = (
    # a letter, a range ("8-6 a", "1-2 c"), then the staircase and door after slashes ("Mariahilfer Straße
    # 45/2/14") or named after a slash, comma or space ("26c/Top 7", "12/stiege 1/top 18", "45, Stiege 2, Top 14")
    r"(?![2-6]\s?G(?![\w]))[1-9][0-9]{0,3}(?:\s?[a-zA-Z](?![\w]))?"
    r"(?:\s?[-/]\s?[1-9][0-9]{0,3}(?:\s?[a-zA-Z](?![\w]))?)?"
    rf"(?:/[1-9][0-9]{{0,3}}(?![\w])|(?:\s?/\s?|,\s|\s){_DOOR_WORD}\s?[1-9][0-9]{{0,3}}[a-zA-Z]?(?![\w])){{0,3}}"
)
# "Nr." before the house number: "Hauptstraße Nr. 5", "Lindenweg Nr 12a"
_NUMBER_WORD = r"(?:(?:[Nn]r|[Nn]o)\.?\s{0,2}|[Nn]ummer\s)"
# a saint or a title before a name: "St.-Gotthard-Straße", "Dr.-Külz-Ring", "Sankt-Anna-Platz"
_TITLE = r"(?:St\.|Dr\.|Prof\.)\s?-?"
# an adjective before a compound street name: "Große Neugasse", "Alte Poststraße", "Kleiner Schlossplatz"
_STREET_ADJECTIVE = (
    r"(?:Groß|Gross|Klein|Alt|Neu|Ober|Unter|Hinter|Vorder|Lang|Kurz|Hoh|Mittler|Inner|Äußer|Äusser|Breit"
    r"|Krumm|Still|Verlängert)(?:e|er|es)\s"
)
_NOT_A_HOUSE_NUMBER_AFTER = (
    r"(?![0-9]|[.,:/-][0-9]|\s[0-9]{1,3}(?![0-9])|\s?(?:%|€|\$|£|x\b|GB|MB|KB|TB|GHz|MHz|Mbit|MBit|Mbps|Kbit|Gbit|Euro|EUR|Uhr|h\b|min\b"
    r"|Min\b|mal\b|Mal\b|Tage|Stunden|Minuten|Sekunden|Wochen|Monate|Jahre|Balken|Leute|Kunden|Geräte|Prozent"
    r"|Meter|km\b|m\b|ms\b|Grad|°|Punkte|Sterne|Stück|Stk))"
)
_GERMAN_NAME = (
    # F1: a compound ending in a street word: Hauptstraße, Konrad-Adenauer-Straße, van der Dussenplatz
    rf"(?P<compound>(?:{_STREET_ADJECTIVE})?(?:{_TITLE})?{_PARTICLE}{{0,2}}{_W}(?:-{_W}){{0,3}}(?:-?(?P<suffix>{_STRONG_SUFFIX}|{_WEAK_SUFFIX})"
    rf"|-(?P<hyphen_type>{_TYPE_WORD})))"
    # F2: an adjective and a street word: Berliner Str., Lange Reihe, Alter Markt, Schöneberger Ufer
    rf"|(?P<adjective>{_W}(?:-{_W})?)\s(?P<adjective_type>{_TYPE_WORD})"
    # F3: a street word first: Platz der Einheit, Weg am Hang
    rf"|(?P<type_first>{_TYPE_WORD})\s{_ARTICLE}\s(?:[0-9]{{1,2}}\.\s)?{_W}(?:\s{_W})?"
    # F4: a preposition first: Am Markt, Unter den Linden
    rf"|(?P<preposition>{_PREPOSITION})\s(?P<weak_name>{_W})(?:-{_W})?"
)
_GERMAN_STREET = re.compile(
    rf"(?<![\w-])(?:{_GERMAN_NAME})\s{{1,2}}(?P<number_word>{_NUMBER_WORD})?(?P<number>{_HOUSE_NUMBER})"
    rf"{_NOT_A_HOUSE_NUMBER_AFTER}"
)


# English street types: USPS Publication 28's street suffixes (appendix C1) and Royal Mail's thoroughfare words.
_EN_TYPES = (
    "Street St Road Rd Avenue Ave Lane Ln Drive Dr Court Ct Close Way Place Pl Terrace Crescent Cres Boulevard "
    "Blvd Square Sq Gardens Park Hill Hills Row Mews Grove Parkway Pkwy Circle Cir Trail Trl Highway Hwy Walk Green "
    "Rise Vale View Estate Parade Wharf Yard Alley Bypass Causeway Centre Center Common Corner Cove Creek Crossing "
    "Dale Dam Divide Expressway Extension Falls Ferry Field Fields Ford Flat Flats Forest Forge Fork Fort Freeway "
    "Garden Gateway Glen Glens Harbor Harbour Haven Heights Hollow Inlet Island Isle Junction Key Keys Knoll Knolls "
    "Lake Lakes Landing Light Lights Loaf Lock Locks Lodge Loop Mall Manor Manors Meadow Meadows Mill Mills Mission "
    "Motorway Mount Mountain Mountains Neck Orchard Oval Overpass Pass Passage Path Pike Pine Pines Plain Plains "
    "Plaza Point Points Port Ports Prairie Radial Ramp Ranch Rapid Rapids Rest Ridge Ridges River Roads Route Shoal "
    "Shoals Shore Shores Skyway Spring Springs Spur Spurs Squares Station Stravenue Stream Streets Summit Throughway "
    "Trace Track Trafficway Tunnel Turnpike Underpass Union Unions Valley Valleys Viaduct Views Village Villages "
    "Ville Vista Ways Well Wells Brook Brooks Burg Burgs Bluff Bluffs Bottom Branch Bridge Bridges Camp Canyon Cape "
    "Cliff Cliffs Club Courts Coves Crest Curve Drives Greens Grove Groves Harbors Estates Parks Ridge Run Shoal "
    "Fall Gardens Gateway Heights Highway Villas Close Croft Chase Drove Corner Fork Rue Crossroad Loop Byway "
    "Wall Via Land Course Anex Annex Arcade Bayou Beach Bend Trailer Approach Broadway Circus Esplanade Quay Wynd "
    "Embankment"
).split()
_EN_TYPE = "(?:" + "|".join(sorted({re.escape(t) for t in _EN_TYPES}, key=len, reverse=True)) + r")s?\.?"
# Types that name almost only streets. The others are ordinary words too ("7 Day Travel Pass", "500 Bonus
# Points", "3 Mobile Broadband Center"): weak, they count like a weak German name (postcode, city or cue).
_EN_STRONG_TYPES = frozenset(
    "street st road rd avenue ave av lane ln drive dr boulevard blvd court ct close place pl terrace crescent cres "
    "square sq mews grove parkway pkwy highway hwy circle cir trail trl way row gardens wynd embankment esplanade "
    "quay parade broadway alley causeway expressway freeway motorway turnpike stravenue drove croft chase".split()
)
# in a post that otherwise uses capitals, a street written in lower case or in capitals is read only with these
_EN_UNAMBIGUOUS_TYPES = frozenset(
    "street st road rd avenue ave lane ln boulevard blvd terrace crescent mews parkway pkwy highway hwy".split()
)
# five digits, not a multiple of 100: a US house number, seldom a count
_US_HOUSE_NUMBER = re.compile(r"[1-9][0-9]{2}(?!00)[0-9]{2}")
# ... but not before words that name a count, a device or an account ("24817 Bonus Points", "Error code 50213
# Access Point", "Invoice 20431 Service Plaza"): with these, five digits stay a count or a code
_COUNT_OR_DEVICE_WORDS = frozenset(
    "bonus reward rewards loyalty award miles point points access wireless wifi wi-fi service services data "
    "mesh repeater router hotspot signal network customer account invoice order error code model firmware "
    "version premium status member membership credit credits".split()
)
# a post-office box identifies one person's mail as an address does: "PO Box 4471", "P.O. Box 902", "Post Office
# Box 6610", "Postfach 44 21 07", "Postfach 7788" (in German four digits at least, digits grouped in pairs, or three
# before a postcode: "Postfach 150, 1011 Wien"; and
# no year, no unit or mail words after it: "Postfach 500 MB", "Postfach 150 ungelesen", "Postfach 3 neue
# Nachrichten" are the mailbox of an e-mail account; in English two digits at least: "PO box 2 field")
_PO_BOX = re.compile(
    r"(?<![\w!-])(?:(?i:p\.?[ \t]?o\.?[ \t]?box|post[ \t]office[ \t]box)[ \t]?(?:#|(?i:no)\.?)?[ \t]?[1-9][0-9]{1,5}"
    r"|(?i:postfach)[ \t](?:(?i:nr)\.?[ \t]?)?(?!(?:19|20)[0-9]{2}(?![0-9]))"
    r"(?:[1-9][0-9](?:[ \t][0-9]{2}){1,2}|[1-9][0-9]{3,5}|[1-9][0-9]{2}(?=,?[ \t][1-9][0-9]{3,4}[ \t])))"
    r"(?![0-9]|[.,][0-9]|\s?(?i:%|GB|MB|KB|TB|mails?|e-mails?|nachrichten|neue|ungelesene))"
)
_EN_UNIT = r"(?:Flat|Apt\.?|Apartment|Unit|Studio|Suite|Ste\.?|Room)\s[0-9]{1,4}[A-Za-z]?"
# words that never name a street ("court 3 of my tennis club" is no "3 … Club")
_EN_FUNCTION_WORD = (
    r"(?:of|my|the|a|an|in|on|at|to|for|and|or|is|are|was|our|your|his|her|their|no|not|with|from|by|per"
    r"|hours?|days?|times?|minutes?|weeks?|months?|years?|bars?|lines?|people|homes?|houses?)\b"
)
# a US direction before the name ("1200 N Main St"), numbered streets ("55 W 42nd St")
_EN_DIRECTION = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s)"
# (on one line: "60300 Phillip Brooks\nLake Tammyland 54811" is a street, then its city)
_EN_NAME = rf"{_EN_DIRECTION}?(?:(?!{_EN_FUNCTION_WORD})(?:{_W}|[1-9][0-9]{{0,2}}(?:st|nd|rd|th))[ \t]){{1,3}}"
_ENGLISH_STREET = re.compile(
    rf"(?<![\w-])(?:(?:{_EN_UNIT}),?\s)?"
    rf"(?:(?P<number>[1-9][0-9]{{0,4}}[A-Za-z]?)[ \t]{_EN_NAME}(?P<type>{_EN_TYPE})(?!\s[0-9])"
    rf"|(?P<flat>{_EN_UNIT}),?\s{_EN_NAME}(?P<flat_type>{_EN_TYPE}))"
    rf"(?:\s(?:N|S|E|W|NE|NW|SE|SW)\.?)?(?![\w-])(?:,?\s(?P<unit>{_EN_UNIT})(?![\w]))?"
)


@cache
def _any_case(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern ignoring case, for posts written all in lower case; compiled on first need."""
    return re.compile(pattern.pattern, re.IGNORECASE)

# Compound nouns that end like a street but are not one.
_NOT_STREETS = frozenset(
    (
        "arbeitsplatz speicherplatz parkplatz sitzplatz stellplatz spielplatz firewall umweg rückweg heimweg "
        "ausweg hinweg lösungsweg rechtsweg postweg übertragungsweg dienstweg arbeitsweg schulweg datenweg "
        "vertriebsweg leitweg programmplatz sendeplatz steckplatz ladeplatz testsieger-platz bahnhof flughafen "
        "friedhof innenhof hinterhof stadtpark freizeitpark windpark serverpark fuhrpark "
        # road classes, not addresses: "Bundesstraße 9 gesperrt"
        "bundesstraße bundesstrasse bundesstr. bundesstr landesstraße landesstrasse kreisstraße kreisstrasse "
        "staatsstraße staatsstrasse "
        # rankings, shops and yards, not streets: "für Tabellenplatz 3", "im Kindergarten 2"
        "tabellenplatz listenplatz startplatz podestplatz ranglistenplatz kindergarten biergarten wintergarten "
        "supermarkt baumarkt mediamarkt elektromarkt flohmarkt wochenmarkt weihnachtsmarkt betriebshof wertstoffhof"
    ).split()
)
# (a compound that ends in one of these is none either: "Kinderspielplatz", "Hauptbahnhof")
_NOT_STREET_ENDS = tuple(_NOT_STREETS)
_NOT_PREPOSITION_NAMES = frozenset(
    (
        "Seite Zeile Folie Kapitel Punkt Position Stelle Liste Rang Version Stufe Regel Warteschleife Rechnung "
        "Hotline App Nacht Woche Filiale Zentrale Leitung Mail Nachricht Mitteilung Übersicht Tabelle "
        "Jahr Monat Moment Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Wochenende Januar "
        "Februar März April Mai Juni Juli August September Oktober November Dezember Sommer Winter Herbst "
        "Frühjahr Ende Anfang Schnitt Durchschnitt Prinzip Grunde Vergleich Vertrag Tarif Netz Glück "
        "Schluss Beispiel Test Speedtest Router Handy Telefon Abend Morgen Mittag Vormittag Nachmittag "
        "Tag Tage Stück Haus Keller Büro Kundencenter Portal Shop Laden"
    ).casefold().split()
)
_PARTICLE_FIRST = re.compile(_PARTICLE)
# how German and Austrian surnames end (Obermüller, Hartmann, Leitinger, Huber); ordinary nouns before "-platz",
# "-hof", "-markt" rarely do
_SURNAME_END = re.compile(
    r"(?i)(?:mann|müller|mueller|meier|maier|mayer|meyer|huber|bauer|hofer|berger|inger|hardt|schmidt|schmid)$"
)
_WORD_AFTER = re.compile(r"\s{0,3}[A-ZÄÖÜ0-9]")
_ANY_WORD_AFTER = re.compile(r"\s{0,3}[^\W_]")
_WORD_BEFORE = re.compile(r"[^\W\d_][ \t]{1,3}$")
# the weak street endings that name a place in town (not a city's "-berg", "-feld", "-au", "-tal", nor a noun's
# "-tor", "-eck", "-bogen"), and the prepositions that put a house there (``_place_after_a_preposition``)
_PLACE_WORD_END = re.compile(r"(?:platz|markt|hof|garten|park)$")
_PLACE_PREPOSITIONS = frozenset(
    ("für", "fuer", "bei", "beim", "nach", "am", "im", "zum", "zur", "vom", "in der", "in den", "in dem", "an der",
     "an den", "an dem", "auf dem", "auf der", "bei der")
)
_PLACE_PREPOSITION_BEFORE = re.compile(
    r"(?i)(?<![\w])(?:für|fuer|bei|beim|nach|am|im|zum|zur|vom|in\sde[rmn]|an\sde[rmn]|auf\sde[rm])\s$"
)
# (not "1a", German for first-rate: "Tabellenplatz 1a")
_LETTER_OR_DOOR = re.compile(rf"(?!1\s?[aA](?![\w]))[0-9]{{1,4}}(?:\s?[a-zA-Z](?![\w])|.*{_DOOR_WORD})")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}(?![0-9])")
# what makes a post worth reading again ignoring case around a house number (``_uncapitalised_street_words``)
# (the digit first, so the scan skips to digits; the look-behind after it)
_NUMBER_AFTER_SPACE = re.compile(r"[1-9](?<=[ \t][1-9])")
_NUMBER_THEN_WORDS = re.compile(
    r"[1-9](?<![\w.,/+-][1-9])[0-9]{0,4}[A-Za-z]?,?\s(?P<words>(?:[^\W_]{1,30}\.?,?\s){0,4}[^\W_]{1,30})"
)
_GERMAN_STREET_WORD_END = re.compile(rf"(?i)(?:{_STRONG_SUFFIX}|{_WEAK_SUFFIX}|str)\.?$")
_EN_TYPE_WORDS = frozenset(word.casefold() for word in _EN_TYPES)
_LETTERS = re.compile(r"[^\W\d_]+")

# a street name without a street word, its house number and what joins it to the postcode after it
_BARE_STREET = re.compile(
    rf"(?<![\w-])(?P<name>(?:{_W}\s){{0,3}}{_W})\s{{1,2}}(?P<number>{_HOUSE_NUMBER})(?:,\s{{0,2}}|\s{{1,2}}|\s?\r?\n|\sin\s)$"
)
# cue words before a bare street name, not part of it ("Ich wohne in der Große Bleichen 19", "Lieferadresse …")
_BARE_NAME_CUES = frozenset(
    "ich wir wohne wohnen wohnt wohnhaft wohn in im der die das den dem bei an am nach zu zur zum meine mein "
    "unsere unser ist lautet neue neuer alte i we live living at to my our is the new old address delivery "
    "deliver sent send".split()
)
_BARE_CUE_ENDS = ("adresse", "anschrift", "address")
# words of care posts before a number that are no street name ("Störung 3, 53113 Bonn", "Platz 1 in …")
_NOT_BARE_NAME_WORDS = frozenset(
    "störung stoerung störungen ausfall ausfälle ticket tickets platz kanal sender programm level teil folge "
    "staffel gruppe stufe nummer nr top rang no number outage outages channel".split()
)
_ANY_POSTCODE = re.compile(r"[0-9]{4}")
_CITY = (
    rf"(?:(?:Bad|Sankt|St\.)\s)?{_W}(?:-{_W})*"
    rf"(?:\s(?:am|an\sder|ob\sder|im|in|bei)\s{_W})?(?:\s\({_W}\))?"
)
_POSTCODE_CITY = re.compile(rf"(?<![\w.,])(?:[A-Z]{{1,2}}-)?(?:[0-9]{{4,5}})\s{{1,2}}{_CITY}")
_UK_POSTCODE = re.compile(rf"(?<![\w])(?:{_W}(?:\s{_W})?,?\s)?[A-Z]{{1,2}}[0-9][A-Z0-9]?\s?[0-9][A-Z]{{2}}(?![\w])")
_US_STATE_ZIP = re.compile(r"(?<![\w])(?:[A-Z][A-Za-z .'-]{0,40},?\s)?[A-Z]{2}\s[0-9]{5}(?:-[0-9]{4})?(?![\w])")
# a name in front of a street compound or "adjective + street word" is part of the street ("in der Grein
# Grothgasse 3", "Anschrift: Hans Böckler Str. 5", "wohne Karl-Heinz Brandt-Allee 9"): taken after an article or
# preposition, an address cue, a colon or a handle, or at the start of a line, never in running text ("Seit
# Montag Baustelle Hauptstraße 5" keeps its words)
_NAME_BEFORE = re.compile(
    rf"(?:(?:\b(?:der|die|den|dem|in|an|am|auf|zur|zum|vom|nach|bei|für|aus|von)"
    rf"|(?i:\b(?:wohne|wohnen|wohnt|wohnhaft|wohnung|\w{{0,12}}adresse|\w{{0,12}}anschrift|address)):?"
    rf"|@\w{{1,30}}|:)\s|^)(?P<name>{_W}(?:-{_W})?)\s$",
    re.MULTILINE,
)
# a city after the street line: "Walcheplatz 87, Bischofszell", "Beerirain 65 in Wohlen"
# (not a greeting or a conjunction after the comma: "… 3 Free Points, Thanks")
_NOT_A_CITY = (
    r"(?!(?i:thanks|thank|thx|danke|bitte|please|pls|cheers|sorry|hallo|hello|hi|hey|but|and|also|again|aber|und"
    r"|auch|nochmal|gruß|grüße|regards|lg|mfg|vg|why|warum|wieso|what|was|when|wann)\b)"
)
_CITY_AFTER = re.compile(
    rf"(?:,\s|\sin\s){_NOT_A_CITY}{_CITY}(?!\s?[0-9])"
    # on the next line, with its postcode: "887 Miller Inlet\nDonnaborough 74860"
    rf"|,?[ \t]?\r?\n{_NOT_A_CITY}{_CITY}(?:\s{_W})?,?\s(?:[A-Z]{{2}}\s)?[0-9]{{4,5}}(?![0-9])"
)
# in a post written all in lower case, a city after the street line is in lower case too ("663 alicia vista,
# lake debbie"); these words after the comma are no city
_NOT_A_LOWER_CASE_CITY = frozenset(
    "i im i'm my we it its is was the a an and but so now still no not yes ok okay lol pls please thanks thank "
    "since for from with that this there here then when why what how who can could will would should has have "
    "had been are be do does did just only also again you your our they he she ich wir es ist das der die den "
    "dem ein eine und aber auch noch schon seit bei mit von für bitte danke nicht kein keine wann warum wieso "
    "was wer wie hier jetzt dann heute gestern morgen mal doch nur sind habe hab hat".split()
)
_ADDRESS_CUE_AFTER = re.compile(
    # "… – da wohne ich", "… - I haven't lived there"
    r"(?i)[\s,–-]{1,5}(?:(?:da|dort|there|where|ich|wir|i|we)\s(?:[\w']+\s){0,2})?"
    r"(?:geliefert|zugestellt|geschickt|schicken|senden|liefern|kommen|vorbeikommen|umgezogen|gezogen|wohn"
    r"|delivered|sent|send|deliver|come|live|lived"
    # a floor or building part: "…, 2nd floor", "…, 3. OG", "…, Hinterhaus"
    r"|[0-9]{1,2}(?:st|nd|rd|th)?\sfloor|floor\s[0-9]|[0-9]{1,2}\.\s?(?:og|etage|stock)\b|erdgeschoss|hinterhaus"
    r"|vorderhaus|seitenflügel|ground\sfloor)"
)
# a city after a PO box that closes the phrase (an end, a mark, a greeting); not a German abstract noun
# after "in" ("… 5 in Planung?", "in Ordnung")
_CITY_CLOSING = re.compile(
    rf"(?:,[ \t]|[ \t]in[ \t](?!\w*(?:ung|heit|keit|schaft|tion)\b|(?:Arbeit|Betrieb|Kürze|Zukunft|Sachen)\b))"
    rf"{_NOT_A_CITY}(?P<city>{_CITY}(?:[ \t]{_W}){{0,2}})"
    r"(?=[ \t]*(?:$|[.,;:!?)\r\n]|[–-](?:\s|$)|(?i:please|pls|bitte|danke|thanks|thx)\b))"
)
_TAIL_JOINER = re.compile(r"[\s,;/–-]{0,4}(?:in\s)?\s?")
_ADDRESS_CUE_BEFORE = re.compile(
    r"(?i)(?:wohn|wohne|wohnen|wohnt|wohnhaft|adresse|anschrift|umgezogen|umzug|ziehe|zuhause|zu\shause|daheim"
    r"|geliefert|liefern|lieferung|zugestellt|zustellung|hausnummer|wohnung|bei\s(?:mir|uns)|anschluss"
    r"|address|live\s(?:at|in)|living\sat|lives\s(?:at|in)|moved\sto|moving\sto|deliver(?:ed|y)?\sto|my\s(?:house|flat)"
    r"|sent\sto|send\s(?:(?:it|them|this|everything|the\s\w+)\s)?to|ship(?:ped)?\sto|post(?:ed)?\sto"
    r"|line\sat|located\sat|went\sto|come\s(?:round\s|over\s)?to|kommen?\s(?:zu|nach)|vorbeikommen\sin|paket|päckchen|sendung|parcel|package|letter)\b[^.!?\n]{0,40}$"
)


@dataclass
class _Part:
    start: int
    end: int
    street: bool
    weak: bool = False
    relaxed: bool = False  # read ignoring case in a post with capitals
    po_box: bool = False


def _normalise(text: str) -> str:
    text = text.casefold().replace("ß", "ss").replace("strasse", "str").replace("str.", "str")
    return re.sub(r"[^0-9a-zäöüéèêàâôûîç]", "", text)


def _is_own(street: str, own_streets: frozenset[str]) -> bool:
    """Both ways: "Ebert Allee 140" (the name's first word read as text) is part of "friedrichebertallee140";
    the house number whole ("landgrabenweg15" is the neighbour of "landgrabenweg151", not the brand)."""
    return any(_part_of(own, street) or (len(street) >= 8 and _part_of(street, own)) for own in own_streets)


def _part_of(part: str, whole: str) -> bool:
    """``part`` occurs in ``whole`` and no digit continues its number there."""
    position = whole.find(part)
    while position != -1:
        after = whole[position + len(part) : position + len(part) + 1]
        before = whole[position - 1 : position] if position else ""
        if not (after.isdigit() and part[-1:].isdigit()) and not (before.isdigit() and part[:1].isdigit()):
            return True
        position = whole.find(part, position + 1)
    return False


def own_street_keys(addresses: Sequence[str]) -> frozenset[str]:
    """The normalised street lines of the brand's own addresses ("Friedrich-Ebert-Allee 140, 53113 Bonn")."""
    keys = set()
    for address in addresses:
        for pattern in (_PO_BOX, _any_case(_GERMAN_STREET), _any_case(_ENGLISH_STREET)):
            match = pattern.search(address)
            if match:
                keys.add(_normalise(match.group()))
        keys.add(_normalise(address.split(",")[0]))
    return frozenset(keys)


def find_addresses(text: str, own_streets: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """(start, end) of each address: a street line, merged with an adjacent postcode and city."""
    every_case = not any(ch.isupper() for ch in text)
    streets = _street_lines(text, every_case=every_case, sure_only=False)
    streets += [_Part(m.start(), m.end(), True, po_box=True) for m in _PO_BOX.finditer(text)]
    # a post with capitals that writes a street in lower case or in capitals ("in der hauptstraße 5",
    # "HAUPTSTRASSE 17"): around that word, read again ignoring case, keeping only sure street names
    windows = [] if every_case else _uncapitalised_street_words(text)
    for low, high in windows:
        streets += _street_lines(text, every_case=True, sure_only=True, low=low, high=high)
    relaxed = bool(windows) or every_case  # postcodes in lower case or capitals too
    if not streets and not _ANY_POSTCODE.search(text):
        return []
    # (without a street line, only a German-shaped postcode can have a bare street name before it)
    tails = [
        _Part(m.start(), m.end(), False)
        for pattern in ((_POSTCODE_CITY, _UK_POSTCODE, _US_STATE_ZIP) if streets else (_POSTCODE_CITY,))
        for m in (_any_case(pattern) if relaxed else pattern).finditer(text)
    ]
    # "75618 Leipziger Land" on the line after a street line is its postcode and city, not a weak English street
    tail_starts = {tail.start for tail in tails}
    street_ends = {s.end for s in streets}
    # (also one read as a US house number: "75618 Leipziger Land" after "Steckelplatz 147")
    streets = [s for s in streets
               if not ((s.weak or _US_HOUSE_NUMBER.match(text, s.start)) and s.start in tail_starts
                       and _follows_a_street(text, s, street_ends))]
    streets += _bare_streets(text, tails, streets, every_case)
    if not streets:
        return []
    if own_streets:
        streets = [s for s in streets if not _is_own(_normalise(text[s.start : s.end]), own_streets)]
    parts = sorted([*streets, *tails], key=lambda p: (p.start, -p.end))
    addresses: list[tuple[int, int]] = []
    previous_tail = (-10, -10)
    index = 0
    while index < len(parts):
        part = parts[index]
        index += 1
        if not part.street:
            previous_tail = (part.start, part.end)
            continue
        start, end, near_postcode = part.start, part.end, False
        # a postcode and city right before ("53113 Bonn, Hauptstraße 5"): part of the address
        if 0 <= start - previous_tail[1] <= 4 and _TAIL_JOINER.fullmatch(text, previous_tail[1], start):
            near_postcode = True
            start = previous_tail[0]
        # tails right after, e.g. ", 53113 Bonn" or ", Springfield, IL 62704"
        while index < len(parts) and not parts[index].street and parts[index].start < end + 6:
            tail = parts[index]
            if tail.start >= end and not _TAIL_JOINER.fullmatch(text, end, tail.start):
                break
            index += 1
            if tail.end <= end:
                continue  # inside the street line ("2025 Price" in "2025 Price Rise"): no postcode of it
            end = tail.end
            near_postcode = True
        if (
            part.weak
            and not near_postcode
            and not _city_after(text, end, part.relaxed, every_case)
            and not _ADDRESS_CUE_AFTER.match(text, end)
            and not _ADDRESS_CUE_BEFORE.search(text, max(0, start - 60), start)
        ):
            continue
        if part.po_box and end == part.end:
            end = _city_end(text, end, part.relaxed, every_case)
        if addresses and start < addresses[-1][1]:
            addresses[-1] = (addresses[-1][0], max(end, addresses[-1][1]))
        else:
            addresses.append((start, end))
    return addresses


def _follows_a_street(text: str, part: _Part, street_ends: set[int]) -> bool:
    """A street ends at most four characters before ``part`` and only a joiner lies between (one set lookup
    per possible end, so linear in the text however many streets it names)."""
    return any(end in street_ends and _TAIL_JOINER.fullmatch(text, end, part.start)
               for end in range(max(0, part.start - 4), part.start))


class _Covered:
    """Positions within four characters after a street (``start <= i <= end + 4``), as merged spans that a
    binary search reads: the check per postcode stays logarithmic when a long text names many streets."""

    def __init__(self, streets: Sequence[_Part]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for s in sorted(streets, key=lambda s: s.start):
            if self.ends and s.start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], s.end + 4)
            else:
                self.starts.append(s.start)
                self.ends.append(s.end + 4)

    def __contains__(self, position: int) -> bool:
        i = bisect_right(self.starts, position) - 1
        return i >= 0 and position <= self.ends[i]


def _bare_streets(text: str, tails: list[_Part], streets: list[_Part], every_case: bool) -> list[_Part]:
    """Street names without a street word, right before a postcode and city: "Große Bleichen 12, 20354
    Hamburg", "Zeil 106, 60313 Frankfurt", "Graben 19, 1010 Wien" (capitalised words and a house number; in a
    post all in lower case, any words). Cue words before the name ("wohne in der", "Adresse:") are not part
    of it. Bounded: one search in the 60 characters before each postcode."""
    bare: list[_Part] = []
    pattern = _any_case(_BARE_STREET) if every_case else _BARE_STREET
    near_a_street = _Covered(streets)
    for tail in tails:
        if not text[tail.start].isdigit() or tail.start in near_a_street:
            continue
        city = _LETTERS.search(text, tail.start, tail.end)  # a city, not a word ("it's 5512 3344 my account")
        if city is None or city.group().casefold() in _NOT_A_LOWER_CASE_CITY:
            continue
        low = max(0, tail.start - 60)
        match = pattern.search(text[low : tail.start])
        if match is None or _YEAR.fullmatch(match.group("number")):
            continue
        words = match.group("name").split()
        while words and (words[0].casefold() in _BARE_NAME_CUES or words[0].casefold().endswith(_BARE_CUE_ENDS)):
            words.pop(0)
        if not words or any(word.casefold() in _NOT_BARE_NAMES or "'" in word for word in words):
            continue
        if match.group().endswith(" in ") and len(words) < 2:  # "Störung 3 in 53113 Bonn"
            continue
        start = low + match.end("name") - len(" ".join(words))
        bare.append(_Part(start, low + match.end("number"), True))
    return bare


def _uncapitalised_street_words(text: str) -> list[tuple[int, int]]:
    """Stretches of text around a house number next to a street word written in lower case or in capitals
    (the word before it: "hauptstraße 5"; or one of the words after it: "12 elm street"), merged.

    Cheap where most posts have nothing: two scans in C, a few set lookups per number.
    """
    hits: list[tuple[int, int]] = []
    for digit in _NUMBER_AFTER_SPACE.finditer(text):
        before = text[max(0, digit.start() - 42) : digit.start()].rstrip(" \t")
        words = before.rsplit(None, 2)
        word = words[-1] if words else ""
        if word.rstrip(".").casefold() in {"nr", "no", "nummer"} and len(words) > 1:
            word = words[-2]  # "RAJTERWEG NR. 4"
        if len(word) > 2 and _unusual_case(word) and _GERMAN_STREET_WORD_END.search(word):
            hits.append((digit.start() - len(word), digit.end()))
    for match in _NUMBER_THEN_WORDS.finditer(text):
        words = match.group("words").replace(".", " ").replace(",", " ").split()
        folded = {word.casefold() for word in words} | {word.casefold()[:-1] for word in words}
        if _EN_TYPE_WORDS.isdisjoint(folded):
            continue  # most numbers: no street type after them at all
        if any(_unusual_case(word) and (word.casefold() in _EN_TYPE_WORDS or word.casefold()[:-1] in _EN_TYPE_WORDS)
               for word in words):
            hits.append((match.start(), match.end()))
    windows: list[tuple[int, int]] = []
    for start, end in sorted(hits):
        low, high = max(0, start - 80), min(len(text), end + 40)
        if windows and low <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(high, windows[-1][1]))
        else:
            windows.append((low, high))
    return windows


def _unusual_case(word: str) -> bool:
    """Lower case first ("hauptstraße") or all capitals ("HAUPTSTRASSE"): not how the name is printed."""
    return word[:1].islower() or (len(word) > 2 and word.isupper())


def _street_lines(
    text: str, *, every_case: bool, sure_only: bool, low: int = 0, high: int | None = None
) -> list[_Part]:
    """Street lines in ``text[low:high]``. ``sure_only`` (a street read ignoring case): only a compound or an
    adjective with a street word; English lines are weak (counting only next to a postcode, city or cue)
    unless the type is unambiguous or a flat or unit comes with it."""
    german = _any_case(_GERMAN_STREET) if every_case else _GERMAN_STREET
    english = _any_case(_ENGLISH_STREET) if every_case else _ENGLISH_STREET
    high = len(text) if high is None else high
    streets: list[_Part] = []
    position = low
    while (match := german.search(text, position, high)) is not None:
        # a rejected match is no street, but a street may start inside it ("in der hauptstraße 5" read as
        # "In der …" + name): look again from its next character (each match is at most ~150 characters)
        position = match.start() + 1
        weak = _german_weakness(match, text, every_case)
        if weak is None or (sure_only and not (match.group("compound") or match.group("adjective"))):
            continue
        if every_case and " " in (match.group("preposition") or ""):
            # in lower case "in der hauptstraße 5" is a cue and a compound, not the name "In der Hauptstraße"
            # ("am sonnenhang 12" stays a name: a one-word preposition)
            inner = german.match(text, match.start("weak_name"), high)
            if (inner is not None and inner.group("compound") is not None
                    and _german_weakness(inner, text, every_case) is False):
                match, weak = inner, False
        position = match.end()
        start = match.start()
        if match.group("compound") is not None or match.group("adjective") is not None:
            name_start = _name_before(text, start, every_case)
            start = start if name_start is None else name_start
        streets.append(_Part(start, match.end(), True, weak, relaxed=sure_only))
    for match in english.finditer(text, low, high):
        weak = _english_weakness(match)
        if sure_only and not (_type_word(match) in _EN_UNAMBIGUOUS_TYPES or match.group("flat") or match.group("unit")):
            weak = True
        streets.append(_Part(match.start(), match.end(), True, weak, relaxed=sure_only))
    return streets


def _name_before(text: str, start: int, every_case: bool) -> int | None:
    """Where a name in front of the street at ``start`` begins (see ``_NAME_BEFORE``), if there is one: a
    word (or two joined by a hyphen) that is no cue or care word ("der", "wohne", "Störung")."""
    pattern = _any_case(_NAME_BEFORE) if every_case else _NAME_BEFORE
    before = pattern.search(text, max(0, start - 40), start)
    if before is None:
        return None
    words = before.group("name").casefold().split("-")
    if any(word in _NOT_BARE_NAMES or word in _BARE_NAME_CUES or word in _NOT_NAMES_BEFORE_A_STREET
           or word.endswith(_BARE_CUE_ENDS) for word in words):
        return None
    return before.start("name")


def _type_word(match: re.Match[str]) -> str:
    """The English street type, singular, lower case, without a dot: "Roads" -> "road"."""
    word = (match.group("type") or match.group("flat_type") or "").rstrip(".").casefold()
    return word[:-1] if word not in _EN_STRONG_TYPES and word.endswith("s") else word


def _english_weakness(match: re.Match[str]) -> bool:
    """Weak unless the type names only streets, a flat, suite or unit comes with it, or the house number has
    five digits and is not round (US: "48216 Maple Hollow"; counts are round: "10000 Bonus Points"); a year is
    no house number."""
    number = match.group("number")
    strong = (_type_word(match) in _EN_STRONG_TYPES or match.group("flat") or match.group("unit")
              or (number is not None and _US_HOUSE_NUMBER.fullmatch(number) is not None
                  and _names_a_place(match)))
    return not strong or (number is not None and _YEAR.fullmatch(number) is not None)


def _names_a_place(match: re.Match[str]) -> bool:
    """A weak type after a five-digit number is a street only when it is singular and neither it nor the name
    before it is a count, device or account word ("48216 Maple Hollow", not "13275 Reward Points")."""
    kind = match.group("type") or ""
    if kind.rstrip(".").casefold().endswith("s") and kind.rstrip(".").casefold() not in _EN_STRONG_TYPES:
        return False
    words = match.group()[match.end("number") - match.start() : match.start("type") - match.start()]
    return not any(word.casefold() in _COUNT_OR_DEVICE_WORDS for word in re.findall(r"[\w-]+", words))


def _city_after(text: str, end: int, relaxed: bool, every_case: bool = False) -> bool:
    """A city after the street line; for a street read ignoring case, also a city in capitals ("…, SOUTH BETH");
    in a post all in lower case, a city in lower case that is no common word ("…, lake debbie")."""
    if _CITY_AFTER.match(text, end):
        return True
    any_case = _any_case(_CITY_AFTER).match(text, end) if relaxed or every_case else None
    if any_case is None:
        return False
    if every_case:
        first = _LETTERS.search(any_case.group())
        return first is not None and len(first.group()) > 2 and first.group() not in _NOT_A_LOWER_CASE_CITY
    return any_case.group().isupper()


def _city_end(text: str, end: int, relaxed: bool, every_case: bool) -> int:
    """Where a city right after a PO box ends ("PO Box 1234, Anytown", "Postfach 7788 in Göttingen!"), when it
    closes the phrase: a box names no place, so the city is its address line and goes with it, as a postcode
    and city do. Else ``end``: a word that goes on with the sentence ("…, Router kam nie an") is no city.
    (After a street line a city alone stays: it identifies nobody, and the outage radar reads it.)"""
    city = _CITY_CLOSING.match(text, end)
    if city is None and (relaxed or every_case):
        # as ``_city_after``: in lower case a city that is no common word, in a post with capitals one in capitals
        city = _any_case(_CITY_CLOSING).match(text, end)
        words = _LETTERS.findall(text, city.start("city"), city.end()) if city is not None else []
        if words and every_case:
            city = city if len(words[0]) > 2 and not _NOT_A_LOWER_CASE_CITY.intersection(words) else None
        elif words:
            city = city if all(word.isupper() for word in words) else None
    return end if city is None else city.end()


def _german_weakness(match: re.Match[str], text: str, every_case: bool = False) -> bool | None:
    """False for a strong street name, True for a weak one, None for no street at all.

    A year as house number ("Der Weg zur Glasfaser 2025") makes any name weak.
    """
    weak = _german_name_weakness(match, text)
    if weak is None:
        return None
    number = match.group("number")
    if weak and match.group("compound") and _LETTER_OR_DOOR.match(number):
        return False  # a letter or a door after the number is an address's: "Kästerplatz 8 a", "Rosenhof 3/Top 2"
    if weak and _YEAR.match(number) is None and _place_after_a_preposition(match, text, every_case):
        return False
    return weak or _YEAR.match(number) is not None


def _place_after_a_preposition(match: re.Match[str], text: str, every_case: bool) -> bool:
    """A place compound ("-platz", "-markt", "-hof", "-garten", "-park") right after a preposition ("für", "am",
    "in der", "bei", "nach"), its house number ending the phrase: "Glasfaser für Lindenplatz 17", "kein Netz
    im Brunnenhof 8!". A noun or number after it makes the number a count ("im Kindergarten 2 Gruppen", "bei
    Mediamarkt 3 Router"); a street word alone ("Platz 3 in der Tabelle") is no compound."""
    if match.group("compound") is not None:
        if _PLACE_PREPOSITION_BEFORE.search(text, max(0, match.start() - 12), match.start()) is None:
            return False
        name = match.group("compound")
    elif match.group("preposition") is not None:
        # (in a post all in lower case, "am lindenplatz 17" reads as the name "Am …"; it is a preposition after
        # a word, while at the start "Am Stadtgarten 9 ist …" stays a prepositional name that needs a cue)
        if (" ".join(match.group("preposition").casefold().split()) not in _PLACE_PREPOSITIONS
                or _WORD_BEFORE.search(text, max(0, match.start() - 4), match.start()) is None):
            return False
        name = text[match.start("weak_name") : match.start("number")].strip()
    else:
        return False
    name = name.casefold()
    if _PLACE_WORD_END.search(name) is None or name.endswith(_NOT_STREET_ENDS):
        return False
    return (_ANY_WORD_AFTER if every_case else _WORD_AFTER).match(text, match.end()) is None


def _german_name_weakness(match: re.Match[str], text: str) -> bool | None:
    name_end = match.start("number_word") if match.group("number_word") is not None else match.start("number")
    name = match.group()[: name_end - match.start()].strip()
    if name.casefold() in _NOT_STREETS:
        return None
    if match.group("compound") is not None:
        suffix = (match.group("suffix") or match.group("hyphen_type") or "").casefold()
        if suffix in _STRONG_TYPE_WORDS or re.fullmatch(_STRONG_SUFFIX, suffix):
            return False
        # named after someone: "Marion-Hartung-Platz", "van der Dussenplatz", "Obermüllerplatz" (a surname's
        # ending before the street word; "Programmplatz", "Testsieger-Platz" have none)
        first = name[: len(name) - len(suffix)].rstrip("-") if suffix else name
        return not (name.count("-") >= 2 or _PARTICLE_FIRST.match(name) or _SURNAME_END.search(first))
    if match.group("adjective") is not None:
        adjective = match.group("adjective").casefold()
        if adjective in {"der", "die", "das", "ein", "eine", "mein", "meine", "unser"}:
            return None
        # "Berliner Straße", "Lange Reihe", "Konrad-Adenauer Str." are streets; "Gaming Allee 5" is weak
        named = "-" in adjective or adjective.endswith(("e", "er"))
        return match.group("adjective_type").casefold() not in _STRONG_TYPE_WORDS or not named
    if match.group("type_first") is not None:
        return False
    if match.group("weak_name").casefold() in _NOT_PREPOSITION_NAMES:
        return None
    # "Unter den Eichen 88": a preposition with its article, a house number that ends the phrase (not "Auf der
    # Rechnung 3 Posten"); "Am Markt 3" is too like "Am Anfang 3 …" without a cue
    return " " not in match.group("preposition") or _WORD_AFTER.match(text, match.end()) is not None


_NOT_BARE_NAMES = _NOT_BARE_NAME_WORDS | _NOT_PREPOSITION_NAMES | _NOT_A_LOWER_CASE_CITY
# nouns of care posts that stand before a street and are no part of its name ("Anschluss Berliner Str. 45")
_NOT_NAMES_BEFORE_A_STREET = frozenset(
    "anschluss hausanschluss wohnung baustelle glasfaser ausbau standort filiale laden praxis firma kunde kundin "
    "mieter vermieter techniker monteur termin lieferung paket päckchen sendung brief ecke kreuzung höhe nähe "
    "richtung bereich gegend ort umzug zuhause haus hausnummer dsl internet kabel telefon festnetz wlan lte "
    "mobilfunk empfang funkloch mast sendemast verteiler verteilerkasten kasten home office".split()
)
