"""Layouts of the current-state person records 001-021, 052 and the event
record 099 [CB Definitions.xml; cpr-domain.md §2.2-2.3].

Each entry is ``record type -> (record length, fields)``; positions are 1-based.
"""

from __future__ import annotations

from cprbroker.core.cpr.fieldspec import FieldKind, FieldSpec

_F = FieldKind
_TYPE = FieldSpec("RECORDTYPE", 1, 3, _F.CODE)
_PNR = FieldSpec("PNR", 4, 10, _F.PNR)


def _lines(prefix: str, suffix: str, start: int, count: int = 5) -> tuple[FieldSpec, ...]:
    """``count`` address lines of 34 characters, e.g. ADR1-SUPLADR..ADR5-SUPLADR."""
    return tuple(
        FieldSpec(f"{prefix}{i + 1}{suffix}", start + 34 * i, 34, _F.TEXT) for i in range(count)
    )


_GUARDIANSHIP = (
    _TYPE,
    _PNR,
    FieldSpec("START_DT-UMYNDIG", 14, 10, _F.DATE),
    FieldSpec("START_DT_UMRK-UMYNDIG", 24, 1, _F.UNCERTAINTY),
    FieldSpec("SLET_DT-UMYNDIG", 25, 10, _F.DATE),
    # 1 = the guardian has a PNR, 2 = guardian given by name and address [C14].
    FieldSpec("UMYN_RELTYP", 35, 4, _F.CODE),
    FieldSpec("RELPNR", 39, 10, _F.PNR),
    FieldSpec("START_DT-RELPNR_PNR", 49, 10, _F.DATE),
    FieldSpec("RELADRSAT_RELPNR_TXT", 59, 34, _F.TEXT),
    FieldSpec("START_DT-RELPNR_TXT", 93, 10, _F.DATE),
    *_lines("RELTXT", "", 103),
)

