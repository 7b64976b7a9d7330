"""The compiled SubscriptionIndex returns exactly what the naive loop over
every subscription calling ``matches`` returns, through any sequence of
incremental changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cprbroker.core.subscriptions import (
    AddressCriterion,
    AddressKey,
    AgeRange,
    Endpoint,
    EventFacts,
    Filter,
    Subscription,
    SubscriptionIndex,
    SubscriptionStatus,
    matches,
)

SECRET = "whsec_" + "A" * 43 + "="
TYPES = ("cpr.person.moved", "cpr.person.died", "cpr.person.name_changed", "cpr.person.changed")
CODES = ("A01", "A21", "A13", "P03")
MUNICIPALITIES = ("0101", "0147", "0851", "0461")
ROADS = ("0001", "1234")
HOUSES = ("1", "12", "12B")
PNRS = ("0101001234", "0701614011", "0707614226", "0708614327", "3112994321", "1503055678")
BIRTH_DATES = (date(1961, 1, 7), date(2006, 3, 5), date(2004, 2, 29), date(1958, 3, 4))
IDS = tuple(f"sub-{n}" for n in range(4))
# Few PNRs in the property test, so events often hit the persons on lists.
LISTED = PNRS[:3]


def subscription(subscription_id: str, filter_: Filter, name: str = "s") -> Subscription:
    return Subscription(
        id=subscription_id,
        owner="client-a",
        name=name,
        endpoint=Endpoint("https://example.test/hook", SECRET),
        filter=filter_,
    )


def event(**overrides: object) -> EventFacts:
    values: dict[str, object] = {
        "type": "cpr.person.moved",
        "pnr": PNRS[1],
        "cpr_event_code": "A01",
        "derived_mark": None,
        "occurred_at": datetime(2024, 3, 4, 15, 36, tzinfo=UTC),
        "birth_date": date(1961, 1, 7),
        "municipality_before": "0851",
        "municipality_after": "0101",
        "address_before": None,
        "address_after": AddressKey("0101", "1234", "12"),
    }
    values.update(overrides)
    return EventFacts(**values)  # type: ignore[arg-type]


def test_each_anchor_finds_its_subscriptions() -> None:
    index = SubscriptionIndex()
    index.put(subscription("list", Filter(pnr_list=True)))
    index.put(subscription("muni", Filter(municipalities=frozenset({"0851"}))))
    index.put(subscription("type", Filter(event_types=frozenset({"cpr.person.moved"}))))
    index.put(subscription("code", Filter(cpr_event_codes=frozenset({"A01"}))))
    index.put(subscription("age", Filter(age=AgeRange(60, 69))))
    index.put(subscription("road", Filter(addresses=(AddressCriterion("0101", "1234", "012"),))))
    index.put(subscription("all", Filter()))
    index.put(subscription("own", Filter(include_derived=False)))
    index.put(subscription("miss", Filter(municipalities=frozenset({"0147"}))))
    index.add_pnr("list", PNRS[1])
    everything = {"list", "muni", "type", "code", "age", "road", "all", "own"}
    assert index.match(event()) == everything
    derived = event(derived_mark="ÆG", birth_date=None, pnr=PNRS[2])
    assert index.match(derived) == {"muni", "type", "code", "road", "all"}


def test_a_subscription_is_found_once_when_both_municipalities_are_its() -> None:
    index = SubscriptionIndex()
    both = Filter(municipalities=frozenset({"0851", "0101"}), include_derived=False)
    index.put(subscription("both", both))
    assert index.match(event()) == {"both"}


def test_changing_a_filter_moves_the_subscription() -> None:
    index = SubscriptionIndex()
    index.put(subscription("s", Filter(municipalities=frozenset({"0147"}))))
    assert index.match(event()) == set()
    index.put(subscription("s", Filter(event_types=frozenset({"cpr.person.moved"}))))
    assert index.match(event()) == {"s"}
    index.put(subscription("s", Filter(age=AgeRange(None, 10))))
    assert index.match(event()) == set()
    assert index.remove("s") is not None
    assert index.remove("s") is None
    assert len(index) == 0


def test_renaming_keeps_matching_and_updates_the_subscription() -> None:
    index = SubscriptionIndex()
    index.put(subscription("s", Filter(pnr_list=True), name="old"))
    index.add_pnr("s", PNRS[1])
    index.put(subscription("s", Filter(pnr_list=True), name="new"))
    assert index.match(event()) == {"s"}
    found = index.get("s")
    assert found is not None
    assert found.name == "new"


def test_a_list_may_arrive_before_its_subscription_and_outlive_it() -> None:
    index = SubscriptionIndex()
    assert index.add_pnr("s", PNRS[1]) is True
    assert index.add_pnr("s", PNRS[1]) is False  # ALREADY_EXISTED
    assert index.match(event()) == set()
    index.put(subscription("s", Filter(pnr_list=True)))
    assert index.match(event()) == {"s"}
    index.remove("s")
    assert index.pnrs("s") == {PNRS[1]}
    index.put(subscription("s", Filter(pnr_list=True, event_types=frozenset({TYPES[0]}))))
    assert index.match(event()) == {"s"}
    assert index.remove_pnr("s", PNRS[1]) is True
    assert index.remove_pnr("s", PNRS[1]) is False
    assert index.match(event()) == set()


def test_clear_pnrs_empties_one_list_only() -> None:
    index = SubscriptionIndex()
    for name in ("a", "b"):
        index.put(subscription(name, Filter(pnr_list=True)))
        index.add_pnr(name, PNRS[1])
        index.add_pnr(name, PNRS[2])
    assert index.clear_pnrs("a") == 2
    assert index.clear_pnrs("a") == 0
    assert index.match(event()) == {"b"}
    assert index.pnr_count("b") == 2
    assert index.has_pnr("b", PNRS[2])
    assert not index.has_pnr("a", PNRS[2])


def test_age_buckets_follow_changes() -> None:
    index = SubscriptionIndex()
    index.put(subscription("young", Filter(age=AgeRange(None, 17))))
    index.put(subscription("sixties", Filter(age=AgeRange(60, 69))))
    sixty_three = event()
    assert index.match(sixty_three) == {"sixties"}
    index.put(subscription("young", Filter(age=AgeRange(None, 63))))
    assert index.match(sixty_three) == {"young", "sixties"}
    index.remove("sixties")
    assert index.match(sixty_three) == {"young"}
    assert index.match(event(birth_date=None)) == set()


def test_a_house_number_is_checked_even_when_the_address_is_the_only_criterion() -> None:
    index = SubscriptionIndex()
    index.put(subscription("house", Filter(addresses=(AddressCriterion("0101", "1234", "12"),))))
    index.put(subscription("road", Filter(addresses=(AddressCriterion("0101", "1234"),))))
    assert index.match(event()) == {"house", "road"}
    assert index.match(event(address_after=AddressKey("0101", "1234", "14"))) == {"road"}


def test_status_is_not_consulted() -> None:
    index = SubscriptionIndex()
    index.put(subscription("s", Filter()))
    paused = subscription("s", Filter())
    index.put(
        Subscription(**{**paused.__dict__, "status": SubscriptionStatus.disabled("410 Gone")})
    )
    assert index.match(event()) == {"s"}


# -- property: the index agrees with the naive loop --------------------------


def _maybe(values: st.SearchStrategy[frozenset[str]]) -> st.SearchStrategy[frozenset[str] | None]:
    return st.none() | values


def _some(pool: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(pool), min_size=1, max_size=len(pool))


ages = st.builds(AgeRange, st.none() | st.integers(15, 70), st.none() | st.integers(15, 70)).filter(
    lambda r: r.min is None or r.max is None or r.min <= r.max
)
addresses = st.builds(
    AddressCriterion,
    st.sampled_from(MUNICIPALITIES),
    st.sampled_from(ROADS),
    st.none() | st.sampled_from(HOUSES),
)
criterion_values: dict[str, st.SearchStrategy[object]] = {
    "event_types": _some(TYPES),
    "cpr_event_codes": _some(CODES),
    "pnr_list": st.just(True),
    "municipalities": _some(MUNICIPALITIES),
    "age": ages,
    "addresses": st.lists(addresses, min_size=1, max_size=3).map(tuple),
    "include_derived": st.just(False),
}


ANCHORS = ("pnr_list", "addresses", "municipalities", "event_types", "cpr_event_codes", "age")


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    # Up to two anchoring criteria, then often the two the index special-cases
    # on top of an anchor (a few event types, own events only), so every
    # anchor meets every residual; catch-alls come up too.
    names = draw(st.lists(st.sampled_from(ANCHORS), max_size=2, unique=True))
    if "event_types" not in names and draw(st.booleans()):
        names.append("event_types")
    if draw(st.booleans()):
        names.append("include_derived")
    return Filter(**{name: draw(criterion_values[name]) for name in names})  # type: ignore[arg-type]


address_keys = st.none() | st.builds(
    AddressKey,
    st.sampled_from(MUNICIPALITIES),
    st.sampled_from(ROADS),
    st.none() | st.sampled_from(("001", "012 ", "012B", "3")),
)
events = st.builds(
    EventFacts,
    type=st.sampled_from(TYPES),
    pnr=st.sampled_from(LISTED),
    cpr_event_code=st.none() | st.sampled_from(CODES),
    derived_mark=st.sampled_from((None, "", "ÆG", "MO")),
    # Few distinct ages, so the index's per-age cache is hit again after changes.
    occurred_at=st.sampled_from(
        [datetime(2024, 3, 4, 15, 36, tzinfo=UTC), datetime(2024, 3, 5, 0, 0, tzinfo=UTC)]
    ),
    birth_date=st.none() | st.sampled_from(BIRTH_DATES),
    municipality_before=st.none() | st.sampled_from(MUNICIPALITIES),
    municipality_after=st.none() | st.sampled_from(MUNICIPALITIES),
    address_before=address_keys,
    address_after=address_keys,
)


PLACES: tuple[dict[str, object], ...] = (
    {},
    {
        "municipality_before": "0147",
        "municipality_after": "0147",
        "address_after": AddressKey("0147", "0001", "12B"),
        "birth_date": date(2006, 3, 5),
    },
    {
        "municipality_before": None,
        "municipality_after": "0461",
        "address_after": None,
        "birth_date": None,
        "cpr_event_code": None,
    },
)
# Checked after every step: each type, mark, listed person and place.
PROBES = [
    event(**{"type": event_type, "cpr_event_code": code, "derived_mark": mark, "pnr": pnr, **place})
    for event_type, code in zip(TYPES, CODES, strict=True)
    for mark in (None, "ÆG")
    for pnr in LISTED
    for place in PLACES
]


class IndexAgreesWithNaiveLoop(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = SubscriptionIndex()
        self.filters: dict[str, Filter] = {}
        self.lists: dict[str, set[str]] = {}

    @rule(
        subscription_id=st.sampled_from(IDS),
        filter_=filters(),
        pnrs=st.sets(st.sampled_from(LISTED)),
        list_first=st.booleans(),
    )
    def put(self, subscription_id: str, filter_: Filter, pnrs: set[str], list_first: bool) -> None:
        # Lists and subscriptions come from different topics, in either order.
        if not list_first:
            self.index.put(subscription(subscription_id, filter_))
        for pnr in pnrs:
            self.index.add_pnr(subscription_id, pnr)
        if list_first:
            self.index.put(subscription(subscription_id, filter_))
        self.filters[subscription_id] = filter_
        self.lists.setdefault(subscription_id, set()).update(pnrs)

    @rule(subscription_id=st.sampled_from(IDS))
    def remove(self, subscription_id: str) -> None:
        removed = self.index.remove(subscription_id)
        assert (removed is not None) == (subscription_id in self.filters)
        self.filters.pop(subscription_id, None)

    @rule(subscription_id=st.sampled_from(IDS), pnr=st.sampled_from(LISTED))
    def add_pnr(self, subscription_id: str, pnr: str) -> None:
        members = self.lists.setdefault(subscription_id, set())
        assert self.index.add_pnr(subscription_id, pnr) == (pnr not in members)
        members.add(pnr)

    @rule(subscription_id=st.sampled_from(IDS), pnr=st.sampled_from(LISTED))
    def remove_pnr(self, subscription_id: str, pnr: str) -> None:
        members = self.lists.setdefault(subscription_id, set())
        assert self.index.remove_pnr(subscription_id, pnr) == (pnr in members)
        members.discard(pnr)

    @rule(subscription_id=st.sampled_from(IDS))
    def clear_pnrs(self, subscription_id: str) -> None:
        members = self.lists.pop(subscription_id, set())
        assert self.index.clear_pnrs(subscription_id) == len(members)

    @rule(some_events=st.lists(events, min_size=1, max_size=6))
    def match(self, some_events: list[EventFacts]) -> None:
        for facts in some_events:
            expected = {
                sid
                for sid, filter_ in self.filters.items()
                if matches(filter_, facts, self.lists.get(sid, set()))
            }
            assert self.index.match(facts) == expected

    @invariant()
    def probes_agree(self) -> None:
        for facts in PROBES:
            expected = {
                sid
                for sid, filter_ in self.filters.items()
                if matches(filter_, facts, self.lists.get(sid, set()))
            }
            assert self.index.match(facts) == expected

    @invariant()
    def lists_agree(self) -> None:
        assert len(self.index) == len(self.filters)
        for sid in IDS:
            assert self.index.pnrs(sid) == self.lists.get(sid, set())


# -- every anchor with every residual, exhaustively -------------------------

ANCHOR_CHOICES: dict[str, Filter] = {
    "none": Filter(),
    "pnr_list": Filter(pnr_list=True),
    "addresses": Filter(addresses=(AddressCriterion("0101", "1234", "12"),)),
    "municipalities": Filter(municipalities=frozenset({"0101"})),
    "event_types": Filter(event_types=frozenset({TYPES[0], TYPES[1]})),
    "cpr_event_codes": Filter(cpr_event_codes=frozenset({"A01"})),
    "age": Filter(age=AgeRange(60, None)),
}
GRID_EVENTS = [
    event(type=event_type, derived_mark=mark, pnr=pnr, **place)  # type: ignore[arg-type]
    for event_type in TYPES[:3]
    for mark in (None, "ÆG")
    for pnr in PNRS[:2]
    for place in (
        {},
        {"municipality_before": "0147", "municipality_after": "0147", "address_after": None},
        {"cpr_event_code": "A21", "birth_date": date(2000, 1, 1)},
    )
]


def test_every_anchor_with_every_residual_agrees_with_matches() -> None:
    index = SubscriptionIndex()
    filters_by_id: dict[str, Filter] = {}
    for anchor, base in ANCHOR_CHOICES.items():
        for types in (None, frozenset({TYPES[0]}), frozenset({TYPES[1], TYPES[2]})):
            for own_only in (False, True):
                for extra_age in (None, AgeRange(None, 70)):
                    if anchor == "event_types" and types is not None:
                        continue
                    filter_ = Filter(
                        **{
                            **base.__dict__,
                            "event_types": types or base.event_types,
                            "include_derived": not own_only,
                            "age": base.age or extra_age,
                        }
                    )
                    sid = f"{anchor}-{sorted(types or ())}-{own_only}-{extra_age}"
                    filters_by_id[sid] = filter_
                    index.put(subscription(sid, filter_))
                    index.add_pnr(sid, PNRS[0])
    for facts in GRID_EVENTS:
        expected = {sid for sid, f in filters_by_id.items() if matches(f, facts, {PNRS[0]})}
        assert index.match(facts) == expected, facts
    for sid in filters_by_id:
        index.remove(sid)
    assert all(index.match(facts) == set() for facts in GRID_EVENTS)


IndexAgreesWithNaiveLoop.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestIndexAgreesWithNaiveLoop = IndexAgreesWithNaiveLoop.TestCase
