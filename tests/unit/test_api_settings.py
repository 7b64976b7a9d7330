"""API settings: defaults, the environment, and refusals naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from cprbroker.api.settings import ApiSettings
from cprbroker.core.errors import SettingsError


def test_defaults() -> None:
    settings = ApiSettings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.max_batch_items == 10_000
    assert settings.topics.subscriptions == "cpr.subscriptions"


def test_environment_overrides() -> None:
    settings = ApiSettings().with_environ(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
            "CPRBROKER_API_HOST": "192.0.2.10",
            "CPRBROKER_API_PORT": "9000",
            "CPRBROKER_API_MAX_BODY_BYTES": "2048",
            "CPRBROKER_CALLBACK_ALLOW_CIDRS": "127.0.0.0/8, ::1/128,",
            "CPRBROKER_TOPIC_AUDIT": "site.audit",
            "CPRBROKER_KNOWN_PNRS_TOPIC": "site.known",
            "CPRBROKER_EVENT_CATALOGUE": "/etc/cprbroker/catalogue.toml",
            "UNRELATED": "x",
        }
    )
    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert (settings.host, settings.port, settings.max_body_bytes) == ("192.0.2.10", 9000, 2048)
    assert settings.callback_allow_cidrs == ("127.0.0.0/8", "::1/128")
    assert settings.topics.audit == "site.audit"
    assert settings.topics.clients == "cpr.clients"
    assert settings.known_pnrs_topic == "site.known"
    assert settings.event_catalogue == Path("/etc/cprbroker/catalogue.toml")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CPRBROKER_API_PORT", "eighty"),
        ("CPRBROKER_API_PORT", "70000"),
        ("CPRBROKER_API_MAX_BODY_BYTES", "0"),
        ("CPRBROKER_CALLBACK_ALLOW_CIDRS", "10.0.0.0/33"),
    ],
)
def test_bad_values_are_refused(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        ApiSettings().with_environ({variable: value})
    assert value in str(caught.value) or variable in str(caught.value)
