"""Business events from one person's previous and new snapshot and the CPR
change codes (099 records) of one extract file.

The 099 records say *what kind* of event happened; the snapshot diff says
*what* changed (cpr-domain.md §7.2). Both go through the event catalogue:

1. every 099 record gives the events its code (and derived mark) maps to;
2. with a previous snapshot, every catalogue data trigger that fires gives
   its event, unless the same type already came from a code (one event);
3. an ``accompanies`` rule (municipality_changed) is added beside each event
   of the accompanied type whose municipality before and after differ.

Without a previous snapshot only step 1 runs, and the municipality before
comes from the records (002 FRAFLYKOMKOD) for a move.
"""

from __future__ import annotations

from collections.abc import Sequence

from cprbroker.core.events.catalogue import Catalogue, DataTrigger, EventRule, TriggerKind
from cprbroker.core.events.event import (
    BusinessEvent,
    ChangeCode,
    DomainChange,
    ExtractMeta,
    event_id,
)
from cprbroker.core.events.model import Address, Snapshot, domain_value


def derive_events(
    previous: Snapshot | None,
    current: Snapshot,
    codes: Sequence[ChangeCode],
    meta: ExtractMeta,
    catalogue: Catalogue,
) -> list[BusinessEvent]:
    """The business events of one person in one file, in a stable order:
    code-driven in 099 order, then data-driven in catalogue order, each
    accompanying event right after the one it accompanies. No two events
    share an id."""
    is_move_in_file = any(
        rule.is_move
        for change in codes
        for rule in catalogue.rules_for_code(change.code, change.mark)
    )
    municipality_before = _municipality_before(previous, current, moved=is_move_in_file)
    latest = max((c.occurred_at for c in codes if c.occurred_at), default=None)
    builder = _EventBuilder(previous, current, meta, municipality_before)

    primary = [
        builder.build(rule, change.code, change.mark, change.occurred_at)
        for change in codes
        for rule in catalogue.rules_for_code(change.code, change.mark)
    ]
    if previous is not None:
        code_types = {event.type for event in primary}
        primary.extend(
            builder.build(rule, None, None, latest)
            for rule in catalogue.rules
            if rule.type not in code_types
            and any(_fires(trigger, previous, current) for trigger in rule.data)
        )

    companions = [rule for rule in catalogue.rules if rule.accompanies is not None]
    result: list[BusinessEvent] = []
    seen: set[str] = set()
    for event in primary:
        batch = [event]
        if event.municipality_before != event.municipality_after and (
            event.municipality_before is not None and event.municipality_after is not None
        ):
            batch += [
                builder.build(rule, event.cpr_event_code, event.derived_mark, event.occurred_at)
                for rule in companions
                if rule.accompanies == event.type
            ]
        for item in batch:
            if item.id not in seen:
                seen.add(item.id)
                result.append(item)
    return result


class _EventBuilder:
    """Fills the fields every event of one person in one file shares."""

    def __init__(
        self,
        previous: Snapshot | None,
        current: Snapshot,
        meta: ExtractMeta,
        municipality_before: str | None,
    ) -> None:
        self._previous = previous
        self._current = current
        self._meta = meta
        self._municipality_before = municipality_before

    def build(
        self, rule: EventRule, code: str | None, mark: str | None, occurred_at: str | None
    ) -> BusinessEvent:
        current = self._current
        change = None
        if rule.domain is not None:
            change = DomainChange(
                domain=rule.domain,
                before=domain_value(self._previous, rule.domain),
                after=domain_value(current, rule.domain),
            )
        day = occurred_at[:10] if occurred_at else self._meta.production_date
        return BusinessEvent(
            id=event_id(self._meta.file_id, current.pnr, rule.type, code, mark),
            type=rule.type,
            pnr=current.pnr,
            cpr_event_code=code,
            derived_mark=mark or None,
            occurred_at=occurred_at,
            production_date=self._meta.production_date,
            file_id=self._meta.file_id,
            municipality_before=self._municipality_before,
            municipality_after=current.municipality,
            change=change,
            snapshot=current,
            active_protections=current.active_protections(day),
        )


def _municipality_before(
    previous: Snapshot | None, current: Snapshot, *, moved: bool
) -> str | None:
    """Where the person lived before this file.

    From the replica when it knows the person. Otherwise from the records:
    for a move into a new municipality (002 TILFLYKOMDTO equals TILFLYDTO,
    i.e. the person entered the municipality when entering the address) it is
    002 FRAFLYKOMKOD; for a move within the municipality, or no move at all,
    it is the current municipality.
    """
    if previous is not None:
        return previous.municipality
    address = current.address
    if address is None:
        return None
    if (
        moved
        and address.previous_municipality
        and address.moved_in_at is not None
        and address.moved_in_at == address.municipality_moved_in_at
    ):
        return address.previous_municipality
    return address.municipality


def _fires(trigger: DataTrigger, previous: Snapshot, current: Snapshot) -> bool:
    match trigger.kind:
        case TriggerKind.CHANGED:
            assert trigger.domain is not None  # noqa: S101 - set by the parser for CHANGED
            return domain_value(previous, trigger.domain) != domain_value(current, trigger.domain)
        case TriggerKind.MOVED:
            return _both(previous.address, current.address) and (
                _location(previous.address) != _location(current.address)
            )
        case TriggerKind.ADDRESS_TEXT:
            return (
                _both(previous.address, current.address)
                and _location(previous.address) == _location(current.address)
                and _text(previous.address) != _text(current.address)
            )
        case TriggerKind.STATUS_BECOMES:
            return previous.status.code != trigger.status and current.status.code == trigger.status
        case TriggerKind.STATUS_LEAVES:
            return previous.status.code == trigger.status and current.status.code != trigger.status


def _both(before: Address | None, after: Address | None) -> bool:
    # A move is from one Danish address to another: an address appearing or
    # vanishing goes with a status change (immigration, emigration, death),
    # which has its own event.
    return before is not None and after is not None


def _location(address: Address | None) -> tuple[str | None, ...]:
    return address.location if address is not None else ()


def _text(address: Address | None) -> tuple[object, ...]:
    return address.text if address is not None else ()
