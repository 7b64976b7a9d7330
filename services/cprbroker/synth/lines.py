"""Record formatting for bulk output, compiled from
:data:`cprbroker.core.cpr.layouts.LAYOUTS`.

A million-person extract is some twelve million records. The generator gives
each record type's values with the same field names in the same order every
time, so :class:`RecordFormatter` compiles, per record type and set of given
fields, one ``%``-template (given fields left-justified, the others blank) and
an ``itemgetter`` for the values: one record is then two C-level calls. The
text is the same as :func:`~cprbroker.core.cpr.layouts.format_record`'s, and
so are the errors: an unknown field is a ``KeyError``, a value longer than
its field a ``ValueError`` (raised by ``format_record`` itself when the
result comes out too long).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from cprbroker.core.cpr.layouts import LAYOUTS, format_record

_Plan = tuple[str, Callable[[Mapping[str, str]], tuple[str, ...]], int]


def _values_getter(names: tuple[str, ...]) -> Callable[[Mapping[str, str]], tuple[str, ...]]:
    if len(names) == 1:
        name = names[0]
        return lambda values: (values[name],)
    getter: Callable[[Mapping[str, str]], tuple[str, ...]] = operator.itemgetter(*names)
    return getter


class RecordFormatter:
    """Formats records like ``format_record``, faster for repeated shapes."""

    def __init__(self) -> None:
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def line(self, record_type: str, values: Mapping[str, str]) -> str:
        """The text of one record (no line end), exactly the layout's length."""
        key = (record_type, tuple(values))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(record_type, key[1])
        template, getter, length = plan
        text = template % getter(values)
        if len(text) != length:
            # A value too long for its field: let format_record name it.
            format_record(record_type, values)
            raise AssertionError(f"record {record_type}: template and layout disagree")
        return text

    @staticmethod
    def _compile(record_type: str, given: tuple[str, ...]) -> _Plan:
        try:
            layout = LAYOUTS[record_type]
        except KeyError:
            raise KeyError(f"unknown CPR record type {record_type!r}") from None
        wanted = set(given)
        unknown = wanted - set(layout.names)
        if unknown or "RECORDTYPE" in wanted:
            bad = sorted(unknown) or ["RECORDTYPE"]
            raise KeyError(f"record {record_type}: cannot format field {bad[0]!r}")
        parts: list[str] = []
        order: list[str] = []
        for spec in layout.fields:
            if spec.name == "RECORDTYPE":
                parts.append(record_type)
            elif spec.name in wanted:
                parts.append(f"%-{spec.length}s")
                order.append(spec.name)
            else:
                parts.append(" " * spec.length)
        if not order:
            return "".join(parts), lambda _values: (), layout.length
        return "".join(parts), _values_getter(tuple(order)), layout.length


__all__ = ["RecordFormatter"]
