"""Where synthetic persons live and come from: the 98 Danish municipalities
with their CPR municipality codes, approximate populations (2023, thousands,
used as weights) and main postcodes; foreign countries with their CPR
authority codes (5xxx, from the CPR authority register)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Municipality:
    """One municipality: CPR code, name, population weight, the share of
    dwellings that are flats (floor and door), and its postcodes."""

    code: str
    name: str
    population: int
    flat_share: float
    postcodes: tuple[tuple[str, str], ...]


def _m(code: str, name: str, population: int, flat_share: float, *postcodes: str) -> Municipality:
    pairs = tuple((entry[:4], entry[5:]) for entry in postcodes)
    return Municipality(code, name, population, flat_share, pairs)


MUNICIPALITIES: tuple[Municipality, ...] = (
    _m("0101", "København", 654, 0.9, "1620 København V", "2100 København Ø",
       "2200 København N", "2300 København S", "2400 København NV",
       "2450 København SV", "2500 Valby", "2700 Brønshøj", "2720 Vanløse"),
    _m("0147", "Frederiksberg", 104, 0.9, "2000 Frederiksberg"),
    _m("0151", "Ballerup", 49, 0.45, "2750 Ballerup", "2740 Skovlunde"),
    _m("0153", "Brøndby", 39, 0.55, "2605 Brøndby", "2660 Brøndby Strand"),
    _m("0155", "Dragør", 15, 0.15, "2791 Dragør"),
    _m("0157", "Gentofte", 75, 0.45, "2820 Gentofte", "2900 Hellerup",
       "2920 Charlottenlund"),
    _m("0159", "Gladsaxe", 70, 0.5, "2860 Søborg", "2880 Bagsværd"),
    _m("0161", "Glostrup", 24, 0.5, "2600 Glostrup"),
    _m("0163", "Herlev", 30, 0.5, "2730 Herlev"),
    _m("0165", "Albertslund", 28, 0.5, "2620 Albertslund"),
    _m("0167", "Hvidovre", 54, 0.45, "2650 Hvidovre"),
    _m("0169", "Høje-Taastrup", 58, 0.4, "2630 Taastrup"),
    _m("0173", "Lyngby-Taarbæk", 57, 0.45, "2800 Kongens Lyngby"),
    _m("0175", "Rødovre", 41, 0.5, "2610 Rødovre"),
    _m("0183", "Ishøj", 24, 0.5, "2635 Ishøj"),
    _m("0185", "Tårnby", 44, 0.4, "2770 Kastrup", "2300 København S"),
    _m("0187", "Vallensbæk", 17, 0.35, "2625 Vallensbæk"),
    _m("0190", "Furesø", 41, 0.3, "3520 Farum", "3500 Værløse"),
    _m("0201", "Allerød", 26, 0.2, "3450 Allerød"),
    _m("0210", "Fredensborg", 41, 0.25, "3480 Fredensborg", "2990 Nivå"),
    _m("0217", "Helsingør", 63, 0.35, "3000 Helsingør", "3100 Hornbæk"),
    _m("0219", "Hillerød", 52, 0.3, "3400 Hillerød"),
    _m("0223", "Hørsholm", 25, 0.3, "2970 Hørsholm"),
    _m("0230", "Rudersdal", 57, 0.25, "2840 Holte", "3460 Birkerød"),
    _m("0240", "Egedal", 44, 0.15, "3660 Stenløse", "3650 Ølstykke"),
    _m("0250", "Frederikssund", 46, 0.2, "3600 Frederikssund"),
    _m("0253", "Greve", 51, 0.25, "2670 Greve"),
    _m("0259", "Køge", 62, 0.3, "4600 Køge"),
    _m("0260", "Halsnæs", 31, 0.2, "3300 Frederiksværk", "3390 Hundested"),
    _m("0265", "Roskilde", 90, 0.35, "4000 Roskilde"),
    _m("0269", "Solrød", 23, 0.2, "2680 Solrød Strand"),
    _m("0270", "Gribskov", 42, 0.15, "3200 Helsinge", "3250 Gilleleje"),
    _m("0306", "Odsherred", 33, 0.15, "4500 Nykøbing Sj", "4550 Asnæs"),
    _m("0316", "Holbæk", 73, 0.25, "4300 Holbæk"),
    _m("0320", "Faxe", 37, 0.15, "4640 Faxe", "4690 Haslev"),
    _m("0326", "Kalundborg", 49, 0.2, "4400 Kalundborg"),
    _m("0329", "Ringsted", 35, 0.25, "4100 Ringsted"),
    _m("0330", "Slagelse", 80, 0.3, "4200 Slagelse", "4230 Skælskør",
       "4220 Korsør"),
    _m("0336", "Stevns", 23, 0.1, "4660 Store Heddinge"),
    _m("0340", "Sorø", 30, 0.2, "4180 Sorø"),
    _m("0350", "Lejre", 29, 0.1, "4320 Lejre", "4330 Hvalsø"),
    _m("0360", "Lolland", 40, 0.15, "4930 Maribo", "4900 Nakskov"),
    _m("0370", "Næstved", 83, 0.3, "4700 Næstved"),
    _m("0376", "Guldborgsund", 60, 0.2, "4800 Nykøbing F"),
    _m("0390", "Vordingborg", 46, 0.2, "4760 Vordingborg", "4780 Stege"),
    _m("0400", "Bornholm", 39, 0.2, "3700 Rønne", "3730 Nexø"),
    _m("0410", "Middelfart", 39, 0.2, "5500 Middelfart"),
    _m("0420", "Assens", 41, 0.1, "5610 Assens", "5620 Glamsbjerg"),
    _m("0430", "Faaborg-Midtfyn", 52, 0.15, "5600 Faaborg", "5750 Ringe"),
    _m("0440", "Kerteminde", 24, 0.15, "5300 Kerteminde"),
    _m("0450", "Nyborg", 32, 0.2, "5800 Nyborg"),
    _m("0461", "Odense", 207, 0.5, "5000 Odense C", "5200 Odense V",
       "5210 Odense NV", "5220 Odense SØ", "5230 Odense M", "5250 Odense SV"),
    _m("0479", "Svendborg", 59, 0.25, "5700 Svendborg"),
    _m("0480", "Nordfyns", 29, 0.1, "5400 Bogense", "5471 Søndersø"),
    _m("0482", "Langeland", 12, 0.1, "5900 Rudkøbing"),
    _m("0492", "Ærø", 6, 0.1, "5970 Ærøskøbing", "5960 Marstal"),
    _m("0510", "Haderslev", 56, 0.25, "6100 Haderslev"),
    _m("0530", "Billund", 27, 0.15, "7190 Billund", "7200 Grindsted"),
    _m("0540", "Sønderborg", 74, 0.25, "6400 Sønderborg", "6430 Nordborg"),
    _m("0550", "Tønder", 37, 0.15, "6270 Tønder"),
    _m("0561", "Esbjerg", 116, 0.35, "6700 Esbjerg", "6705 Esbjerg Ø",
       "6710 Esbjerg V"),
    _m("0563", "Fanø", 4, 0.05, "6720 Fanø"),
    _m("0573", "Varde", 50, 0.15, "6800 Varde"),
    _m("0575", "Vejen", 43, 0.15, "6600 Vejen", "6630 Rødding"),
    _m("0580", "Aabenraa", 59, 0.25, "6200 Aabenraa"),
    _m("0607", "Fredericia", 52, 0.3, "7000 Fredericia"),
    _m("0615", "Horsens", 96, 0.35, "8700 Horsens"),
    _m("0621", "Kolding", 94, 0.35, "6000 Kolding"),
    _m("0630", "Vejle", 121, 0.35, "7100 Vejle", "7120 Vejle Øst"),
    _m("0657", "Herning", 90, 0.3, "7400 Herning"),
    _m("0661", "Holstebro", 59, 0.25, "7500 Holstebro"),
    _m("0665", "Lemvig", 19, 0.1, "7620 Lemvig"),
    _m("0671", "Struer", 21, 0.15, "7600 Struer"),
    _m("0706", "Syddjurs", 43, 0.1, "8400 Ebeltoft", "8410 Rønde"),
    _m("0707", "Norddjurs", 37, 0.15, "8500 Grenaa"),
    _m("0710", "Favrskov", 50, 0.15, "8450 Hammel", "8382 Hinnerup"),
    _m("0727", "Odder", 23, 0.15, "8300 Odder"),
    _m("0730", "Randers", 99, 0.35, "8900 Randers C", "8920 Randers NV",
       "8930 Randers NØ"),
    _m("0740", "Silkeborg", 100, 0.3, "8600 Silkeborg"),
    _m("0741", "Samsø", 4, 0.05, "8305 Samsø"),
    _m("0746", "Skanderborg", 64, 0.2, "8660 Skanderborg", "8680 Ry"),
    _m("0751", "Aarhus", 367, 0.6, "8000 Aarhus C", "8200 Aarhus N",
       "8210 Aarhus V", "8220 Brabrand", "8260 Viby J", "8270 Højbjerg"),
    _m("0756", "Ikast-Brande", 42, 0.2, "7430 Ikast", "7330 Brande"),
    _m("0760", "Ringkøbing-Skjern", 56, 0.15, "6950 Ringkøbing", "6900 Skjern"),
    _m("0766", "Hedensted", 47, 0.1, "8722 Hedensted", "7130 Juelsminde"),
    _m("0773", "Morsø", 20, 0.1, "7900 Nykøbing M"),
    _m("0779", "Skive", 46, 0.2, "7800 Skive"),
    _m("0787", "Thisted", 43, 0.15, "7700 Thisted"),
    _m("0791", "Viborg", 97, 0.25, "8800 Viborg"),
    _m("0810", "Brønderslev", 36, 0.15, "9700 Brønderslev"),
    _m("0813", "Frederikshavn", 58, 0.25, "9900 Frederikshavn", "9990 Skagen"),
    _m("0820", "Vesthimmerlands", 36, 0.1, "9600 Aars", "9640 Farsø"),
    _m("0825", "Læsø", 2, 0.05, "9940 Læsø"),
    _m("0840", "Rebild", 30, 0.1, "9530 Støvring", "9520 Skørping"),
    _m("0846", "Mariagerfjord", 42, 0.15, "9500 Hobro", "9560 Hadsund"),
    _m("0849", "Jammerbugt", 38, 0.1, "9490 Pandrup", "9440 Aabybro"),
    _m("0851", "Aalborg", 221, 0.5, "9000 Aalborg", "9200 Aalborg SV",
       "9210 Aalborg SØ", "9220 Aalborg Øst", "9400 Nørresundby"),
    _m("0860", "Hjørring", 64, 0.2, "9800 Hjørring"),
)  # fmt: skip
"""The 98 municipalities (Christiansø, 0411, is not a municipality)."""

MUNICIPALITY_BY_CODE: dict[str, Municipality] = {m.code: m for m in MUNICIPALITIES}


@dataclass(frozen=True, slots=True)
class Country:
    """A foreign country: CPR authority code, name, and a street and city line
    to write foreign addresses (record 005) with."""

    code: str
    name: str
    street: str
    city: str


DENMARK = "5100"
"""CPR's country code of Denmark (citizenship, record 010)."""

