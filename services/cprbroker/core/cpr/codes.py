"""CPR code lists as enums (cpr-domain.md §2.4, §3.3).

Each member's value is the raw code exactly as it stands in the record (so
``Status("90") is Status.DEAD`` and ``Status.DEAD.value == "90"``); the members
are ``StrEnum`` and compare equal to that raw code. A blank field is ``None``
in parsed records, never a member.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """001 STATUS: the person's status in the register."""

    ACTIVE = "01"
    """Active, residence in the Danish population register."""
    ACTIVE_SPECIAL_ROAD_CODE = "03"
    """Active, special road code 9900-9999 (Denmark)."""
    ACTIVE_GREENLAND = "05"
    """Active, Greenlandic register."""
    ACTIVE_GREENLAND_SPECIAL_ROAD_CODE = "07"
    """Active, special road code (Greenland)."""
    RESERVED = "10"
    """Reserved PNR (listed by kaqa.gl only)."""
    INACTIVE_TAX = "20"
    """Inactive: no residence, PNR given for tax reasons."""
    CANCELLED = "30"
    """Cancelled PNR."""
    DELETED = "50"
    """Deleted PNR (duplicate number)."""
    CHANGED = "60"
    """PNR changed (change of birth date or sex)."""
    DISAPPEARED = "70"
    EMIGRATED = "80"
    DEAD = "90"

    @property
    def is_active(self) -> bool:
        """Active in a Danish or Greenlandic register (status below 10)."""
        return self.value < "10"

    @property
    def is_number_valid(self) -> bool:
        """False for numbers that are no longer valid: cancelled, deleted, changed."""
        return self not in (Status.CANCELLED, Status.DELETED, Status.CHANGED)


class Sex(enum.StrEnum):
    """001 KOEN; also the parity of a PNR's last digit."""

    MALE = "M"
    FEMALE = "K"


class CivilStatus(enum.StrEnum):
    """012/029 CIVST."""

    UNMARRIED = "U"
    MARRIED = "G"
    DIVORCED = "F"
    WIDOWED = "E"
    REGISTERED_PARTNER = "P"
    DISSOLVED_PARTNERSHIP = "O"
    LONGEST_LIVING_PARTNER = "L"
    DEAD = "D"


class ProtectionType(enum.StrEnum):
    """004 BESKYTTYPE."""

    NAME_AND_ADDRESS = "0001"
    """Navne- og adressebeskyttelse (CPR-loven §28)."""
    LOCAL_DIRECTORY = "0002"
    """Lokalvejviserbeskyttelse."""
    MARKETING = "0003"
    """Markedsføringsbeskyttelse."""
    RESEARCH = "0004"
    """Forskerbeskyttelse (CPR Broker only)."""


class DerivedMark(enum.StrEnum):
    """099 AFLEDTMRK: the relation of this person to the event's main person.

    Two characters; ``Æ`` and ``Ø`` are one byte each in ISO-8859-1.
    """

    SPOUSE = "ÆG"
    PARTNER = "PA"
    FORMER_SPOUSE = "TÆ"
    FORMER_PARTNER = "TP"
    NEW_SPOUSE = "NÆ"
    NEW_PARTNER = "NP"
    HISTORIC_SPOUSE = "HÆ"
    HISTORIC_PARTNER = "HP"
    FATHER = "FA"
    FORMER_FATHER = "TF"
    NEW_FATHER = "NF"
    MOTHER = "MO"
    FORMER_MOTHER = "TM"
    NEW_MOTHER = "NM"
    CHILDREN = "BØ"
    FORMER_CHILDREN = "TB"
    NEW_CHILDREN = "NB"
    PREVIOUS_CURRENT_PNR = "PT"
    NEW_CURRENT_PNR = "PN"
    HISTORIC_PNR = "PH"
    NEW_GUARDIAN = "NV"
    GUARDIAN_DELETED = "VS"


class CorrectionMarker(enum.StrEnum):
    """ANNKOR of historic records; a blank field (OK) is ``None``."""

    CORRECTED = "K"
    ANNULLED = "A"
    TECHNICAL_CHANGE = "Æ"


CODE_LISTS: dict[str, type[enum.StrEnum]] = {
    "status": Status,
    "sex": Sex,
    "civil_status": CivilStatus,
    "protection_type": ProtectionType,
    "derived_mark": DerivedMark,
    "correction_marker": CorrectionMarker,
}
"""FieldKind value -> the enum of that code list."""
