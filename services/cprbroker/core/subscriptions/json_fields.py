"""Reading typed fields out of JSON-like documents, with RFC 6901 pointers in
every error, so an API client is told exactly which value is wrong."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from cprbroker.core.errors import ValidationError


def child(pointer: str, key: str | int) -> str:
    """The JSON pointer of ``key`` inside the value at ``pointer``."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{token}"


def describe(value: object) -> str:
    """A short, safe rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_type(value: object) -> str:
    """The JSON name of ``value``'s type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def as_object(value: object, pointer: str, allowed: Collection[str]) -> Mapping[str, object]:
    """``value`` as an object whose keys are all in ``allowed``."""
    if not isinstance(value, Mapping):
        raise ValidationError(pointer, f"must be an object, not {json_type(value)}")
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            raise ValidationError(
                child(pointer, str(key)),
                f"unknown field; allowed here: {', '.join(sorted(allowed))}",
            )
    return value


def require(document: Mapping[str, object], key: str, pointer: str) -> object:
    """The value of a required field."""
    if key not in document:
        raise ValidationError(child(pointer, key), "is required")
    return document[key]


def as_string(value: object, pointer: str, *, max_length: int = 1000) -> str:
    """``value`` as a non-empty string of at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise ValidationError(pointer, f"must be a string, not {json_type(value)}")
    if not value.strip():
        raise ValidationError(pointer, "must not be empty")
    if len(value) > max_length:
        raise ValidationError(pointer, f"must be at most {max_length} characters")
    return value


def as_bool(value: object, pointer: str) -> bool:
    """``value`` as a JSON boolean (not a number or a string)."""
    if not isinstance(value, bool):
        raise ValidationError(pointer, f"must be true or false, not {json_type(value)}")
    return value


def as_int(value: object, pointer: str) -> int:
    """``value`` as a JSON integer (booleans and fractions refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(pointer, f"must be an integer, not {json_type(value)}")
    return value


def as_array(
    value: object, pointer: str, *, max_items: int, empty: str = "must not be empty"
) -> list[object]:
    """``value`` as a non-empty array of at most ``max_items`` items; ``empty``
    is the detail given when it has none."""
    if not isinstance(value, list | tuple):
        raise ValidationError(pointer, f"must be an array, not {json_type(value)}")
    if not value:
        raise ValidationError(pointer, empty)
    if len(value) > max_items:
        raise ValidationError(pointer, f"must have at most {max_items} items")
    return list(value)
