"""Whether one event matches one subscription filter.

:func:`matches` is the reference definition of filter semantics. The
compiled :class:`.index.SubscriptionIndex` must return exactly the
subscriptions for which it is true; the property tests hold it to that.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from .facts import AddressKey, EventFacts
from .model import AddressCriterion, Filter

OnList = Callable[[str], bool] | Container[str]


def matches(filter: Filter, facts: EventFacts, on_list: OnList) -> bool:
    """Whether the event described by ``facts`` matches ``filter``.

    ``on_list`` answers whether a CPR number is on the subscription's own
    PNR value list, either as a predicate or as a container (a set); it is
    only consulted when the filter has ``pnr_list``. Criteria combine with
    AND, values within a criterion with OR:

    - ``event_types`` / ``cpr_event_codes``: the event's type / CPR change code is listed;
    - ``pnr_list``: the person is on the list;
    - ``municipalities``: the person lived in a listed municipality before
      or after the change (moving in and moving out both match);
    - ``age``: the whole years from birth date to the event's day are in
      range; an unknown birth date never matches;
    - ``addresses``: the address before or after is on a listed road (and
      house, when the criterion names one);
    - ``include_derived=False``: the event carries no derived mark.
    """
    if filter.event_types is not None and facts.type not in filter.event_types:
        return False
    if filter.cpr_event_codes is not None and facts.cpr_event_code not in filter.cpr_event_codes:
        return False
    if not filter.include_derived and facts.is_derived:
        return False
    municipalities = filter.municipalities
    if municipalities is not None and not (
        facts.municipality_before in municipalities or facts.municipality_after in municipalities
    ):
        return False
    if filter.age is not None:
        age = facts.age
        if age is None or not filter.age.contains(age):
            return False
    if filter.addresses is not None and not any(
        _on_address(criterion, facts.address_before) or _on_address(criterion, facts.address_after)
        for criterion in filter.addresses
    ):
        return False
    if filter.pnr_list:
        if callable(on_list):
            return on_list(facts.pnr)
        return facts.pnr in on_list
    return True


def _on_address(criterion: AddressCriterion, address: AddressKey | None) -> bool:
    return (
        address is not None
        and criterion.road_code == address.road_code
        and criterion.municipality == address.municipality
        and (criterion.house_number is None or criterion.house_number == address.house_number)
    )