COUNTRIES: tuple[Country, ...] = (
    Country("5120", "Sverige", "Drottninggatan", "111 51 Stockholm"),
    Country("5110", "Norge", "Karl Johans gate", "0154 Oslo"),
    Country("5180", "Tyskland", "Hauptstraße", "24937 Flensburg"),
    Country("5170", "Storbritannien", "High Street", "London SW1A 1AA"),
    Country("5164", "Spanien", "Calle Mayor", "29601 Marbella"),
    Country("5390", "USA", "Main Street", "New York, NY 10001"),
    Country("5154", "Polen", "ul. Dluga", "80-827 Gdansk"),
    Country("5130", "Frankrig", "Rue de Rivoli", "75001 Paris"),
    Country("5140", "Nederlandene", "Prinsengracht", "1015 Amsterdam"),
    Country("5150", "Italien", "Via Roma", "00184 Roma"),
    Country("5502", "Australien", "George Street", "Sydney NSW 2000"),
    Country("5104", "Finland", "Mannerheimintie", "00100 Helsinki"),
    Country("5158", "Rumænien", "Strada Lipscani", "030031 Bucuresti"),
    Country("5486", "Syrien", "Baghdad Street", "Damaskus"),
    Country("5172", "Tyrkiet", "Istiklal Caddesi", "34430 Istanbul"),
    Country("5436", "Irak", "Al-Rasheed Street", "Bagdad"),
    Country("5472", "Pakistan", "Mall Road", "Lahore"),
    Country("5404", "Afghanistan", "Chicken Street", "Kabul"),
    Country("5438", "Iran", "Valiasr Street", "Teheran"),
    Country("5474", "Filippinerne", "Rizal Avenue", "Manila"),
    Country("5432", "Indien", "M G Road", "Bengaluru 560001"),
    Country("5448", "Kina", "Nanjing Road", "Shanghai 200001"),
    Country("5244", "Marokko", "Avenue Mohammed V", "Rabat"),
)
"""Countries people move to, come from or hold citizenship of. Their texts
are written in ISO-8859-1 letters, as the extract files are."""

