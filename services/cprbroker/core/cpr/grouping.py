"""Grouping the records of a parsed extract by person, and the checks of CPR
numbers that decide which persons are refused (cpr-domain.md §7.1)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping

from cprbroker.core.cpr.pnr import is_valid_pnr
from cprbroker.core.cpr.records import Record, RecordSet
from cprbroker.core.errors import RecordError

_Spans = tuple[tuple[str, int, int], ...]
_BLOCK = 1 << 20


def group_checked(  # noqa: PLR0917 - the parser's one call
    body: list[str],
    first_line: int,
    source: str,
    result: RecordSet,
    kinds: Mapping[str, tuple[object, object, _Spans, int]],
    rare: list[int],
) -> dict[str, list[int]]:
    """Group records already known to be well-formed at full length by PNR,
    with their related CPR numbers valid except in the ``rare`` lines (which
    hold every 910 and 997 record). ``kinds`` maps each record type to
    (length, pattern, other PNR spans, role), role 1 for 910 and 997.
    Returns PNR -> indices into ``body`` (``body[i]`` is on line
    ``first_line + i``); errors go to ``result.rejected``, in line order.
    """
    errors = result.rejected
    already = len(errors)
    cache: dict[str, bool] = {}
    left_out: set[int] = set()
    for index in rare:
        line = body[index]
        _, _, spans, role = kinds[line[:3]]
        if role:  # 910 error records and 997 receipts
            keep_other(line, first_line + index, source, cache, result)
            left_out.add(index)
            continue
        pnr = line[3:13]
        bad = bad_related_pnr(line, spans, cache) if born_ok(pnr, cache) else None
        if bad is not None:
            errors.append(bad_pnr(line, *bad, first_line + index, source, pnr))
            left_out.add(index)
    # A person's records usually stand together: one step per run of a PNR.
    # The PNRs are sliced out a block at a time, to hold a block's, not a file's.
    groups: dict[str, list[int]] = {}
    pnrs: list[str | None] = [None] * len(body)
    for begin in range(0, len(body), _BLOCK):
        stop = min(begin + _BLOCK, len(body))
        pnrs[begin:stop] = [line[3:13] for line in body[begin:stop]]
        for key, run in itertools.groupby(range(begin, stop), pnrs.__getitem__):
            # One use of ``run`` per branch.
            indices = [i for i in run if i not in left_out] if left_out else list(run)  # noqa: B031
            if not indices or key is None:
                continue
            pnr = key
            found = groups.get(pnr)
            if found is not None:
                found += indices
            elif born_ok(pnr, cache):
                groups[pnr] = indices
            else:
                errors.extend(
                    bad_pnr(body[i], "PNR", pnr, first_line + i, source, pnr) for i in indices
                )
        pnrs[begin:stop] = itertools.repeat(None, stop - begin)
    if len(errors) - already > 1:
        errors[already:] = sorted(errors[already:], key=lambda error: error.line or 0)
    return groups


def bad_related_pnr(line: str, spans: _Spans, cache: dict[str, bool]) -> tuple[str, str] | None:
    """The first CPR-number field other than the key that is not a valid
    number (blank and all zeros mean "no related person"): (name, value)."""
    for name, start, end in spans:
        value = line[start:end]
        if value[0] != " " and value != "0000000000" and not born_ok(value, cache):
            return name, value
    return None


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
