"""The one rule every listening role's port setting follows."""

from __future__ import annotations

from cprbroker.core.errors import SettingsError

MAX_PORT = 65535


def check_port(what: str, port: int | None) -> None:
    """Raise SettingsError naming ``what`` unless ``port`` is None (not served)
    or 0..65535 (0: any free port)."""
    if port is not None and not 0 <= port <= MAX_PORT:
        raise SettingsError(f"{what} must be 0..{MAX_PORT}, got {port}")