COUNTRY_BY_CODE: dict[str, Country] = {c.code: c for c in COUNTRIES}

# Weights of the foreign citizenships (by code) among non-Danish citizens.
CITIZENSHIP_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("5154", 12), ("5486", 8), ("5180", 7), ("5158", 9), ("5172", 5), ("5436", 4),
    ("5120", 4), ("5110", 4), ("5170", 3), ("5472", 2), ("5404", 3), ("5438", 2),
    ("5474", 3), ("5432", 3), ("5448", 2), ("5390", 2), ("5150", 3), ("5164", 2),
)  # fmt: skip

# Where emigrants go, by code.
EMIGRATION_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("5120", 10), ("5110", 8), ("5180", 9), ("5170", 8), ("5164", 6), ("5390", 5),
    ("5130", 3), ("5140", 3), ("5150", 2), ("5502", 2), ("5104", 1), ("5154", 4),
)  # fmt: skip

# Danish road names are built from a first part and a suffix ("Skov" + "vej"),
# or honour a person ("H.C. Andersens Vej" style: first name + surname + "s Vej").
ROAD_PREFIXES: tuple[str, ...] = (
    "Vester", "Øster", "Nørre", "Sønder", "Skov", "Strand", "Kirke", "Mølle", "Bøge",
    "Birke", "Ege", "Ahorn", "Linde", "Rose", "Hyld", "Kastanje", "Elme", "Park",
    "Enghave", "Eng", "Solsikke", "Bakke", "Dal", "Sø", "Havne", "Bane", "Torve", "Ny",
    "Gammel", "Lærke", "Svane", "Hjorte", "Fasan", "Ring", "Kongens", "Dronning",
    "Frederiks", "Christians", "Jernbane", "Stations", "Skole", "Tofte", "Vinkel",
    "Grønne", "Kløver", "Hasle", "Pile", "Åse", "Mose", "Fjord", "Klint", "Lyng",
    "Rønne", "Hvede", "Byg", "Havre", "Rug", "Æble", "Pære", "Blomme", "Kirsebær",
    "Valmue", "Anemone", "Tulipan", "Syren", "Gran", "Fyrre", "Hassel", "Tjørne",
    "Abild", "Ulve", "Ræve", "Musvåge", "Vibe", "Stære", "Ugle", "Høge", "Falke",
    "Ørne", "Odins", "Thors", "Frejas", "Rolf Krakes", "Valdemars", "Absalons",
)  # fmt: skip
ROAD_SUFFIXES: tuple[str, ...] = (
    "vej", "vej", "vej", "gade", "gade", "allé", "vænget", "parken", "stræde",
    "toften", "haven", "bakken", "stien", "højen", "løkken", "engen", "gården",
)  # fmt: skip
ROAD_HONOUR_SUFFIXES: tuple[str, ...] = ("s Vej", "s Gade", "s Allé", "s Plads")
