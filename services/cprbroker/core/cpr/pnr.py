"""CPR numbers (personnumre), cpr-domain.md §5.

A PNR is ten digits DDMMYY-SSSS. The century comes from the 7th digit together
with YY (the table below, including 1858-1899, which CPR Broker ignores); the
sex from the parity of the last digit. The modulus-11 check is reported but
never required: CPR has issued numbers without it since 2007, and systems must
accept them.

A PNR is personal data: :class:`Pnr`'s ``repr``/``str`` mask the serial number so
that an accidental log line does not carry a whole number. Use ``.digits`` on
purpose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cprbroker.core.cpr.codes import Sex
from cprbroker.core.errors import PnrError

_MOD11_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


def birth_year(yy: int, seventh_digit: int) -> int:
    """The four-digit birth year from YY and the 7th digit (§5 century table).

    ========== ========= ========= =========
    7th digit  YY 00-36  YY 37-57  YY 58-99
    ========== ========= ========= =========
    0-3        1900s     1900s     1900s
    4, 9       2000s     1900s     1900s
    5-8        2000s     2000s     1800s
    ========== ========= ========= =========
    """
    if not (0 <= yy <= 99 and 0 <= seventh_digit <= 9):
        raise ValueError("yy must be 0-99 and the 7th digit 0-9")
    if seventh_digit <= 3:
        return 1900 + yy
    if seventh_digit in (4, 9):
        return 2000 + yy if yy <= 36 else 1900 + yy
    return 2000 + yy if yy <= 57 else 1800 + yy


def _problem(value: str) -> str | None:
    """Why ``value`` is not a well-formed PNR, or ``None`` if it is."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return "a CPR number is 10 digits"
    try:
        _birth_date(value)
    except ValueError:
        return "its first 6 digits are not a valid birth date under the century rule"
    return None


def _birth_date(digits: str) -> dt.date:
    year = birth_year(int(digits[4:6]), int(digits[6]))
    return dt.date(year, int(digits[2:4]), int(digits[0:2]))


def is_valid_pnr(value: str) -> bool:
    """Whether ``value`` is 10 digits whose first six form a real date under the
    century rule. Modulus 11 is not required."""
    return _problem(value) is None


def passes_mod11(digits: str) -> bool:
    """Whether the weighted digit sum (4,3,2,7,6,5,4,3,2,1) is divisible by 11.

    Informative only: valid numbers issued since 2007 may fail it.
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    return sum(w * int(c) for w, c in zip(_MOD11_WEIGHTS, digits, strict=True)) % 11 == 0


@dataclass(frozen=True, slots=True)
class Pnr:
    """A well-formed CPR number. Build it with :meth:`parse`."""

    digits: str

    def __post_init__(self) -> None:
        problem = _problem(self.digits)
        if problem is not None:
            raise PnrError(f"not a CPR number: {problem}")

    @classmethod
    def parse(cls, value: str) -> Pnr:
        """Parse ``value`` (``DDMMYYSSSS`` or ``DDMMYY-SSSS``).

        Raises :class:`~cprbroker.core.errors.PnrError` if it is not 10 digits
        forming a valid birth date; the message does not repeat the number.
        """
        text = value.strip()
        if len(text) == 11 and text[6] == "-":
            text = text[:6] + text[7:]
        return cls(text)

    @property
    def birth_date(self) -> dt.date:
        """Birth date, century from the 7th digit."""
        return _birth_date(self.digits)

    @property
    def sex(self) -> Sex:
        """Odd last digit: male; even: female."""
        return Sex.MALE if int(self.digits[9]) % 2 else Sex.FEMALE

    @property
    def passes_mod11(self) -> bool:
        """Whether the number passes the modulus-11 check (never required)."""
        return passes_mod11(self.digits)

    def age_on(self, day: dt.date) -> int:
        """Age in whole years on ``day`` (a 29 February birthday counts on 1 March)."""
        born = self.birth_date
        years = day.year - born.year
        if (day.month, day.day) < (born.month, born.day):
            years -= 1
        return years

    def masked(self) -> str:
        """``DDMMYY-****``: enough to tell numbers apart in a diagnostic, not the whole number."""
        return f"{self.digits[:6]}-****"

    def __repr__(self) -> str:
        return f"Pnr({self.masked()})"

    def __str__(self) -> str:
        return self.masked()
