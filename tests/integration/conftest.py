"""Everything under tests/integration talks to a real Kafka: mark it so.

The marker lets ``-m "not integration"`` leave these out, and lets the root
conftest turn a skipped integration test into a failure in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Called with every collected item, not only this folder's: filter by path.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)
