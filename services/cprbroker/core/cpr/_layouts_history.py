"""Layouts of the historic person records 022-033 [CB Definitions.xml;
cpr-domain.md §2.2-2.3].

Historic records 023-027, 029 and 030 carry ANNKOR (the correction marker) at
position 14. CB's 028 has none: its fields tile the 36 characters without it.
Each entry is ``record type -> (record length, fields)``; positions are 1-based.
"""

from __future__ import annotations

from cprbroker.core.cpr.fieldspec import FieldKind, FieldSpec

_F = FieldKind
_TYPE = FieldSpec("RECORDTYPE", 1, 3, _F.CODE)
_PNR = FieldSpec("PNR", 4, 10, _F.PNR)
_ANNKOR = FieldSpec("ANNKOR", 14, 1, _F.CORRECTION_MARKER)


def _lines(prefix: str, start: int) -> tuple[FieldSpec, ...]:
    """Five foreign-address lines of 34 characters, UDLANDADR1..5."""
    return tuple(FieldSpec(f"{prefix}{i + 1}", start + 34 * i, 34, _F.TEXT) for i in range(5))


HISTORY_LAYOUTS: dict[str, tuple[int, tuple[FieldSpec, ...]]] = {
    # In 022 positions 4-13 hold the person's current PNR (PNRGAELD in CB),
    # which is the key the record is grouped under; HISTPNR is the old one.
    "022": (
        45,
        (
            _TYPE,
            _PNR,
            FieldSpec("HISTPNR", 14, 10, _F.PNR),
            FieldSpec("START_DT-PERSON", 24, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-PERSON", 34, 1, _F.UNCERTAINTY),
            FieldSpec("SLUT_DT-PERSON", 35, 10, _F.DATE),
            FieldSpec("SLUT_DT_UMRK-PERSON", 45, 1, _F.UNCERTAINTY),
        ),
    ),
    "023": (
        96,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("KOMKOD", 15, 4, _F.CODE),
            FieldSpec("VEJKOD", 19, 4, _F.CODE),
            FieldSpec("HUSNR", 23, 4, _F.TEXT),
            FieldSpec("ETAGE", 27, 2, _F.TEXT),
            FieldSpec("SIDEDOER", 29, 4, _F.TEXT),
            FieldSpec("BNR", 33, 4, _F.TEXT),
            FieldSpec("CONVN", 37, 34, _F.TEXT),
            FieldSpec("TILFLYDTO", 71, 12, _F.TIMESTAMP),
            FieldSpec("TILFLYDT_UMRK", 83, 1, _F.UNCERTAINTY),
            FieldSpec("FRAFLYDTO", 84, 12, _F.TIMESTAMP),
            FieldSpec("FRAFLYDTO_UMRK", 96, 1, _F.UNCERTAINTY),
        ),
    ),
    "024": (
        218,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("UDR_LANDEKOD", 15, 4, _F.CODE),
            FieldSpec("UDRDTO", 19, 12, _F.TIMESTAMP),
            FieldSpec("UDRDTO_UMRK", 31, 1, _F.UNCERTAINTY),
            FieldSpec("INDR_LANDEKOD", 32, 4, _F.CODE),
            FieldSpec("INDRDTO", 36, 12, _F.TIMESTAMP),
            FieldSpec("INDRDTO_UMRK", 48, 1, _F.UNCERTAINTY),
            *_lines("UDLANDADR", 49),
        ),
    ),
    "025": (
        40,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("FORSVINDDTO", 15, 12, _F.TIMESTAMP),
            FieldSpec("FORSVINDDTO_UMRK", 27, 1, _F.UNCERTAINTY),
            FieldSpec("GENFINDDTO", 28, 12, _F.TIMESTAMP),
            FieldSpec("GENFINDDTO_UMRK", 40, 1, _F.UNCERTAINTY),
        ),
    ),
    "026": (
        173,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("FORNVN", 15, 50, _F.TEXT),
            FieldSpec("FORNVN_MRK", 65, 1, _F.NAME_MARKER),
            FieldSpec("MELNVN", 66, 40, _F.TEXT),
            FieldSpec("MELNVN_MRK", 106, 1, _F.NAME_MARKER),
            FieldSpec("EFTERNVN", 107, 40, _F.TEXT),
            FieldSpec("EFTERNVN_MRK", 147, 1, _F.NAME_MARKER),
            FieldSpec("NVNHAENSTART", 148, 12, _F.TIMESTAMP),
            FieldSpec("HAENSTART_UMRK-NAVNE", 160, 1, _F.UNCERTAINTY),
            FieldSpec("NVNHAENSLUT", 161, 12, _F.TIMESTAMP),
            FieldSpec("HAENSLUT_UMRK-NAVNE", 173, 1, _F.UNCERTAINTY),
        ),
    ),
    "027": (
        44,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("LANDEKOD", 15, 4, _F.CODE),
            FieldSpec("HAENSTART-STATSBORGERSKAB", 19, 12, _F.TIMESTAMP),
            FieldSpec("HAENSTART_UMRK-STATSBORGERSKAB", 31, 1, _F.UNCERTAINTY),
            FieldSpec("HAENSLUT-STATSBORGERSKAB", 32, 12, _F.TIMESTAMP),
            FieldSpec("HAENSLUT_UMRK-STATSBORGERSKAB", 44, 1, _F.UNCERTAINTY),
        ),
    ),
    "028": (
        36,
        (
            _TYPE,
            _PNR,
            FieldSpec("FKIRK", 14, 1, _F.TEXT),
            FieldSpec("START_DT-FOLKEKIRKE", 15, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-FOLKEKIRKE", 25, 1, _F.UNCERTAINTY),
            FieldSpec("SLUT_DT-FOLKEKIRKE", 26, 10, _F.DATE),
            FieldSpec("SLUT_DT_UMRK-FOLKEKIRKE", 36, 1, _F.UNCERTAINTY),
        ),
    ),
    "029": (
        109,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("CIVST", 15, 1, _F.CIVIL_STATUS),
            FieldSpec("AEGTEPNR", 16, 10, _F.PNR),
            FieldSpec("AEGTEFOED_DT", 26, 10, _F.DATE),
            FieldSpec("AEGTEFOED_DT_UMRK", 36, 1, _F.UNCERTAINTY),
            FieldSpec("AEGTENVN", 37, 34, _F.TEXT),
            FieldSpec("AEGTENVN_MRK", 71, 1, _F.NAME_MARKER),
            FieldSpec("HAENSTART-CIVILSTAND", 72, 12, _F.TIMESTAMP),
            FieldSpec("HAENSTART_UMRK-CIVILSTAND", 84, 1, _F.UNCERTAINTY),
            FieldSpec("HAENSLUT-CIVILSTAND", 85, 12, _F.TIMESTAMP),
            FieldSpec("HAENSLUT_UMRK-CIVILSTAND", 97, 1, _F.UNCERTAINTY),
            FieldSpec("SEP_HENVIS-CIVILSTAND", 98, 12, _F.TIMESTAMP),
        ),
    ),
    "030": (
        48,
        (
            _TYPE,
            _PNR,
            _ANNKOR,
            FieldSpec("SEP_HENVIS-SEPARATION", 15, 12, _F.TIMESTAMP),
            FieldSpec("START_DT-SEPARATION", 27, 10, _F.DATE),
            FieldSpec("START_DT_UMRK-SEPARATION", 37, 1, _F.UNCERTAINTY),
            FieldSpec("SLUT_DT-SEPARATION", 38, 10, _F.DATE),
            FieldSpec("SLUT_DT_UMRK-SEPARATION", 48, 1, _F.UNCERTAINTY),
        ),
    ),
    # 031/032/033 (mother/father/child with printable address): the sources
    # give only the record length; the layout is not documented further.
    "031": (269, (_TYPE, _PNR, FieldSpec("FILLER", 14, 256, _F.FILLER))),
    "032": (269, (_TYPE, _PNR, FieldSpec("FILLER", 14, 256, _F.FILLER))),
    "033": (269, (_TYPE, _PNR, FieldSpec("FILLER", 14, 256, _F.FILLER))),
}
