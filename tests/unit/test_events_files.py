"""Building small CPR extract files for the event tests (synthetic persons
only), and a check that what they build parses cleanly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cprbroker.core.cpr.layouts import format_record
from cprbroker.core.cpr.parser import parse_extract

PNR_A = "0701614011"
PNR_B = "0707614226"
PNR_C = "0708614327"


def record(record_type: str, values: Mapping[str, str]) -> str:
    """One record line of ``record_type`` with ``values`` (field name -> raw)."""
    return format_record(record_type, dict(values))


def person(
    pnr: str,
    *,
    status: str = "01",
    sex: str = "M",
    birth_date: str = "1961-01-07",
    municipality: str | None = "0101",
    road: str = "1234",
    house: str = "012 ",
    floor: str = "",
    door: str = "",
    moved_in: str = "200001011200",
    municipality_since: str = "200001011200",
    previous_municipality: str = "0000",
    first_names: str = "Aksel",
    last_name: str = "Sander",
    civil_status: str = "U",
    spouse: str = "",
    church: str = "F",
    citizenship: str = "5100",
    protections: Iterable[tuple[str, str, str]] = (),
    children: Iterable[str] = (),
    events: Iterable[tuple[str, str] | tuple[str, str, str]] = (),
    extra: Iterable[str] = (),
) -> list[str]:
    """All records of one synthetic person, full record set like CPR sends.

    ``events`` are (code, timestamp) or (code, timestamp, derived mark).
    """
    lines = [
        record(
            "001",
            {"PNR": pnr, "STATUS": status, "KOEN": sex, "FOED_DT": birth_date, "STILLING": "Pilot"},
        )
    ]
    if municipality is not None and status < "30":
        lines.append(
            record(
                "002",
                {
                    "PNR": pnr,
                    "KOMKOD": municipality,
                    "VEJKOD": road,
                    "HUSNR": house,
                    "ETAGE": floor,
                    "SIDEDOER": door.rjust(4) if door else "",
                    "TILFLYDTO": moved_in,
                    "TILFLYKOMDTO": municipality_since,
                    "FRAFLYKOMKOD": previous_municipality,
                    "START_MYNKOD-ADRTXT": "0000",
                },
            )
        )
        lines.append(
            record(
                "003",
                {
                    "PNR": pnr,
                    "ADRNVN": f"{last_name},{first_names}",
                    "KOMKOD": municipality,
                    "VEJKOD": road,
                    "HUSNR": house,
                    "POSTNR": "1000",
                    "POSTDISTTXT": "København K",
                    "VEJADRNVN": "Skovvej",
                },
            )
        )
    else:
        lines.append(record("003", {"PNR": pnr, "ADRNVN": f"{last_name},{first_names}"}))
    lines += [
        record(
            "004",
            {
                "PNR": pnr,
                "BESKYTTYPE": kind,
                "START_DT-BESKYTTELSE": start,
                "SLET_DT-BESKYTTELSE": end,
            },
        )
        for kind, start, end in protections
    ]
    lines.append(
        record(
            "008",
            {
                "PNR": pnr,
                "FORNVN": first_names,
                "EFTERNVN": last_name,
                "NVNHAENSTART": "196101071200",
                "ADRNVN": f"{last_name},{first_names}",
            },
        )
    )
    lines.append(record("010", {"PNR": pnr, "LANDEKOD": citizenship}))
    lines.append(record("011", {"PNR": pnr, "FKIRK": church, "START_DT-FOLKEKIRKE": "1961-01-07"}))
    lines.append(record("012", {"PNR": pnr, "CIVST": civil_status, "AEGTEPNR": spouse}))
    lines += [record("014", {"PNR": pnr, "PNRBARN": child}) for child in children]
    lines.append(record("015", {"PNR": pnr}))
    lines += list(extra)
    for event in events:
        code, timestamp, *mark = event
        lines.append(
            record(
                "099",
                {
                    "PNR": pnr,
                    "TIMESTAMPU": timestamp,
                    "HAENDELSE": code,
                    "AFLEDTMRK": "".join(mark),
                },
            )
        )
    return lines


def extract(
    records: Iterable[str],
    *,
    task: str = "907001",
    date: str = "20240305",
    previous: str = "20240304",
) -> bytes:
    """A framed extract file (000 ... 999) in ISO-8859-1 with LF line ends."""
    body = list(records)
    lines = [
        record(
            "000",
            {
                "SORTFELT-10": "0000000000",
                "OPGAVENR": task,
                "PRODDTO": date,
                "PRODDTOFORRIG": previous,
            },
        ),
        *body,
        record("999", {"SORTFELT-10": "9999999999", "TAELLER": f"{len(body):08d}"}),
    ]
    return ("\n".join(lines) + "\n").encode("latin-1")


def test_the_built_files_parse_cleanly() -> None:
    data = extract(
        person(PNR_A, events=[("A01", "202403041536")], protections=[("0001", "2024-03-04", "")])
        + person(PNR_B, sex="K", status="90", events=[("A21", "202403040915", "ÆG")])
    )
    parsed = parse_extract(data, source="built")
    assert parsed.rejected == []
    assert [p.pnr for p in parsed.persons] == [PNR_A, PNR_B]
    assert parsed.persons[0].of_type("002")
    assert not parsed.persons[1].of_type("002")
    assert parsed.persons[1].events[0].derived_mark == "ÆG"
