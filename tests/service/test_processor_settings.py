"""Processor and ingest settings: defaults, environment, malformed values
named by variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from cprbroker.core.errors import SettingsError
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.settings import ProcessorSettings


def test_processor_settings_come_from_the_environment() -> None:
    settings = ProcessorSettings().with_environ(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
            "CPRBROKER_PARTITIONS": "12",
            "CPRBROKER_TOPIC_EVENTS": "site.events",
            "CPRBROKER_KNOWN_PNRS_TOPIC": "site.known",
            "CPRBROKER_PROCESSOR_DATA_DIR": "/var/lib/cprbroker",
            "CPRBROKER_PROCESSOR_BATCH_SIZE": "500",
            "CPRBROKER_PROCESSOR_BATCH_SECONDS": "0.25",
            "CPRBROKER_PROCESSOR_STORE": "memory",
            "CPRBROKER_PROCESSOR_COMPRESSION": "gzip",
            "CPRBROKER_PROCESSOR_APP_ID": "site-processor",
        }
    )
    assert settings.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.partitions == 12
    assert settings.topics.events == "site.events"
    assert settings.topics.person_records == "cpr.person-records"
    assert settings.known_pnrs_topic == "site.known"
    assert settings.data_dir == Path("/var/lib/cprbroker")
    assert (settings.batch_size, settings.batch_seconds) == (500, 0.25)
    assert settings.store == "memory"
    assert settings.compression_type == "gzip"
    assert settings.app_id == "site-processor"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CPRBROKER_PROCESSOR_BATCH_SIZE", "many"),
        ("CPRBROKER_PROCESSOR_BATCH_SIZE", "0"),
        ("CPRBROKER_PROCESSOR_STORE", "redis"),
        ("CPRBROKER_PROCESSOR_COMPRESSION", "brotli"),
        ("CPRBROKER_PROCESSOR_APP_ID", "has space"),
        ("CPRBROKER_PARTITIONS", "six"),
        ("CPRBROKER_PROCESSOR_HEALTH_PORT", "nine"),
        ("CPRBROKER_PROCESSOR_HEALTH_PORT", "70000"),
    ],
)
def test_malformed_processor_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        ProcessorSettings().with_environ({name: value})
    message = str(raised.value)
    assert name in message or value in message


def test_the_health_endpoint_is_on_by_default_and_off_when_asked() -> None:
    assert ProcessorSettings().health_port == 9109
    name = "CPRBROKER_PROCESSOR_HEALTH_PORT"
    assert ProcessorSettings().with_environ({name: "off"}).health_port is None
    assert ProcessorSettings().with_environ({name: "0"}).health_port == 0


def test_ingest_settings_come_from_the_environment() -> None:
    settings = IngestSettings().with_environ(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092",
            "CPRBROKER_TOPIC_PERSON_RECORDS": "site.records",
            "CPRBROKER_INGEST_COMPRESSION": "lz4",
            "CPRBROKER_INGEST_WINDOW": "1000",
        }
    )
    assert settings.bootstrap_servers == "k1:9092"
    assert settings.topics.person_records == "site.records"
    assert settings.compression_type == "lz4"
    assert settings.window == 1000
    with pytest.raises(SettingsError, match="CPRBROKER_INGEST_LINGER_MS"):
        IngestSettings().with_environ({"CPRBROKER_INGEST_LINGER_MS": "soon"})
    with pytest.raises(SettingsError, match="compression"):
        IngestSettings().with_environ({"CPRBROKER_INGEST_COMPRESSION": "rar"})
