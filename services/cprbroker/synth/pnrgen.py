"""Issuing synthetic CPR numbers (cpr-domain.md §5).

A number is the birth date DDMMYY, a 7th digit that together with YY gives the
century (checked against :func:`cprbroker.core.cpr.pnr.birth_year`), two free
digits and a last digit whose parity is the sex (odd = male). Numbers pass
modulus 11 unless asked not to: CPR has issued numbers without it since 2007,
so far only for 1 January birth dates, and the generator reproduces that.
"""

from __future__ import annotations

import datetime as dt
import functools
import random

from cprbroker.core.cpr.pnr import birth_year, passes_mod11


@functools.cache
def century_digits(year: int) -> tuple[int, ...]:
    """The 7th digits that give ``year`` under the century rule, most used first."""
    yy = year % 100
    digits = tuple(d for d in (0, 1, 2, 3, 4, 9, 5, 6, 7, 8) if birth_year(yy, d) == year)
    if not digits:
        raise ValueError(f"no CPR number can carry birth year {year}")
    return digits


@functools.cache
def _seventh_digit_choices(year: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(common, all) 7th digits for ``year``: in the 1900s mostly 0-3, with 4
    and 9 (from 1937) rarer; in the 2000s 4-9 evenly."""
    digits = century_digits(year)
    common = digits[:4] if digits[0] == 0 and len(digits) > 4 else digits
    return common, digits


def issue_pnr(
    rng: random.Random,
    birth: dt.date,
    male: bool,
    taken: set[str],
    *,
    mod11: bool = True,
) -> str:
    """A new CPR number for someone born on ``birth``, not in ``taken`` (and
    added to it). The last digit is odd for men. With ``mod11=False`` the
    number deliberately fails the modulus-11 check.

    Raises ``ValueError`` if no free number is found (a birth date has room for
    several hundred mod-11 numbers per sex, so only absurd densities hit it).
    """
    day, month, yy = birth.day, birth.month, birth.year % 100
    prefix6 = "%02d%02d%02d" % (day, month, yy)  # noqa: UP031 - hot path
    # Weights 4,3,2,7,6,5 on the digits of DDMMYY.
    head6 = 4 * (day // 10) + 3 * (day % 10) + 2 * (month // 10) + 7 * (month % 10)
    head6 += 6 * (yy // 10) + 5 * (yy % 10)
    parity = 1 if male else 0
    common, every = _seventh_digit_choices(birth.year)
    draw = rng.random
    for _ in range(2000):
        pool = common if draw() < 0.85 else every
        seventh = pool[int(draw() * len(pool))]
        middle = int(draw() * 100)
        total9 = head6 + 4 * seventh + 3 * (middle // 10) + 2 * (middle % 10)
        if mod11:
            last = (-total9) % 11
            if last == 10 or last % 2 != parity:
                continue
        else:
            last = parity + 2 * int(draw() * 5)
            if (total9 + last) % 11 == 0:
                continue
        if seventh == 0 and middle == 0 and last == 0:
            continue
        pnr = "%s%d%02d%d" % (prefix6, seventh, middle, last)  # noqa: UP031 - hot path
        if pnr in taken:
            continue
        taken.add(pnr)
        return pnr
    raise ValueError(f"no free CPR number for birth date {birth.isoformat()}")


def check_issued(pnr: str, birth: dt.date, male: bool) -> bool:
    """Whether ``pnr`` carries ``birth`` under the century rule and the sex of
    ``male`` in its last digit (a self-check used by tests and the generator)."""
    year = birth_year(int(pnr[4:6]), int(pnr[6]))
    same_date = (year, int(pnr[2:4]), int(pnr[0:2])) == (birth.year, birth.month, birth.day)
    return same_date and (int(pnr[9]) % 2 == 1) == male


__all__ = ["century_digits", "check_issued", "issue_pnr", "passes_mod11"]
