"""Reading the event catalogue: the default shipped with cprbroker, or an
operator's file named by the settings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from cprbroker.core.errors import CatalogueError
from cprbroker.core.events.catalogue import (
    DEFAULT_CATALOGUE_RESOURCE,
    Catalogue,
    parse_catalogue,
)


def default_catalogue_text() -> str:
    """The text of the default catalogue (package data of
    :mod:`cprbroker.core.events`)."""
    resource = resources.files("cprbroker.core.events").joinpath(DEFAULT_CATALOGUE_RESOURCE)
    return resource.read_text(encoding="utf-8")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in ``path``, or the default one when ``path`` is None.

    Raises :class:`CatalogueError` naming the file when it cannot be read or
    is malformed.
    """
    if path is None:
        return parse_catalogue(default_catalogue_text(), source=DEFAULT_CATALOGUE_RESOURCE)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read the event catalogue: {exc}") from exc
    return parse_catalogue(text, source=str(path))
