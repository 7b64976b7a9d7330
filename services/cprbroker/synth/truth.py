"""Ground truth: the business events a correct deriver must produce for one
person in one delta file, under event catalogue v1.

It is computed here from the generator's own records, independently of
:mod:`cprbroker.core.events`, so that comparing the two checks the deriver.
The rules, for one person in one file:

1. **Code-driven.** Every 099 record gives one event, its type from the code
   and derived mark (AFLEDTMRK):

   - A01, A09 → ``cpr.person.moved``; A07, A42, P10 → ``address_changed``
   - A21 with blank mark → ``died``; A21 with ÆG or PA, and A19, A20, A23,
     A24 → ``civil_status_changed`` (A21 with any other mark → fallback)
   - A13-A17 → ``name_changed``; A33, P11 → ``protection_changed``
   - A06 → ``emigrated``; A04, A05, P31 → ``immigrated``
   - A02 → ``disappeared``; A03 → ``reappeared``
   - A34, P56 → ``church_membership_changed``; A73 → ``guardianship_changed``
   - P02, P03, P42, P43 → ``pnr_changed``
   - A45, A74, K74 → nothing (technical)
   - any other code (A51 birth, A35 paternity, ...) → ``cpr.person.changed``

   It carries the code and the mark (null when blank).
2. **Data-driven**, only if the person was in an earlier file (no event from
   data for a person seen for the first time). Comparing the previous
   snapshot with this one, each of these gives its event with code and mark
   null, unless an event of the same type already came from a code (then the
   two are one event, the code-driven one):

   - 002 present before and after, and municipality, road code, house
     number, floor, door or building number differ → ``moved``
   - 002 present before and after with the same location, but the address
     text (002 c/o and supplementary lines; 003 road name, locality, standard
     address, city, postcode, district) differs → ``address_changed``
   - 001 STATUS becomes 90 / 80 / 70 → ``died`` / ``emigrated`` / ``disappeared``
   - 001 STATUS leaves 80 / 70 → ``immigrated`` / ``reappeared``
   - record 012 differs → ``civil_status_changed``; 008 → ``name_changed``;
     the 004 set → ``protection_changed``; 011 → ``church_membership_changed``;
     010 → ``citizenship_changed``; the 017/052 set → ``guardianship_changed``;
     015 → ``parents_changed``; the 014 set → ``children_changed``; the 016 set
     → ``custody_changed``; 001 PNRGAELD → ``pnr_changed``

   Fields compare as the parser reads them: trailing and leading blanks
   ignored, an all-zero timestamp equal to a blank one.
3. **Municipality changed.** Beside each ``moved`` event whose municipality
   before and after are both known and differ, a
   ``cpr.person.municipality_changed`` with the same code and mark.

Events of the same type, code and mark for one person in one file are one.
Every event of the person carries the same ``municipality_before`` and
``municipality_after`` (4-digit strings or null): *after* is the current 002
KOMKOD (null without 002); *before* is the previous snapshot's 002 KOMKOD
(null without 002), or for a person seen for the first time: their 002
FRAFLYKOMKOD if a move code is among their 099s, FRAFLYKOMKOD is filled and
TILFLYDTO equals TILFLYKOMDTO (they entered the municipality with the
address), else the current KOMKOD.
"""

from __future__ import annotations

from collections.abc import Sequence

from cprbroker.synth.day import Happening
from cprbroker.synth.records import Record

PREFIX = "cpr.person."
FALLBACK = PREFIX + "changed"
MOVED = PREFIX + "moved"
MUNICIPALITY_CHANGED = PREFIX + "municipality_changed"

_BY_CODE: dict[str, str] = {
    **dict.fromkeys(("A01", "A09"), "moved"),
    **dict.fromkeys(("A07", "A42", "P10"), "address_changed"),
    **dict.fromkeys(("A19", "A20", "A23", "A24"), "civil_status_changed"),
    **dict.fromkeys(("A13", "A14", "A15", "A16", "A17"), "name_changed"),
    **dict.fromkeys(("A33", "P11"), "protection_changed"),
    "A06": "emigrated",
    **dict.fromkeys(("A04", "A05", "P31"), "immigrated"),
    "A02": "disappeared",
    "A03": "reappeared",
    **dict.fromkeys(("A34", "P56"), "church_membership_changed"),
    "A73": "guardianship_changed",
    **dict.fromkeys(("P02", "P03", "P42", "P43"), "pnr_changed"),
}
_A21_BY_MARK = {"": "died", "ÆG": "civil_status_changed", "PA": "civil_status_changed"}
_IGNORED = frozenset({"A45", "A74", "K74"})

_LOCATION = ("KOMKOD", "VEJKOD", "HUSNR", "ETAGE", "SIDEDOER", "BNR")
_TEXT_002 = (
    "CONVN",
    "ADR1-SUPLADR",
    "ADR2-SUPLADR",
    "ADR3-SUPLADR",
    "ADR4-SUPLADR",
    "ADR5-SUPLADR",
)
_TEXT_003 = ("CONVN", "VEJADRNVN", "LOKALITET", "STANDARDADR", "BYNVN", "POSTNR", "POSTDISTTXT")
_NO_TIMESTAMP = "000000000000"

# Data-driven "record differs" rules in catalogue order: record types -> type.
_RECORD_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("012",), "civil_status_changed"),
    (("008",), "name_changed"),
    (("004",), "protection_changed"),
    (("011",), "church_membership_changed"),
    (("010",), "citizenship_changed"),
    (("017", "052"), "guardianship_changed"),
    (("015",), "parents_changed"),
    (("014",), "children_changed"),
    (("016",), "custody_changed"),
)


