"""Grouping the records of a parsed extract by person, and the checks of CPR
numbers that decide which persons are refused (cpr-domain.md §7.1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cprbroker.core.cpr.pnr import is_valid_pnr
from cprbroker.core.cpr.records import Record, RecordSet
from cprbroker.core.errors import RecordError

_Spans = tuple[tuple[str, int, int], ...]


def group_checked(
    body: list[str],
    first_line: int,
    source: str,
    result: RecordSet,
    kinds: Mapping[str, tuple[object, object, _Spans, int]],
) -> dict[str, list[int]]:
    """Group records already known to be well-formed at full length by PNR;
    only the CPR numbers are left to check. ``kinds`` maps each record type
    to (length, pattern, other PNR spans, role), role 1 for 910 and 997.
    Returns PNR -> indices into ``body`` (``body[i]`` is on line
    ``first_line + i``); errors go to ``result.rejected``.
    """
    table = {code: (spans, role) for code, (_, _, spans, role) in kinds.items()}
    groups: dict[str, list[int]] = {}
    errors = result.rejected
    cache: dict[str, bool] = {}
    every_year_days = _EVERY_YEAR_DAYS
    last_pnr = ""
    last_group: list[int] = []
    for index, line in enumerate(body):
        spans, role = table[line[:3]]
        if role:  # 910 error records and 997 receipts
            keep_other(line, first_line + index, source, cache, result)
            continue
        pnr = line[3:13]
        # A person's records usually stand together: skip the dict then.
        if pnr == last_pnr:
            group = last_group
        else:
            found = groups.get(pnr)
            if found is None:
                if not born_ok(pnr, cache):
                    errors.append(bad_pnr(line, "PNR", pnr, first_line + index, source, pnr))
                    continue
                found = groups[pnr] = []
            group, last_pnr, last_group = found, pnr, found
        if spans:
            bad = None
            for name, start, end in spans:
                value = line[start:end]
                if (
                    value[:4] not in every_year_days
                    and value[0] != " "  # blank and zeros: no related person
                    and value != "0000000000"
                    and not born_ok(value, cache)
                ):
                    bad = name, value
                    break
            if bad is not None:
                errors.append(bad_pnr(line, *bad, first_line + index, source, pnr))
                continue
        group.append(index)
    return groups


def keep_other(
    line: str, line_no: int, source: str, cache: dict[str, bool], result: RecordSet
) -> None:
    """File a well-formed 910 error record or 997 receipt (``cache`` as for
    :func:`born_ok`)."""
    if line.startswith("910"):
        result.error_records.append(Record("910", line_no, line))
    elif not born_ok(line[3:13], cache):
        result.rejected.append(bad_pnr(line, "PNR", line[3:13], line_no, source, line[3:13]))
    else:
        result.receipts.append(Record(line[:3], line_no, line))


# Every DDMM that is a date in every year: with any YY and 7th digit these
# make a valid birth date (the century rule always yields a year), so only
# 29 February needs the century rule.
_EVERY_YEAR_DAYS = frozenset(
    f"{day:%d%m}" for day in (dt.date(2001, 1, 1) + dt.timedelta(days=n) for n in range(365))
)


def born_ok(pnr: str, cache: dict[str, bool]) -> bool:
    """Whether the 10 digits ``pnr`` (the record patterns ensure digits) form
    a valid birth date; the rare cases are cached on the first 7 digits,
    which alone decide it."""
    if pnr[:4] in _EVERY_YEAR_DAYS:
        return True
    key = pnr[:7]
    ok = cache.get(key)
    if ok is None:
        ok = cache[key] = is_valid_pnr(pnr)
    return ok


def person_of(line: str) -> str | None:
    """The PNR at 4-13 if it is one, to know which person a bad record refuses."""
    candidate = line[3:13]
    return candidate if is_valid_pnr(candidate) else None


def bad_pnr(  # noqa: PLR0917 - called on the hot path's error branch only
    line: str, field: str, value: str, line_no: int, source: str, person: str
) -> RecordError:
    return RecordError(
        source=source,
        line=line_no,
        record_type=line[:3],
        field=field,
        value=value,
        reason="not a CPR number (10 digits, a valid birth date by the century rule)",
        pnr=person,
        value_in_message=False,
    )
