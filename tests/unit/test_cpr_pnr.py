"""CPR numbers: century rule, sex, modulus 11, validation (cpr-domain.md §5)."""

from __future__ import annotations

import datetime as dt

import pytest

from cprbroker.core.cpr.codes import Sex
from cprbroker.core.cpr.pnr import Pnr, birth_year, is_valid_pnr, passes_mod11
from cprbroker.core.errors import InputError, PnrError


@pytest.mark.parametrize(
    ("yy", "seventh", "year"),
    [
        (0, 0, 1900), (36, 3, 1936), (99, 3, 1999),
        (36, 4, 2036), (37, 4, 1937), (99, 4, 1999),
        (36, 9, 2036), (37, 9, 1937), (57, 9, 1957), (58, 9, 1958),
        (0, 5, 2000), (57, 5, 2057), (58, 5, 1858), (99, 8, 1899),
    ],
)  # fmt: skip
def test_century_table(yy: int, seventh: int, year: int) -> None:
    assert birth_year(yy, seventh) == year


def test_birth_date_and_sex_of_demo_persons() -> None:
    aksel = Pnr.parse("0701614011")
    erna = Pnr.parse("070761-4226")
    assert aksel.birth_date == dt.date(1961, 1, 7)
    assert aksel.sex is Sex.MALE
    assert erna.birth_date == dt.date(1961, 7, 7)
    assert erna.sex is Sex.FEMALE
    assert aksel.passes_mod11
    assert erna.passes_mod11


def test_1800s_numbers_are_dated_in_the_1800s() -> None:
    assert Pnr.parse("0101705001").birth_date == dt.date(1870, 1, 1)


def test_mod11_is_reported_not_required() -> None:
    # 0101701235: a fine date, fails modulus 11 (CPR issues such numbers since 2007).
    assert not passes_mod11("0101701235")
    assert is_valid_pnr("0101701235")
    assert not Pnr.parse("0101701235").passes_mod11


@pytest.mark.parametrize(
    "value",
    [
        "3102611234",
        "2902011234",
        "0013611234",
        "123",
        "07016140111",
        "07O1614011",
        "",
        "\uff10\uff17" + "0161" + "4011",  # full-width digits,
    ],
)
def test_invalid_numbers(value: str) -> None:
    assert not is_valid_pnr(value)
    with pytest.raises(PnrError) as caught:
        Pnr.parse(value)
    assert isinstance(caught.value, InputError)
    assert not caught.value.retriable
    if value:
        assert value not in str(caught.value)


def test_leap_day_depends_on_the_century() -> None:
    assert not is_valid_pnr("2902001234")  # 7th digit 1: 1900, not a leap year
    assert is_valid_pnr("2902004234")  # 7th digit 4, YY 00: 2000, a leap year


def test_repr_and_str_mask_the_serial_number() -> None:
    pnr = Pnr.parse("0701614011")
    assert "4011" not in repr(pnr)
    assert "4011" not in str(pnr)
    assert f"{pnr}" == "070161-****"
    assert pnr.digits == "0701614011"


def test_age_on() -> None:
    pnr = Pnr.parse("0701614011")
    assert pnr.age_on(dt.date(2024, 1, 6)) == 62
    assert pnr.age_on(dt.date(2024, 1, 7)) == 63
