"""The event catalogue: which CPR change codes and which data changes give
which business event type.

The mapping is data (``catalogue.toml`` beside this module, or an operator's
own file), because KOMBIT's mapping is not public and operators must be able
to adjust it. This module only parses and queries it; reading the file is the
caller's business (:mod:`cprbroker.adapters.event_catalogue`).
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cprbroker.core.errors import CatalogueError
from cprbroker.core.events.model import Domain

DEFAULT_CATALOGUE_RESOURCE = "catalogue.toml"
"""File name of the default catalogue, package data of this package."""

_CODE = re.compile(r"^[A-Z][0-9]{2}$")


@dataclass(frozen=True, slots=True)
class CodePattern:
    """One entry of ``codes``: a change code, and the derived mark it must
    carry (``None`` = any mark, ``""`` = blank, i.e. the main person)."""

    code: str
    mark: str | None = None

    def matches(self, code: str, mark: str | None) -> bool:
        """Whether a 099 record with ``code`` and ``mark`` fits the pattern."""
        if code != self.code:
            return False
        return self.mark is None or self.mark == (mark or "")

    def __str__(self) -> str:
        return self.code if self.mark is None else f"{self.code}/{self.mark}"


class TriggerKind(enum.Enum):
    """The kinds of data change a catalogue entry can react to."""

    CHANGED = "changed"
    MOVED = "moved"
    ADDRESS_TEXT = "address_text"
    STATUS_BECOMES = "status_becomes"
    STATUS_LEAVES = "status_leaves"


@dataclass(frozen=True, slots=True)
class DataTrigger:
    """One entry of ``data``; ``domain`` is set for CHANGED, ``status`` for
    the status kinds."""

    kind: TriggerKind
    domain: Domain | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class EventRule:
    """One ``[[event]]`` of the catalogue."""

    type: str
    domain: Domain | None = None
    codes: tuple[CodePattern, ...] = ()
    data: tuple[DataTrigger, ...] = ()
    accompanies: str | None = None

    def matches_code(self, code: str, mark: str | None) -> bool:
        """Whether a 099 record with ``code`` and ``mark`` gives this event."""
        return any(pattern.matches(code, mark) for pattern in self.codes)

    @property
    def is_move(self) -> bool:
        """Whether the event means the person moved (it has a ``moved`` trigger)."""
        return any(trigger.kind is TriggerKind.MOVED for trigger in self.data)


_MAX_ANSWERS = 4096
"""Distinct (code, mark) pairs remembered; CPR has a few hundred codes."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A parsed event catalogue (see ``catalogue.toml`` for the format)."""

    version: int
    rules: tuple[EventRule, ...]
    fallback: str | None = None
    ignore: tuple[CodePattern, ...] = ()
    # Answers of rules_for_code by (code, mark): every person's 099 records
    # ask, and the patterns are matched once per distinct pair.
    _answers: dict[tuple[str, str | None], tuple[EventRule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def rules_for_code(self, code: str, mark: str | None) -> tuple[EventRule, ...]:
        """The rules a 099 record gives: empty for an ignored code, the
        fallback rule for a code no rule names."""
        key = (code, mark)
        found = self._answers.get(key)
        if found is None:
            found = self._match(code, mark)
            if len(self._answers) < _MAX_ANSWERS:
                self._answers[key] = found
        return found

    def _match(self, code: str, mark: str | None) -> tuple[EventRule, ...]:
        if any(pattern.matches(code, mark) for pattern in self.ignore):
            return ()
        found = tuple(rule for rule in self.rules if rule.matches_code(code, mark))
        if found or self.fallback is None:
            return found
        return (EventRule(type=self.fallback),)

    @property
    def event_types(self) -> tuple[str, ...]:
        """Every event type the catalogue can give, fallback last."""
        types = [rule.type for rule in self.rules]
        if self.fallback is not None and self.fallback not in types:
            types.append(self.fallback)
        return tuple(types)


def parse_catalogue(text: str, *, source: str) -> Catalogue:
    """Parse catalogue TOML ``text``; ``source`` names the file in errors.

    Raises :class:`CatalogueError` naming the file, key and value of the first
    problem: bad TOML, an unknown key, a malformed code or trigger, an
    unknown domain, or an ``accompanies`` naming a type no rule has.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML: {exc}") from exc
    _only_keys(document, {"version", "fallback", "ignore", "event"}, source, "")
    version = document.get("version")
    if version != 1:
        raise CatalogueError(f"{source}: version: only version 1 is known, got {version!r}")
    fallback = document.get("fallback")
    if fallback is not None and not _is_type_name(fallback):
        raise CatalogueError(f"{source}: fallback: not an event type name: {fallback!r}")
    ignore = _codes(document.get("ignore", []), source, "ignore")
    entries = document.get("event", [])
    if not isinstance(entries, list):
        raise CatalogueError(f"{source}: event: expected [[event]] tables, got {entries!r}")
    rules = tuple(_rule(entry, source, f"event[{i}]") for i, entry in enumerate(entries))
    types = [rule.type for rule in rules]
    duplicates = sorted({t for t in types if types.count(t) > 1})
    if duplicates:
        raise CatalogueError(f"{source}: event: type listed twice: {duplicates[0]!r}")
    for i, rule in enumerate(rules):
        if rule.accompanies is not None and rule.accompanies not in types:
            raise CatalogueError(
                f"{source}: event[{i}].accompanies: no event has type {rule.accompanies!r}"
            )
    return Catalogue(version=1, rules=rules, fallback=fallback, ignore=ignore)


def _only_keys(table: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise CatalogueError(
                f"{source}: {prefix}{key}: unknown key (known: {', '.join(sorted(allowed))})"
            )


def _is_type_name(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", value) is not None


def _codes(value: object, source: str, where: str) -> tuple[CodePattern, ...]:
    if not isinstance(value, list):
        raise CatalogueError(f"{source}: {where}: expected a list of codes, got {value!r}")
    patterns = []
    for i, item in enumerate(value):
        code, _, mark = str(item).partition("/")
        if not isinstance(item, str) or not _CODE.match(code) or len(mark) > 2:
            raise CatalogueError(
                f"{source}: {where}[{i}]: not a code like A01, A21/ or A21/ÆG: {item!r}"
            )
        patterns.append(CodePattern(code, mark if "/" in item else None))
    return tuple(patterns)


def _domain(value: object, source: str, where: str) -> Domain:
    try:
        return Domain.from_key(str(value))
    except KeyError:
        known = ", ".join(domain.key for domain in Domain)
        raise CatalogueError(
            f"{source}: {where}: unknown domain {value!r} (known: {known})"
        ) from None


def _trigger(value: object, source: str, where: str) -> DataTrigger:
    text = value if isinstance(value, str) else ""
    name, _, argument = text.partition(":")
    try:
        kind = TriggerKind(name)
    except ValueError:
        raise CatalogueError(f"{source}: {where}: unknown data trigger {value!r}") from None
    if kind is TriggerKind.CHANGED:
        return DataTrigger(kind, domain=_domain(argument, source, where))
    if kind in (TriggerKind.STATUS_BECOMES, TriggerKind.STATUS_LEAVES):
        if not re.fullmatch(r"[0-9]{2}", argument):
            raise CatalogueError(f"{source}: {where}: status must be two digits: {value!r}")
        return DataTrigger(kind, status=argument)
    if argument:
        raise CatalogueError(f"{source}: {where}: {name} takes no argument: {value!r}")
    return DataTrigger(kind)


def _rule(entry: object, source: str, where: str) -> EventRule:
    if not isinstance(entry, Mapping):
        raise CatalogueError(f"{source}: {where}: expected a table, got {entry!r}")
    _only_keys(entry, {"type", "domain", "codes", "data", "accompanies"}, source, where)
    event_type = entry.get("type")
    if not _is_type_name(event_type):
        raise CatalogueError(f"{source}: {where}.type: not an event type name: {event_type!r}")
    assert isinstance(event_type, str)  # noqa: S101 - narrowed by _is_type_name
    domain = _domain(entry["domain"], source, f"{where}.domain") if "domain" in entry else None
    data_entries = entry.get("data", [])
    if not isinstance(data_entries, Sequence) or isinstance(data_entries, str):
        raise CatalogueError(f"{source}: {where}.data: expected a list, got {data_entries!r}")
    data = tuple(
        _trigger(item, source, f"{where}.data[{i}]") for i, item in enumerate(data_entries)
    )
    accompanies = entry.get("accompanies")
    if accompanies is not None and not _is_type_name(accompanies):
        raise CatalogueError(
            f"{source}: {where}.accompanies: not an event type name: {accompanies!r}"
        )
    rule = EventRule(
        type=event_type,
        domain=domain,
        codes=_codes(entry.get("codes", []), source, f"{where}.codes"),
        data=data,
        accompanies=accompanies,
    )
    if not (rule.codes or rule.data or rule.accompanies):
        raise CatalogueError(f"{source}: {where}: needs codes, data or accompanies")
    return rule