def code_type(code: str, mark: str) -> str | None:
    """The event type a 099 code and derived mark give (None: ignored)."""
    if code in _IGNORED:
        return None
    if code == "A21":
        return PREFIX + _A21_BY_MARK[mark] if mark in _A21_BY_MARK else FALLBACK
    kind = _BY_CODE.get(code)
    return PREFIX + kind if kind else FALLBACK


def _clean(value: str) -> str:
    value = value.strip()
    return "" if value == _NO_TIMESTAMP else value


def _content(
    values: dict[str, str], names: Sequence[str] | None = None
) -> tuple[tuple[str, str], ...]:
    keys = names if names is not None else sorted(values)
    return tuple((k, c) for k in keys if k != "PNR" and (c := _clean(values.get(k, ""))))


def _records(records: Sequence[Record], *types: str) -> list[tuple[tuple[str, str], ...]]:
    return sorted(_content(values) for kind, values in records if kind in types)


def _first(records: Sequence[Record], kind: str) -> dict[str, str] | None:
    return next((values for t, values in records if t == kind), None)


def _status(records: Sequence[Record]) -> str:
    person = _first(records, "001")
    return person["STATUS"] if person else ""


def _data_types(before: Sequence[Record], after: Sequence[Record]) -> list[str]:
    """The event types the snapshot diff gives, in catalogue order."""
    found: list[str] = []
    old_address, new_address = _first(before, "002"), _first(after, "002")
    if old_address is not None and new_address is not None:
        if _content(old_address, _LOCATION) != _content(new_address, _LOCATION):
            found.append(MOVED)
        else:
            old_text = (
                _content(old_address, _TEXT_002),
                _content(_first(before, "003") or {}, _TEXT_003),
            )
            new_text = (
                _content(new_address, _TEXT_002),
                _content(_first(after, "003") or {}, _TEXT_003),
            )
            if old_text != new_text:
                found.append(PREFIX + "address_changed")
    old_status, new_status = _status(before), _status(after)
    transitions = {"90": "died", "80": "emigrated", "70": "disappeared"}
    if old_status != new_status and new_status in transitions:
        found.append(PREFIX + transitions[new_status])
    for status, kind in (("80", "immigrated"), ("70", "reappeared")):
        if old_status == status != new_status:
            found.append(PREFIX + kind)
    found.extend(
        PREFIX + kind
        for types, kind in _RECORD_RULES
        if _records(before, *types) != _records(after, *types)
    )
    old_current = _clean((_first(before, "001") or {}).get("PNRGAELD", ""))
    new_current = _clean((_first(after, "001") or {}).get("PNRGAELD", ""))
    if old_current != new_current:
        found.append(PREFIX + "pnr_changed")
    return found


def _municipalities(
    before: Sequence[Record] | None, after: Sequence[Record], happenings: Sequence[Happening]
) -> tuple[str | None, str | None]:
    current = _first(after, "002")
    municipality_after = _clean(current["KOMKOD"]) or None if current else None
    if before is not None:
        previous = _first(before, "002")
        return (_clean(previous["KOMKOD"]) or None if previous else None), municipality_after
    if current is None:
        return None, None
    moved = any(code_type(h.code, h.mark) == MOVED for h in happenings)
    came_from = _clean(current.get("FRAFLYKOMKOD", ""))
    entered_with_address = _clean(current.get("TILFLYDTO", "")) == _clean(
        current.get("TILFLYKOMDTO", "")
    )
    if moved and came_from and entered_with_address:
        return came_from, municipality_after
    return municipality_after, municipality_after


def expected_events(
    pnr: str,
    before: Sequence[Record] | None,
    after: Sequence[Record],
    happenings: Sequence[Happening],
) -> list[dict[str, str | None]]:
    """The ground-truth events of ``pnr`` in one file: ``before`` is the
    snapshot of the previous file (None if the person is new), ``after`` the
    records written now, ``happenings`` the person's 099 events in file order.
    Each event is a dict with the keys ``pnr``, ``type``, ``cpr_event_code``,
    ``derived_mark``, ``municipality_before``, ``municipality_after``."""
    municipality_before, municipality_after = _municipalities(before, after, happenings)
    primary: list[tuple[str, str | None, str | None]] = []
    for happening in happenings:
        kind = code_type(happening.code, happening.mark)
        if kind is not None:
            primary.append((kind, happening.code, happening.mark or None))
    if before is not None:
        from_codes = {kind for kind, _, _ in primary}
        primary.extend(
            (kind, None, None) for kind in _data_types(before, after) if kind not in from_codes
        )
    events: list[dict[str, str | None]] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    crossed = (
        municipality_before is not None
        and municipality_after is not None
        and municipality_before != municipality_after
    )
    for kind, code, mark in primary:
        batch = [(kind, code, mark)]
        if kind == MOVED and crossed:
            batch.append((MUNICIPALITY_CHANGED, code, mark))
        for item in batch:
            if item in seen:
                continue
            seen.add(item)
            events.append(
                {
                    "pnr": pnr,
                    "type": item[0],
                    "cpr_event_code": item[1],
                    "derived_mark": item[2],
                    "municipality_before": municipality_before,
                    "municipality_after": municipality_after,
                }
            )
    return events


__all__ = ["FALLBACK", "MOVED", "MUNICIPALITY_CHANGED", "code_type", "expected_events"]
