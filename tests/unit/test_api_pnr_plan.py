"""SF6002 answers for sequences of adds and removes, and the net writes they need."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cprbroker.api.pnr_lists import plan_changes

A, B, C = "0701614011", "0707614226", "0708614327"


def test_answers_follow_the_order_of_the_items() -> None:
    plan = plan_changes(lambda p: p == B, lambda p: False, [A, A, B], [B, B, C])
    assert plan.add_results == ["ADDED", "ALREADY_EXISTED", "ALREADY_EXISTED"]
    assert plan.remove_results == ["REMOVED", "NOT_SUBSCRIBED", "NOT_SUBSCRIBED"]
    assert (plan.to_add, plan.to_remove) == ([A], [B])


def test_add_then_remove_of_a_new_number_writes_nothing() -> None:
    plan = plan_changes(lambda p: False, lambda p: False, [A], [A])
    assert (plan.add_results, plan.remove_results) == (["ADDED"], ["REMOVED"])
    assert (plan.to_add, plan.to_remove) == ([], [])


def test_non_existing_numbers_are_not_added() -> None:
    plan = plan_changes(lambda p: False, lambda p: p == C, [C, A], [C])
    assert plan.add_results == ["NON_EXISTING_PNR", "ADDED"]
    assert plan.remove_results == ["NOT_SUBSCRIBED"]
    assert plan.to_add == [A]


numbers = st.sampled_from([A, B, C])


@given(
    start=st.sets(numbers),
    add=st.lists(numbers, max_size=6),
    remove=st.lists(numbers, max_size=6),
)
def test_net_writes_turn_the_old_list_into_the_answered_one(
    start: set[str], add: list[str], remove: list[str]
) -> None:
    plan = plan_changes(start.__contains__, lambda p: False, add, remove)
    expected = (start | set(add)) - set(remove)
    assert (start | set(plan.to_add)) - set(plan.to_remove) == expected
    assert not set(plan.to_add) & start
    assert set(plan.to_remove) <= start
