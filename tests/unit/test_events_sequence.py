"""The ordering rule for extract files: gaps, repeats, older files, full loads."""

from __future__ import annotations

from cprbroker.core.events.sequence import FileMark, Verdict, check_sequence

LAST = FileMark("907001", "2024-03-05", "2024-03-04")


def test_the_first_file_applies() -> None:
    decision = check_sequence(None, FileMark("907001", "2024-03-05", "2024-03-04"))
    assert decision.verdict is Verdict.APPLY
    assert decision.applies


def test_the_next_delta_applies() -> None:
    assert check_sequence(LAST, FileMark("907002", "2024-03-06", "2024-03-05")).applies


def test_the_same_file_again_changes_nothing() -> None:
    decision = check_sequence(LAST, FileMark("907001", "2024-03-05", "2024-03-04"))
    assert decision.verdict is Verdict.ALREADY_APPLIED
    assert not decision.applies
    assert not decision.refused
    assert "already applied" in decision.message


def test_a_gap_is_refused_naming_both_dates_unless_allowed() -> None:
    after_gap = FileMark("907003", "2024-03-07", "2024-03-06")
    decision = check_sequence(LAST, after_gap)
    assert decision.verdict is Verdict.GAP
    assert decision.refused
    assert "2024-03-06" in decision.message
    assert "2024-03-05" in decision.message
    allowed = check_sequence(LAST, after_gap, allow_gap=True)
    assert allowed.applies
    assert "gap allowed" in allowed.message


def test_an_older_file_is_refused_even_with_allow_gap() -> None:
    older = FileMark("906999", "2024-03-04", "2024-03-03")
    for allow in (False, True):
        decision = check_sequence(LAST, older, allow_gap=allow)
        assert decision.verdict is Verdict.OUT_OF_ORDER
        assert "2024-03-04" in decision.message
        assert "2024-03-05" in decision.message


def test_a_full_extract_needs_no_predecessor_but_is_not_repeated() -> None:
    full = FileMark("100001", "2024-03-10", None)
    assert check_sequence(LAST, full, full=True).applies
    assert check_sequence(None, full, full=True).applies
    assert check_sequence(full, full, full=True).verdict is Verdict.ALREADY_APPLIED


def test_a_delta_without_previous_date_after_a_file_is_a_gap() -> None:
    decision = check_sequence(LAST, FileMark("907002", "2024-03-06", None))
    assert decision.verdict is Verdict.GAP
    assert "(none)" in decision.message
