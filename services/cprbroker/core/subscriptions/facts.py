"""The view of a business event that subscription filters look at.

Matching must not depend on how events are modelled or encoded, so it reads a
small frozen record, :class:`EventFacts`, that the event model builds for each
business event. Everything a filter criterion can test is here and nothing
else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property


def normalize_house_number(value: str) -> str:
    """Return the house number in the one form filters compare.

    CPR writes HUSNR as four characters, zero-padded and space-filled ("012 ",
    "026B"); people write "12" or "26b". Spaces and leading zeros are dropped
    and letters upper-cased, so all of these compare equal. A number of only
    zeros becomes "0".
    """
    compact = value.replace(" ", "").upper()
    stripped = compact.lstrip("0")
    if compact and (not stripped or not stripped[0].isdigit()):
        # "000" is house number 0, and "0A" keeps its zero before the letter.
        return "0" + stripped
    return stripped


@dataclass(frozen=True)
class AddressKey:
    """Where a person lives, at the granularity an address filter can name.

    ``house_number`` is normalised on construction (see
    :func:`normalize_house_number`); ``None`` means CPR gave none, and a
    blank HUSNR becomes ``None``.
    """

    municipality: str
    road_code: str
    house_number: str | None = None

    def __post_init__(self) -> None:
        if self.house_number is not None:
            # Frozen: normalise once here so every comparison is a plain ==.
            normal = normalize_house_number(self.house_number)
            object.__setattr__(self, "house_number", normal or None)


def age_on(birth_date: date, day: date) -> int:
    """Whole years a person born on ``birth_date`` has lived on ``day``.

    A person born on 29 February turns a year older on 1 March in common
    years. The result is negative when ``day`` is before the birth date.
    """
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True)
class EventFacts:
    """What filters may test about one business event for one person.

    ``derived_mark`` is CPR's AFLEDTMRK (``ÆG``, ``MO``, ...); ``None`` or
    blank means the event is the person's own. Municipality codes are CPR's
    four-digit KOMKOD strings; ``None`` where unknown (e.g. a person abroad).
    """

    type: str
    pnr: str
    cpr_event_code: str | None
    derived_mark: str | None
    occurred_at: datetime
    birth_date: date | None
    municipality_before: str | None
    municipality_after: str | None
    address_before: AddressKey | None = None
    address_after: AddressKey | None = None

    @property
    def is_derived(self) -> bool:
        """Whether the event reached this person as a consequence of another's."""
        mark = self.derived_mark
        return bool(mark and mark.strip())

    @cached_property
    def age(self) -> int | None:
        """Whole years from the birth date to the day of the event, if known."""
        if self.birth_date is None:
            return None
        return age_on(self.birth_date, self.occurred_at.date())