CURRENT_LAYOUTS: dict[str, tuple[int, tuple[FieldSpec, ...]]] = {
    "001": (
        106,
        (
            _TYPE,
            _PNR,
            FieldSpec("PNRGAELD", 14, 10, _F.PNR),
            FieldSpec("STATUS", 24, 2, _F.STATUS),
            FieldSpec("STATUSHAENSTART", 26, 12, _F.TIMESTAMP),
            FieldSpec("STATUSDTO_UMRK", 38, 1, _F.UNCERTAINTY),
            FieldSpec("KOEN", 39, 1, _F.SEX),
            FieldSpec("FOED_DT", 40, 10, _F.DATE),
            FieldSpec("FOED_DT_UMRK", 50, 1, _F.UNCERTAINTY),
            FieldSpec("START_DT-PERSON", 51, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-PERSON", 61, 1, _F.UNCERTAINTY),
            FieldSpec("SLUT_DT-PERSON", 62, 10, _F.DATE),
            FieldSpec("SLUT_DT_UMRK-PERSON", 72, 1, _F.UNCERTAINTY),
            FieldSpec("STILLING", 73, 34, _F.TEXT),
        ),
    ),
    "002": (
        306,
        (
            _TYPE,
            _PNR,
            FieldSpec("KOMKOD", 14, 4, _F.CODE),
            FieldSpec("VEJKOD", 18, 4, _F.CODE),
            FieldSpec("HUSNR", 22, 4, _F.TEXT),
            FieldSpec("ETAGE", 26, 2, _F.TEXT),
            FieldSpec("SIDEDOER", 28, 4, _F.TEXT),
            FieldSpec("BNR", 32, 4, _F.TEXT),
            FieldSpec("CONVN", 36, 34, _F.TEXT),
            FieldSpec("TILFLYDTO", 70, 12, _F.TIMESTAMP),
            FieldSpec("TILFLYDT_UMRK", 82, 1, _F.UNCERTAINTY),
            FieldSpec("TILFLYKOMDTO", 83, 12, _F.TIMESTAMP),
            FieldSpec("TILFLYKOMDT_UMRK", 95, 1, _F.UNCERTAINTY),
            FieldSpec("FRAFLYKOMKOD", 96, 4, _F.CODE),
            FieldSpec("FRAFLYKOMDTO", 100, 12, _F.TIMESTAMP),
            FieldSpec("FRAFLYKOMDT_UMRK", 112, 1, _F.UNCERTAINTY),
            FieldSpec("START_MYNKOD-ADRTXT", 113, 4, _F.CODE),
            *_lines("ADR", "-SUPLADR", 117),
            FieldSpec("START_DT-ADRTXT", 287, 10, _F.DATE),
            FieldSpec("SLET_DT-ADRTXT", 297, 10, _F.DATE),
        ),
    ),
    "003": (
        249,
        (
            _TYPE,
            _PNR,
            FieldSpec("ADRNVN", 14, 34, _F.TEXT),
            FieldSpec("CONVN", 48, 34, _F.TEXT),
            FieldSpec("LOKALITET", 82, 34, _F.TEXT),
            FieldSpec("STANDARDADR", 116, 34, _F.TEXT),
            FieldSpec("BYNVN", 150, 34, _F.TEXT),
            FieldSpec("POSTNR", 184, 4, _F.CODE),
            FieldSpec("POSTDISTTXT", 188, 20, _F.TEXT),
            FieldSpec("KOMKOD", 208, 4, _F.CODE),
            FieldSpec("VEJKOD", 212, 4, _F.CODE),
            FieldSpec("HUSNR", 216, 4, _F.TEXT),
            FieldSpec("ETAGE", 220, 2, _F.TEXT),
            FieldSpec("SIDEDOER", 222, 4, _F.TEXT),
            FieldSpec("BNR", 226, 4, _F.TEXT),
            FieldSpec("VEJADRNVN", 230, 20, _F.TEXT),
        ),
    ),
    "004": (
        37,
        (
            _TYPE,
            _PNR,
            FieldSpec("BESKYTTYPE", 14, 4, _F.PROTECTION_TYPE),
            FieldSpec("START_DT-BESKYTTELSE", 18, 10, _F.DATE),
            FieldSpec("SLET_DT-BESKYTTELSE", 28, 10, _F.DATE),
        ),
    ),
    "005": (
        200,
        (
            _TYPE,
            _PNR,
            FieldSpec("UDR_LANDEKOD", 14, 4, _F.CODE),
            FieldSpec("UDRDTO", 18, 12, _F.TIMESTAMP),
            FieldSpec("UDRDTO_UMRK", 30, 1, _F.UNCERTAINTY),
            *_lines("UDLANDADR", "", 31),
        ),
    ),
    "006": (
        203,
        (
            _TYPE,
            _PNR,
            *_lines("ADR", "-KONTAKTADR", 14),
            FieldSpec("START_DT-ADRTXT", 184, 10, _F.DATE),
            FieldSpec("SLET_DT-ADRTXT", 194, 10, _F.DATE),
        ),
    ),
    "007": (
        26,
        (
            _TYPE,
            _PNR,
            FieldSpec("FORSVINDDTO", 14, 12, _F.TIMESTAMP),
            FieldSpec("FORSVINDDTO_UMRK", 26, 1, _F.UNCERTAINTY),
        ),
    ),
    "008": (
        193,
        (
            _TYPE,
            _PNR,
            FieldSpec("FORNVN", 14, 50, _F.TEXT),
            FieldSpec("FORNVN_MRK", 64, 1, _F.NAME_MARKER),
            FieldSpec("MELNVN", 65, 40, _F.TEXT),
            FieldSpec("MELNVN_MRK", 105, 1, _F.NAME_MARKER),
            FieldSpec("EFTERNVN", 106, 40, _F.TEXT),
            FieldSpec("EFTERNVN_MRK", 146, 1, _F.NAME_MARKER),
            FieldSpec("NVNHAENSTART", 147, 12, _F.TIMESTAMP),
            FieldSpec("HAENSTART_UMRK-NAVNE", 159, 1, _F.UNCERTAINTY),
            FieldSpec("ADRNVN", 160, 34, _F.TEXT),
        ),
    ),
    "009": (
        37,
        (
            _TYPE,
            _PNR,
            FieldSpec("START_MYNKOD-FOEDESTED", 14, 4, _F.CODE),
            FieldSpec("MYNTXT-FOEDESTED", 18, 20, _F.TEXT),
        ),
    ),
    "010": (
        30,
        (
            _TYPE,
            _PNR,
            FieldSpec("LANDEKOD", 14, 4, _F.CODE),
            FieldSpec("HAENSTART-STATSBORGERSKAB", 18, 12, _F.TIMESTAMP),
            FieldSpec("HAENSTART_UMRK-STATSBORGERSKAB", 30, 1, _F.UNCERTAINTY),
        ),
    ),
    "011": (
        25,
        (
            _TYPE,
            _PNR,
            # The meaning of each FKIRK letter is unconfirmed (§2.4): kept as text.
            FieldSpec("FKIRK", 14, 1, _F.TEXT),
            FieldSpec("START_DT-FOLKEKIRKE", 15, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-FOLKEKIRKE", 25, 1, _F.UNCERTAINTY),
        ),
    ),
    "012": (
        95,
        (
            _TYPE,
            _PNR,
            FieldSpec("CIVST", 14, 1, _F.CIVIL_STATUS),
            FieldSpec("AEGTEPNR", 15, 10, _F.PNR),
            FieldSpec("AEGTEFOED_DT", 25, 10, _F.DATE),
            FieldSpec("AEGTEFOED_DT_UMRK", 35, 1, _F.UNCERTAINTY),
            FieldSpec("AEGTENVN", 36, 34, _F.TEXT),
            FieldSpec("AEGTENVN_MRK", 70, 1, _F.NAME_MARKER),
            FieldSpec("HAENSTART-CIVILSTAND", 71, 12, _F.TIMESTAMP),
            FieldSpec("HAENSTART_UMRK-CIVILSTAND", 83, 1, _F.UNCERTAINTY),
            FieldSpec("SEP_HENVIS-CIVILSTAND", 84, 12, _F.TIMESTAMP),
        ),
    ),
    "013": (
        36,
        (
            _TYPE,
            _PNR,
            FieldSpec("SEP_HENVIS-SEPARATION", 14, 12, _F.TIMESTAMP),
            FieldSpec("START_DT-SEPARATION", 26, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-SEPARATION", 36, 1, _F.UNCERTAINTY),
        ),
    ),
    "014": (23, (_TYPE, _PNR, FieldSpec("PNRBARN", 14, 10, _F.PNR))),
    "015": (
        147,
        (
            _TYPE,
            _PNR,
            FieldSpec("MOR_DT", 14, 10, _F.DATE),
            FieldSpec("MOR_DT_UMRK", 24, 1, _F.UNCERTAINTY),
            FieldSpec("PNRMOR", 25, 10, _F.PNR),
            FieldSpec("MOR_FOED_DT", 35, 10, _F.DATE),
            FieldSpec("MOR_FOED_DT_UMRK", 45, 1, _F.UNCERTAINTY),
            FieldSpec("MORNVN", 46, 34, _F.TEXT),
            FieldSpec("MORNVN_MRK", 80, 1, _F.NAME_MARKER),
            FieldSpec("FAR_DT", 81, 10, _F.DATE),
            FieldSpec("FAR_DT_UMRK", 91, 1, _F.UNCERTAINTY),
            FieldSpec("PNRFAR", 92, 10, _F.PNR),
            FieldSpec("FAR_FOED_DT", 102, 10, _F.DATE),
            FieldSpec("FAR_FOED_DT_UMRK", 112, 1, _F.UNCERTAINTY),
            FieldSpec("FARNVN", 113, 34, _F.TEXT),
            FieldSpec("FARNVN_MRK", 147, 1, _F.NAME_MARKER),
        ),
    ),
    "016": (
        58,
        (
            _TYPE,
            _PNR,
            # 0003 mother, 0004 father, 0005/0006 other holder [CB ParentalAuthority.cs].
            FieldSpec("RELTYP-FORAELDREMYN", 14, 4, _F.CODE),
            FieldSpec("START_DT-FORAELDREMYN", 18, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-FORAELDREMYN", 28, 1, _F.UNCERTAINTY),
            FieldSpec("SLET_DT-FORAELDREMYN", 29, 10, _F.DATE),
            FieldSpec("RELPNR", 39, 10, _F.PNR),
            FieldSpec("START_DT-RELPNR_PNR", 49, 10, _F.DATE),
        ),
    ),
    "017": (272, _GUARDIANSHIP),
    "018": (
        60,
        (
            _TYPE,
            _PNR,
            FieldSpec("KOMFORHTYP", 14, 1, _F.CODE),
            FieldSpec("KOMFORHKOD", 15, 5, _F.TEXT),
            FieldSpec("START_DT-KOMMUNALE-FORHOLD", 20, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-KOMMUNALE-FORHOLD", 30, 1, _F.UNCERTAINTY),
            FieldSpec("BEMAERK-KOMMUNALE-FORHOLD", 31, 30, _F.TEXT),
        ),
    ),
    # 019 (notes), 020 (election) and 021 (relocation order): the sources give
    # only the record length, so beyond RECORDTYPE and PNR the layout is not
    # documented further. (020's SLET_DT at 38/10 is an unconfirmed guess.)
    "019": (75, (_TYPE, _PNR, FieldSpec("FILLER", 14, 62, _F.FILLER))),
    "020": (47, (_TYPE, _PNR, FieldSpec("FILLER", 14, 34, _F.FILLER))),
    "021": (63, (_TYPE, _PNR, FieldSpec("FILLER", 14, 50, _F.FILLER))),
    # 052 is 017 plus the type of guardianship at 273 [C14].
    "052": (287, (*_GUARDIANSHIP, FieldSpec("VAERGEMAALS_TYPE", 273, 15, _F.TEXT))),
    "099": (
        45,
        (
            _TYPE,
            _PNR,
            FieldSpec("TIMESTAMPU", 14, 12, _F.TIMESTAMP),
            FieldSpec("HAENDELSE", 26, 3, _F.TEXT),
            FieldSpec("AFLEDTMRK", 29, 2, _F.DERIVED_MARK),
            FieldSpec("NGLKONST", 31, 15, _F.TEXT),
        ),
    ),
}
